#include "flowtop/view/selection.hpp"

#include <string_view>

namespace flowtop::view {
namespace {

using core::L4Proto;

constexpr std::uint8_t num(L4Proto p) {
  return static_cast<std::uint8_t>(p);
}

bool family_shown(core::Family family, const Selection& sel) {
  return family == core::Family::V4 ? sel.ipv4 : sel.ipv6;
}

bool proto_shown(std::uint8_t proto, const Selection& sel) {
  switch (static_cast<L4Proto>(proto)) {
    case L4Proto::Tcp: return sel.tcp;
    case L4Proto::Udp:
    case L4Proto::UdpLite: return sel.udp;
    case L4Proto::Dccp: return sel.dccp;
    case L4Proto::Icmp:
    case L4Proto::Icmpv6: return sel.icmp;
    case L4Proto::Sctp: return sel.sctp;
    default: return sel.other;  // GRE and every generically tracked protocol
  }
}

bool is_loopback(const core::FlowKey& key) {
  return key.orig.src.is_loopback() || key.orig.dst.is_loopback();
}

bool is_dns(const core::FlowKey& key) {
  constexpr std::uint16_t kDnsPort = 53;
  const bool tcp_udp = key.proto == num(L4Proto::Tcp) || key.proto == num(L4Proto::Udp);
  return tcp_udp && (key.orig.sport == kDnsPort || key.orig.dport == kDnsPort);
}

void join(std::string& out, bool on, std::string_view name) {
  if (!on) {
    return;
  }
  if (!out.empty()) {
    out += '+';
  }
  out += name;
}

}  // namespace

Hidden classify(const core::FlowRecord& rec, const Selection& sel) {
  const core::FlowKey& key = rec.key;
  if (!family_shown(key.family, sel)) {
    return Hidden::Family;
  }
  if (!proto_shown(key.proto, sel)) {
    return Hidden::Protocol;
  }
  if (!sel.loopback && is_loopback(key)) {
    return Hidden::Loopback;
  }
  if (!sel.dns && is_dns(key)) {
    return Hidden::Dns;
  }
  return Hidden::Shown;
}

void HiddenCounts::add(Hidden h) {
  switch (h) {
    case Hidden::Shown: ++shown; break;
    case Hidden::Family: ++family; break;
    case Hidden::Protocol: ++protocol; break;
    case Hidden::Loopback: ++loopback; break;
    case Hidden::Dns: ++dns; break;
  }
}

std::string describe(const Selection& sel) {
  std::string protos;
  join(protos, sel.tcp, "TCP");
  join(protos, sel.udp, "UDP");
  join(protos, sel.dccp, "DCCP");
  join(protos, sel.icmp, "ICMP");
  join(protos, sel.sctp, "SCTP");
  join(protos, sel.other, "other");
  std::string families;
  join(families, sel.ipv4, "IPv4");
  join(families, sel.ipv6, "IPv6");
  return (protos.empty() ? std::string("no protocol") : protos) + ", " +
         (families.empty() ? std::string("no family") : families);
}

}  // namespace flowtop::view
