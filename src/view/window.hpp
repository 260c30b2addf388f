#pragma once

// The visible window of a sorted table (private to src/view).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "flowtop/view/view_state.hpp"

namespace flowtop::view::detail {

struct Window {
  std::size_t total = 0;  ///< rows in the table
  std::size_t first = 0;  ///< first visible row
  std::size_t count = 0;  ///< visible rows
  std::optional<std::size_t> selected;
};

/// Resolves the cursor against a fully sorted table of `total` rows: `found` is the position of
/// the cursor's key when it follows one and the key is in the table. Applies the pending move and
/// scrolls to keep the selection visible: O(1), the rows are [first, first + count).
inline Window place_window(std::size_t total, std::optional<std::size_t> found, const Cursor& cur,
                           std::size_t visible) {
  Window w;
  w.total = total;
  if (w.total == 0) {
    return w;
  }
  const auto last = static_cast<std::int64_t>(w.total - 1);
  // Where the selection is now: its key's row, else its old position.
  std::int64_t pos = std::min<std::int64_t>(static_cast<std::int64_t>(cur.index), last);
  if (cur.follow && found) {
    pos = static_cast<std::int64_t>(*found);
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
  if (cur.move.kind == PendingMove::Kind::Page) {  // rows typed before the pages come first
    target = std::clamp<std::int64_t>(pos + cur.move.then_rows, 0, last) + cur.move.delta * page;
  } else {  // Home, End or Index, then rows and pages
    target = std::clamp<std::int64_t>(target, 0, last);
    target += cur.move.then_rows + cur.move.then_pages * page;
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
  return w;
}

}  // namespace flowtop::view::detail
