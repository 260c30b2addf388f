#include <algorithm>
#include <numeric>

#include "view/candidates.hpp"

namespace flowtop::view::detail {
namespace {

bool item_less(const SortItem& a, const SortItem& b) {
  for (std::size_t i = 0; i < a.p.size(); ++i) {
    if (a.p[i] != b.p[i]) {
      return a.p[i] < b.p[i];
    }
  }
  for (std::size_t i = 0; i < a.t.size(); ++i) {
    if (a.t[i] != b.t[i]) {
      return a.t[i] < b.t[i];
    }
  }
  return false;
}

// Ranks of texts in byte order (equal texts, equal ranks).
std::vector<std::uint32_t> ranks(const std::deque<std::string>& texts) {
  std::vector<std::uint32_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0U);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return texts[a] < texts[b]; });
  std::vector<std::uint32_t> rank(texts.size());
  std::uint32_t r = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0 && texts[order[i]] != texts[order[i - 1]]) {
      ++r;
    }
    rank[order[i]] = r;
  }
  return rank;
}

// The tie order of groups: by label, then by the key's fields.
bool group_tie_less(const GroupRow& a, const GroupRow& b) {
  if (a.label != b.label) {
    return a.label < b.label;
  }
  if (a.key.pid != b.key.pid) {
    return a.key.pid < b.key.pid;
  }
  if (a.key.asn != b.key.asn) {
    return a.key.asn < b.key.asn;
  }
  if (a.key.addr != b.key.addr) {
    return a.key.addr < b.key.addr;
  }
  return a.key.name < b.key.name;
}

}  // namespace

std::uint32_t SortKeys::intern(std::string_view text) {
  if (const auto it = ids_.find(text); it != ids_.end()) {
    return it->second;
  }
  const auto id = static_cast<std::uint32_t>(texts_.size());
  texts_.emplace_back(text);
  ids_.emplace(texts_.back(), id);
  return id;
}

void SortKeys::pack(const SortValue& v, SortItem& item) {
  if (!v.known) {
    item.p = {1, 0, 0, 0};
    item.text = kNoText;
    return;
  }
  item.p = {0, v.words[0], v.words[1], v.words[2]};
  if (v.text_slot >= 0) {
    item.text = intern(v.text);
    item.text_slot = static_cast<std::int8_t>(v.text_slot);
  }
}

void SortKeys::sort(std::vector<SortItem>& items) {
  const std::vector<std::uint32_t> rank = ranks(texts_);
  const bool d = sort_.descending;
  for (SortItem& it : items) {
    if (it.p[0] != 0) {
      continue;  // unknown: last, whatever the direction
    }
    if (it.text != kNoText) {
      it.p[1 + static_cast<std::size_t>(it.text_slot)] = rank[it.text];
    }
    if (d) {
      it.p[1] = ~it.p[1];
      it.p[2] = ~it.p[2];
      it.p[3] = ~it.p[3];
    }
  }
  std::sort(items.begin(), items.end(), item_less);
}

void sort_groups(std::vector<GroupRow>& groups, SortSpec sort) {
  const ColumnSpec& spec = spec_of(sort.column);
  if (spec.group_key == nullptr) {
    std::sort(groups.begin(), groups.end(), group_tie_less);
    return;
  }
  SortKeys keys(sort);
  std::vector<SortItem> items(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    SortValue v;
    spec.group_key(groups[i], v);
    keys.pack(v, items[i]);
    items[i].index = static_cast<std::uint32_t>(i);
  }
  // Ties keep the label-and-key order: rank the groups by it first, as the items' tie word.
  std::vector<std::uint32_t> by_tie(groups.size());
  std::iota(by_tie.begin(), by_tie.end(), 0U);
  std::sort(by_tie.begin(), by_tie.end(),
            [&](std::uint32_t a, std::uint32_t b) { return group_tie_less(groups[a], groups[b]); });
  for (std::size_t r = 0; r < by_tie.size(); ++r) {
    items[by_tie[r]].t[0] = r;
  }
  keys.sort(items);
  std::vector<GroupRow> sorted;
  sorted.reserve(groups.size());
  for (const SortItem& it : items) {
    sorted.push_back(std::move(groups[it.index]));
  }
  groups = std::move(sorted);
}

}  // namespace flowtop::view::detail
