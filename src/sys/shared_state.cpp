#include "flowtop/sys/shared_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <initializer_list>
#include <thread>
#include <utility>

#include "flowtop/sys/test_hooks.hpp"

namespace flowtop::sys {
namespace {

constexpr std::chrono::milliseconds kPollPeriod{10};

void flock_or_throw(int fd, int operation, const std::string& path) {
  while (::flock(fd, operation) != 0) {
    if (errno != EINTR) {
      throw_errno("flock " + path);
    }
  }
}

// mkdir -p, 0700 for every directory created.
void make_dirs(const std::string& dir) {
  if (dir.empty() || ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    return;
  }
  if (errno == ENOENT) {
    if (const auto slash = dir.find_last_of('/'); slash != std::string::npos && slash > 0) {
      make_dirs(dir.substr(0, slash));
      if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
        return;
      }
    }
  }
  throw_errno("mkdir " + dir);
}

// Owned by the effective user and private to it: an older, more open mode of our own is tightened.
void check_private(int fd, const std::string& path, mode_t mode, bool directory) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    throw_errno("fstat " + path);
  }
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    throw_errno(EINVAL, path + (directory ? " is not a directory" : " is not a regular file"));
  }
  if (st.st_uid != ::geteuid()) {
    throw_errno(EPERM, path + " is owned by another user (uid " + std::to_string(st.st_uid) +
                           "): remove it");
  }
  if ((st.st_mode & 07777) != mode && ::fchmod(fd, mode) != 0) {
    throw_errno("chmod " + path);
  }
}

// A termination request the process has blocked and not yet read (SIGINT, SIGTERM, SIGHUP,
// SIGQUIT).
bool termination_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  if (::sigpending(&pending) != 0) {
    return false;
  }
  const auto pending_one = [&pending](int sig) { return sigismember(&pending, sig) == 1; };
  return std::ranges::any_of(std::initializer_list<int>{SIGINT, SIGTERM, SIGHUP, SIGQUIT},
                             pending_one);
}

// Takes a shared lock, polling, within `wait.limit`; a termination request ends the wait.
void lock_shared_bounded(int fd, const std::string& path, const LockWait& wait) {
  if (wait.on_wait) {
    wait.on_wait();
  }
  const auto deadline = std::chrono::steady_clock::now() + wait.limit;
  for (;;) {
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
      return;
    }
    if (errno != EWOULDBLOCK && errno != EINTR) {
      throw_errno("flock " + path);
    }
    if (termination_pending()) {
      throw_errno(EINTR, "interrupted while waiting for another flowtop's lock on " + path);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw_errno(ETIMEDOUT, "another flowtop has held " + path + " for more than " +
                                 std::to_string(wait.limit.count() / 1000) + " s (is it stuck?)");
    }
    std::this_thread::sleep_for(kPollPeriod);
  }
}

}  // namespace

unsigned long netns_inode() {
  struct stat st {};
  // thread-self: the calling thread's namespace (a thread may have called setns()).
  if (::stat("/proc/thread-self/ns/net", &st) != 0 && ::stat("/proc/self/ns/net", &st) != 0) {
    throw_errno("stat /proc/self/ns/net");
  }
  return static_cast<unsigned long>(st.st_ino);
}

NetnsName netns_name() {
  // A socket belongs to the namespace of the thread that creates it.
  const UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.valid()) {
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (::getsockopt(sock.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0 &&
        len == sizeof cookie) {
      return {"c" + std::to_string(cookie), false};
    }
  }
  return {"i" + std::to_string(netns_inode()), true};
}

std::string run_dir() {
  return test_hook("FLOWTOP_RUN_DIR").value_or("/run/flowtop");
}

SharedState::SharedState(std::string path, const LockWait& wait) : path_(std::move(path)) {
  const auto slash = path_.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : path_.substr(0, std::max<std::size_t>(slash, 1));
  name_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  make_dirs(dir);
  dir_fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir_fd_.valid()) {
    throw_errno("open " + dir);
  }
  check_private(dir_fd_.get(), dir, 0700, true);
  // The last instance unlinks the file while holding the exclusive lock; an instance that opened
  // the old file just before would then lock a file nobody else will ever see. So after locking,
  // check that the name still names the file we hold, and start over when it does not.
  for (;;) {
    UniqueFd fd(::openat(dir_fd_.get(), name_.c_str(),
                         O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600));
    if (!fd.valid()) {
      throw_errno("open " + path_);
    }
    check_private(fd.get(), path_, 0600, false);
    bool exclusive = true;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) {
        throw_errno("flock " + path_);
      }
      // Others are running (or the first is still setting up: its exclusive lock makes us wait
      // until its payload is complete).
      lock_shared_bounded(fd.get(), path_, wait);
      exclusive = false;
    }
    struct stat held {};
    struct stat named {};
    if (::fstat(fd.get(), &held) != 0) {
      throw_errno("fstat " + path_);
    }
    if (::fstatat(dir_fd_.get(), name_.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) {
        continue;
      }
      throw_errno("stat " + path_);
    }
    if (held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
      continue;
    }
    fd_ = std::move(fd);
    first_ = exclusive;
    return;
  }
}

SharedState::~SharedState() = default;

std::optional<std::string> SharedState::payload() const {
  std::string content(kMaxPayload + 1, '\0');
  std::size_t got = 0;
  while (got < content.size()) {
    const ssize_t n =
        ::pread(fd_.get(), content.data() + got, content.size() - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("read " + path_);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got == 0 || got > kMaxPayload) {
    return std::nullopt;
  }
  content.resize(got);
  return content;
}
void SharedState::write(const std::string& payload) {
  if (payload.size() > kMaxPayload) {
    throw_errno(EFBIG, "write " + path_);
  }
  if (::ftruncate(fd_.get(), 0) != 0) {
    throw_errno("truncate " + path_);
  }
  std::size_t done = 0;
  while (done < payload.size()) {
    const ssize_t n =
        ::pwrite(fd_.get(), payload.data() + done, payload.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("write " + path_);
    }
    done += static_cast<std::size_t>(n);
  }
}

void SharedState::share() {
  // Linux converts a flock without a window in which another process could take the lock
  // exclusively (the man page only says it is not guaranteed); even if one did, it would find
  // our complete payload and treat it as the original values, which they are.
  flock_or_throw(fd_.get(), LOCK_SH, path_);
}

bool SharedState::last() {
  // Note: a failed conversion drops our shared lock on Linux: from then on we are no longer
  // counted, which is what an exiting instance wants anyway.
  while (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

void SharedState::remove() {
  if (::unlinkat(dir_fd_.get(), name_.c_str(), 0) != 0 && errno != ENOENT) {
    throw_errno("unlink " + path_);
  }
}

}  // namespace flowtop::sys
