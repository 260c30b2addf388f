#pragma once

// Sorting a pass's rows on packed keys, and aggregating flows into groups (private to src/view).

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/rows.hpp"

namespace flowtop::view::detail {

inline constexpr std::uint32_t kNoText = std::numeric_limits<std::uint32_t>::max();

/// A row's place in a full sort, packed into integers so that comparisons stay in this array
/// rather than chase records or strings. `p`: the sort column's SortValue: p[0] is 1 when the
/// value is unknown (last whatever the direction), p[1..3] its words (each inverted when
/// descending), a text's word being its rank among the pass's texts. `t`: the tie order,
/// ascending always (flows: the remote address, the local address, ports, protocol, zone, ICMP
/// type and code, the kernel's id).
struct SortItem {
  std::array<std::uint64_t, 4> p{};
  std::array<std::uint64_t, 6> t{};
  std::uint32_t index = 0;       ///< the row: a flow's index in the snapshot, or a group's
  std::uint32_t hash = 0;        ///< low bits of the flow key's hash (for a Prepared's index)
  std::uint32_t text = kNoText;  ///< the SortValue's text, interned in SortKeys::texts
  std::int8_t text_slot = -1;
};

/// Builds SortItems from SortValues, interning their texts, then ranks the texts and sorts.
class SortKeys {
 public:
  explicit SortKeys(SortSpec sort) : sort_(sort) {}
  /// Packs `v` into `item.p` (the text kept for ranking).
  void pack(const SortValue& v, SortItem& item);
  /// Replaces the text words by their ranks, applies the direction and sorts `items` fully by
  /// `p`, then `t`.
  void sort(std::vector<SortItem>& items);

 private:
  std::uint32_t intern(std::string_view text);

  SortSpec sort_;
  std::deque<std::string> texts_;  // the distinct texts (stable: ids_ views them)
  std::unordered_map<std::string_view, std::uint32_t> ids_;
};

/// Sums flows into the groups of an aggregate tab, one flow at a time. Allocates per group, not
/// per flow.
class Aggregator {
 public:
  /// `dns`: host labels may use DNS names.
  Aggregator(Tab tab, bool dns) : tab_(tab), dns_(dns) {}
  void add(const core::FlowRecord& rec, const core::Enrichment& e);
  std::vector<GroupRow> take() { return std::move(groups_); }

 private:
  Tab tab_;
  bool dns_;
  std::vector<GroupRow> groups_;
  std::unordered_map<std::string, std::size_t> index_;
  std::string buf_;  // the key being looked up, reused
};

/// The group of `tab` a flow belongs to: its key, label and detail (flows and counters zero).
/// `dns`: host labels may use DNS names.
GroupRow make_group(Tab tab, const core::FlowRecord& rec, const core::Enrichment& e, bool dns);

/// A byte string that identifies a group key (for the index of a Prepared).
std::string group_id(const GroupKey& key);

/// Sorts the groups of an aggregate tab by the column's group key (unknown last in both
/// directions), ties by label and key, so that equal rows never swap places between frames.
void sort_groups(std::vector<GroupRow>& groups, SortSpec sort);

}  // namespace flowtop::view::detail
