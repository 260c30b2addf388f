#pragma once

#include <sys/types.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

namespace flowtop::sys {

/// The capabilities flowtop uses once it is set up.
enum class Capability {
  NetAdmin,       ///< conntrack dumps and GETs, SO_RCVBUFFORCE, the sysctl restore, --track removal
  SysPtrace,      ///< /proc/PID/fd of other users' processes (socket owners)
  DacReadSearch,  ///< listing those /proc/PID/fd directories
  SysAdmin,       ///< setns() into a container's network namespace (sys::NetnsSockets only)
};

/// Keeps only those of `keep` that the calling thread has, in its effective and permitted sets;
/// empties its inheritable and ambient sets and (when it may: CAP_SETPCAP) its bounding set; sets
/// PR_SET_NO_NEW_PRIVS. Capabilities belong to a thread: other threads keep theirs, and a thread
/// started later inherits the reduced sets. Throws std::system_error.
void limit_thread_capabilities(std::initializer_list<Capability> keep);

/// True when the calling thread has `cap` in its effective set.
bool thread_has_capability(Capability cap);

/// The first call of a worker thread that reads untrusted data (reverse DNS, GeoIP, /proc): names
/// it `name` (at most 15 bytes; /proc/PID/task/TID/comm) and keeps only `keep` of its
/// capabilities (none by default), as limit_thread_capabilities() does. Never throws: a thread
/// that cannot reduce its capabilities has none to begin with.
void enter_worker_thread(const char* name, std::initializer_list<Capability> keep = {}) noexcept;

/// Whom flowtop works for when it touches a user's own files (flowtoprc). Plain value.
struct InvokingUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;         ///< from the password database, or $HOME when `env_trusted`
  std::string config_home;  ///< $XDG_CONFIG_HOME when `env_trusted` and absolute, else ""
  /// The environment is the user's own (no sudo/pkexec, not setuid): $HOME and $XDG_CONFIG_HOME
  /// may be used. Under sudo or pkexec the environment may come from the caller: never trusted.
  bool env_trusted = false;
};

/// The invoking user: with euid 0 and SUDO_UID (else PKEXEC_UID) naming another user, that user,
/// with the home directory from the password database; for a set-user-ID binary, the real user;
/// otherwise the process's own user, whose environment is its own. nullopt when the user has no
/// usable home. Main thread (reads the environment).
std::optional<InvokingUser> invoking_user();

/// Does file work as one user: on a thread of its own whose filesystem user and group IDs (and
/// supplementary groups) are the user's and that holds no capabilities, so the kernel checks
/// every path as it would for that user. Created while the process may still change them
/// (before drop_privileges()); `run` may then be called from any thread, one call at
/// a time per caller, and blocks until the work is done.
class UserFiles {
 public:
  /// Starts the thread and switches it to `uid`/`gid`. Throws std::system_error when it cannot
  /// (not root and not that user).
  UserFiles(uid_t uid, gid_t gid);
  ~UserFiles();
  UserFiles(const UserFiles&) = delete;
  UserFiles& operator=(const UserFiles&) = delete;

  [[nodiscard]] uid_t uid() const;
  /// Runs `work` on the user's thread and waits for it; rethrows what it throws.
  void run(const std::function<void()>& work) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The process's UserFiles for invoking_user(), created on first use; null when there is no
/// invoking user or its thread could not be set up (then `why` says why when not null).
const UserFiles* invoking_user_files(std::string* why = nullptr);

/// The one call of the main thread before it starts any other thread (threads inherit their
/// creator's capabilities; liburcu starts one with the first hash table): starts
/// invoking_user_files() while it still can, then keeps CAP_NET_ADMIN, CAP_SYS_PTRACE and
/// CAP_DAC_READ_SEARCH (those the process has) with limit_thread_capabilities(). Everything the
/// set-up does after it (netlink sockets, SO_RCVBUFFORCE, sysctls as root, the --track table)
/// needs no more. Throws std::system_error.
void drop_privileges();

/// The user and group an unprivileged worker runs as.
inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNobodyGid = 65534;

/// What a worker process wrote and how it ended. Plain value.
struct WorkerResult {
  std::string output;    ///< what it wrote to its result descriptor
  int exit_status = -1;  ///< its exit status; 128 + N when killed by signal N
};

/// Runs `work` in a child process that first gives up root for user and group nobody: no
/// supplementary groups, no capabilities, no_new_privs. `work` gets a descriptor for its result
/// and returns the exit status; descriptors the caller opened before (files to fill) are
/// inherited. The caller waits, asking `stop` every 50 ms: when it says true, the child gets
/// SIGTERM. Only for a single-threaded process (flowtop -u): the child goes on with a copy of its
/// memory. Throws std::system_error when the child cannot be started.
WorkerResult run_unprivileged(const std::function<int(int result_fd)>& work,
                              const std::function<bool()>& stop);

}  // namespace flowtop::sys
