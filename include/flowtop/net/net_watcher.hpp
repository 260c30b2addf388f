#pragma once

// What this network namespace is: its addresses, the networks directly connected to it, and its
// neighbours (IP → MAC), learnt over rtnetlink (libmnl, NETLINK_ROUTE) and kept current by its
// events. No polling and no `ip` calls.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/hash_seed.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::net {

using Mac = core::MacAddr;

/// One address, route or neighbour message, decoded. Plain values (parse_route_message()).
struct AddrEntry {
  core::IpAddr addr;
  std::uint8_t prefix_len = 0;
  std::uint32_t ifindex = 0;
};
struct RouteEntry {
  core::Prefix dst;  ///< prefix length 0: a default route
  bool gateway = false;
  std::uint32_t oif = 0;
  bool main_unicast = false;  ///< a unicast route of the main table (what facts_from() reads)
};
struct NeighEntry {
  core::IpAddr addr;
  Mac mac{};
  bool reachable = false;  ///< has a link-layer address in a usable state (not FAILED/INCOMPLETE)
};

/// The decoded content of one rtnetlink message (RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH and their
/// DEL counterparts); `deleted` for a DEL. Bounds-checked: a malformed message gives nullopt.
/// Pure; any thread (fuzzed).
struct RouteMessage {
  enum class Kind : std::uint8_t { Addr, Route, Neigh };
  Kind kind = Kind::Addr;
  bool deleted = false;
  AddrEntry addr;
  RouteEntry route;
  NeighEntry neigh;
};
std::optional<RouteMessage> parse_route_message(std::span<const std::uint8_t> msg);

/// The namespace's NetFacts from its addresses and routes: every address is local; the inside
/// networks are the main table's connected routes (no gateway, a prefix) on interfaces that do not
/// carry a default route of the same family, or every connected route when there is no default
/// route. IPv6 link-local routes are never inside.
core::NetFacts facts_from(std::span<const AddrEntry> addrs, std::span<const RouteEntry> routes);

/// The addresses of the namespace an rtnetlink socket was created in (NETLINK_ROUTE, not bound):
/// one RTM_GETADDR dump, sorted. Takes ownership of `rtnl_fd` (closed on return). Throws
/// std::system_error. Any thread.
std::vector<core::IpAddr> dump_addresses(int rtnl_fd);

/// One published view of the namespace. Immutable once published.
struct NetState {
  core::NetFacts facts;
  std::unordered_map<core::IpAddr, Mac, core::SeededIpHash> neighbours;
  std::uint64_t generation = 0;  ///< grows with every change
};

/// Learns the namespace's addresses, routes and neighbours (one dump each at start) and follows
/// their events on its own thread; every change is re-read with one coalesced dump. state() from
/// any thread.
class NetWatcher {
 public:
  /// Opens and binds the rtnetlink socket (in the caller's namespace) and dumps once, so that
  /// state() is complete when it returns. Throws std::system_error when rtnetlink is unusable.
  NetWatcher();
  ~NetWatcher();  ///< stop()
  NetWatcher(const NetWatcher&) = delete;
  NetWatcher& operator=(const NetWatcher&) = delete;

  /// Starts following events.
  void start();
  void stop();

  /// The latest state (never null).
  [[nodiscard]] std::shared_ptr<const NetState> state() const;
  /// Cheap: the generation of state(), to re-read only after a change.
  [[nodiscard]] std::uint64_t generation() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::net
