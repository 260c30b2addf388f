#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace flowtop::conntrack {

/// When the collector may run the resync dump that lost events call for. Under an event storm the
/// kernel reports ENOBUFS again and again; back-to-back full dumps of a huge table would then burn
/// a core just when the host is under attack. So a resync waits at least `min_gap` after the
/// last dump, at least its own cost divided by the CPU budget (a dump costing d runs at most every
/// d / budget), and a gap that doubles with every resync that is followed by more losses (up to
/// `max_gap`); the gap falls back to `min_gap` once no events were lost for four gaps. Plain value;
/// collector thread.
class ResyncPacer {
 public:
  ResyncPacer(std::int64_t min_gap_ns, std::int64_t max_gap_ns, double cpu_budget)
      : min_gap_(min_gap_ns), max_gap_(max_gap_ns), budget_(cpu_budget), gap_(min_gap_ns) {}

  /// Events were lost at `now_ns`.
  void lost(std::int64_t now_ns) {
    if (!pending_ && now_ns >= last_resync_end_ + 4 * gap_) {
      gap_ = min_gap_;  // a new episode, not the same storm
    }
    pending_ = true;
  }

  /// A resync is owed.
  [[nodiscard]] bool pending() const { return pending_; }
  /// The earliest time the owed resync may start.
  [[nodiscard]] std::int64_t due() const { return next_allowed_; }
  /// The gap the next resync will keep (for tests and the health line).
  [[nodiscard]] std::int64_t gap() const { return gap_; }

  /// A full dump starts (whatever asked for it): it resynchronises the table, so what was owed is
  /// paid; events lost from now on call for another. Returns whether a resync was owed.
  bool begin_dump() { return std::exchange(pending_, false); }

  /// A full dump ended at `end_ns` after `cost_ns`; `resync`: begin_dump() said one was owed.
  void dumped(std::int64_t end_ns, std::int64_t cost_ns, bool resync) {
    if (resync) {
      last_resync_end_ = end_ns;
      gap_ = std::min(gap_ * 2, max_gap_);  // if losses go on, the next resync waits longer
    }
    const auto by_budget = static_cast<std::int64_t>(static_cast<double>(cost_ns) / budget_);
    next_allowed_ = std::max(next_allowed_, end_ns + std::max(gap_, by_budget));
  }

 private:
  std::int64_t min_gap_;
  std::int64_t max_gap_;
  double budget_;
  std::int64_t gap_;
  std::int64_t next_allowed_ = 0;
  std::int64_t last_resync_end_ = 0;
  bool pending_ = false;
};

}  // namespace flowtop::conntrack
