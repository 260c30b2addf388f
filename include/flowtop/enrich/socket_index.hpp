#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::enrich {

/// One socket of a sock_diag (inet_diag) dump. Addresses as core::IpAddr (IPv4 v4-mapped, so a
/// dual-stack IPv6 socket's ::ffff:a.b.c.d ends compare equal to IPv4 ones). Ports host order.
struct SocketInfo {
  std::uint8_t proto = 0;   ///< 6 TCP, 17 UDP, 136 UDP-lite
  std::uint8_t family = 4;  ///< the socket's family: 4 or 6
  std::uint8_t state = 0;   ///< kernel TCP state numbering (UDP: 1 connected, 7 unconnected)
  bool v6only = false;      ///< IPV6_V6ONLY (IPv6 sockets)
  core::IpAddr local;
  core::IpAddr remote;
  std::uint16_t lport = 0;
  std::uint16_t rport = 0;
  std::uint32_t inode = 0;  ///< 0: no file (TIME-WAIT, request sockets)
  std::uint32_t uid = 0;

  bool operator==(const SocketInfo&) const = default;
};

constexpr std::uint8_t kTcpListen = 10;  ///< TCP_LISTEN in the kernel's numbering

/// Which end of a flow a socket was found for, and how.
struct SocketMatch {
  enum class Via : std::uint8_t {
    Connected,    ///< the socket's full 4-tuple equals the flow's local/remote ends
    Listener,     ///< a TCP listening socket on the local end (connection not accepted yet)
    Unconnected,  ///< an unconnected UDP/UDP-lite socket bound to the local end
  };
  SocketInfo socket;
  bool inbound = false;  ///< the local end is the original destination (matched via the reply)
  Via via = Via::Connected;
};

/// Matches conntrack flows to local sockets (one sock_diag dump plus the host's addresses). Pure
/// after construction; owned by the owner worker.
///
/// For a TCP, UDP or UDP-lite flow, two candidates for the local end:
///  - outbound: the original source (orig src:sport ↔ orig dst:dport);
///  - inbound: the original destination, taken from the reply tuple reversed (reply src:sport ↔
///    reply dst:dport), which is where the packets really arrive when the flow is DNATed.
/// 1. A connected socket whose full 4-tuple matches a candidate (outbound first).
/// 2. Otherwise, on the local end only: a TCP listener (inbound candidate only), or an unconnected
///    UDP/UDP-lite socket (outbound first). A socket bound to the exact address wins over a
///    wildcard one; a wildcard socket matches only when the address is one of the host's (so a
///    router's own servers never claim forwarded flows) and its family allows it (an IPv6
///    wildcard serves IPv4 unless IPV6_V6ONLY).
/// Sockets without an inode (TIME-WAIT, request sockets) never match. No match: no local socket
/// (a forwarded flow, or one already closed).
class SocketIndex {
 public:
  SocketIndex() = default;
  SocketIndex(const std::vector<SocketInfo>& sockets, std::vector<core::IpAddr> local_addrs);

  [[nodiscard]] std::optional<SocketMatch> match(std::uint8_t proto, const core::FlowTuple& orig,
                                                 const core::FlowTuple& reply) const;
  [[nodiscard]] std::optional<SocketMatch> match(const core::FlowRecord& rec) const {
    return match(rec.key.proto, rec.key.orig, rec.reply);
  }
  /// Loopback, or one of the addresses given.
  [[nodiscard]] bool is_local(const core::IpAddr& addr) const;
  [[nodiscard]] std::size_t size() const { return connected_.size() + unconnected_count_; }

 private:
  struct ConnKey {
    std::uint8_t proto = 0;
    core::IpAddr local;
    core::IpAddr remote;
    std::uint16_t lport = 0;
    std::uint16_t rport = 0;
    bool operator==(const ConnKey&) const = default;
  };
  struct ConnKeyHash {
    std::size_t operator()(const ConnKey& k) const;
  };

  [[nodiscard]] const SocketInfo* find_unconnected(std::uint8_t proto, const core::IpAddr& local,
                                                   std::uint16_t lport) const;

  std::unordered_map<ConnKey, SocketInfo, ConnKeyHash> connected_;
  // (proto << 16 | port) → listeners and unconnected datagram sockets on that port
  std::unordered_map<std::uint32_t, std::vector<SocketInfo>> unconnected_;
  std::size_t unconnected_count_ = 0;
  std::vector<core::IpAddr> local_addrs_;  // sorted
};

/// The host's addresses in this network namespace (getifaddrs), sorted. Empty on failure.
std::vector<core::IpAddr> local_addresses();

}  // namespace flowtop::enrich
