#pragma once

#include <cstdint>
#include <string>

#include "flowtop/core/flow.hpp"

namespace flowtop::view {

/// What the user asked to see (the selection is a view filter). The collector keeps every
/// flow; this decides what is shown. Plain value.
struct Selection {
  bool ipv4 = true;
  bool ipv6 = true;
  bool tcp = true;
  bool udp = false;   ///< UDP and UDP-lite
  bool dccp = false;  ///< DCCP, and generic protocol-33 entries
  bool icmp = false;  ///< ICMP and ICMPv6
  bool sctp = false;
  bool other = false;     ///< GRE and every other generically tracked protocol (--other)
  bool loopback = false;  ///< show 127.0.0.0/8 and ::1 flows
  bool dns = false;       ///< show port-53 flows
};

/// Why a flow is hidden (first matching reason, in this order), or Shown.
enum class Hidden : std::uint8_t { Shown, Family, Protocol, Loopback, Dns };

Hidden classify(const core::FlowRecord& rec, const Selection& sel);

/// Counts of a frame's flows by reason.
struct HiddenCounts {
  std::uint64_t shown = 0, family = 0, protocol = 0, loopback = 0, dns = 0;
  void add(Hidden h);
  [[nodiscard]] std::uint64_t hidden() const { return family + protocol + loopback + dns; }
};

/// "TCP+UDP, IPv4+IPv6" — the selection in words, for status lines and empty-table messages.
std::string describe(const Selection& sel);

}  // namespace flowtop::view
