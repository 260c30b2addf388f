#include "flowtop/conntrack/stats_parser.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <vector>

namespace flowtop::conntrack {
namespace {

// Big enough for either message's attributes (CTA_STATS_MAX > CTA_STATS_GLOBAL_MAX).
constexpr int kMaxAttr =
    CTA_STATS_MAX > CTA_STATS_GLOBAL_MAX ? CTA_STATS_MAX : CTA_STATS_GLOBAL_MAX;

struct Walk {
  std::array<const nlattr*, kMaxAttr + 1> at{};
};

/// Keeps a known attribute; false when it is not a 4-byte counter.
bool collect(const nlattr* attr, Walk& w) {
  const int type = mnl_attr_get_type(attr);
  if (type < 0 || type > kMaxAttr) {
    return true;  // a newer kernel's counter
  }
  if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
    return false;
  }
  w.at[static_cast<std::size_t>(type)] = attr;
  return true;
}

std::uint64_t u32(const Walk& w, int type) {
  const nlattr* a = w.at[static_cast<std::size_t>(type)];
  return a == nullptr ? 0 : ntohl(mnl_attr_get_u32(a));
}

}  // namespace

StatsParse parse_ct_stats(std::span<const std::uint8_t> bytes, core::CtCpuStats& cpu,
                          core::CtStatsSample& sample) {
  if (bytes.size() < sizeof(nlmsghdr)) {
    return StatsParse::Malformed;
  }
  // libmnl reads the header and attributes in place: netlink messages are 4-byte aligned in a
  // receive buffer; anything else is copied first.
  std::vector<std::uint8_t> copy;
  const std::uint8_t* data = bytes.data();
  if (reinterpret_cast<std::uintptr_t>(data) % NLMSG_ALIGNTO != 0) {
    copy.assign(bytes.begin(), bytes.end());
    data = copy.data();
  }
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(data);
  if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_CTNETLINK) {
    return StatsParse::Other;
  }
  const unsigned msg = nlh->nlmsg_type & 0xffU;
  if (msg != IPCTNL_MSG_CT_GET_STATS_CPU && msg != IPCTNL_MSG_CT_GET_STATS) {
    return StatsParse::Other;
  }
  if (nlh->nlmsg_len > bytes.size() || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) {
    return StatsParse::Malformed;
  }
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  // libmnl's walk stops quietly at an attribute that runs past the message; here that is an
  // error, so every byte of the payload must belong to a whole attribute.
  Walk w;
  // The end as the header says (not aligned up: the last attribute's padding may be missing).
  const auto* tail = reinterpret_cast<const char*>(data) + nlh->nlmsg_len;
  const auto* attr =
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
  while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    if (!collect(attr, w)) {
      return StatsParse::Malformed;
    }
    attr = mnl_attr_next(attr);
  }
  if (reinterpret_cast<const char*>(attr) < tail) {
    return StatsParse::Malformed;
  }
  if (msg == IPCTNL_MSG_CT_GET_STATS) {
    if (w.at[CTA_STATS_GLOBAL_ENTRIES] == nullptr) {
      return StatsParse::Malformed;
    }
    sample.entries = u32(w, CTA_STATS_GLOBAL_ENTRIES);
    if (w.at[CTA_STATS_GLOBAL_MAX_ENTRIES] != nullptr) {
      sample.max = u32(w, CTA_STATS_GLOBAL_MAX_ENTRIES);
    }
    return StatsParse::Global;
  }
  cpu = core::CtCpuStats{};
  cpu.cpu = ntohs(nfg->res_id);
  cpu.found = u32(w, CTA_STATS_FOUND);
  cpu.invalid = u32(w, CTA_STATS_INVALID);
  cpu.insert = u32(w, CTA_STATS_INSERT);
  cpu.insert_failed = u32(w, CTA_STATS_INSERT_FAILED);
  cpu.drop = u32(w, CTA_STATS_DROP);
  cpu.early_drop = u32(w, CTA_STATS_EARLY_DROP);
  cpu.error = u32(w, CTA_STATS_ERROR);
  cpu.search_restart = u32(w, CTA_STATS_SEARCH_RESTART);
  cpu.clash_resolve = u32(w, CTA_STATS_CLASH_RESOLVE);
  cpu.chaintoolong = u32(w, CTA_STATS_CHAIN_TOOLONG);
  return StatsParse::Cpu;
}

}  // namespace flowtop::conntrack
