#include "enrich/sock_diag.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "flowtop/sys/unique_fd.hpp"

namespace {

using flowtop::core::IpAddr;
using flowtop::enrich::parse_sock_diag;
using flowtop::enrich::SockDiag;
using flowtop::enrich::SocketIndex;
using flowtop::enrich::SocketInfo;
using flowtop::sys::UniqueFd;

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

/// A SOCK_DIAG_BY_FAMILY reply as the kernel builds it.
std::vector<std::uint8_t> diag_message(std::uint8_t family, const char* src, std::uint16_t sport,
                                       const char* dst, std::uint16_t dport, std::uint32_t inode,
                                       std::uint32_t uid, std::optional<bool> v6only = {}) {
  inet_diag_msg m{};
  m.idiag_family = family;
  m.idiag_state = 1;
  m.id.idiag_sport = htons(sport);
  m.id.idiag_dport = htons(dport);
  inet_pton(family, src, m.id.idiag_src);
  inet_pton(family, dst, m.id.idiag_dst);
  m.idiag_inode = inode;
  m.idiag_uid = uid;
  std::vector<std::uint8_t> out(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof m));
  if (v6only) {
    // One unrelated attribute first (INET_DIAG_SHUTDOWN), then SKV6ONLY.
    for (const auto& [type, value] :
         {std::pair<int, std::uint8_t>{INET_DIAG_SHUTDOWN, 3},
          std::pair<int, std::uint8_t>{INET_DIAG_SKV6ONLY, *v6only ? 1 : 0}}) {
      nlattr a{};
      a.nla_len = NLA_HDRLEN + 1;
      a.nla_type = static_cast<std::uint16_t>(type);
      const std::size_t at = out.size();
      out.resize(at + NLA_ALIGN(a.nla_len));
      std::memcpy(out.data() + at, &a, sizeof a);
      out[at + NLA_HDRLEN] = value;
    }
  }
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(out.size());
  h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  h.nlmsg_flags = NLM_F_MULTI;
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + NLMSG_HDRLEN, &m, sizeof m);
  return out;
}

TEST(ParseSockDiag, DecodesAnIpv4Socket) {
  const auto msg = diag_message(AF_INET, "10.0.0.2", 40000, "93.184.216.34", 443, 12345, 1000);
  const auto s = parse_sock_diag(msg, IPPROTO_TCP);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->proto, IPPROTO_TCP);
  EXPECT_EQ(s->family, 4);
  EXPECT_EQ(s->local, ip("10.0.0.2"));
  EXPECT_EQ(s->remote, ip("93.184.216.34"));
  EXPECT_EQ(s->lport, 40000);
  EXPECT_EQ(s->rport, 443);
  EXPECT_EQ(s->inode, 12345U);
  EXPECT_EQ(s->uid, 1000U);
  EXPECT_FALSE(s->v6only);
}

TEST(ParseSockDiag, DecodesAnIpv6SocketAndItsV6OnlyFlag) {
  const auto msg = diag_message(AF_INET6, "::", 443, "::", 0, 7, 0, true);
  const auto s = parse_sock_diag(msg, IPPROTO_UDPLITE);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->family, 6);
  EXPECT_EQ(s->proto, IPPROTO_UDPLITE);
  EXPECT_EQ(s->local, IpAddr{});
  EXPECT_TRUE(s->v6only);
  const auto dual =
      parse_sock_diag(diag_message(AF_INET6, "::", 443, "::", 0, 7, 0, false), IPPROTO_TCP);
  EXPECT_FALSE(dual->v6only);
}

TEST(ParseSockDiag, MappedAddressesEqualIpv4Ones) {
  const auto s = parse_sock_diag(
      diag_message(AF_INET6, "::ffff:10.0.0.2", 1, "::ffff:192.0.2.1", 2, 1, 0), IPPROTO_TCP);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->local, IpAddr::from_v4_be(inet_addr("10.0.0.2")));
  EXPECT_TRUE(s->local.is_v4());
}

TEST(ParseSockDiag, RejectsTruncatedAndForeignMessages) {
  auto msg = diag_message(AF_INET, "10.0.0.2", 1, "10.0.0.3", 2, 1, 0);
  EXPECT_FALSE(parse_sock_diag({msg.data(), msg.size() - 1}, IPPROTO_TCP).has_value());
  EXPECT_FALSE(parse_sock_diag({msg.data(), 8}, IPPROTO_TCP).has_value());
  auto wrong = msg;
  wrong[4] = NLMSG_DONE;  // nlmsg_type (little endian)
  wrong[5] = 0;
  EXPECT_FALSE(parse_sock_diag(wrong, IPPROTO_TCP).has_value());
  auto unix_family = msg;
  unix_family[NLMSG_HDRLEN] = AF_UNIX;
  EXPECT_FALSE(parse_sock_diag(unix_family, IPPROTO_TCP).has_value());
  // A bad attribute length ends attribute parsing, not the socket.
  auto bad_attr = diag_message(AF_INET6, "::1", 1, "::1", 2, 1, 0, true);
  bad_attr[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(inet_diag_msg))] = 200;
  EXPECT_TRUE(parse_sock_diag(bad_attr, IPPROTO_TCP).has_value());
}

std::uint32_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(fstat(fd, &st), 0);
  return static_cast<std::uint32_t>(st.st_ino);
}

std::uint16_t port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

const SocketInfo* find_inode(const std::vector<SocketInfo>& all, std::uint32_t inode) {
  for (const auto& s : all) {
    if (s.inode == inode) {
      return &s;
    }
  }
  return nullptr;
}

UniqueFd bound(int family, int type, int proto, const char* addr) {
  UniqueFd fd(socket(family, type | SOCK_CLOEXEC, proto));
  if (!fd.valid()) {
    return fd;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, addr, &sin6->sin6_addr);
    len = sizeof *sin6;
  }
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << std::strerror(errno);
  return fd;
}

void connect_to(int fd, int family, const char* addr, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, addr, &sin->sin_addr);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    inet_pton(AF_INET6, addr, &sin6->sin6_addr);
    len = sizeof *sin6;
  }
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0) << std::strerror(errno);
}

TEST(SockDiagDump, FindsThisProcesssTcpAndUdpSockets) {
  // A TCP connection on 127.0.0.1, and a connected UDP socket.
  const UniqueFd listener = bound(AF_INET, SOCK_STREAM, 0, "127.0.0.1");
  ASSERT_EQ(listen(listener.get(), 4), 0);
  const std::uint16_t server_port = port_of(listener.get());
  const UniqueFd client = bound(AF_INET, SOCK_STREAM, 0, "127.0.0.1");
  connect_to(client.get(), AF_INET, "127.0.0.1", server_port);
  const UniqueFd accepted(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  const UniqueFd udp = bound(AF_INET, SOCK_DGRAM, 0, "127.0.0.1");
  connect_to(udp.get(), AF_INET, "127.0.0.1", 9);

  SockDiag diag;
  const auto all = diag.dump();
  const SocketInfo* l = find_inode(all, inode_of(listener.get()));
  ASSERT_NE(l, nullptr) << "listener not in the dump of " << all.size() << " sockets";
  EXPECT_EQ(l->state, flowtop::enrich::kTcpListen);
  EXPECT_EQ(l->lport, server_port);
  EXPECT_EQ(l->rport, 0);
  const SocketInfo* c = find_inode(all, inode_of(client.get()));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->proto, IPPROTO_TCP);
  EXPECT_EQ(c->local, ip("127.0.0.1"));
  EXPECT_EQ(c->lport, port_of(client.get()));
  EXPECT_EQ(c->rport, server_port);
  EXPECT_EQ(c->uid, getuid());
  const SocketInfo* a = find_inode(all, inode_of(accepted.get()));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->lport, server_port);
  EXPECT_EQ(a->rport, port_of(client.get()));
  const SocketInfo* u = find_inode(all, inode_of(udp.get()));
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->proto, IPPROTO_UDP);
  EXPECT_EQ(u->rport, 9);

  // The whole chain: the loopback flow belongs to the client socket.
  const SocketIndex idx(all, {});
  const flowtop::core::FlowTuple orig{ip("127.0.0.1"), ip("127.0.0.1"), port_of(client.get()),
                                      server_port};
  const flowtop::core::FlowTuple reply{ip("127.0.0.1"), ip("127.0.0.1"), server_port,
                                       port_of(client.get())};
  const auto m = idx.match(IPPROTO_TCP, orig, reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->socket.inode, inode_of(client.get()));
}

TEST(SockDiagDump, FindsIpv6AndUdpLiteSockets) {
  const UniqueFd v6 = bound(AF_INET6, SOCK_DGRAM, 0, "::1");
  if (!v6.valid()) {
    GTEST_SKIP() << "no IPv6";
  }
  connect_to(v6.get(), AF_INET6, "::1", 9);
  UniqueFd v6only(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ASSERT_EQ(setsockopt(v6only.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  ASSERT_EQ(bind(v6only.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  ASSERT_EQ(listen(v6only.get(), 1), 0);
  const UniqueFd lite = bound(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE, "127.0.0.1");

  SockDiag diag;
  const auto all = diag.dump();
  const SocketInfo* s6 = find_inode(all, inode_of(v6.get()));
  ASSERT_NE(s6, nullptr);
  EXPECT_EQ(s6->family, 6);
  EXPECT_EQ(s6->local, ip("::1"));
  EXPECT_EQ(s6->rport, 9);
  const SocketInfo* so = find_inode(all, inode_of(v6only.get()));
  ASSERT_NE(so, nullptr);
  EXPECT_TRUE(so->v6only);
  if (lite.valid()) {
    const SocketInfo* sl = find_inode(all, inode_of(lite.get()));
    ASSERT_NE(sl, nullptr) << "UDP-lite socket not dumped";
    EXPECT_EQ(sl->proto, IPPROTO_UDPLITE);
  }
}

}  // namespace
