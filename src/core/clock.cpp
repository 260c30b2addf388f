#include "flowtop/core/clock.hpp"

#include <ctime>

namespace flowtop::core {
namespace {
std::int64_t read_clock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

std::int64_t steady_ns() {
  return read_clock(CLOCK_MONOTONIC);
}
std::int64_t realtime_ns() {
  return read_clock(CLOCK_REALTIME);
}

}  // namespace flowtop::core
