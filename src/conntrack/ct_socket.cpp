#include "ct_socket.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "flowtop/core/clock.hpp"
#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::conntrack {
namespace {

constexpr std::size_t kRecvBuf = std::size_t{256} * 1024;
constexpr std::size_t kDatagram = 8192;  // an event datagram is < 1.5 KiB
constexpr std::size_t kBatch = 128;      // datagrams per recvmmsg

struct CtDeleter {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};

void set_tuple(nf_conntrack* ct, const core::FlowKey& key) {
  const bool v4 = key.family == core::Family::V4;
  nfct_set_attr_u8(ct, ATTR_L3PROTO, v4 ? AF_INET : AF_INET6);
  if (v4) {
    nfct_set_attr_u32(ct, ATTR_IPV4_SRC, key.orig.src.v4_be());
    nfct_set_attr_u32(ct, ATTR_IPV4_DST, key.orig.dst.v4_be());
  } else {
    nfct_set_attr(ct, ATTR_IPV6_SRC, key.orig.src.bytes.data());
    nfct_set_attr(ct, ATTR_IPV6_DST, key.orig.dst.bytes.data());
  }
  nfct_set_attr_u8(ct, ATTR_L4PROTO, key.proto);
  if (core::proto_is_icmp(key.proto)) {
    nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, key.icmp_type);
    nfct_set_attr_u8(ct, ATTR_ICMP_CODE, key.icmp_code);
    nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(key.orig.sport));
  } else if (core::proto_has_ports(key.proto) ||
             key.proto == static_cast<std::uint8_t>(core::L4Proto::Gre)) {
    nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(key.orig.sport));
    nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(key.orig.dport));
  }
  if (key.zone != 0) {
    nfct_set_attr_u16(ct, ATTR_ZONE, key.zone);
  }
}

}  // namespace

CtSocket::CtSocket(unsigned groups, const core::Clock& clock) : clock_(clock), buf_(kRecvBuf) {
  nl_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nl_ == nullptr) {
    sys::throw_errno("cannot open a netfilter netlink socket");
  }
  if (mnl_socket_bind(nl_, groups, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(nl_);
    nl_ = nullptr;
    sys::throw_errno(err, groups != 0 ? "cannot subscribe to conntrack events"
                                      : "cannot bind a netfilter netlink socket");
  }
  portid_ = mnl_socket_get_portid(nl_);
  // Report ENOBUFS (lost events) rather than silently dropping: never NETLINK_NO_ENOBUFS, and never
  // "reliable" mode (NETLINK_BROADCAST_SEND_ERROR), which would make the kernel drop packets.
}

CtSocket::~CtSocket() {
  if (nl_ != nullptr) {
    mnl_socket_close(nl_);
  }
}

int CtSocket::fd() const {
  return mnl_socket_get_fd(nl_);
}

std::size_t CtSocket::set_rcvbuf(std::size_t bytes) {
  int size = static_cast<int>(bytes);
  if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  int actual = 0;
  socklen_t len = sizeof actual;
  getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &actual, &len);
  return static_cast<std::size_t>(actual);
}

void CtSocket::set_nonblocking() {
  const int flags = fcntl(fd(), F_GETFL);
  fcntl(fd(), F_SETFL, flags | O_NONBLOCK);
}

int CtSocket::receive_replies(std::uint32_t seq, bool until_done, MessageFn on_msg,
                              core::FunctionRef<void()>* between) {
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      sys::throw_errno("conntrack netlink receive");
    }
    const std::int64_t now = clock_.steady_ns();
    int len = static_cast<int>(n);
    bool done = false;
    int error = 0;
    for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid_) {
        continue;  // a stale reply of an earlier request
      }
      if (nlh->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(nlmsgerr)) && e->error != 0) {
          error = -e->error;
        }
        done = true;
        break;
      }
      on_msg(std::span(reinterpret_cast<const std::uint8_t*>(nlh), nlh->nlmsg_len), now);
      if (!until_done) {
        done = true;
      }
    }
    if (between != nullptr) {
      (*between)();
    }
    if (done) {
      return error;
    }
  }
}

void CtSocket::dump_impl(MessageFn on_msg, core::FunctionRef<void()> between) {
  alignas(nlmsghdr) std::uint8_t req[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = ++seq_;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;  // every family
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
    sys::throw_errno("conntrack dump request");
  }
  if (const int err = receive_replies(nlh->nlmsg_seq, true, on_msg, &between); err != 0) {
    sys::throw_errno(err, "conntrack dump");
  }
}

std::uint32_t CtSocket::send_tuple(std::uint16_t msg, std::uint16_t flags, const core::FlowKey& key,
                                   const char* what) {
  std::unique_ptr<nf_conntrack, CtDeleter> ct(nfct_new());
  if (!ct) {
    throw std::bad_alloc();
  }
  set_tuple(ct.get(), key);
  alignas(nlmsghdr) std::uint8_t req[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg);
  nlh->nlmsg_flags = flags;
  nlh->nlmsg_seq = ++seq_;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = key.family == core::Family::V4 ? AF_INET : AF_INET6;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  nfct_nlmsg_build(nlh, ct.get());
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
    sys::throw_errno(what);
  }
  return nlh->nlmsg_seq;
}

int CtSocket::destroy(const core::FlowKey& key) {
  const std::uint32_t seq =
      send_tuple(IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, key, "conntrack delete request");
  auto ignore = [](std::span<const std::uint8_t>, std::int64_t) {};
  return receive_replies(seq, true, ignore, nullptr);  // until the acknowledgement
}

bool CtSocket::get(const core::FlowKey& key, MessageFn on_msg) {
  const std::uint32_t seq =
      send_tuple(IPCTNL_MSG_CT_GET, NLM_F_REQUEST, key, "conntrack get request");
  bool found = false;
  auto on_reply = [&](std::span<const std::uint8_t> msg, std::int64_t t) {
    found = true;
    on_msg(msg, t);
  };
  const int err = receive_replies(seq, false, on_reply, nullptr);
  if (err == ENOENT) {
    return false;
  }
  if (err != 0) {
    sys::throw_errno(err, "conntrack get");
  }
  return found;
}

std::uint32_t CtSocket::send_plain(std::uint16_t msg, std::uint16_t flags, const char* what) {
  alignas(nlmsghdr) std::uint8_t req[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(req);
  nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg);
  nlh->nlmsg_flags = flags;
  nlh->nlmsg_seq = ++seq_;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
    sys::throw_errno(what);
  }
  return nlh->nlmsg_seq;
}

void CtSocket::stats(MessageFn on_msg) {
  const std::uint32_t cpu_seq = send_plain(IPCTNL_MSG_CT_GET_STATS_CPU, NLM_F_REQUEST | NLM_F_DUMP,
                                           "conntrack stats request");
  if (const int err = receive_replies(cpu_seq, true, on_msg, nullptr); err != 0) {
    sys::throw_errno(err, "conntrack per-CPU stats");
  }
  const std::uint32_t seq =
      send_plain(IPCTNL_MSG_CT_GET_STATS, NLM_F_REQUEST, "conntrack stats request");
  if (const int err = receive_replies(seq, false, on_msg, nullptr); err != 0) {
    sys::throw_errno(err, "conntrack stats");
  }
}

std::size_t CtSocket::receive_events(MessageFn on_msg, std::size_t max_datagrams, bool& lost) {
  return receive_datagrams(fd(), mmsg_buf_, on_msg, max_datagrams, lost, clock_);
}

std::size_t receive_datagrams(int fd, std::vector<std::uint8_t>& storage, MessageFn on_msg,
                              std::size_t max_datagrams, bool& lost, const core::Clock& clock) {
  if (storage.size() < kBatch * kDatagram) {
    storage.resize(kBatch * kDatagram);
  }
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  std::size_t total = 0;
  while (total < max_datagrams) {
    std::memset(msgs, 0, sizeof msgs);
    for (std::size_t i = 0; i < kBatch; ++i) {
      iov[i] = {storage.data() + i * kDatagram, kDatagram};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return total;
      }
      if (errno == ENOBUFS) {
        lost = true;
        continue;
      }
      sys::throw_errno("conntrack event receive");
    }
    const std::int64_t now = clock.steady_ns();
    for (int i = 0; i < n; ++i) {
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
        lost = true;  // the end of the datagram, and the events in it, are gone
      }
      int len = static_cast<int>(std::min<std::size_t>(msgs[i].msg_len, kDatagram));
      for (const auto* nlh = static_cast<const nlmsghdr*>(iov[i].iov_base); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        on_msg(std::span(reinterpret_cast<const std::uint8_t*>(nlh), nlh->nlmsg_len), now);
      }
    }
    total += static_cast<std::size_t>(n);
    if (n < static_cast<int>(kBatch)) {
      return total;
    }
  }
  return total;
}

}  // namespace flowtop::conntrack
