#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "flowtop/core/flow.hpp"

namespace flowtop::conntrack {

/// What a ctnetlink message says about an entry.
enum class MsgKind : std::uint8_t {
  Entry,    ///< a dump or GET reply: the entry as it is now
  New,      ///< event: a new entry (NLM_F_CREATE)
  Update,   ///< event: an entry changed (state, status, ...)
  Destroy,  ///< event: the entry is gone; with its final counters and, with timestamps on,
            ///< its stop stamp in rec.stop_ns
};

struct ParsedMessage {
  MsgKind kind = MsgKind::Entry;
  core::FlowRecord rec;
};

enum class ParseError : std::uint8_t {
  NotConntrack,  ///< another netlink message (NLMSG_DONE, an error, another subsystem): not a
                 ///< defect
  Malformed,     ///< truncated or inconsistent: count it
};

struct ParseResult {
  std::optional<ParsedMessage> msg;
  ParseError error = ParseError::NotConntrack;  ///< meaningful when !msg
};

/// Decodes one ctnetlink message (nlmsghdr, nfgenmsg, attributes) into a FlowRecord, stamping
/// `sample_ns` as the time its counters were received. The attribute walk and validation are
/// libmnl's (not nfct_nlmsg_parse, which exit()s on a malformed attribute). Never throws; any byte
/// sequence is safe (fuzzed). `event` tells events (NEW/UPDATE/DESTROY) from dump replies.
/// Dump and GET replies and DESTROY events are full views of the entry (FlowRecord::kSampled):
/// the kernel sends no counters or timestamps with NEW and UPDATE events.
/// Thread-safe (no shared state).
ParseResult parse_ct_message(std::span<const std::uint8_t> bytes, std::int64_t sample_ns,
                             bool event);

}  // namespace flowtop::conntrack
