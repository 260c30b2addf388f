#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace flowtop::sys {

/// Moves the calling thread into another network namespace (--netns): `spec` is a name kept by
/// `ip netns` (/run/netns/NAME), a path to a namespace file, or a process id (/proc/PID/ns/net).
/// Call it before any other thread starts: threads created afterwards inherit the namespace, and
/// every socket, /proc/net and /proc/sys/net read then belong to it. Throws std::runtime_error
/// with a message for the user ("no network namespace 'x' (not in /run/netns)").
void enter_netns(const std::string& spec);

/// Opens sockets inside other network namespaces (a container's, to ask its sock_diag who owns a
/// forwarded flow). A socket belongs to the namespace it was created in, so only its creation
/// needs setns(): that happens on a thread of this class, started before drop_privileges(), that
/// keeps CAP_SYS_ADMIN and CAP_SYS_PTRACE (to open another process's /proc/PID/ns/net) and nothing
/// else, and that returns to its own namespace after each socket. socket_in() from any thread.
class NetnsSockets {
 public:
  NetnsSockets();  ///< starts the thread; throws std::system_error
  ~NetnsSockets();
  NetnsSockets(const NetnsSockets&) = delete;
  NetnsSockets& operator=(const NetnsSockets&) = delete;

  /// A socket(domain, type, protocol) created in the namespace of `ns_path`
  /// (/proc/PID/ns/net); -1 with errno when it cannot be (EPERM without CAP_SYS_ADMIN). The caller
  /// owns the descriptor.
  int socket_in(const std::string& ns_path, int domain, int type, int protocol);

  /// The inode of this process's own network namespace (foreign ones differ).
  [[nodiscard]] std::uint64_t own_inode() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::sys
