#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/core/stats.hpp"
#include "flowtop/view/selection.hpp"

namespace flowtop::output {

struct BatchOptions {
  view::Selection selection;
  bool show_src = false;  ///< -s: a second row per flow with the source end
  bool bits = false;      ///< -b
  std::size_t width = 120;
};

/// What a frame header reports besides the flows.
struct FrameStatus {
  std::uint64_t frame = 0;
  std::int64_t realtime_ns = 0;
  std::uint64_t tracked = 0;
  view::HiddenCounts counts;
  std::vector<std::string> health;  ///< health lines (accounting was off, events lost, ...)
  std::string version;              ///< "0.1.0": the title reads "flowtop 0.1.0 - ..."
};

/// One `top -b`-style text frame: a title line, a status line, health lines, a column header and
/// one row per shown flow (in the given order), then a blank line. `enrichment`, when given, is
/// parallel to `shown` (process, PID, host name, service and country columns). Pure.
std::string batch_frame(const std::vector<const core::FlowRecord*>& shown,
                        const FrameStatus& status, const BatchOptions& opts,
                        const std::vector<core::Enrichment>* enrichment = nullptr);

}  // namespace flowtop::output
