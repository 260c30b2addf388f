#pragma once

// The visible window of a sorted table without sorting the table (private to src/view).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "flowtop/view/view_state.hpp"

namespace flowtop::view::detail {

struct Window {
  std::size_t total = 0;  ///< rows in the table
  std::size_t first = 0;  ///< first visible row
  std::size_t count = 0;  ///< visible rows: items[first, first + count) are sorted
  std::optional<std::size_t> selected;
};

/// Resolves the cursor against `items` ordered by `less` (a strict total order), applies its
/// pending move, scrolls to keep the selection visible, and puts the visible rows in order at
/// [first, first + count): O(n + n log visible) — nth_element, then partial_sort of the window.
/// `is_selected(item)` says whether an item has the cursor's key (used when it follows a key).
template <class T, class Less, class IsSelected>
Window resolve_window(std::vector<T>& items, const Less& less, const IsSelected& is_selected,
                      const Cursor& cur, std::size_t visible) {
  Window w;
  w.total = items.size();
  if (w.total == 0) {
    return w;
  }
  const auto last = static_cast<std::int64_t>(w.total - 1);
  // Where the selection is now: its key's rank (counted, not sorted), else its old position.
  std::int64_t pos = std::min<std::int64_t>(static_cast<std::int64_t>(cur.index), last);
  if (cur.follow) {
    const auto found = std::find_if(items.begin(), items.end(), is_selected);
    if (found != items.end()) {
      const T& sel = *found;
      pos = std::count_if(items.begin(), items.end(), [&](const T& x) { return less(x, sel); });
    }
  }
  const auto page = static_cast<std::int64_t>(std::max<std::size_t>(visible, 1));
  std::int64_t target = pos;
  switch (cur.move.kind) {
    case PendingMove::Kind::None: break;
    case PendingMove::Kind::By: target = pos + cur.move.delta; break;
    case PendingMove::Kind::Page: target = pos + cur.move.delta * page; break;
    case PendingMove::Kind::Home: target = 0; break;
    case PendingMove::Kind::End: target = last; break;
    case PendingMove::Kind::Index: target = cur.move.delta; break;
  }
  target = std::clamp<std::int64_t>(target, 0, last);
  w.selected = static_cast<std::size_t>(target);

  // Scroll: a page move scrolls by as much as the selection moved; then the selection is kept in
  // view and no blank space is left below the last row.
  auto first = static_cast<std::int64_t>(cur.scroll);
  if (cur.move.kind == PendingMove::Kind::Page) {
    first += target - pos;
  }
  const auto height = static_cast<std::int64_t>(visible);
  first = std::min(first, std::max<std::int64_t>(static_cast<std::int64_t>(w.total) - height, 0));
  if (height > 0) {
    if (target < first) {
      first = target;
    } else if (target >= first + height) {
      first = target - height + 1;
    }
  }
  first = std::max<std::int64_t>(first, 0);
  w.first = static_cast<std::size_t>(first);
  w.count = std::min(visible, w.total - w.first);
  if (w.count == 0) {
    return w;
  }
  const auto begin = items.begin() + static_cast<std::ptrdiff_t>(w.first);
  if (w.first > 0) {
    std::nth_element(items.begin(), begin, items.end(), less);
  }
  std::partial_sort(begin, begin + static_cast<std::ptrdiff_t>(w.count), items.end(), less);
  return w;
}

}  // namespace flowtop::view::detail
