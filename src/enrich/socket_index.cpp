#include "flowtop/enrich/socket_index.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <utility>

#include "flowtop/core/hash_seed.hpp"
#include "flowtop/enrich/enrich_cache.hpp"

namespace flowtop::enrich {
namespace {

const core::IpAddr kAny6{};                              // ::
const core::IpAddr kAny4 = core::IpAddr::from_v4_be(0);  // 0.0.0.0 (v4-mapped)

std::uint32_t port_key(std::uint8_t proto, std::uint16_t port) {
  return (std::uint32_t{proto} << 16) | port;
}

bool is_wildcard(const SocketInfo& s) {
  return s.local == kAny6 || s.local == kAny4;
}

// May a wildcard socket receive traffic for `local`?
bool wildcard_serves(const SocketInfo& s, const core::IpAddr& local) {
  if (local.is_v4()) {
    return (s.family == 4 && s.local == kAny4) || (s.family == 6 && s.local == kAny6 && !s.v6only);
  }
  return s.family == 6 && s.local == kAny6;
}

}  // namespace

std::size_t SocketIndex::ConnKeyHash::operator()(const ConnKey& k) const {
  const core::SeededIpHash h;
  return static_cast<std::size_t>(
      mix64(h(k.local) * 31 + h(k.remote) +
            ((std::uint64_t{k.proto} << 32) | (std::uint64_t{k.lport} << 16) | k.rport)));
}

SocketIndex::SocketIndex(const std::vector<SocketInfo>& sockets,
                         std::vector<core::IpAddr> local_addrs)
    : local_addrs_(std::move(local_addrs)) {
  std::sort(local_addrs_.begin(), local_addrs_.end());
  for (const SocketInfo& s : sockets) {
    if (s.inode == 0) {
      continue;  // TIME-WAIT or a request socket: no process holds it
    }
    if (s.rport != 0) {
      connected_.emplace(ConnKey{s.proto, s.local, s.remote, s.lport, s.rport}, s);
    } else if (s.proto != static_cast<std::uint8_t>(core::L4Proto::Tcp) || s.state == kTcpListen) {
      unconnected_[port_key(s.proto, s.lport)].push_back(s);
      ++unconnected_count_;
    }
  }
}

bool SocketIndex::is_local(const core::IpAddr& addr) const {
  return addr.is_loopback() || std::binary_search(local_addrs_.begin(), local_addrs_.end(), addr);
}

const SocketInfo* SocketIndex::find_unconnected(std::uint8_t proto, const core::IpAddr& local,
                                                std::uint16_t lport) const {
  const auto it = unconnected_.find(port_key(proto, lport));
  if (it == unconnected_.end()) {
    return nullptr;
  }
  const SocketInfo* wildcard = nullptr;
  for (const SocketInfo& s : it->second) {
    if (s.local == local) {
      return &s;  // bound to this very address
    }
    if (wildcard == nullptr && is_wildcard(s) && wildcard_serves(s, local)) {
      wildcard = &s;
    }
  }
  return wildcard != nullptr && is_local(local) ? wildcard : nullptr;
}

std::optional<SocketMatch> SocketIndex::match(std::uint8_t proto, const core::FlowTuple& orig,
                                              const core::FlowTuple& reply) const {
  const bool tcp = proto == static_cast<std::uint8_t>(core::L4Proto::Tcp);
  if (!tcp && proto != static_cast<std::uint8_t>(core::L4Proto::Udp) &&
      proto != static_cast<std::uint8_t>(core::L4Proto::UdpLite)) {
    return std::nullopt;
  }
  struct Candidate {
    core::IpAddr local, remote;
    std::uint16_t lport, rport;
    bool inbound;
  };
  const std::array<Candidate, 2> cands{{
      {orig.src, orig.dst, orig.sport, orig.dport, false},
      {reply.src, reply.dst, reply.sport, reply.dport, true},
  }};
  for (const Candidate& c : cands) {
    const auto it = connected_.find(ConnKey{proto, c.local, c.remote, c.lport, c.rport});
    if (it != connected_.end()) {
      return SocketMatch{it->second, c.inbound, SocketMatch::Via::Connected};
    }
  }
  for (const Candidate& c : cands) {
    if (tcp && !c.inbound) {
      continue;  // an outbound TCP flow's socket is always connected
    }
    if (const SocketInfo* s = find_unconnected(proto, c.local, c.lport)) {
      return SocketMatch{*s, c.inbound,
                         tcp ? SocketMatch::Via::Listener : SocketMatch::Via::Unconnected};
    }
  }
  return std::nullopt;
}

std::vector<core::IpAddr> local_addresses() {
  std::vector<core::IpAddr> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return out;
  }
  for (const ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr) {
      continue;
    }
    if (ifa->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
      out.push_back(core::IpAddr::from_v4_be(sin->sin_addr.s_addr));
    } else if (ifa->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr);
      out.push_back(core::IpAddr::from_v6(&sin6->sin6_addr));
    }
  }
  freeifaddrs(list);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace flowtop::enrich
