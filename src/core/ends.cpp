#include "flowtop/core/ends.hpp"

#include <algorithm>

namespace flowtop::core {
namespace {

std::uint8_t bits(Direction d, bool inside_responds) {
  return static_cast<std::uint8_t>((static_cast<unsigned>(d) << FlowRecord::kDirectionShift) |
                                   (inside_responds ? unsigned{FlowRecord::kInsideResponds} : 0U));
}

bool icmp(const FlowRecord& rec) {
  return proto_is_icmp(rec.key.proto);
}

}  // namespace

bool Prefix::contains(const IpAddr& addr) const {
  const unsigned full = len / 8U;
  const unsigned rest = len % 8U;
  if (full > 16 || !std::equal(net.bytes.begin(), net.bytes.begin() + full, addr.bytes.begin())) {
    return false;
  }
  if (rest == 0 || full >= 16) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xFFU << (8U - rest));
  return (net.bytes[full] & mask) == (addr.bytes[full] & mask);
}

bool NetFacts::is_local(const IpAddr& addr) const {
  return addr.is_loopback() || std::binary_search(local.begin(), local.end(), addr);
}

bool NetFacts::is_inside(const IpAddr& addr) const {
  return std::any_of(inside.begin(), inside.end(),
                     [&addr](const Prefix& p) { return p.contains(addr); });
}

std::uint8_t classify(const FlowRecord& rec, const NetFacts& facts) {
  const IpAddr& initiator = rec.key.orig.src;
  const IpAddr& responder = rec.reply.src;  // the real server, after any DNAT
  const bool init_local = facts.is_local(initiator);
  const bool resp_local = facts.is_local(responder);
  if (init_local && resp_local) {
    return bits(Direction::Local, false);
  }
  if (init_local) {
    return bits(Direction::Out, false);
  }
  if (resp_local) {
    return bits(Direction::In, true);
  }
  const bool init_inside = facts.is_inside(initiator);
  const bool resp_inside = facts.is_inside(responder);
  return bits(Direction::Forward, resp_inside && !init_inside);
}

Nat nat_of(const FlowRecord& rec) {
  Nat n;
  const bool ports = rec.has(FlowRecord::kHasPorts) && !icmp(rec);
  n.dnat = rec.reply.src != rec.key.orig.dst || (ports && rec.reply.sport != rec.key.orig.dport);
  n.snat = rec.reply.dst != rec.key.orig.src || (ports && rec.reply.dport != rec.key.orig.sport);
  n.dnat_to = {rec.reply.src, detail::port_of(rec, rec.reply.sport)};
  n.snat_to = {rec.reply.dst, detail::port_of(rec, rec.reply.dport)};
  return n;
}

}  // namespace flowtop::core
