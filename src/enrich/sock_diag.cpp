#include "enrich/sock_diag.hpp"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::enrich {
namespace {

constexpr std::size_t kRecvBuffer = std::size_t{64} * 1024;

core::IpAddr diag_addr(std::uint8_t family, const std::uint32_t (&be)[4]) {
  if (family == AF_INET) {
    return core::IpAddr::from_v4_be(be[0]);
  }
  return core::IpAddr::from_v6(be);
}

struct DumpContext {
  std::uint8_t proto = 0;
  std::vector<SocketInfo>* out = nullptr;
};

int on_message(const nlmsghdr* nlh, void* data) {
  auto* ctx = static_cast<DumpContext*>(data);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(nlh);
  if (auto s = parse_sock_diag({bytes, nlh->nlmsg_len}, ctx->proto)) {
    ctx->out->push_back(*s);
  }
  return MNL_CB_OK;
}

}  // namespace

std::optional<SocketInfo> parse_sock_diag(std::span<const std::uint8_t> msg, std::uint8_t proto) {
  if (msg.size() < sizeof(nlmsghdr)) {
    return std::nullopt;
  }
  nlmsghdr hdr{};
  std::memcpy(&hdr, msg.data(), sizeof hdr);
  if (hdr.nlmsg_type != SOCK_DIAG_BY_FAMILY || hdr.nlmsg_len > msg.size() ||
      hdr.nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
    return std::nullopt;
  }
  inet_diag_msg diag{};
  std::memcpy(&diag, msg.data() + NLMSG_HDRLEN, sizeof diag);
  if (diag.idiag_family != AF_INET && diag.idiag_family != AF_INET6) {
    return std::nullopt;
  }
  SocketInfo s;
  s.proto = proto;
  s.family = diag.idiag_family == AF_INET ? 4 : 6;
  s.state = diag.idiag_state;
  s.local = diag_addr(diag.idiag_family, diag.id.idiag_src);
  s.remote = diag_addr(diag.idiag_family, diag.id.idiag_dst);
  s.lport = ntohs(diag.id.idiag_sport);
  s.rport = ntohs(diag.id.idiag_dport);
  s.inode = diag.idiag_inode;
  s.uid = diag.idiag_uid;
  // Attributes: only INET_DIAG_SKV6ONLY matters here.
  std::size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(inet_diag_msg));
  while (off + sizeof(nlattr) <= hdr.nlmsg_len) {
    nlattr attr{};
    std::memcpy(&attr, msg.data() + off, sizeof attr);
    if (attr.nla_len < sizeof(nlattr) || off + attr.nla_len > hdr.nlmsg_len) {
      break;
    }
    if ((attr.nla_type & NLA_TYPE_MASK) == INET_DIAG_SKV6ONLY && attr.nla_len >= NLA_HDRLEN + 1) {
      s.v6only = msg[off + NLA_HDRLEN] != 0;
    }
    off += NLA_ALIGN(attr.nla_len);
  }
  return s;
}

struct SockDiag::Impl {
  mnl_socket* nl = nullptr;
  unsigned portid = 0;
  unsigned seq = 0;
  std::vector<char> buf = std::vector<char>(kRecvBuffer);

  ~Impl() {
    if (nl != nullptr) {
      mnl_socket_close(nl);
    }
  }

  // One dump request; appends to `out`. False when the kernel refuses this family/protocol.
  bool dump_one(std::uint8_t family, std::uint8_t proto, std::vector<SocketInfo>& out) {
    alignas(nlmsghdr) std::array<char, 256> req_buf{};
    nlmsghdr* nlh = mnl_nlmsg_put_header(req_buf.data());
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++seq;
    auto* req =
        static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
    req->sdiag_family = family;
    req->sdiag_protocol = proto;
    req->idiag_states = ~0U;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
      sys::throw_errno("sock_diag: send");
    }
    DumpContext ctx{proto, &out};
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        sys::throw_errno("sock_diag: receive");
      }
      const int rc =
          mnl_cb_run(buf.data(), static_cast<std::size_t>(n), seq, portid, on_message, &ctx);
      if (rc == MNL_CB_STOP) {
        return true;
      }
      if (rc < 0) {
        // ENOENT/EOPNOTSUPP: no diag handler for this protocol (e.g. UDP-lite): skip it.
        if (errno == ENOENT || errno == EOPNOTSUPP || errno == EINVAL) {
          return false;
        }
        sys::throw_errno("sock_diag: dump");
      }
    }
  }
};

SockDiag::SockDiag() : SockDiag(-1) {}

SockDiag::SockDiag(int fd) : impl_(std::make_unique<Impl>()) {
  impl_->nl = fd < 0 ? mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC) : mnl_socket_fdopen(fd);
  if (impl_->nl == nullptr) {
    if (fd >= 0) {
      ::close(fd);
    }
    sys::throw_errno("sock_diag: cannot open a NETLINK_SOCK_DIAG socket");
  }
  if (mnl_socket_bind(impl_->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    sys::throw_errno("sock_diag: bind");
  }
  impl_->portid = mnl_socket_get_portid(impl_->nl);
  // A dump always answers; the timeout only bounds a worker against a kernel that does not.
  timeval tv{1, 0};
  setsockopt(mnl_socket_get_fd(impl_->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

SockDiag::~SockDiag() = default;

std::vector<SocketInfo> SockDiag::dump() {
  std::vector<SocketInfo> out;
  for (const int family : {AF_INET, AF_INET6}) {
    for (const int proto : {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE}) {
      impl_->dump_one(static_cast<std::uint8_t>(family), static_cast<std::uint8_t>(proto), out);
    }
  }
  return out;
}

}  // namespace flowtop::enrich
