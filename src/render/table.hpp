#pragma once

// The table widget: column specs with a drop priority, layout for a width, cells and lines
// (private to src/render). It knows columns, not flows: widths, priorities, labels and cells
// come from the column registry (view::spec_of).

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "flowtop/render/frame.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/rows.hpp"
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

  /// Whether `column` is on screen.
  [[nodiscard]] bool shows(view::Column column) const;
};

/// Display widths of cell texts, per column (indexed by view::Column).
using ContentWidths = std::array<std::size_t, view::kColumnCount>;

/// The widest cell of each of the tab's columns among the visible rows of `rows`, each cell
/// formatted as the column's widest placement would show it (sanitised display width).
ContentWidths content_widths(const view::Rows& rows, const view::ViewState& state, bool ascii);

/// Which of `tab`'s columns fit in `cols` and how wide they are. A column is as wide as its widest
/// cell (`content`) and its header (with room for the sort mark), within the min and pref of its
/// placement; a right-aligned (number) column is never cut. Columns scrolled off by `h_scroll` go
/// first (the first one left then stays, so that scrolling reaches every column); then the least
/// important drop until every column fits at its narrowest, and optional ones (priority <= 4:
/// byte totals, PID, NAT, packets) also drop while the others would be cut below their comfort
/// width, or when none of their cells on screen has anything to say. The room left grows the
/// columns towards their content, most important first; what is still left stays blank on the
/// right. `bits` widens the rate columns. `chosen`: the columns that may show, in their order
/// (view::shown_columns(), F2); empty: every column of the tab in the registry's order.
TableLayout layout_table(view::Tab tab, std::size_t cols, const ContentWidths& content,
                         const view::SortSpec& sort, bool bits, std::size_t h_scroll, bool ascii,
                         std::span<const view::Column> chosen = {});

/// The column header line, the sort column marked ▲ (ascending) / ▼ (descending) after its label;
/// adds a SortBy hit per column at screen line `line_no`.
Line header_line(const TableLayout& layout, view::Tab tab, const view::SortSpec& sort, bool ascii,
                 std::size_t cols, int line_no, std::vector<Hit>& hits);

/// The sort column's label with its mark ("TIME▼"; ASCII "TIMEv").
std::string sort_label(view::Tab tab, const view::SortSpec& sort, bool ascii);

/// One table line from per-column cell texts (cells[i] belongs to layout.columns[i]). "-" cells
/// (unknown) are dimmed unless `style` is Selected.
Line row_line(const TableLayout& layout, const std::vector<std::string>& cells, Style style,
              std::size_t cols, bool ascii);

}  // namespace flowtop::render::detail
