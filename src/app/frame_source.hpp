#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flowtop/core/pressure.hpp"
#include "flowtop/core/stats.hpp"
#include "flowtop/sys/sysctl_guard.hpp"

namespace flowtop::app {

/// Health lines: what limits the data, or makes conntrack drop traffic, right now. `pressure`:
/// the kernel's statistics as the frame shows them (CollectorStats::pressure()).
std::vector<std::string> health_lines(const core::CollectorStats& stats,
                                      const core::CtPressure& pressure,
                                      const sys::SysctlGuard::Result* sysctl, bool no_sysctl);

/// The health line about the table's fill, from kTableFillWarnPercent of `max` on; "" below
/// it or when the limit is unknown.
std::string fill_line(std::uint64_t entries, std::uint64_t max);

/// The health line about conntrack's drop counters when any of them rose over the last
/// interval ("conntrack is dropping: drop 12/s, early_drop 3/s"); "" otherwise.
std::string drop_line(const core::CtPressure& pressure);

}  // namespace flowtop::app
