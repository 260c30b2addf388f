#include "flowtop/sys/shared_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace flowtop::sys {
namespace {

void flock_or_throw(int fd, int operation, const std::string& path) {
  while (::flock(fd, operation) != 0) {
    if (errno != EINTR) {
      throw_errno("flock " + path);
    }
  }
}

// mkdir -p for the state directory.
void make_dirs(const std::string& dir) {
  if (dir.empty() || ::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) {
    return;
  }
  if (errno == ENOENT) {
    if (const auto slash = dir.find_last_of('/'); slash != std::string::npos && slash > 0) {
      make_dirs(dir.substr(0, slash));
      if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) {
        return;
      }
    }
  }
  throw_errno("mkdir " + dir);
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

std::string run_dir() {
  const char* dir = std::getenv("FLOWTOP_RUN_DIR");  // NOLINT(concurrency-mt-unsafe): main thread
  return dir != nullptr && *dir != '\0' ? std::string(dir) : std::string("/run/flowtop");
}

SharedState::SharedState(std::string path) : path_(std::move(path)) {
  if (const auto slash = path_.find_last_of('/'); slash != std::string::npos && slash > 0) {
    make_dirs(path_.substr(0, slash));
  }
  // The last instance unlinks the file while holding the exclusive lock; an instance that opened
  // the old file just before would then lock a file nobody else will ever see. So after locking,
  // check that the path still names the file we hold, and start over when it does not.
  for (;;) {
    UniqueFd fd(::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd.valid()) {
      throw_errno("open " + path_);
    }
    bool exclusive = true;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) {
        throw_errno("flock " + path_);
      }
      // Others are running (or the first is still setting up: its exclusive lock makes us wait
      // until its payload is complete).
      flock_or_throw(fd.get(), LOCK_SH, path_);
      exclusive = false;
    }
    struct stat held {};
    struct stat named {};
    if (::fstat(fd.get(), &held) != 0) {
      throw_errno("fstat " + path_);
    }
    if (::stat(path_.c_str(), &named) != 0) {
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
  std::string content;
  char buf[4096];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd_.get(), buf, sizeof buf, offset);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("read " + path_);
    }
    if (n == 0) {
      break;
    }
    content.append(buf, static_cast<std::size_t>(n));
    offset += n;
  }
  if (content.empty()) {
    return std::nullopt;
  }
  return content;
}

void SharedState::write(const std::string& payload) {
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
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    throw_errno("unlink " + path_);
  }
}

}  // namespace flowtop::sys
