#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flowtop::tui {

/// Percentiles of a set of durations, in nanoseconds (nearest-rank). All zero when empty.
struct LatencySummary {
  std::size_t count = 0;
  std::int64_t p50 = 0, p90 = 0, p99 = 0, max = 0;
};

/// Collects durations (frame times, key-to-draw latencies) for the --stats report. Keeps at most
/// `capacity` samples: beyond that, a uniform reservoir sample (deterministic), so a long session
/// costs bounded memory and the percentiles stay representative; `max` is always exact.
/// Owned by the UI thread.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(std::size_t capacity = 1U << 16);
  void add(std::int64_t ns);
  [[nodiscard]] LatencySummary summary() const;
  [[nodiscard]] std::size_t seen() const { return seen_; }

 private:
  std::vector<std::int64_t> samples_;
  std::size_t capacity_;
  std::size_t seen_ = 0;
  std::int64_t max_ = 0;
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
};

/// "frame p50=0.41 ms p90=0.62 ms p99=1.30 ms max=2.02 ms (1204 frames)" — `what` names the
/// measure, `unit` the samples. Empty summaries say "no samples".
std::string format_latency(std::string_view what, const LatencySummary& s, std::string_view unit);

}  // namespace flowtop::tui
