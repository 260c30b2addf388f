#pragma once

#include <cstdint>
#include <span>

#include "flowtop/core/pressure.hpp"

namespace flowtop::conntrack {

enum class StatsParse : std::uint8_t {
  Cpu,        ///< an IPCTNL_MSG_CT_GET_STATS_CPU reply: `cpu` was filled
  Global,     ///< an IPCTNL_MSG_CT_GET_STATS reply: `sample.entries` / `sample.max` were set
  Other,      ///< another netlink message (NLMSG_DONE, an error, another subsystem): not a defect
  Malformed,  ///< truncated or inconsistent: count it
};

/// Decodes one ctnetlink statistics message (nlmsghdr, nfgenmsg whose res_id is the CPU number,
/// CTA_STATS_* big-endian u32 attributes). Per-CPU replies fill `cpu`; the global reply sets the
/// entry count and limit in `sample`. Every length is checked (libmnl's walk and validation);
/// unknown attributes are ignored, a missing counter reads 0. Never throws; any byte sequence is
/// safe (fuzzed). Thread-safe (no shared state).
StatsParse parse_ct_stats(std::span<const std::uint8_t> bytes, core::CtCpuStats& cpu,
                          core::CtStatsSample& sample);

}  // namespace flowtop::conntrack
