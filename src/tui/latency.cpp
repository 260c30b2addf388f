#include "flowtop/tui/latency.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace flowtop::tui {

LatencyRecorder::LatencyRecorder(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {
  samples_.reserve(std::min<std::size_t>(capacity_, 4096));
}

void LatencyRecorder::add(std::int64_t ns) {
  ns = std::max<std::int64_t>(ns, 0);
  max_ = std::max(max_, ns);
  ++seen_;
  if (samples_.size() < capacity_) {
    samples_.push_back(ns);
    return;
  }
  // Reservoir sampling (algorithm R) with a xorshift generator: every sample seen so far is kept
  // with equal probability.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const auto slot = static_cast<std::size_t>(rng_ % seen_);
  if (slot < capacity_) {
    samples_[slot] = ns;
  }
}

LatencySummary LatencyRecorder::summary() const {
  LatencySummary s;
  if (samples_.empty()) {
    return s;
  }
  std::vector<std::int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  auto rank = [&](int percent) {
    const std::size_t n = sorted.size();
    const std::size_t r = (n * static_cast<std::size_t>(percent) + 99) / 100;
    return sorted[std::clamp<std::size_t>(r, 1, n) - 1];
  };
  s.count = seen_;
  s.p50 = rank(50);
  s.p90 = rank(90);
  s.p99 = rank(99);
  s.max = max_;
  return s;
}

std::string format_latency(std::string_view what, const LatencySummary& s, std::string_view unit) {
  if (s.count == 0) {
    return fmt::format("{}: no samples", what);
  }
  auto ms = [](std::int64_t ns) { return static_cast<double>(ns) / 1e6; };
  return fmt::format("{} p50={:.2f} ms p90={:.2f} ms p99={:.2f} ms max={:.2f} ms ({} {})", what,
                     ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), s.count, unit);
}

}  // namespace flowtop::tui
