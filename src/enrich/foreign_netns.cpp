#include "enrich/foreign_netns.hpp"

#include <dirent.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <system_error>

#include "flowtop/net/net_watcher.hpp"
#include "flowtop/sys/bounded_file.hpp"

namespace flowtop::enrich {
namespace {

constexpr std::size_t kMaxNamespaces = 256;
constexpr std::size_t kMaxCgroupBytes = 4096;

bool all_digits(const char* s) {
  if (*s == '\0') {
    return false;
  }
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') {
      return false;
    }
  }
  return true;
}

std::string strip(std::string s, std::string_view prefix, std::string_view suffix) {
  if (s.starts_with(prefix)) {
    s.erase(0, prefix.size());
  }
  if (s.ends_with(suffix)) {
    s.erase(s.size() - suffix.size());
  }
  return s;
}

bool hex_id(const std::string& s) {
  return s.size() >= 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

std::string cgroup_label(std::string_view cgroup_file) {
  // cgroup v2: one line "0::/path"; v1 has several: take the first "name=systemd" or any path.
  std::string path;
  while (!cgroup_file.empty()) {
    const std::size_t nl = cgroup_file.find('\n');
    const std::string_view line = cgroup_file.substr(0, nl);
    cgroup_file = nl == std::string_view::npos ? std::string_view{} : cgroup_file.substr(nl + 1);
    const std::size_t c2 = line.find(':', line.find(':') + 1);
    if (c2 == std::string_view::npos) {
      continue;
    }
    path = std::string(line.substr(c2 + 1));
    if (line.starts_with("0::")) {
      break;
    }
  }
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  // The innermost component that names a container ("…/libpod-ID.scope/container" too).
  std::string_view rest = path;
  while (!rest.empty()) {
    const std::size_t slash = rest.rfind('/');
    std::string part(slash == std::string_view::npos ? rest : rest.substr(slash + 1));
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(0, slash);
    for (const auto& [prefix, suffix] :
         std::initializer_list<std::pair<std::string_view, std::string_view>>{
             {"docker-", ".scope"},
             {"libpod-", ".scope"},
             {"cri-containerd-", ".scope"},
             {"crio-", ".scope"},
             {"lxc.payload.", ""}}) {
      if (part.starts_with(prefix)) {
        part = strip(part, prefix, suffix);
        return hex_id(part) ? part.substr(0, 12) : part;
      }
    }
  }
  const std::size_t slash = path.rfind('/');
  std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
  // Docker without systemd: /docker/<id>; LXC: /lxc/<name>.
  if (path.find("/docker/") != std::string::npos && hex_id(last)) {
    return last.substr(0, 12);
  }
  if (path.find("/lxc/") != std::string::npos) {
    return last;
  }
  return {};
}

ForeignNetnsDirectory::ForeignNetnsDirectory(sys::NetnsSockets& sockets, std::string proc_root)
    : sockets_(sockets), proc_root_(std::move(proc_root)) {}

void ForeignNetnsDirectory::rescan() {
  // Names kept by `ip netns`, by inode.
  std::map<std::uint64_t, std::string> names;
  if (DIR* d = ::opendir("/run/netns")) {
    while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): own DIR
      if (e->d_name[0] == '.') {
        continue;
      }
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, 0) == 0) {
        names.emplace(st.st_ino, e->d_name);
      }
    }
    ::closedir(d);
  }
  std::map<std::uint64_t, std::pair<std::string, std::string>> found;  // inode → path, pid
  if (DIR* d = ::opendir(proc_root_.c_str())) {
    while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): own DIR
      if (!all_digits(e->d_name) || found.size() >= kMaxNamespaces) {
        continue;
      }
      const std::string path = proc_root_ + "/" + e->d_name + "/ns/net";
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || st.st_ino == sockets_.own_inode()) {
        continue;
      }
      found.try_emplace(st.st_ino, path, e->d_name);
    }
    ::closedir(d);
  }
  std::vector<ForeignNetns> next;
  for (const auto& [inode, where] : found) {
    ForeignNetns ns;
    ns.inode = inode;
    ns.path = where.first;
    // Keep the socket of a namespace already known.
    for (ForeignNetns& old : list_) {
      if (old.inode == inode) {
        ns.diag = std::move(old.diag);
      }
    }
    if (const auto n = names.find(inode); n != names.end()) {
      ns.label = n->second;
    } else {
      const sys::FileText cg =
          sys::read_bounded_file(proc_root_ + "/" + where.second + "/cgroup", kMaxCgroupBytes);
      ns.label = cg.text ? cgroup_label(*cg.text) : std::string();
      if (ns.label.empty()) {
        ns.label = "netns:" + std::to_string(inode);
      }
    }
    const int fd = sockets_.socket_in(ns.path, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    if (fd < 0) {
      continue;
    }
    try {
      ns.addrs = net::dump_addresses(fd);
    } catch (const std::system_error&) {
      continue;
    }
    next.push_back(std::move(ns));
  }
  list_ = std::move(next);
}

std::vector<ForeignNetns*> ForeignNetnsDirectory::owners_of(const core::IpAddr& addr) {
  std::vector<ForeignNetns*> out;
  for (ForeignNetns& ns : list_) {
    if (!std::binary_search(ns.addrs.begin(), ns.addrs.end(), addr)) {
      continue;
    }
    if (!ns.diag) {
      const int fd = sockets_.socket_in(ns.path, AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
      if (fd < 0) {
        continue;
      }
      try {
        ns.diag = std::make_unique<SockDiag>(fd);
      } catch (const std::system_error&) {
        continue;
      }
    }
    out.push_back(&ns);
  }
  return out;
}

std::vector<core::IpAddr> ForeignNetnsDirectory::addresses() const {
  std::vector<core::IpAddr> out;
  for (const ForeignNetns& ns : list_) {
    out.insert(out.end(), ns.addrs.begin(), ns.addrs.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace flowtop::enrich
