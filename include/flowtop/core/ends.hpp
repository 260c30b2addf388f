#pragma once

// A flow seen from this machine: its direction, its inside (or local) end and its remote end, and
// the NAT done on it. Pure; any thread.

#include <cstdint>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::core {

/// An address with the first `len` bits significant (IPv4 as v4-mapped: 96 + its length).
struct Prefix {
  IpAddr net;
  std::uint8_t len = 0;

  [[nodiscard]] bool contains(const IpAddr& addr) const;
  bool operator==(const Prefix&) const = default;
};

/// What the machine knows of its network, from its routing tables: the addresses it owns, and the
/// networks directly connected to it that do not carry the default route (a router's LANs, a
/// container host's bridges and veths). Plain value, built by the net module.
struct NetFacts {
  std::vector<IpAddr> local;   ///< sorted; loopback addresses count as local without being listed
  std::vector<Prefix> inside;  ///< connected networks away from the default route

  [[nodiscard]] bool is_local(const IpAddr& addr) const;
  [[nodiscard]] bool is_inside(const IpAddr& addr) const;
};

/// The direction and inside-end bits of FlowRecord::flags (FlowRecord::kEndsBits) for `rec`:
///  - Out, Local: the inside end is the local initiator;
///  - In: the inside end is the local responder (the reply source, after any DNAT);
///  - Forward: the end in an inside network (`facts.inside`); when both ends or neither are, the
///    initiator.
std::uint8_t classify(const FlowRecord& rec, const NetFacts& facts);

/// One end of a flow. `port` is 0 for protocols without ports (ICMP's id is not a port).
struct Endpoint {
  IpAddr addr;
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

/// The two real ends of a flow as classify() stored them in the record: the initiator is the
/// original source, the responder the reply source (the real server after any DNAT).
struct Ends {
  Direction direction = Direction::Out;
  Endpoint inside;               ///< the local socket's end, or the inside end of a forwarded flow
  Endpoint remote;               ///< the peer
  bool inside_initiated = true;  ///< the inside end opened the flow (its sent bytes are orig's)
};

namespace detail {
inline std::uint16_t port_of(const FlowRecord& rec, std::uint16_t port) {
  return rec.has(FlowRecord::kHasPorts) ? port : std::uint16_t{0};
}
}  // namespace detail

inline Ends ends_of(const FlowRecord& rec) {
  const Endpoint initiator{rec.key.orig.src, detail::port_of(rec, rec.key.orig.sport)};
  const Endpoint responder{rec.reply.src, detail::port_of(rec, rec.reply.sport)};
  Ends e;
  e.direction = rec.direction();
  e.inside_initiated = !rec.has(FlowRecord::kInsideResponds);
  e.inside = e.inside_initiated ? initiator : responder;
  e.remote = e.inside_initiated ? responder : initiator;
  return e;
}

/// The address translation of a flow: the reply tuple is not the mirror of the original one.
struct Nat {
  bool snat = false;  ///< the source was rewritten: the responder sees `snat_to`
  bool dnat = false;  ///< the destination was rewritten: the flow reached `dnat_to`
  Endpoint snat_to;   ///< the translated source (the reply's destination)
  Endpoint dnat_to;   ///< the translated destination (the reply's source)
  [[nodiscard]] bool any() const { return snat || dnat; }
};
Nat nat_of(const FlowRecord& rec);

/// Traffic from the inside end's side: what it sent (↑) and what it received (↓). For a flow the
/// inside end initiated these are the original and reply directions; otherwise the reverse.
/// (Inline, like the rate and ends helpers: prepare calls them for every flow of every pass.)
inline Counters sent_counters(const FlowRecord& rec) {
  return rec.has(FlowRecord::kInsideResponds) ? rec.reply_ctr : rec.orig_ctr;
}
inline Counters received_counters(const FlowRecord& rec) {
  return rec.has(FlowRecord::kInsideResponds) ? rec.orig_ctr : rec.reply_ctr;
}
/// Bytes per second sent and received by the inside end, over the record's last rate window.
inline double sent_rate(const FlowRecord& rec) {
  return rec.has(FlowRecord::kInsideResponds) ? rec.rate_reply_bytes : rec.rate_orig_bytes;
}
inline double received_rate(const FlowRecord& rec) {
  return rec.has(FlowRecord::kInsideResponds) ? rec.rate_orig_bytes : rec.rate_reply_bytes;
}

}  // namespace flowtop::core
