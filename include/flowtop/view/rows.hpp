#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/selection.hpp"
#include "flowtop/view/snapshot.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::view {

/// One visible flow: the record, what the enrichment caches knew, and its rates.
struct FlowRow {
  core::FlowRecord rec;
  core::Enrichment enrich;  ///< empty (all Pending) when the snapshot has no `enrich`
  core::Rates rates;        ///< core::rates_of(rec)
};

/// Totals of one group of flows (aggregate tabs). A byte or packet total is unknown (`known_*`
/// false) only when no flow of the group has counters.
struct GroupRow {
  GroupKey key;
  std::string label;   ///< Processes: name ("-" none); Hosts: DNS name or address;
                       ///< Countries: ISO code or kind label ("-" unknown); AS: "AS15133"
  std::string detail;  ///< Processes: user; Hosts: country code; Countries: country name;
                       ///< AS: organisation. Untrusted: sanitise before display.
  std::uint64_t flows = 0;
  bool known_counters = false;
  std::uint64_t bytes_out = 0, bytes_in = 0;
  std::uint64_t packets_out = 0, packets_in = 0;
  double rate_out = 0, rate_in = 0;  ///< bytes/s
};

/// Frame-wide numbers for the status line.
struct Counts {
  std::uint64_t tracked = 0;   ///< flows in the snapshot
  std::uint64_t shown = 0;     ///< flows that passed selection, active-only and the filter
  HiddenCounts hidden;         ///< by the selection (family, protocol, loopback, DNS)
  std::uint64_t inactive = 0;  ///< hidden by `a` (no traffic in the last rate window)
  std::uint64_t filtered = 0;  ///< hidden by the filter
  /// Tracked flows per protocol: tcp, udp (incl. UDP-lite), icmp (both), sctp, dccp, other.
  std::uint64_t tcp = 0, udp = 0, icmp = 0, sctp = 0, dccp = 0, other = 0;
  double rate_out = 0, rate_in = 0;  ///< sums over the shown flows, bytes/s

  [[nodiscard]] std::uint64_t hidden_total() const { return hidden.hidden() + inactive + filtered; }
};

/// What one frame shows: the visible window of the current tab's sorted rows, the selection
/// resolved against them, and the numbers of the status line. Built by build_rows(); read by
/// render() and folded back into the state by settle().
struct Rows {
  Tab tab = Tab::Flows;
  std::vector<FlowRow> flows;           ///< Flows tab: rows [first, first + flows.size())
  std::vector<GroupRow> groups;         ///< aggregate tabs: rows [first, first + groups.size())
  std::size_t total = 0;                ///< rows of the whole table (flows, or groups)
  std::size_t first = 0;                ///< index of the first visible row
  std::optional<std::size_t> selected;  ///< index of the selected row (within [first, ...))
  std::optional<FlowRow> detail;        ///< the selected flow, when the detail pane is open
  Counts counts;
  /// Why the table is empty ("" when it is not): "no flows match TCP, IPv4+IPv6 (37 hidden)",
  /// "conntrack is not tracking in this namespace: try --track", "collecting…".
  std::string empty_reason;
  Status status;                 ///< the snapshot's status, copied
  std::int64_t realtime_ns = 0;  ///< the snapshot's wall clock (ages)

  /// The selected flow's key or group's key (for settle() and the collector's shown set).
  [[nodiscard]] const FlowRow* selected_flow() const;
  [[nodiscard]] const GroupRow* selected_group() const;
};

/// Builds the rows of `state.tab` for a table `visible` rows high (entries, not screen lines:
/// render::table_capacity() says how many fit). Classifies each flow with the selection, applies
/// active-only and the filter, aggregates for the aggregate tabs, resolves the tab's PendingMove
/// and keeps the selection in view, and sorts only the visible window (std::partial_sort /
/// nth_element: never a full sort of the table). Calls snapshot.enrich only for the flows that
/// need it: the visible ones, plus once each flow the selection shows when the filter, the sort
/// column or the tab needs enrichment (nothing of it is kept beyond a sort key or a group).
/// Pure apart from calling `enrich`.
Rows build_rows(const Snapshot& snapshot, const ViewState& state, std::size_t visible);

/// Folds what build_rows() resolved into the state: the selected key and index, the scroll
/// offset, and clears the PendingMove. Call after every build_rows() with the same state.
void settle(ViewState& state, const Rows& rows);

/// The keys of the visible flows (Flows tab) — what the collector refreshes each tick.
std::vector<core::FlowKey> visible_keys(const Rows& rows);

}  // namespace flowtop::view
