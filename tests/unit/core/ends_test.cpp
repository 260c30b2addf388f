// Direction, inside and remote ends, and NAT, for every combination of SNAT and DNAT, IPv4 and
// IPv6, on a router (WAN 81.2.69.1 / 2001:db8:1::1, LAN 192.168.77.0/24 / fd00:77::/64).
#include "flowtop/core/ends.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace flowtop::core {
namespace {

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

NetFacts router() {
  NetFacts f;
  f.local = {ip("81.2.69.1"), ip("192.168.77.1"), ip("2001:db8:1::1"), ip("fd00:77::1")};
  std::sort(f.local.begin(), f.local.end());
  f.inside = {Prefix{ip("192.168.77.0"), 96 + 24}, Prefix{ip("fd00:77::"), 64}};
  return f;
}

// A flow: the original tuple, then the reply tuple (NAT: not its mirror). Counters: the initiator
// sent 100 bytes, the responder 900.
FlowRecord flow(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport,
                const char* rsrc, std::uint16_t rsport, const char* rdst, std::uint16_t rdport,
                std::uint8_t proto = 6) {
  FlowRecord r;
  r.key.orig = {ip(src), ip(dst), sport, dport};
  r.key.family = r.key.orig.src.family();
  r.key.proto = proto;
  r.reply = {ip(rsrc), ip(rdst), rsport, rdport};
  r.flags = FlowRecord::kHasCounters | (proto_has_ports(proto) ? FlowRecord::kHasPorts : 0);
  r.orig_ctr = {2, 100};
  r.reply_ctr = {9, 900};
  r.rate_orig_bytes = 10;
  r.rate_reply_bytes = 90;
  r.flags = static_cast<std::uint8_t>(r.flags | classify(r, router()));
  return r;
}

std::string str(const Endpoint& e) {
  return e.addr.to_string() + ":" + std::to_string(e.port);
}

struct Want {
  Direction dir;
  std::string inside, remote;
  bool snat, dnat;
};

void expect(const FlowRecord& r, const Want& w) {
  const Ends e = ends_of(r);
  EXPECT_EQ(e.direction, w.dir);
  EXPECT_EQ(str(e.inside), w.inside);
  EXPECT_EQ(str(e.remote), w.remote);
  const Nat n = nat_of(r);
  EXPECT_EQ(n.snat, w.snat);
  EXPECT_EQ(n.dnat, w.dnat);
  // Sent is what the inside end sent: the initiator's 100 bytes when it opened the flow.
  EXPECT_EQ(sent_counters(r).bytes, e.inside_initiated ? 100U : 900U);
  EXPECT_EQ(received_counters(r).bytes, e.inside_initiated ? 900U : 100U);
  EXPECT_EQ(sent_rate(r), e.inside_initiated ? 10.0 : 90.0);
}

TEST(Ends, OutboundFromTheMachine) {
  expect(flow("192.168.77.1", 40000, "93.184.216.34", 443, "93.184.216.34", 443, "192.168.77.1",
              40000),
         {Direction::Out, "192.168.77.1:40000", "93.184.216.34:443", false, false});
  // Its own traffic masqueraded behind the WAN address: still out, SNAT marked.
  expect(
      flow("192.168.77.1", 40000, "93.184.216.34", 443, "93.184.216.34", 443, "81.2.69.1", 61000),
      {Direction::Out, "192.168.77.1:40000", "93.184.216.34:443", true, false});
  expect(flow("2001:db8:1::1", 40000, "2606:2800::1", 443, "2606:2800::1", 443, "2001:db8:1::1",
              40000),
         {Direction::Out, "2001:db8:1::1:40000", "2606:2800::1:443", false, false});
}

TEST(Ends, InboundToTheMachine) {
  // A server: the client is the remote end, the local socket the inside one; ↑ is the reply.
  expect(flow("198.51.100.7", 5555, "81.2.69.1", 22, "81.2.69.1", 22, "198.51.100.7", 5555),
         {Direction::In, "81.2.69.1:22", "198.51.100.7:5555", false, false});
  // Redirected to a local port (DNAT to itself): the socket that answers is the inside end.
  expect(flow("198.51.100.7", 5555, "81.2.69.1", 80, "81.2.69.1", 8080, "198.51.100.7", 5555),
         {Direction::In, "81.2.69.1:8080", "198.51.100.7:5555", false, true});
  expect(
      flow("2001:db8:9::7", 5555, "2001:db8:1::1", 22, "2001:db8:1::1", 22, "2001:db8:9::7", 5555),
      {Direction::In, "2001:db8:1::1:22", "2001:db8:9::7:5555", false, false});
}

TEST(Ends, ForwardedFromTheLanThroughMasquerade) {
  // SNAT: the LAN client is inside, the server remote.
  expect(
      flow("192.168.77.10", 40000, "93.184.216.34", 443, "93.184.216.34", 443, "81.2.69.1", 61000),
      {Direction::Forward, "192.168.77.10:40000", "93.184.216.34:443", true, false});
  // NAT66 likewise.
  expect(
      flow("fd00:77::10", 40000, "2606:2800::1", 443, "2606:2800::1", 443, "2001:db8:1::1", 61000),
      {Direction::Forward, "fd00:77::10:40000", "2606:2800::1:443", true, false});
  // No NAT (a routed LAN): the same ends.
  expect(flow("fd00:77::10", 40000, "2606:2800::1", 443, "2606:2800::1", 443, "fd00:77::10", 40000),
         {Direction::Forward, "fd00:77::10:40000", "2606:2800::1:443", false, false});
}

TEST(Ends, PortForwardToALanServer) {
  // DNAT: the outside client reached the router's 8022; the internal server 192.168.77.10:22
  // answered. The server is inside and sends ↑ what it sent (the reply direction).
  expect(flow("198.51.100.7", 5555, "81.2.69.1", 8022, "192.168.77.10", 22, "198.51.100.7", 5555),
         {Direction::Forward, "192.168.77.10:22", "198.51.100.7:5555", false, true});
  expect(
      flow("2001:db8:9::7", 5555, "2001:db8:1::1", 8022, "fd00:77::10", 22, "2001:db8:9::7", 5555),
      {Direction::Forward, "fd00:77::10:22", "2001:db8:9::7:5555", false, true});
  // Both SNAT and DNAT (the port forward masquerades the client too): still the server inside.
  expect(flow("198.51.100.7", 5555, "81.2.69.1", 8022, "192.168.77.10", 22, "192.168.77.1", 62000),
         {Direction::Forward, "192.168.77.10:22", "198.51.100.7:5555", true, true});
}

TEST(Ends, HairpinAndTransitKeepTheInitiatorInside) {
  // A LAN client to the WAN address's port forward, masqueraded back into the LAN: both ends are
  // inside, so the initiator is.
  expect(
      flow("192.168.77.20", 40000, "81.2.69.1", 8022, "192.168.77.10", 22, "192.168.77.1", 62000),
      {Direction::Forward, "192.168.77.20:40000", "192.168.77.10:22", true, true});
  // Transit between two foreign networks: neither end inside: the initiator.
  expect(flow("10.9.9.9", 1000, "8.8.8.8", 53, "8.8.8.8", 53, "10.9.9.9", 1000, 17),
         {Direction::Forward, "10.9.9.9:1000", "8.8.8.8:53", false, false});
}

TEST(Ends, LocalFlows) {
  expect(flow("127.0.0.1", 40000, "127.0.0.1", 631, "127.0.0.1", 631, "127.0.0.1", 40000),
         {Direction::Local, "127.0.0.1:40000", "127.0.0.1:631", false, false});
  expect(flow("::1", 40000, "::1", 631, "::1", 631, "::1", 40000),
         {Direction::Local, "::1:40000", "::1:631", false, false});
  expect(flow("81.2.69.1", 40000, "192.168.77.1", 22, "192.168.77.1", 22, "81.2.69.1", 40000),
         {Direction::Local, "81.2.69.1:40000", "192.168.77.1:22", false, false});
}

TEST(Ends, IcmpHasNoPortsAndItsIdIsNoNat) {
  FlowRecord r =
      flow("192.168.77.10", 77, "93.184.216.34", 0, "93.184.216.34", 77, "81.2.69.1", 0, 1);
  expect(r, {Direction::Forward, "192.168.77.10:0", "93.184.216.34:0", true, false});
  r = flow("198.51.100.7", 77, "81.2.69.1", 0, "81.2.69.1", 77, "198.51.100.7", 0, 1);
  expect(r, {Direction::In, "81.2.69.1:0", "198.51.100.7:0", false, false});
}

TEST(Prefix, ContainsByLeadingBits) {
  EXPECT_TRUE((Prefix{ip("192.168.77.0"), 120}).contains(ip("192.168.77.255")));
  EXPECT_FALSE((Prefix{ip("192.168.77.0"), 120}).contains(ip("192.168.78.1")));
  EXPECT_TRUE((Prefix{ip("192.168.77.128"), 121}).contains(ip("192.168.77.200")));
  EXPECT_FALSE((Prefix{ip("192.168.77.128"), 121}).contains(ip("192.168.77.100")));
  EXPECT_TRUE((Prefix{ip("fd00:77::"), 64}).contains(ip("fd00:77::abcd")));
  EXPECT_FALSE((Prefix{ip("fd00:77::"), 64}).contains(ip("fd00:78::1")));
  EXPECT_TRUE((Prefix{ip("2001:db8::5"), 128}).contains(ip("2001:db8::5")));
  EXPECT_FALSE((Prefix{ip("2001:db8::5"), 128}).contains(ip("2001:db8::6")));
  EXPECT_TRUE((Prefix{ip("::"), 0}).contains(ip("10.0.0.1")));
  EXPECT_FALSE((Prefix{ip("10.0.0.0"), 104}).contains(ip("::a00:1")))
      << "an IPv6 address is not in an IPv4 network";
}

TEST(NetFacts, LoopbackIsAlwaysLocal) {
  const NetFacts f = router();
  EXPECT_TRUE(f.is_local(ip("127.0.0.53")));
  EXPECT_TRUE(f.is_local(ip("::1")));
  EXPECT_TRUE(f.is_local(ip("81.2.69.1")));
  EXPECT_FALSE(f.is_local(ip("81.2.69.2")));
  EXPECT_TRUE(f.is_inside(ip("192.168.77.9")));
  EXPECT_FALSE(f.is_inside(ip("81.2.69.9")));
}

}  // namespace
}  // namespace flowtop::core
