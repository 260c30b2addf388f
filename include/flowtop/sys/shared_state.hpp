#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::sys {

/// Inode number of the calling thread's network namespace (/proc/self/ns/net).
unsigned long netns_inode();

/// A name for the calling thread's network namespace that no later namespace reuses: "c" and its
/// SO_NETNS_COOKIE. On a kernel without the cookie (before Linux 5.14), "i" and the namespace's
/// inode, which the kernel does reuse once a namespace is gone; `by_inode` says so.
struct NetnsName {
  std::string name;
  bool by_inode = false;
};
NetnsName netns_name();

/// How long SharedState waits for a lock another instance holds exclusively. Plain value.
struct LockWait {
  /// The longest wait; then the constructor throws (ETIMEDOUT).
  std::chrono::milliseconds limit{15'000};
  /// Called once when the wait starts (tests).
  std::function<void()> on_wait;
};

/// A state file shared by every flowtop in one network namespace (e.g.
/// /run/flowtop/sysctl-c<cookie>), reference-counted with flock: each live instance holds a shared
/// lock; the instance that gets the exclusive lock is alone. Holds a small text payload (what to
/// restore).
///
///   SharedState st(path);                 // opens/creates, takes the exclusive lock briefly
///   if (st.first()) { payload = st.payload() ? *st.payload() /*left by a killed instance*/ :
///   save(); st.write(payload); apply(); } st.share();                           // downgrade to a
///   shared lock: we are counted
///   ...
///   if (st.last()) { restore(st.payload()); st.remove(); }   // at exit
///
/// Only root's instances may take part: the directory is 0700 and the files 0600, both owned by
/// the effective user (an older, more open mode is tightened; another owner is refused), and
/// nothing is followed through a symbolic link. The payload is at most kMaxPayload bytes.
///
/// Owned by one thread; `fd()` is usable from a signal handler.
class SharedState {
 public:
  static constexpr std::size_t kMaxPayload = 4096;

  /// Creates the directory (0700) and the file (0600) if needed and locks it exclusively or
  /// shared: first() tells which. Waits at most `wait.limit` for an instance that holds the lock
  /// exclusively, and gives up at once when SIGINT, SIGTERM, SIGHUP or SIGQUIT is pending (they
  /// are blocked while flowtop runs). Throws std::system_error on failure (EINTR: interrupted,
  /// ETIMEDOUT: waited too long, EPERM: a directory or file owned by another user).
  explicit SharedState(std::string path, const LockWait& wait = {});
  ~SharedState();  ///< Releases the lock (closing the fd); never removes the file.
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  /// True when no other live instance held the file when we opened it.
  [[nodiscard]] bool first() const { return first_; }
  /// The file's content when non-empty (a payload left by a live or killed instance); nullopt also
  /// for a file larger than kMaxPayload, which no flowtop wrote.
  [[nodiscard]] std::optional<std::string> payload() const;
  /// Replaces the content (we must hold the exclusive lock).
  void write(const std::string& payload);
  /// Downgrades to a shared lock.
  void share();
  /// At exit: tries to take the exclusive lock without blocking; true when we are the last instance
  /// (then the caller restores and calls remove()).
  bool last();
  /// Unlinks the file (while holding the exclusive lock).
  void remove();

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string name_;  // the file's name in dir_fd_
  UniqueFd dir_fd_;
  UniqueFd fd_;
  bool first_ = false;
};

/// Directory of the state files: "/run/flowtop" ($FLOWTOP_RUN_DIR in a build with test hooks).
std::string run_dir();

}  // namespace flowtop::sys
