#include "flowtop/net/net_watcher.hpp"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "flowtop/sys/event_fd.hpp"

namespace flowtop::net {
namespace {

constexpr std::size_t kRecvBuffer = std::size_t{64} * 1024;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

template <class T>
bool copy_header(std::span<const std::uint8_t> msg, T& out) {
  if (msg.size() < NLMSG_HDRLEN + sizeof(T)) {
    return false;
  }
  std::memcpy(&out, msg.data() + NLMSG_HDRLEN, sizeof(T));
  return true;
}

// Walks the attributes after a family header of `header_size` bytes; calls fn(type, payload).
template <class Fn>
void for_each_attr(std::span<const std::uint8_t> msg, std::size_t header_size, Fn&& fn) {
  std::size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(header_size);
  while (off + sizeof(nlattr) <= msg.size()) {
    nlattr attr{};
    std::memcpy(&attr, msg.data() + off, sizeof attr);
    if (attr.nla_len < sizeof(nlattr) || off + attr.nla_len > msg.size()) {
      return;
    }
    fn(static_cast<unsigned>(attr.nla_type & NLA_TYPE_MASK),
       msg.subspan(off + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN));
    off += NLA_ALIGN(attr.nla_len);
  }
}

std::optional<core::IpAddr> addr_of(std::uint8_t family, std::span<const std::uint8_t> p) {
  if (family == AF_INET && p.size() == 4) {
    std::uint32_t be = 0;
    std::memcpy(&be, p.data(), 4);
    return core::IpAddr::from_v4_be(be);
  }
  if (family == AF_INET6 && p.size() == 16) {
    return core::IpAddr::from_v6(p.data());
  }
  return std::nullopt;
}

std::uint8_t stored_len(std::uint8_t family, std::uint8_t len) {
  // IPv4 is stored v4-mapped: its prefix starts after 96 bits.
  return family == AF_INET ? static_cast<std::uint8_t>(std::min<unsigned>(len, 32) + 96)
                           : std::min<std::uint8_t>(len, 128);
}

std::optional<RouteMessage> parse_addr(std::span<const std::uint8_t> msg, bool deleted) {
  ifaddrmsg ifa{};
  if (!copy_header(msg, ifa) || (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6)) {
    return std::nullopt;
  }
  std::optional<core::IpAddr> local;
  std::optional<core::IpAddr> address;
  for_each_attr(msg, sizeof ifa, [&](unsigned type, std::span<const std::uint8_t> p) {
    if (type == IFA_LOCAL) {
      local = addr_of(ifa.ifa_family, p);
    } else if (type == IFA_ADDRESS) {
      address = addr_of(ifa.ifa_family, p);
    }
  });
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's on point-to-point links.
  const std::optional<core::IpAddr>& own = local ? local : address;
  if (!own) {
    return std::nullopt;
  }
  RouteMessage m;
  m.kind = RouteMessage::Kind::Addr;
  m.deleted = deleted;
  m.addr.addr = *own;
  m.addr.prefix_len = stored_len(ifa.ifa_family, ifa.ifa_prefixlen);
  m.addr.ifindex = ifa.ifa_index;
  return m;
}

std::optional<RouteMessage> parse_route(std::span<const std::uint8_t> msg, bool deleted) {
  rtmsg rtm{};
  if (!copy_header(msg, rtm) || (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6)) {
    return std::nullopt;
  }
  RouteMessage m;
  m.kind = RouteMessage::Kind::Route;
  m.deleted = deleted;
  std::uint32_t table = rtm.rtm_table;
  bool has_dst = false;
  for_each_attr(msg, sizeof rtm, [&](unsigned type, std::span<const std::uint8_t> p) {
    if (type == RTA_DST) {
      if (auto a = addr_of(rtm.rtm_family, p)) {
        m.route.dst.net = *a;
        has_dst = true;
      }
    } else if (type == RTA_GATEWAY || type == RTA_VIA || type == RTA_MULTIPATH) {
      m.route.gateway = true;  // through a gateway (multipath: nexthops through gateways)
    } else if (type == RTA_OIF && p.size() == 4) {
      std::memcpy(&m.route.oif, p.data(), 4);
    } else if (type == RTA_TABLE && p.size() == 4) {
      std::memcpy(&table, p.data(), 4);
    }
  });
  if (!has_dst) {  // the default route: the family's zero address
    m.route.dst.net = rtm.rtm_family == AF_INET ? core::IpAddr::from_v4_be(0) : core::IpAddr{};
  }
  m.route.dst.len = stored_len(rtm.rtm_family, has_dst ? rtm.rtm_dst_len : 0);
  m.route.main_unicast = table == RT_TABLE_MAIN && rtm.rtm_type == RTN_UNICAST;
  return m;
}

std::optional<RouteMessage> parse_neigh(std::span<const std::uint8_t> msg, bool deleted) {
  ndmsg nd{};
  if (!copy_header(msg, nd) || (nd.ndm_family != AF_INET && nd.ndm_family != AF_INET6)) {
    return std::nullopt;
  }
  RouteMessage m;
  m.kind = RouteMessage::Kind::Neigh;
  m.deleted = deleted;
  bool has_addr = false;
  bool has_mac = false;
  for_each_attr(msg, sizeof nd, [&](unsigned type, std::span<const std::uint8_t> p) {
    if (type == NDA_DST) {
      if (auto a = addr_of(nd.ndm_family, p)) {
        m.neigh.addr = *a;
        has_addr = true;
      }
    } else if (type == NDA_LLADDR && p.size() == m.neigh.mac.size()) {
      std::memcpy(m.neigh.mac.data(), p.data(), p.size());
      has_mac = true;
    }
  });
  if (!has_addr) {
    return std::nullopt;
  }
  constexpr unsigned kUnusable = NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP | NUD_NONE;
  m.neigh.reachable = has_mac && (nd.ndm_state & kUnusable) == 0;
  return m;
}

bool link_local_v6(const core::Prefix& p) {
  return !p.net.is_v4() && p.net.bytes[0] == 0xfe && (p.net.bytes[1] & 0xc0U) == 0x80;
}

// Dumps one message type on `sock`; calls fn(RouteMessage) for each entry. Throws
// std::system_error.
template <class Fn>
void dump_on(mnl_socket* sock, std::uint32_t seq, std::uint16_t type, std::size_t header_size,
             Fn& fn) {
  std::vector<char> buf(kRecvBuffer);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  auto* fam = static_cast<std::uint8_t*>(mnl_nlmsg_put_extra_header(nlh, header_size));
  fam[0] = AF_UNSPEC;  // every family (the first byte of each family header)
  if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) {
    throw_errno("rtnetlink dump request");
  }
  const unsigned portid = mnl_socket_get_portid(sock);
  struct Ctx {
    Fn* fn;
  } ctx{&fn};
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("rtnetlink dump");
    }
    const int rc = mnl_cb_run(
        buf.data(), static_cast<std::size_t>(n), seq, portid,
        [](const nlmsghdr* h, void* data) -> int {
          const auto* bytes = reinterpret_cast<const std::uint8_t*>(h);
          if (auto m = parse_route_message({bytes, h->nlmsg_len})) {
            (*static_cast<Ctx*>(data)->fn)(*m);
          }
          return MNL_CB_OK;
        },
        &ctx);
    if (rc == MNL_CB_STOP) {
      return;
    }
    if (rc < 0) {
      throw_errno("rtnetlink dump");
    }
  }
}

}  // namespace

std::vector<core::IpAddr> dump_addresses(int rtnl_fd) {
  mnl_socket* sock = mnl_socket_fdopen(rtnl_fd);
  if (sock == nullptr) {
    ::close(rtnl_fd);
    throw_errno("cannot use the rtnetlink socket");
  }
  std::vector<core::IpAddr> out;
  try {
    if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
      throw_errno("cannot bind the rtnetlink socket");
    }
    auto add = [&out](const RouteMessage& m) {
      if (m.kind == RouteMessage::Kind::Addr) {
        out.push_back(m.addr.addr);
      }
    };
    dump_on(sock, 1, RTM_GETADDR, sizeof(ifaddrmsg), add);
  } catch (...) {
    mnl_socket_close(sock);
    throw;
  }
  mnl_socket_close(sock);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<RouteMessage> parse_route_message(std::span<const std::uint8_t> msg) {
  if (msg.size() < sizeof(nlmsghdr)) {
    return std::nullopt;
  }
  nlmsghdr hdr{};
  std::memcpy(&hdr, msg.data(), sizeof hdr);
  if (hdr.nlmsg_len < sizeof(nlmsghdr) || hdr.nlmsg_len > msg.size()) {
    return std::nullopt;
  }
  msg = msg.first(hdr.nlmsg_len);
  switch (hdr.nlmsg_type) {
    case RTM_NEWADDR: return parse_addr(msg, false);
    case RTM_DELADDR: return parse_addr(msg, true);
    case RTM_NEWROUTE: return parse_route(msg, false);
    case RTM_DELROUTE: return parse_route(msg, true);
    case RTM_NEWNEIGH: return parse_neigh(msg, false);
    case RTM_DELNEIGH: return parse_neigh(msg, true);
    default: return std::nullopt;
  }
}

core::NetFacts facts_from(std::span<const AddrEntry> addrs, std::span<const RouteEntry> routes) {
  core::NetFacts f;
  for (const AddrEntry& a : addrs) {
    f.local.push_back(a.addr);
  }
  std::sort(f.local.begin(), f.local.end());
  f.local.erase(std::unique(f.local.begin(), f.local.end()), f.local.end());
  // Interfaces that carry a default route, per family.
  std::vector<std::pair<bool, std::uint32_t>> uplinks;  // (v4, oif)
  for (const RouteEntry& r : routes) {
    if (r.main_unicast && r.dst.len == (r.dst.net.is_v4() ? 96 : 0)) {
      uplinks.emplace_back(r.dst.net.is_v4(), r.oif);
    }
  }
  for (const RouteEntry& r : routes) {
    const bool is_default = r.dst.len == (r.dst.net.is_v4() ? 96 : 0);
    if (!r.main_unicast || r.gateway || is_default || link_local_v6(r.dst)) {
      continue;
    }
    const bool v4 = r.dst.net.is_v4();
    const bool on_uplink = std::any_of(uplinks.begin(), uplinks.end(), [&](const auto& u) {
      return u.first == v4 && (u.second == r.oif || u.second == 0);
    });
    if (!on_uplink && std::none_of(f.inside.begin(), f.inside.end(),
                                   [&](const core::Prefix& p) { return p == r.dst; })) {
      f.inside.push_back(r.dst);
    }
  }
  return f;
}

struct NetWatcher::Impl {
  Impl() {
    sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (sock == nullptr) {
      throw_errno("cannot open an rtnetlink socket");
    }
    const unsigned groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
                            RTMGRP_IPV6_ROUTE | RTMGRP_NEIGH;
    if (mnl_socket_bind(sock, groups, MNL_SOCKET_AUTOPID) < 0) {
      const int err = errno;
      mnl_socket_close(sock);
      errno = err;
      throw_errno("cannot bind the rtnetlink socket");
    }
    // A dump is answered on the same socket: it goes through a second one so that events queued
    // meanwhile are not mixed into it.
    dump_sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (dump_sock == nullptr || mnl_socket_bind(dump_sock, 0, MNL_SOCKET_AUTOPID) < 0) {
      const int err = errno;
      mnl_socket_close(sock);
      if (dump_sock != nullptr) {
        mnl_socket_close(dump_sock);
      }
      errno = err;
      throw_errno("cannot open an rtnetlink socket");
    }
    refresh();
  }

  ~Impl() {
    stop();
    mnl_socket_close(sock);
    mnl_socket_close(dump_sock);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  template <class Fn>
  void dump(std::uint16_t type, std::size_t header_size, Fn&& fn) {
    dump_on(dump_sock, ++dump_seq, type, header_size, fn);
  }

  void refresh() {
    std::vector<AddrEntry> addrs;
    std::vector<RouteEntry> routes;
    auto next = std::make_shared<NetState>();
    dump(RTM_GETADDR, sizeof(ifaddrmsg), [&](const RouteMessage& m) {
      if (m.kind == RouteMessage::Kind::Addr) {
        addrs.push_back(m.addr);
      }
    });
    dump(RTM_GETROUTE, sizeof(rtmsg), [&](const RouteMessage& m) {
      if (m.kind == RouteMessage::Kind::Route) {
        routes.push_back(m.route);
      }
    });
    dump(RTM_GETNEIGH, sizeof(ndmsg), [&](const RouteMessage& m) {
      if (m.kind == RouteMessage::Kind::Neigh && m.neigh.reachable) {
        next->neighbours[m.neigh.addr] = m.neigh.mac;
      }
    });
    next->facts = facts_from(addrs, routes);
    const std::lock_guard lock(mu);
    next->generation = current ? current->generation + 1 : 1;
    current = std::move(next);
    generation.store(current->generation, std::memory_order_release);
  }

  // Reads every queued event; true when one of them changes something.
  bool drain() {
    std::vector<char> buf(kRecvBuffer);
    bool changed = false;
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        // ENOBUFS: events were lost, so re-read everything.
        return changed || errno == ENOBUFS;
      }
      std::size_t off = 0;
      const auto len = static_cast<std::size_t>(n);
      while (off + sizeof(nlmsghdr) <= len) {
        nlmsghdr h{};
        std::memcpy(&h, buf.data() + off, sizeof h);
        if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > len) {
          break;
        }
        changed = true;
        off += NLMSG_ALIGN(h.nlmsg_len);
      }
    }
  }

  void run(const std::stop_token& st) {
    while (!st.stop_requested()) {
      std::array<pollfd, 2> fds{{{mnl_socket_get_fd(sock), POLLIN, 0}, {wake.fd(), POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
        return;
      }
      if ((fds[1].revents & POLLIN) != 0) {
        wake.drain();
        continue;
      }
      if ((fds[0].revents & POLLIN) != 0 && drain()) {
        try {
          refresh();
        } catch (const std::system_error&) {
          // Keep the last state; the next event tries again.
        }
      }
    }
  }

  void start() {
    if (!thread.joinable()) {
      thread = std::jthread([this](const std::stop_token& st) { run(st); });
    }
  }

  void stop() {
    if (thread.joinable()) {
      thread.request_stop();
      wake.notify();
      thread.join();
    }
  }

  mnl_socket* sock = nullptr;
  mnl_socket* dump_sock = nullptr;
  std::uint32_t dump_seq = 0;
  sys::EventFd wake;
  mutable std::mutex mu;
  std::shared_ptr<const NetState> current;
  std::atomic<std::uint64_t> generation{0};
  std::jthread thread;
};

NetWatcher::NetWatcher() : impl_(std::make_unique<Impl>()) {}

NetWatcher::~NetWatcher() = default;

void NetWatcher::start() {
  impl_->start();
}

void NetWatcher::stop() {
  impl_->stop();
}

std::shared_ptr<const NetState> NetWatcher::state() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->current;
}

std::uint64_t NetWatcher::generation() const {
  return impl_->generation.load(std::memory_order_acquire);
}

}  // namespace flowtop::net
