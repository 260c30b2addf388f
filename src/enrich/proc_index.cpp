#include "flowtop/enrich/proc_index.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <string_view>
#include <utility>
#include <vector>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::enrich {
namespace {

/// A directory stream over an fd we own; closedir closes the fd.
class Dir {
 public:
  explicit Dir(int fd) : dir_(fd >= 0 ? fdopendir(fd) : nullptr) {
    if (dir_ == nullptr && fd >= 0) {
      ::close(fd);
    }
  }
  ~Dir() {
    if (dir_ != nullptr) {
      closedir(dir_);
    }
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  [[nodiscard]] DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

std::optional<std::int32_t> parse_pid(const char* name) {
  const std::string_view s(name);
  std::int32_t pid = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (ec != std::errc() || end != s.data() + s.size() || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

/// Reads a small file relative to `dirfd`; false when it cannot be opened.
bool read_small(int dirfd, const char* path, std::string& out,
                std::size_t limit = std::size_t{64} * 1024) {
  const sys::UniqueFd fd(openat(dirfd, path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return false;
  }
  out.clear();
  std::array<char, 4096> buf{};
  while (out.size() < limit) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::uint64_t> socket_inode(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() <= kPrefix.size() + 1 || link.substr(0, kPrefix.size()) != kPrefix ||
      link.back() != ']') {
    return std::nullopt;
  }
  const std::string_view digits = link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1);
  std::uint64_t inode = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return inode;
}

ProcIndex::ProcIndex(std::string proc_root) : root_(std::move(proc_root)) {}

bool ProcIndex::rebuild(const std::atomic<bool>* stop) {
  std::unordered_map<std::uint64_t, std::int32_t> pids;
  const Dir proc(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (proc.get() == nullptr) {
    pids_.clear();
    return true;
  }
  std::array<char, 64> link{};
  // readdir on a stream only this thread uses is safe in glibc.
  while (const dirent* ent = readdir(proc.get())) {  // NOLINT(concurrency-mt-unsafe)
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
      pids_ = std::move(pids);
      return false;
    }
    const auto pid = parse_pid(ent->d_name);
    if (!pid) {
      continue;
    }
    const std::string fd_path = std::string(ent->d_name) + "/fd";
    // The process may exit at any moment: every failure below just skips it (or the fd).
    const int fd_dir_fd =
        openat(dirfd(proc.get()), fd_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const Dir fds(fd_dir_fd);
    if (fds.get() == nullptr) {
      continue;
    }
    while (const dirent* fd_ent = readdir(fds.get())) {  // NOLINT(concurrency-mt-unsafe)
      if (fd_ent->d_name[0] == '.') {
        continue;
      }
      const ssize_t n = readlinkat(dirfd(fds.get()), fd_ent->d_name, link.data(), link.size());
      if (n <= 0 || static_cast<std::size_t>(n) >= link.size()) {
        continue;
      }
      if (const auto inode = socket_inode({link.data(), static_cast<std::size_t>(n)})) {
        const auto [it, added] = pids.emplace(*inode, *pid);
        if (!added && *pid < it->second) {
          it->second = *pid;
        }
      }
    }
  }
  pids_ = std::move(pids);
  return true;
}

std::optional<std::int32_t> ProcIndex::pid_of(std::uint64_t inode) const {
  const auto it = pids_.find(inode);
  if (it == pids_.end()) {
    return std::nullopt;
  }
  return it->second;
}

bool ProcIndex::read_process(std::int32_t pid, std::string& comm, std::string& cmdline) const {
  const sys::UniqueFd dir(
      ::open((root_ + "/" + std::to_string(pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || !read_small(dir.get(), "comm", comm, 256)) {
    return false;
  }
  while (!comm.empty() && (comm.back() == '\n' || comm.back() == '\0')) {
    comm.pop_back();
  }
  if (!read_small(dir.get(), "cmdline", cmdline)) {
    cmdline.clear();
  }
  while (!cmdline.empty() && cmdline.back() == '\0') {
    cmdline.pop_back();
  }
  for (char& c : cmdline) {
    if (c == '\0') {
      c = ' ';
    }
  }
  return true;
}

std::string user_name(std::uint32_t uid) {
  passwd pw{};
  passwd* result = nullptr;
  std::vector<char> buf(1024);
  for (;;) {
    const int rc = getpwuid_r(uid, &pw, buf.data(), buf.size(), &result);
    if (rc == ERANGE && buf.size() < (1U << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == 0 && result != nullptr && result->pw_name != nullptr && result->pw_name[0] != '\0') {
      return result->pw_name;
    }
    return std::to_string(uid);
  }
}

}  // namespace flowtop::enrich
