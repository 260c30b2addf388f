#pragma once

// The flows of a frame that pass the selection, active-only and the filter (private to src/view).

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/snapshot.hpp"

namespace flowtop::view::detail {

inline constexpr std::uint32_t kNoKey = std::numeric_limits<std::uint32_t>::max();

/// A sort comparison: -1, 0, 1 with unknown values last whatever the direction.
template <class V>
int ordered(bool known_a, const V& a, bool known_b, const V& b, bool descending) {
  if (known_a != known_b) {
    return known_a ? -1 : 1;
  }
  if (!known_a || a == b) {
    return 0;
  }
  const int c = a < b ? -1 : 1;
  return descending ? -c : c;
}

/// What an enrichment sort column compares, taken out of the enrichment once per frame so that
/// the enrichment itself need not be kept for every flow.
struct SortKey {
  bool known = false;
  std::uint32_t text = 0;  ///< process name, DNS name, country code: Candidates::texts[text]
  std::int64_t num = 0;    ///< pid
};

/// A shown flow: its index in the snapshot and of its sort key (kNoKey: the sort column is a
/// field of the record).
struct Candidate {
  std::uint32_t rec = 0;
  std::uint32_t key = kNoKey;
};

struct Candidates {
  std::vector<Candidate> items;
  std::vector<SortKey> keys;
  std::deque<std::string> texts;  ///< the distinct texts of the keys (stable: text_ids views them)
  std::unordered_map<std::string_view, std::uint32_t> text_ids;  ///< into texts

  /// The id of `text` in `texts`, added when new.
  std::uint32_t intern(std::string_view text) {
    if (const auto it = text_ids.find(text); it != text_ids.end()) {
      return it->second;
    }
    const auto id = static_cast<std::uint32_t>(texts.size());
    texts.emplace_back(text);
    text_ids.emplace(texts.back(), id);
    return id;
  }
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

/// A byte string that identifies a group key (for the index of a Prepared).
std::string group_id(const GroupKey& key);

/// Strict total order of the groups for `sort`: unknown values last in both directions, ties by
/// label and key.
class GroupLess {
 public:
  explicit GroupLess(SortSpec sort) : sort_(sort) {}
  bool operator()(const GroupRow& a, const GroupRow& b) const;

 private:
  SortSpec sort_;
};

}  // namespace flowtop::view::detail
