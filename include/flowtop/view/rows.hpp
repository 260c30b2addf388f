#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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
  /// Privacy mode: the entry's key as the kernel knows it, when `rec` holds pseudonyms
  /// (view/redact.hpp); nullopt: rec.key is the kernel's.
  std::optional<core::FlowKey> kernel_key;

  /// The key the kernel, the selection and the collector know the flow by.
  [[nodiscard]] const core::FlowKey& key() const { return kernel_key ? *kernel_key : rec.key; }
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
  bool known_rates = false;  ///< some flow of the group has a known rate (rate_out/in)
  std::uint64_t bytes_out = 0, bytes_in = 0;
  std::uint64_t packets_out = 0, packets_in = 0;
  double rate_out = 0, rate_in = 0;  ///< bytes/s
  /// TOTAL↑ / TOTAL↓: the bytes the group moved since flowtop started (or the totals were
  /// reset), ended flows included (view::Ledger). Unknown without a ledger.
  bool known_totals = false;
  std::uint64_t total_out = 0, total_in = 0;
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
  double rate_out = 0, rate_in = 0;  ///< sums over the shown flows with known rates, bytes/s
  bool rates_known = false;          ///< some shown flow has a known rate
  std::uint64_t rates_pending = 0;   ///< shown flows whose rate is not known yet
  std::uint64_t ended = 0;           ///< shown flows that ended (lingering rows)

  /// Whether the sums mean something: "-" on the status line while every rate is pending.
  [[nodiscard]] bool rate_sums_known() const { return rates_known || rates_pending == 0; }
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
  Status status;                         ///< the snapshot's status, copied
  std::shared_ptr<const Totals> totals;  ///< the snapshot's totals and histories (may be null)
  std::int64_t realtime_ns = 0;          ///< the snapshot's wall clock (ages)

  /// The selected flow's key or group's key (for settle() and the collector's shown set).
  [[nodiscard]] const FlowRow* selected_flow() const;
  [[nodiscard]] const GroupRow* selected_group() const;
};

/// What a Prepared depends on in the view state: when prep_key() of a state equals a Prepared's
/// key, the Prepared still fits that state (cursor moves, scrolling, panes do not change it).
struct PrepKey {
  Tab tab = Tab::Flows;
  SortSpec sort;
  Selection selection;
  bool active_only = false;
  std::string filter;  ///< the filter's text (it compiles to the same filter)
  bool dns = true;
  bool geoip = true;

  bool operator==(const PrepKey& o) const;
};

PrepKey prep_key(const ViewState& state);

/// `state` with the fields a PrepKey covers set to `key`'s (tab, the tab's sort, selection,
/// active-only, filter, DNS, GeoIP): what the screen shows while the rows for a newer key are
/// being prepared. prep_key(with_key(s, k)) == k for any k made by prep_key().
ViewState with_key(ViewState state, const PrepKey& key);

/// The expensive, cursor-independent part of a frame for one snapshot and PrepKey: the current
/// tab's rows classified, filtered, counted and FULLY sorted, with an index from a flow's (or
/// group's) key to its position, so that build_rows(prepared, ...) is O(visible + 1).
struct Prepared {
  PrepKey key;
  Counts counts;
  std::vector<std::uint32_t> order;  ///< Flows tab: indices into snapshot.flows, sorted
  std::vector<GroupRow> groups;      ///< aggregate tabs: the groups, sorted
  /// Flows tab: an open-addressing index (linear probing on FlowKey::hash, a power of two at
  /// least twice the rows, at most 2^32): row + 1 of a flow, 0 for an empty slot. Use find_flow().
  std::vector<std::uint32_t> flow_slots;
  std::unordered_map<std::string, std::size_t> group_pos;  ///< group_id(key) → row

  /// The row of the flow with key `wanted` (Flows tab), if it is shown. `snapshot`: the one
  /// prepared.
  [[nodiscard]] std::optional<std::size_t> find_flow(const Snapshot& snapshot,
                                                     const core::FlowKey& wanted) const;
  [[nodiscard]] std::size_t total() const {
    return key.tab == Tab::Flows ? order.size() : groups.size();
  }
};

/// Classifies, filters, enriches (for sort keys, the filter and aggregation), counts and sorts
/// every flow of `snapshot` for `state` (O(n log n)). Any thread that may call snapshot.enrich.
Prepared prepare(const Snapshot& snapshot, const ViewState& state);

/// The window step: resolves `state`'s cursor (its PendingMove, the selection following its
/// key through the index) against `prepared` (built from `snapshot`; its key must equal
/// prep_key(state)) and copies the visible rows, looking up enrichment for them only.
/// O(visible): no pass over all flows.
Rows build_rows(const Prepared& prepared, const Snapshot& snapshot, const ViewState& state,
                std::size_t visible);

/// Rows [first, first + count) of `prepared` (clamped to its rows), copied, enriched and masked
/// as build_rows() copies the visible ones, with no selection: a piece of a table too big to copy
/// whole (--batch). `rows.total`, the counts, status and empty reason are the whole table's.
/// O(count).
Rows rows_range(const Prepared& prepared, const Snapshot& snapshot, const ViewState& state,
                std::size_t first, std::size_t count);
/// Builds the rows of `state.tab` for a table `visible` rows high (entries, not screen lines:
/// render::table_capacity() says how many fit). Classifies each flow with the selection, applies
/// active-only and the filter, aggregates for the aggregate tabs, resolves the tab's PendingMove
/// and keeps the selection in view: build_rows(prepare(snapshot, state), snapshot, state,
/// visible). Calls snapshot.enrich only for the flows that need it: the visible ones, plus once
/// each flow the selection shows when the filter, the sort column or the tab needs enrichment
/// (nothing of it is kept beyond a sort key or a group). Pure apart from calling `enrich`.
Rows build_rows(const Snapshot& snapshot, const ViewState& state, std::size_t visible);

/// Folds what build_rows() resolved into the state: the selected key and index, the scroll
/// offset, and clears the PendingMove. Call after every build_rows() with the same state.
void settle(ViewState& state, const Rows& rows);

/// The keys of the visible flows (Flows tab) — what the collector refreshes each tick.
std::vector<core::FlowKey> visible_keys(const Rows& rows);

}  // namespace flowtop::view
