// LeaseIndex: lease files stat'ed at every refresh, read when they change, names by address and
// by MAC.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "flowtop/enrich/leases.hpp"
#include "flowtop/sys/bounded_file.hpp"
#include "flowtop/sys/unique_fd.hpp"
#include "lease_records.hpp"

namespace flowtop::enrich {

LeaseIndex::LeaseIndex(std::vector<std::string> paths, const core::Clock& clock,
                       std::size_t max_bytes)
    : clock_(clock), max_bytes_(max_bytes) {
  for (std::string& p : paths) {
    const bool dup = std::any_of(sources_.begin(), sources_.end(),
                                 [&p](const Source& s) { return s.path == p; });
    if (!dup && !p.empty()) {
      sources_.push_back(Source{std::move(p), std::nullopt, {}, {}});
    }
  }
}

std::vector<std::string> LeaseIndex::default_paths() {
  return {"/var/lib/misc/dnsmasq.leases",
          "/var/lib/dnsmasq/dnsmasq.leases",
          "/tmp/dhcp.leases",
          "/tmp/hosts/odhcpd",
          "/var/lib/dhcp/dhcpd.leases",
          "/var/lib/dhcp/dhcpd6.leases",
          "/var/lib/kea/kea-leases4.csv",
          "/var/lib/kea/kea-leases6.csv"};
}

namespace {

constexpr uid_t kFirstUserUid = 1000;  // Debian's and OpenWrt's first login account

std::int64_t ns_of(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

bool LeaseIndex::refresh_one(Source& src) {
  const bool had = !src.leases.empty();
  const auto drop = [&src, had](std::string why) {
    src.leases.clear();
    src.problem = std::move(why);
    return had;
  };

  const std::string_view base = lease_detail::base_name(src.path);
  const std::string dir =
      base.size() == src.path.size() ? "." : src.path.substr(0, src.path.size() - base.size());
  const sys::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    const int err = errno;
    src.id.reset();
    return drop(err == ENOENT || err == ENOTDIR ? "" : std::generic_category().message(err));
  }
  const std::string file(base);
  const sys::UniqueFd fd(::openat(dir_fd.get(), file.c_str(),
                                  O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW));
  if (!fd.valid()) {
    const int err = errno;
    src.id.reset();
    if (err == ENOENT) {
      return drop("");
    }
    return drop(err == ELOOP ? "is a symbolic link (not followed)"
                             : std::generic_category().message(err));
  }
  struct stat st {};
  struct stat dst {};
  if (::fstat(fd.get(), &st) != 0 || ::fstat(dir_fd.get(), &dst) != 0) {
    src.id.reset();
    return drop(std::generic_category().message(errno));
  }
  const FileId id{st.st_dev, st.st_ino, st.st_size, ns_of(st.st_mtim), ns_of(st.st_ctim)};
  if (src.id == id) {
    return false;  // unchanged: neither read again nor re-judged
  }
  // Changed within a timestamp tick of now: a second change in the same tick, at the same size,
  // would leave this id as it is, so the file is read again next time until it has settled.
  const bool settled = std::max(id.mtime_ns, id.ctime_ns) < clock_.realtime_ns() - kLeaseRacyNs;
  if (settled) {
    src.id = id;
  } else {
    src.id.reset();
  }
  if ((dst.st_mode & S_IWOTH) != 0 && st.st_uid != 0 && st.st_uid != ::geteuid() &&
      st.st_uid >= kFirstUserUid) {
    return drop("owned by uid " + std::to_string(st.st_uid) +
                " in a directory anyone may write to (not trusted)");
  }
  const sys::FileText text = sys::read_bounded_fd(fd.get(), max_bytes_);
  if (!text.text) {
    return drop(text.why);
  }
  ++reads_;
  const LeaseFormat format =
      lease_format_of_path(src.path).value_or(sniff_lease_format(*text.text));
  std::vector<Lease> leases = parse_leases(*text.text, format);
  src.problem.clear();
  if (leases == src.leases) {
    return false;
  }
  src.leases = std::move(leases);
  return true;
}

bool LeaseIndex::refresh() {
  bool changed = false;
  problems_.clear();
  for (Source& src : sources_) {
    changed = refresh_one(src) || changed;
    if (!src.problem.empty()) {
      problems_.push_back(src.path + ": " + src.problem);
    }
  }
  if (changed) {
    rebuild();
  }
  return changed;
}

void LeaseIndex::rebuild() {
  by_addr_.clear();
  by_mac_.clear();
  for (const Source& src : sources_) {  // later files win
    for (const Lease& l : src.leases) {
      if (l.name.empty()) {
        continue;
      }
      by_addr_.insert_or_assign(l.addr, l.name);
      if (l.mac) {
        by_mac_.insert_or_assign(*l.mac, l.name);
      }
    }
  }
}

std::optional<std::string> LeaseIndex::name_of(const core::IpAddr& addr) const {
  const auto it = by_addr_.find(addr);
  if (it == by_addr_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<std::string> LeaseIndex::name_of_mac(const MacAddr& mac) const {
  const auto it = by_mac_.find(mac);
  if (it == by_mac_.end()) {
    return std::nullopt;
  }
  return it->second;
}

}  // namespace flowtop::enrich
