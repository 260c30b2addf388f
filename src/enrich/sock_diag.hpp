#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "flowtop/enrich/socket_index.hpp"

namespace flowtop::enrich {

/// Decodes one SOCK_DIAG_BY_FAMILY reply (a whole netlink message: nlmsghdr, inet_diag_msg,
/// attributes) for protocol `proto`. nullopt for anything else or a truncated message. Pure.
std::optional<SocketInfo> parse_sock_diag(std::span<const std::uint8_t> msg, std::uint8_t proto);

/// A NETLINK_SOCK_DIAG socket (libmnl) that dumps TCP, UDP and UDP-lite sockets of both families
/// in the caller's network namespace (inet_diag_req_v2, every state). One owner thread.
class SockDiag {
 public:
  /// Throws std::system_error when the netlink socket cannot be opened.
  SockDiag();
  /// The same over a NETLINK_SOCK_DIAG socket made elsewhere (in another network namespace:
  /// sys::NetnsSockets); takes ownership of `fd`.
  explicit SockDiag(int fd);
  ~SockDiag();
  SockDiag(const SockDiag&) = delete;
  SockDiag& operator=(const SockDiag&) = delete;

  /// Every socket; a protocol the kernel cannot dump (no UDP-lite diag) is skipped. Throws
  /// std::system_error on a netlink failure.
  std::vector<SocketInfo> dump();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::enrich
