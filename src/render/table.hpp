#pragma once

// The table widget: column specs with a drop priority, layout for a width, cells and lines
// (private to src/render). It knows columns, not flows: widths, priorities, labels and cells
// come from the column registry (view::spec_of).

#include <cstddef>
#include <string>
#include <vector>

#include "flowtop/render/frame.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::render::detail {

/// A column on screen: where it starts and how wide it is.
struct Placed {
  view::Column column;
  std::size_t x = 0;
  std::size_t width = 0;
  bool right = false;
};

struct TableLayout {
  std::vector<Placed> columns;  ///< left to right, one blank between neighbours
};

/// Which of `tab`'s columns fit in `cols` and how wide they are: columns scrolled off by
/// `h_scroll` go first; then the least important drop until the minimum widths fit, and optional
/// ones (packets, PID, GEO, TIME...) also drop while the address would be cramped; the room left
/// widens the flexible columns (ADDRESS first). `bits` widens the rate columns.
TableLayout layout_table(view::Tab tab, std::size_t cols, bool bits, std::size_t h_scroll);

/// The column header line, the sort column marked ▲ (ascending) / ▼ (descending); adds a SortBy
/// hit per column at screen line `line_no`.
Line header_line(const TableLayout& layout, view::Tab tab, const view::SortSpec& sort, bool ascii,
                 std::size_t cols, int line_no, std::vector<Hit>& hits);

/// One table line from per-column cell texts (cells[i] belongs to layout.columns[i]). "-" cells
/// (unknown) are dimmed unless `style` is Selected.
Line row_line(const TableLayout& layout, const std::vector<std::string>& cells, Style style,
              std::size_t cols, bool ascii);

}  // namespace flowtop::render::detail
