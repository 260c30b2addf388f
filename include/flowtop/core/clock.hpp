#pragma once

#include <cstdint>

namespace flowtop::core {

/// Monotonic nanoseconds (CLOCK_MONOTONIC). Any thread.
std::int64_t steady_ns();
/// Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME). Any thread.
std::int64_t realtime_ns();

}  // namespace flowtop::core
