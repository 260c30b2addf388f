#include "flowtop/conntrack/parser.hpp"

#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

namespace flowtop::conntrack {
namespace {

using core::FlowRecord;
using core::FlowTuple;
using core::IpAddr;

// libnetfilter_conntrack's parser (nfct_nlmsg_parse) calls exit() when an attribute has an
// unexpected size ("kernel ABI is broken"), so one corrupted message would end flowtop without
// restoring the terminal or sysctls. The walk here is libmnl's, which validates every attribute and
// reports errors.

/// The attributes of one nesting level, by type; unknown types are ignored.
template <int Max>
struct Attrs {
  std::array<const nlattr*, Max + 1> at{};
  const nlattr* operator[](int type) const { return at[static_cast<std::size_t>(type)]; }
};

template <int Max>
int collect_cb(const nlattr* attr, void* data) {
  auto* attrs = static_cast<Attrs<Max>*>(data);
  const int type = mnl_attr_get_type(attr);
  if (type >= 0 && type <= Max) {
    attrs->at[static_cast<std::size_t>(type)] = attr;
  }
  return MNL_CB_OK;
}

template <int Max>
bool parse_nested(const nlattr* nest, Attrs<Max>& out) {
  return nest != nullptr && mnl_attr_validate(nest, MNL_TYPE_NESTED) >= 0 &&
         mnl_attr_parse_nested(nest, collect_cb<Max>, &out) >= 0;
}

bool valid(const nlattr* a, mnl_attr_data_type t) {
  return a != nullptr && mnl_attr_validate(a, t) >= 0;
}

template <class T>
bool get_be(const nlattr* a, T& out) {
  if constexpr (sizeof(T) == 1) {
    if (!valid(a, MNL_TYPE_U8)) {
      return false;
    }
    out = mnl_attr_get_u8(a);
  } else if constexpr (sizeof(T) == 2) {
    if (!valid(a, MNL_TYPE_U16)) {
      return false;
    }
    out = ntohs(mnl_attr_get_u16(a));
  } else if constexpr (sizeof(T) == 4) {
    if (!valid(a, MNL_TYPE_U32)) {
      return false;
    }
    out = ntohl(mnl_attr_get_u32(a));
  } else {
    if (!valid(a, MNL_TYPE_U64)) {
      return false;
    }
    out = be64toh(mnl_attr_get_u64(a));
  }
  return true;
}

/// Decodes CTA_TUPLE_*: addresses, protocol, ports or ICMP fields. False when malformed.
bool read_tuple(const nlattr* nest, bool v4, FlowTuple& t, std::uint8_t& proto,
                std::uint8_t& icmp_type, std::uint8_t& icmp_code, bool& has_ports) {
  Attrs<CTA_TUPLE_MAX> tuple;
  Attrs<CTA_IP_MAX> ip;
  Attrs<CTA_PROTO_MAX> pr;
  if (!parse_nested(nest, tuple) || !parse_nested(tuple[CTA_TUPLE_IP], ip) ||
      !parse_nested(tuple[CTA_TUPLE_PROTO], pr) || !get_be(pr[CTA_PROTO_NUM], proto)) {
    return false;
  }
  if (v4) {
    std::uint32_t src = 0;
    std::uint32_t dst = 0;
    if (!valid(ip[CTA_IP_V4_SRC], MNL_TYPE_U32) || !valid(ip[CTA_IP_V4_DST], MNL_TYPE_U32)) {
      return false;
    }
    src = mnl_attr_get_u32(ip[CTA_IP_V4_SRC]);  // network byte order, as IpAddr wants
    dst = mnl_attr_get_u32(ip[CTA_IP_V4_DST]);
    t.src = IpAddr::from_v4_be(src);
    t.dst = IpAddr::from_v4_be(dst);
  } else {
    const nlattr* s6 = ip[CTA_IP_V6_SRC];
    const nlattr* d6 = ip[CTA_IP_V6_DST];
    if (s6 == nullptr || d6 == nullptr || mnl_attr_validate2(s6, MNL_TYPE_BINARY, 16) < 0 ||
        mnl_attr_validate2(d6, MNL_TYPE_BINARY, 16) < 0) {
      return false;
    }
    t.src = IpAddr::from_v6(mnl_attr_get_payload(s6));
    t.dst = IpAddr::from_v6(mnl_attr_get_payload(d6));
  }
  if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
    const bool v6 = proto == IPPROTO_ICMPV6;
    std::uint16_t id = 0;
    if (!get_be(pr[v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID], id) ||
        !get_be(pr[v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE], icmp_type) ||
        !get_be(pr[v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE], icmp_code)) {
      return false;
    }
    t.sport = id;
    t.dport = 0;
    return true;
  }
  // Ports (TCP, UDP, UDP-lite, SCTP, DCCP) or GRE keys; absent for generic protocols.
  has_ports = pr[CTA_PROTO_SRC_PORT] != nullptr && pr[CTA_PROTO_DST_PORT] != nullptr;
  if (pr[CTA_PROTO_SRC_PORT] != nullptr && !get_be(pr[CTA_PROTO_SRC_PORT], t.sport)) {
    return false;
  }
  if (pr[CTA_PROTO_DST_PORT] != nullptr && !get_be(pr[CTA_PROTO_DST_PORT], t.dport)) {
    return false;
  }
  return true;
}

bool read_counters(const nlattr* nest, core::Counters& c) {
  Attrs<CTA_COUNTERS_MAX> a;
  if (!parse_nested(nest, a)) {
    return false;
  }
  if (a[CTA_COUNTERS_PACKETS] != nullptr) {
    return get_be(a[CTA_COUNTERS_PACKETS], c.packets) && get_be(a[CTA_COUNTERS_BYTES], c.bytes);
  }
  std::uint32_t p = 0;
  std::uint32_t b = 0;  // CTA_COUNTERS32_*: very old kernels
  if (!get_be(a[CTA_COUNTERS32_PACKETS], p) || !get_be(a[CTA_COUNTERS32_BYTES], b)) {
    return false;
  }
  c = {p, b};
  return true;
}

/// TCP/SCTP/DCCP state from CTA_PROTOINFO; false when malformed, `found` when present.
bool read_state(const nlattr* nest, std::uint8_t proto, std::uint8_t& state, bool& found) {
  Attrs<CTA_PROTOINFO_MAX> info;
  if (!parse_nested(nest, info)) {
    return false;
  }
  int which = 0;
  int attr = 0;
  switch (proto) {
    case IPPROTO_TCP:
      which = CTA_PROTOINFO_TCP;
      attr = CTA_PROTOINFO_TCP_STATE;
      break;
    case IPPROTO_SCTP:
      which = CTA_PROTOINFO_SCTP;
      attr = CTA_PROTOINFO_SCTP_STATE;
      break;
    case IPPROTO_DCCP:
      which = CTA_PROTOINFO_DCCP;
      attr = CTA_PROTOINFO_DCCP_STATE;
      break;
    default: return true;
  }
  if (info[which] == nullptr) {
    return true;
  }
  Attrs<8> inner;  // the TCP, SCTP and DCCP nests are all small
  if (!parse_nested(info[which], inner)) {
    return false;
  }
  if (inner[attr] == nullptr) {
    return true;
  }
  found = get_be(inner[attr], state);
  return found;
}

MsgKind kind_of(const nlmsghdr* nlh, bool event) {
  if (NFNL_MSG_TYPE(nlh->nlmsg_type) == IPCTNL_MSG_CT_DELETE) {
    return MsgKind::Destroy;
  }
  if (!event) {
    return MsgKind::Entry;
  }
  return (nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) != 0 ? MsgKind::New : MsgKind::Update;
}

ParseResult malformed() {
  ParseResult r;
  r.error = ParseError::Malformed;
  return r;
}

}  // namespace

ParseResult parse_ct_message(std::span<const std::uint8_t> bytes, std::int64_t sample_ns,
                             bool event) {
  if (bytes.size() < sizeof(nlmsghdr)) {
    return malformed();
  }
  // Netlink messages are 4-byte aligned in a receive buffer; copy when handed anything else.
  alignas(NLMSG_ALIGNTO) static thread_local std::uint8_t scratch[65536];
  const std::uint8_t* data = bytes.data();
  if (reinterpret_cast<std::uintptr_t>(data) % NLMSG_ALIGNTO != 0) {
    if (bytes.size() > sizeof scratch) {
      return malformed();
    }
    std::memcpy(scratch, data, bytes.size());
    data = scratch;
  }
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(data);
  if (nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > bytes.size()) {
    return malformed();
  }
  ParseResult out;
  const auto type = NFNL_MSG_TYPE(nlh->nlmsg_type);
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
      (type != IPCTNL_MSG_CT_NEW && type != IPCTNL_MSG_CT_DELETE)) {
    return out;  // NLMSG_DONE, NLMSG_ERROR, another subsystem or message: not an entry
  }
  if (nlh->nlmsg_len < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg))) {
    return malformed();
  }
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  if (nfg->nfgen_family != AF_INET && nfg->nfgen_family != AF_INET6) {
    return malformed();
  }
  const bool v4 = nfg->nfgen_family == AF_INET;
  Attrs<CTA_MAX> top;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collect_cb<CTA_MAX>, &top) < 0) {
    return malformed();
  }

  ParsedMessage msg;
  msg.kind = kind_of(nlh, event);
  FlowRecord& r = msg.rec;
  r.key.family = v4 ? core::Family::V4 : core::Family::V6;
  std::uint8_t reply_proto = 0;
  std::uint8_t reply_type = 0;
  std::uint8_t reply_code = 0;
  bool has_ports = false;
  bool reply_ports = false;
  std::uint32_t status = 0;
  if (!read_tuple(top[CTA_TUPLE_ORIG], v4, r.key.orig, r.key.proto, r.key.icmp_type,
                  r.key.icmp_code, has_ports) ||
      !read_tuple(top[CTA_TUPLE_REPLY], v4, r.reply, reply_proto, reply_type, reply_code,
                  reply_ports)) {
    return malformed();
  }
  if ((top[CTA_ZONE] != nullptr && !get_be(top[CTA_ZONE], r.key.zone)) ||
      (top[CTA_ID] != nullptr && !get_be(top[CTA_ID], r.id)) ||
      (top[CTA_STATUS] != nullptr && !get_be(top[CTA_STATUS], status)) ||
      (top[CTA_MARK] != nullptr && !get_be(top[CTA_MARK], r.mark)) ||
      (top[CTA_TIMEOUT] != nullptr && !get_be(top[CTA_TIMEOUT], r.timeout))) {
    return malformed();
  }
  r.status = static_cast<std::uint16_t>(status);  // the uapi's bits 0-15 (FlowRecord::status)
  if (msg.kind == MsgKind::Entry || msg.kind == MsgKind::Destroy) {
    r.life |= FlowRecord::kSampled;  // a full view: counters and timestamps when enabled
  }
  if (core::proto_has_ports(r.key.proto) && has_ports) {
    r.flags |= FlowRecord::kHasPorts;
  }
  if (top[CTA_PROTOINFO] != nullptr) {
    bool found = false;
    if (!read_state(top[CTA_PROTOINFO], r.key.proto, r.state, found)) {
      return malformed();
    }
    if (found) {
      r.flags |= FlowRecord::kHasState;
    }
  }
  if (top[CTA_COUNTERS_ORIG] != nullptr && top[CTA_COUNTERS_REPLY] != nullptr) {
    if (!read_counters(top[CTA_COUNTERS_ORIG], r.orig_ctr) ||
        !read_counters(top[CTA_COUNTERS_REPLY], r.reply_ctr)) {
      return malformed();
    }
    r.flags |= FlowRecord::kHasCounters;
  }
  if (top[CTA_TIMESTAMP] != nullptr) {
    Attrs<CTA_TIMESTAMP_MAX> ts;
    if (!parse_nested(top[CTA_TIMESTAMP], ts) ||
        (ts[CTA_TIMESTAMP_START] != nullptr && !get_be(ts[CTA_TIMESTAMP_START], r.start_ns))) {
      return malformed();
    }
    // A DESTROY carries the stop stamp too (the duration); it goes where an ended record keeps
    // it (FlowRecord::stop_ns, which the rate window base of a live record shares).
    std::uint64_t stop = 0;
    if (ts[CTA_TIMESTAMP_STOP] != nullptr && !get_be(ts[CTA_TIMESTAMP_STOP], stop)) {
      return malformed();
    }
    if (msg.kind == MsgKind::Destroy) {
      r.stop_ns = stop;
    }
    if (r.start_ns != 0) {
      r.flags |= FlowRecord::kHasTimestamp;
    }
  }
  r.sample_ns = sample_ns;
  out.msg = msg;
  return out;
}

}  // namespace flowtop::conntrack
