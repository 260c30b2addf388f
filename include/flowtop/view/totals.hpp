#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/selection.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::view {

/// Rates kept per interval for a sparkline: the last kHistory intervals.
inline constexpr std::size_t kHistory = 60;

/// A fixed ring of the last kHistory rates (bytes/s), per direction. No allocation.
class RateHistory {
 public:
  void push(double out, double in);
  void clear() { count_ = 0, head_ = 0; }
  [[nodiscard]] std::size_t size() const { return count_; }
  [[nodiscard]] bool empty() const { return count_ == 0; }
  /// The `i`-th oldest entry (i < size()).
  [[nodiscard]] double out(std::size_t i) const { return out_[at(i)]; }
  [[nodiscard]] double in(std::size_t i) const { return in_[at(i)]; }
  /// Oldest first.
  [[nodiscard]] std::vector<double> series_out() const;
  [[nodiscard]] std::vector<double> series_in() const;

 private:
  [[nodiscard]] std::size_t at(std::size_t i) const {
    return (head_ + kHistory - count_ + i) % kHistory;
  }
  std::array<float, kHistory> out_{};
  std::array<float, kHistory> in_{};
  std::size_t count_ = 0;
  std::size_t head_ = 0;  ///< the next slot written
};

/// The bytes one group moved since the totals started: ↑ what its flows' inside ends sent, ↓
/// what they received (the BYTES columns' sides).
struct GroupTotal {
  GroupRow group;  ///< key, label and detail as last seen (flows and counters unused)
  std::uint64_t out = 0, in = 0;
  std::int64_t active_ns = 0;  ///< steady time of the group's last bytes (eviction order)
};

/// The flow or group whose rate history is kept (the selected row of the screen).
struct Focus {
  Tab tab = Tab::Flows;
  std::optional<core::FlowKey> flow;  ///< Flows tab
  std::optional<GroupKey> group;      ///< aggregate tabs

  bool operator==(const Focus&) const = default;
};

/// Per aggregate tab (index: Tab; Flows stays empty), the groups by group_id() of their key.
using GroupTotals = std::array<std::unordered_map<std::string, GroupTotal>, kTabCount>;

/// The selected row of `state`'s tab: its flow (Flows) or group.
Focus focus_of(const ViewState& state);

/// The totals as of one snapshot. Immutable once published; shared by the snapshot and its rows.
struct Totals {
  /// Shared with the previous snapshot's totals when no group changed.
  std::shared_ptr<const GroupTotals> groups;
  std::uint64_t out = 0, in = 0;       ///< the session's totals (every counted flow)
  std::int64_t since_realtime_ns = 0;  ///< when counting started (flowtop's start, or a reset)
  /// Events were lost (ENOBUFS) since counting started: flows that ended during the loss may be
  /// missing.
  bool lossy = false;
  std::uint64_t evicted = 0;  ///< groups dropped by the cap since counting started
  RateHistory history;        ///< the session's ↑ and ↓ rates, one entry per snapshot
  Focus focus;                ///< whose history focus_history is
  RateHistory focus_history;  ///< the focused flow's or group's rates since it was focused

  /// The group's totals on `tab`, or nullptr when it has none.
  [[nodiscard]] const GroupTotal* find(Tab tab, const GroupKey& key) const;
};

/// Per-group byte totals that outlive flows, and the rate histories of what is shown. Fed one
/// snapshot at a time by one thread (the one taking snapshots); reset() from any thread.
///
/// Each account() compares every flow's counters with those it saw last (per flow: its kernel id
/// and two counters; forgotten when the flow leaves the table) and adds the difference to the
/// flow's group on every aggregate tab and to the session. An ended flow's final counters
/// (its lingering record) add its last bytes once. A flow first seen after counting started
/// counts from 0 when it started after that (its timestamp says so, or it has none), so a flow
/// that lived between two snapshots counts whole; a flow older than that counts from its first
/// sight. Bytes of flows the selection hides are not counted. A flow whose owner or GeoIP
/// lookup is still pending waits (its bytes are counted later, in full) for up to
/// kMaxDefers snapshots, so its bytes land in its group rather than in "-".
///
/// Memory is bounded: per live flow (the flow table's size), and at most `max_groups` groups per
/// tab; beyond it the least recently active groups are forgotten (their bytes stay in the
/// session's totals).
class Ledger {
 public:
  static constexpr std::size_t kMaxGroups = 10'000;
  static constexpr std::uint8_t kMaxDefers = 3;

  explicit Ledger(std::size_t max_groups = kMaxGroups) : max_groups_(max_groups) {}

  /// Counts what moved since the previous snapshot. `selection`: the flows counted; `dns`: host
  /// labels may be names; `focus`: whose history to keep (a new focus starts an empty one).
  /// Returns the totals as of `snap` (shared with the previous result when nothing changed).
  std::shared_ptr<const Totals> account(const Snapshot& snap, const Selection& selection, bool dns,
                                        const Focus& focus);
  /// Starts again from zero at the next account(): the flows then live count from their
  /// counters at that moment. Any thread.
  void reset() { reset_.store(true, std::memory_order_relaxed); }
  /// Flows whose counters it remembers (those of the last snapshot): its per-flow memory.
  [[nodiscard]] std::size_t flows_remembered() const { return seen_.size(); }

 private:
  struct Seen {
    std::uint32_t id = 0;
    std::uint32_t gen = 0;
    std::uint64_t sent = 0, received = 0;  ///< counted so far
    std::uint8_t defers = 0;
  };

  void start(const Snapshot& snap);
  /// Forgets the least recently active groups of a tab beyond max_groups_.
  void evict(std::unordered_map<std::string, GroupTotal>& groups);

  std::size_t max_groups_;
  std::atomic<bool> reset_{false};
  bool started_ = false;
  std::uint32_t gen_ = 0;
  std::uint64_t enobufs_base_ = 0;
  std::int64_t last_steady_ns_ = 0;
  std::unordered_map<core::FlowKey, Seen, core::FlowKeyHash> seen_;
  GroupTotals groups_;  ///< the working copy
  std::shared_ptr<const GroupTotals> groups_published_;
  Totals totals_;  ///< the rest (its `groups` unset)
};

}  // namespace flowtop::view
