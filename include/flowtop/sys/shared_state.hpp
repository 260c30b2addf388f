#pragma once

#include <optional>
#include <string>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::sys {

/// Inode number of the calling thread's network namespace (/proc/self/ns/net).
unsigned long netns_inode();

/// A state file shared by every flowtop in one network namespace (e.g. /run/flowtop/sysctl-<ino>),
/// reference-counted with flock: each live instance holds a shared lock; the instance that gets the
/// exclusive lock is alone. Holds a small text payload (what to restore).
///
///   SharedState st(path);                 // opens/creates, takes the exclusive lock briefly
///   if (st.first()) { payload = st.payload() ? *st.payload() /*left by a killed instance*/ :
///   save(); st.write(payload); apply(); } st.share();                           // downgrade to a
///   shared lock: we are counted
///   ...
///   if (st.last()) { restore(st.payload()); st.remove(); }   // at exit
///
/// Owned by one thread; `try_exclusive_fd()` is usable from a signal handler.
class SharedState {
 public:
  /// Creates the directory (0755) and the file (0644) if needed and locks it exclusively or shared:
  /// first() tells which. Throws std::system_error on failure.
  explicit SharedState(std::string path);
  ~SharedState();  ///< Releases the lock (closing the fd); never removes the file.
  SharedState(const SharedState&) = delete;
  SharedState& operator=(const SharedState&) = delete;

  /// True when no other live instance held the file when we opened it.
  [[nodiscard]] bool first() const { return first_; }
  /// The file's content when non-empty (a payload left by a live or killed instance).
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
  UniqueFd fd_;
  bool first_ = false;
};

/// Directory of the state files; "/run/flowtop" unless $FLOWTOP_RUN_DIR is set (tests).
std::string run_dir();

}  // namespace flowtop::sys
