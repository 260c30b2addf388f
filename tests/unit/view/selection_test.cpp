#include "flowtop/view/selection.hpp"

#include <gtest/gtest.h>

#include <string>

namespace flowtop::view {
namespace {

using core::L4Proto;

core::FlowRecord flow(const char* src, const char* dst, std::uint8_t proto, std::uint16_t sport,
                      std::uint16_t dport) {
  core::FlowRecord r;
  r.key.orig.src = *core::IpAddr::parse(src);
  r.key.orig.dst = *core::IpAddr::parse(dst);
  r.key.orig.sport = sport;
  r.key.orig.dport = dport;
  r.key.family = r.key.orig.src.family();
  r.key.proto = proto;
  r.reply = {r.key.orig.dst, r.key.orig.src, dport, sport};
  return r;
}

constexpr std::uint8_t num(L4Proto p) {
  return static_cast<std::uint8_t>(p);
}

Selection only_protocols() {
  Selection s;
  s.tcp = false;
  return s;
}

TEST(Selection, DefaultShowsTcpOnBothFamilies) {
  const Selection sel;
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 6, 1000, 80), sel), Hidden::Shown);
  EXPECT_EQ(classify(flow("2001:db8::1", "2001:db8::2", 6, 1000, 80), sel), Hidden::Shown);
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 17, 1000, 80), sel), Hidden::Protocol);
}

TEST(Selection, FamilyRule) {
  Selection sel;
  sel.ipv6 = false;
  EXPECT_EQ(classify(flow("2001:db8::1", "2001:db8::2", 6, 1, 2), sel), Hidden::Family);
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 6, 1, 2), sel), Hidden::Shown);
  sel.ipv6 = true;
  sel.ipv4 = false;
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 6, 1, 2), sel), Hidden::Family);
}

struct ProtoCase {
  std::uint8_t proto;
  bool Selection::*flag;
};

TEST(Selection, EachProtocolNeedsItsFlag) {
  const ProtoCase cases[] = {
      {num(L4Proto::Tcp), &Selection::tcp},
      {num(L4Proto::Udp), &Selection::udp},
      {num(L4Proto::UdpLite), &Selection::udp},
      {num(L4Proto::Dccp), &Selection::dccp},
      {num(L4Proto::Icmp), &Selection::icmp},
      {num(L4Proto::Icmpv6), &Selection::icmp},
      {num(L4Proto::Sctp), &Selection::sctp},
      {num(L4Proto::Gre), &Selection::other},
      {99, &Selection::other},
      {0, &Selection::other},
  };
  for (const auto& c : cases) {
    Selection sel = only_protocols();
    const auto rec = flow("10.0.0.1", "10.0.0.2", c.proto, 1000, 2000);
    EXPECT_EQ(classify(rec, sel), Hidden::Protocol) << int(c.proto);
    sel.*c.flag = true;
    EXPECT_EQ(classify(rec, sel), Hidden::Shown) << int(c.proto);
  }
}

TEST(Selection, OtherDoesNotShowKnownProtocols) {
  Selection sel = only_protocols();
  sel.other = true;
  for (auto p : {L4Proto::Tcp, L4Proto::Udp, L4Proto::UdpLite, L4Proto::Dccp, L4Proto::Icmp,
                 L4Proto::Icmpv6, L4Proto::Sctp}) {
    EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", num(p), 1, 2), sel), Hidden::Protocol)
        << int(num(p));
  }
}

TEST(Selection, LoopbackAtEitherEnd) {
  Selection sel;
  EXPECT_EQ(classify(flow("127.0.0.1", "10.0.0.2", 6, 1, 2), sel), Hidden::Loopback);
  EXPECT_EQ(classify(flow("10.0.0.2", "127.1.2.3", 6, 1, 2), sel), Hidden::Loopback);
  EXPECT_EQ(classify(flow("::1", "2001:db8::2", 6, 1, 2), sel), Hidden::Loopback);
  EXPECT_EQ(classify(flow("2001:db8::2", "::1", 6, 1, 2), sel), Hidden::Loopback);
  sel.loopback = true;
  EXPECT_EQ(classify(flow("127.0.0.1", "127.0.0.1", 6, 1, 2), sel), Hidden::Shown);
}

TEST(Selection, LoopbackOnlyInTheReplyTupleDoesNotCount) {
  auto rec = flow("10.0.0.1", "10.0.0.2", 6, 1, 2);
  rec.reply.src = *core::IpAddr::parse("127.0.0.1");  // e.g. a DNAT to localhost
  EXPECT_EQ(classify(rec, Selection{}), Hidden::Shown);
}

TEST(Selection, DnsIsTcpOrUdpPort53AtEitherEnd) {
  Selection sel;
  sel.udp = true;
  sel.icmp = true;
  sel.sctp = true;
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 17, 40000, 53), sel), Hidden::Dns);
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 6, 53, 40000), sel), Hidden::Dns);
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 132, 53, 53), sel), Hidden::Shown);
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 1, 53, 0), sel), Hidden::Shown);  // ICMP id 53
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 17, 5353, 530), sel), Hidden::Shown);
  sel.dns = true;
  EXPECT_EQ(classify(flow("10.0.0.1", "10.0.0.2", 17, 40000, 53), sel), Hidden::Shown);
}

TEST(Selection, ReasonsApplyInOrderFamilyProtocolLoopbackDns) {
  Selection sel;
  sel.ipv4 = false;
  // IPv4 UDP loopback DNS: every rule matches; the first wins.
  const auto rec = flow("127.0.0.1", "127.0.0.53", 17, 40000, 53);
  EXPECT_EQ(classify(rec, sel), Hidden::Family);
  sel.ipv4 = true;
  EXPECT_EQ(classify(rec, sel), Hidden::Protocol);
  sel.udp = true;
  EXPECT_EQ(classify(rec, sel), Hidden::Loopback);
  sel.loopback = true;
  EXPECT_EQ(classify(rec, sel), Hidden::Dns);
  sel.dns = true;
  EXPECT_EQ(classify(rec, sel), Hidden::Shown);
}

TEST(Selection, HiddenCountsAddUp) {
  HiddenCounts c;
  for (Hidden h : {Hidden::Shown, Hidden::Shown, Hidden::Family, Hidden::Protocol, Hidden::Protocol,
                   Hidden::Protocol, Hidden::Loopback, Hidden::Dns}) {
    c.add(h);
  }
  EXPECT_EQ(c.shown, 2U);
  EXPECT_EQ(c.family, 1U);
  EXPECT_EQ(c.protocol, 3U);
  EXPECT_EQ(c.loopback, 1U);
  EXPECT_EQ(c.dns, 1U);
  EXPECT_EQ(c.hidden(), 6U);
}

TEST(Selection, Describe) {
  Selection sel;
  EXPECT_EQ(describe(sel), "TCP, IPv4+IPv6");
  sel.udp = true;
  EXPECT_EQ(describe(sel), "TCP+UDP, IPv4+IPv6");
  sel.ipv6 = false;
  sel.dccp = sel.icmp = sel.sctp = sel.other = true;
  EXPECT_EQ(describe(sel), "TCP+UDP+DCCP+ICMP+SCTP+other, IPv4");
  sel = only_protocols();
  sel.ipv4 = false;
  sel.icmp = true;
  EXPECT_EQ(describe(sel), "ICMP, IPv6");
  sel.icmp = false;
  sel.ipv6 = false;
  EXPECT_EQ(describe(sel), "no protocol, no family");
}

}  // namespace
}  // namespace flowtop::view
