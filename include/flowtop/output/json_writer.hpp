#pragma once

#include <cstdint>
#include <string>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"

namespace flowtop::output {

/// Context shared by every object of one frame.
struct FrameInfo {
  std::uint64_t frame = 0;       ///< 1-based frame number
  std::int64_t realtime_ns = 0;  ///< wall clock of the frame (ts, and age from start_ns)
};

/// One NDJSON object (no trailing newline) in SPEC's schema (§Output for scripts). Enrichment
/// fields (service, process, src_name, dst_name, src_geo, dst_geo) come from `enr`; anything not
/// known (pending, failed, disabled, a reserved address) is null. Strings are valid UTF-8 JSON
/// whatever bytes they came from. Pure.
std::string json_line(const core::FlowRecord& rec, const core::Enrichment& enr,
                      const FrameInfo& frame);
/// The same without enrichment (every enrichment field null).
std::string json_line(const core::FlowRecord& rec, const FrameInfo& frame);

}  // namespace flowtop::output
