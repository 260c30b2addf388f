#pragma once

#include <string>
#include <vector>

#include "flowtop/core/stats.hpp"
#include "flowtop/sys/sysctl_guard.hpp"

namespace flowtop::app {

/// Health lines : what limits the data right now.
std::vector<std::string> health_lines(const core::CollectorStats& stats,
                                      const sys::SysctlGuard::Result* sysctl, bool no_sysctl);

}  // namespace flowtop::app
