// Owner matching on synthetic sock_diag results: which local socket (if any) a conntrack flow
// belongs to, outbound and inbound, through NAT, for connected, listening and unconnected sockets.
#include "flowtop/enrich/socket_index.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using flowtop::core::FlowTuple;
using flowtop::core::IpAddr;
using flowtop::core::L4Proto;
using flowtop::enrich::kTcpListen;
using flowtop::enrich::SocketIndex;
using flowtop::enrich::SocketInfo;
using Via = flowtop::enrich::SocketMatch::Via;

constexpr auto kTcp = static_cast<std::uint8_t>(L4Proto::Tcp);
constexpr auto kUdp = static_cast<std::uint8_t>(L4Proto::Udp);
constexpr auto kUdpLite = static_cast<std::uint8_t>(L4Proto::UdpLite);
constexpr std::uint8_t kEstablished = 1;
constexpr std::uint8_t kClose = 7;

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

SocketInfo sock(std::uint8_t proto, const char* local, std::uint16_t lport, const char* remote,
                std::uint16_t rport, std::uint32_t inode, std::uint8_t state = kEstablished,
                std::uint8_t family = 0, bool v6only = false) {
  SocketInfo s;
  s.proto = proto;
  s.local = ip(local);
  s.remote = ip(remote);
  s.lport = lport;
  s.rport = rport;
  s.inode = inode;
  s.uid = 1000;
  s.state = state;
  s.family = family != 0 ? family : (s.local.is_v4() ? 4 : 6);
  s.v6only = v6only;
  return s;
}

FlowTuple tuple(const char* src, std::uint16_t sport, const char* dst, std::uint16_t dport) {
  return {ip(src), ip(dst), sport, dport};
}

// A flow without NAT: the reply is the original reversed.
struct Flow {
  std::uint8_t proto;
  FlowTuple orig;
  FlowTuple reply;
};
Flow plain(std::uint8_t proto, const char* src, std::uint16_t sport, const char* dst,
           std::uint16_t dport) {
  // The reply runs the other way: the swapped arguments are the point.
  return {proto, tuple(src, sport, dst, dport),
          tuple(dst, dport, src, sport)};  // NOLINT(readability-suspicious-call-argument)
}

const std::vector<IpAddr> kHost = {ip("10.0.0.2"), ip("fd00::2")};

TEST(SocketIndex, OutboundFlowMatchesTheConnectedClientSocket) {
  const SocketIndex idx({sock(kTcp, "10.0.0.2", 40000, "93.184.216.34", 443, 11)}, kHost);
  const Flow f = plain(kTcp, "10.0.0.2", 40000, "93.184.216.34", 443);
  const auto m = idx.match(f.proto, f.orig, f.reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, 11U);
  EXPECT_FALSE(m->inbound);
  EXPECT_EQ(m->via, Via::Connected);
}

TEST(SocketIndex, InboundFlowMatchesTheServerSideSocketThroughTheReplyTuple) {
  const SocketIndex idx({sock(kTcp, "10.0.0.2", 22, "198.51.100.7", 5555, 22),
                         sock(kTcp, "0.0.0.0", 22, "0.0.0.0", 0, 21, kTcpListen)},
                        kHost);
  const Flow f = plain(kTcp, "198.51.100.7", 5555, "10.0.0.2", 22);
  const auto m = idx.match(f.proto, f.orig, f.reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, 22U) << "the accepted socket, not the listener";
  EXPECT_TRUE(m->inbound);
  EXPECT_EQ(m->via, Via::Connected);
}

TEST(SocketIndex, DnatedInboundFlowMatchesWhereThePacketsReallyArrive) {
  // Port forward: the client talks to 203.0.113.1:80, the kernel rewrites to 10.0.0.2:8080.
  const SocketIndex idx({sock(kTcp, "10.0.0.2", 8080, "198.51.100.7", 5555, 80)}, kHost);
  const FlowTuple orig = tuple("198.51.100.7", 5555, "203.0.113.1", 80);
  const FlowTuple reply = tuple("10.0.0.2", 8080, "198.51.100.7", 5555);
  const auto m = idx.match(kTcp, orig, reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, 80U);
  EXPECT_TRUE(m->inbound);
}

TEST(SocketIndex, SnatedOutboundFlowMatchesTheOriginalSource) {
  const SocketIndex idx({sock(kUdp, "10.0.0.2", 40000, "192.0.2.53", 53, 53)}, kHost);
  const FlowTuple orig = tuple("10.0.0.2", 40000, "192.0.2.53", 53);
  const FlowTuple reply = tuple("192.0.2.53", 53, "203.0.113.1", 61000);  // masqueraded
  const auto m = idx.match(kUdp, orig, reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, 53U);
  EXPECT_FALSE(m->inbound);
}

TEST(SocketIndex, ForwardedFlowsMatchNothingEvenWithServersOnTheirPorts) {
  // A router with its own DNS and web servers on wildcard addresses: a LAN client's flows through
  // it to the same ports elsewhere are not the router's.
  const SocketIndex idx({sock(kUdp, "0.0.0.0", 53, "0.0.0.0", 0, 1, kClose),
                         sock(kTcp, "::", 443, "::", 0, 2, kTcpListen, 6),
                         sock(kUdp, "::", 53, "::", 0, 3, kClose, 6)},
                        kHost);
  const Flow dns = plain(kUdp, "192.168.1.10", 5353, "8.8.8.8", 53);
  EXPECT_FALSE(idx.match(dns.proto, dns.orig, dns.reply).has_value());
  const Flow web = plain(kTcp, "192.168.1.10", 40000, "93.184.216.34", 443);
  EXPECT_FALSE(idx.match(web.proto, web.orig, web.reply).has_value());
  const Flow web6 = plain(kTcp, "fd00:1::10", 40000, "2001:db8::80", 443);
  EXPECT_FALSE(idx.match(web6.proto, web6.orig, web6.reply).has_value());
}

TEST(SocketIndex, UnconnectedUdpServerMatchesInboundOnTheLocalEnd) {
  const SocketIndex idx({sock(kUdp, "0.0.0.0", 53, "0.0.0.0", 0, 7, kClose)}, kHost);
  const Flow f = plain(kUdp, "198.51.100.7", 40000, "10.0.0.2", 53);
  const auto m = idx.match(f.proto, f.orig, f.reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, 7U);
  EXPECT_TRUE(m->inbound);
  EXPECT_EQ(m->via, Via::Unconnected);
}

TEST(SocketIndex, UnconnectedUdpClientMatchesOutboundOnTheLocalEnd) {
  const SocketIndex idx({sock(kUdp, "0.0.0.0", 40000, "0.0.0.0", 0, 8, kClose)}, kHost);
  const Flow f = plain(kUdp, "10.0.0.2", 40000, "192.0.2.53", 53);
  const auto m = idx.match(f.proto, f.orig, f.reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, 8U);
  EXPECT_FALSE(m->inbound);
}

TEST(SocketIndex, ConnectedSocketWinsOverAnUnconnectedOneOnTheSamePort) {
  // SO_REUSEPORT-style: a connected UDP socket and the wildcard server share port 4433.
  const SocketIndex idx({sock(kUdp, "0.0.0.0", 4433, "0.0.0.0", 0, 1, kClose),
                         sock(kUdp, "10.0.0.2", 4433, "198.51.100.7", 40000, 2)},
                        kHost);
  const Flow f = plain(kUdp, "198.51.100.7", 40000, "10.0.0.2", 4433);
  EXPECT_EQ(idx.match(f.proto, f.orig, f.reply)->socket.inode, 2U);
  const Flow other = plain(kUdp, "198.51.100.8", 40000, "10.0.0.2", 4433);
  EXPECT_EQ(idx.match(other.proto, other.orig, other.reply)->socket.inode, 1U);
}

TEST(SocketIndex, ExactlyBoundSocketWinsOverAWildcard) {
  const SocketIndex idx({sock(kUdp, "0.0.0.0", 123, "0.0.0.0", 0, 1, kClose),
                         sock(kUdp, "10.0.0.2", 123, "0.0.0.0", 0, 2, kClose)},
                        kHost);
  const Flow f = plain(kUdp, "198.51.100.7", 123, "10.0.0.2", 123);
  EXPECT_EQ(idx.match(f.proto, f.orig, f.reply)->socket.inode, 2U);
}

TEST(SocketIndex, Ipv6WildcardServesIpv4UnlessV6Only) {
  const Flow f = plain(kTcp, "198.51.100.7", 5555, "10.0.0.2", 8080);
  const SocketIndex dual({sock(kTcp, "::", 8080, "::", 0, 1, kTcpListen, 6, false)}, kHost);
  ASSERT_TRUE(dual.match(f.proto, f.orig, f.reply).has_value());
  const SocketIndex v6only({sock(kTcp, "::", 8080, "::", 0, 1, kTcpListen, 6, true)}, kHost);
  EXPECT_FALSE(v6only.match(f.proto, f.orig, f.reply).has_value());
  const Flow f6 = plain(kTcp, "2001:db8::7", 5555, "fd00::2", 8080);
  EXPECT_TRUE(v6only.match(f6.proto, f6.orig, f6.reply).has_value());
  const SocketIndex v4({sock(kTcp, "0.0.0.0", 8080, "0.0.0.0", 0, 1, kTcpListen)}, kHost);
  EXPECT_FALSE(v4.match(f6.proto, f6.orig, f6.reply).has_value()) << "IPv4 socket, IPv6 flow";
}

TEST(SocketIndex, DualStackSocketWithAMappedAddressMatchesAnIpv4Flow) {
  // An AF_INET6 socket connected to an IPv4 peer reports ::ffff:a.b.c.d ends.
  const SocketIndex idx(
      {sock(kTcp, "::ffff:10.0.0.2", 40000, "::ffff:93.184.216.34", 443, 5, kEstablished, 6)},
      kHost);
  const Flow f = plain(kTcp, "10.0.0.2", 40000, "93.184.216.34", 443);
  EXPECT_EQ(idx.match(f.proto, f.orig, f.reply)->socket.inode, 5U);
}

TEST(SocketIndex, ListenerClaimsAnInboundConnectionNotYetAccepted) {
  // SYN-RECV: only a request socket (no inode) exists besides the listener.
  const SocketIndex idx({sock(kTcp, "10.0.0.2", 80, "198.51.100.7", 5555, 0, 12),
                         sock(kTcp, "0.0.0.0", 80, "0.0.0.0", 0, 9, kTcpListen)},
                        kHost);
  const Flow f = plain(kTcp, "198.51.100.7", 5555, "10.0.0.2", 80);
  const auto m = idx.match(f.proto, f.orig, f.reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, 9U);
  EXPECT_EQ(m->via, Via::Listener);
}

TEST(SocketIndex, ListenerNeverClaimsAnOutboundTcpFlow) {
  // Our closed client used source port 8080, where a server also listens: the listener is not it.
  const SocketIndex idx({sock(kTcp, "0.0.0.0", 8080, "0.0.0.0", 0, 9, kTcpListen)}, kHost);
  const Flow f = plain(kTcp, "10.0.0.2", 8080, "93.184.216.34", 80);
  EXPECT_FALSE(idx.match(f.proto, f.orig, f.reply).has_value());
}

TEST(SocketIndex, TcpSocketsThatNeitherListenNorConnectAreIgnored) {
  // bind() without listen(): state CLOSE, no peer.
  const SocketIndex idx({sock(kTcp, "0.0.0.0", 80, "0.0.0.0", 0, 9, kClose)}, kHost);
  const Flow f = plain(kTcp, "198.51.100.7", 5555, "10.0.0.2", 80);
  EXPECT_FALSE(idx.match(f.proto, f.orig, f.reply).has_value());
}

TEST(SocketIndex, TimeWaitSocketsWithoutAnInodeNeverMatch) {
  const SocketIndex idx({sock(kTcp, "10.0.0.2", 40000, "93.184.216.34", 443, 0, 6)}, kHost);
  const Flow f = plain(kTcp, "10.0.0.2", 40000, "93.184.216.34", 443);
  EXPECT_FALSE(idx.match(f.proto, f.orig, f.reply).has_value());
  EXPECT_EQ(idx.size(), 0U);
}

TEST(SocketIndex, ProtocolsAreNotMixed) {
  const SocketIndex idx({sock(kUdp, "10.0.0.2", 40000, "192.0.2.1", 9000, 1),
                         sock(kUdpLite, "10.0.0.2", 40001, "192.0.2.1", 9000, 2)},
                        kHost);
  const Flow lite = plain(kUdpLite, "10.0.0.2", 40000, "192.0.2.1", 9000);
  EXPECT_FALSE(idx.match(lite.proto, lite.orig, lite.reply).has_value());
  const Flow lite2 = plain(kUdpLite, "10.0.0.2", 40001, "192.0.2.1", 9000);
  EXPECT_EQ(idx.match(lite2.proto, lite2.orig, lite2.reply)->socket.inode, 2U);
  const Flow tcp = plain(kTcp, "10.0.0.2", 40000, "192.0.2.1", 9000);
  EXPECT_FALSE(idx.match(tcp.proto, tcp.orig, tcp.reply).has_value());
  const Flow icmp = plain(1, "10.0.0.2", 0, "192.0.2.1", 0);
  EXPECT_FALSE(idx.match(icmp.proto, icmp.orig, icmp.reply).has_value());
}

TEST(SocketIndex, LoopbackFlowBelongsToTheClient) {
  // Both ends are ours: the original direction's socket (the one that opened the flow) wins.
  const SocketIndex idx({sock(kTcp, "127.0.0.1", 40000, "127.0.0.1", 8080, 1),
                         sock(kTcp, "127.0.0.1", 8080, "127.0.0.1", 40000, 2)},
                        {});
  const Flow f = plain(kTcp, "127.0.0.1", 40000, "127.0.0.1", 8080);
  const auto m = idx.match(f.proto, f.orig, f.reply);
  EXPECT_EQ(m->socket.inode, 1U);
  EXPECT_FALSE(m->inbound);
  EXPECT_TRUE(idx.is_local(ip("127.3.2.1")));
  EXPECT_TRUE(idx.is_local(ip("::1")));
  EXPECT_FALSE(idx.is_local(ip("10.0.0.2"))) << "no host addresses given";
}

TEST(LocalAddresses, IncludeLoopback) {
  const auto addrs = flowtop::enrich::local_addresses();
  EXPECT_TRUE(std::is_sorted(addrs.begin(), addrs.end()));
  EXPECT_NE(std::find(addrs.begin(), addrs.end(), ip("127.0.0.1")), addrs.end())
      << "lo is up in every namespace flowtop runs in";
}

}  // namespace
