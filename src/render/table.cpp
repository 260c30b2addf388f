#include "render/table.hpp"

#include <algorithm>
#include <optional>

#include "flowtop/core/text.hpp"
#include "render/line.hpp"

namespace flowtop::render::detail {
namespace {

using view::Column;
using view::Tab;

constexpr int kOptional = 4;  // priorities up to this drop while the address is cramped
constexpr std::size_t kBitRateWidth = 12;  // "999.9 kbit/s"
constexpr std::size_t kMaxAddress = 64;    // room beyond this stays blank on very wide terminals

struct Spec {
  Column column;
  std::size_t min;
  std::size_t pref;     // flexible columns grow up to this
  std::size_t comfort;  // the width optional columns leave it before they are shown
  int priority;         // higher is more important: the lowest drops first
  bool right;
};

// The tab's columns as the registry places them.
std::vector<Spec> specs_of(Tab tab) {
  std::vector<Spec> out;
  for (const Column c : view::columns_of(tab)) {
    const view::Placement& p = view::placement(tab, c);
    out.push_back(Spec{c, p.min, p.pref, p.comfort, p.priority, view::spec_of(c).right});
  }
  return out;
}

std::size_t total(const std::vector<Spec>& shown, bool comfort) {
  std::size_t sum = shown.empty() ? 0 : shown.size() - 1;  // separators
  for (const Spec& s : shown) {
    sum += comfort ? std::max(s.min, s.comfort) : s.min;
  }
  return sum;
}

}  // namespace

TableLayout layout_table(Tab tab, std::size_t cols, bool bits, std::size_t h_scroll) {
  const std::vector<Spec> specs = specs_of(tab);
  if (specs.empty()) {
    return {};
  }
  std::vector<Spec> shown(
      specs.begin() + static_cast<std::ptrdiff_t>(std::min(h_scroll, specs.size() - 1)),
      specs.end());
  if (bits) {
    for (Spec& s : shown) {
      if (view::spec_of(s.column).rate) {
        s.min = s.pref = s.comfort = kBitRateWidth;
      }
    }
  }
  // Drop the least important (the rightmost among equals) while it does not fit.
  while (shown.size() > 1) {
    const auto lowest =
        std::min_element(shown.rbegin(), shown.rend(),
                         [](const Spec& a, const Spec& b) { return a.priority < b.priority; });
    const bool over = total(shown, false) > cols;
    const bool cramped = lowest->priority <= kOptional && total(shown, true) > cols;
    if (!over && !cramped) {
      break;
    }
    shown.erase(std::next(lowest).base());
  }
  // Widths: minimums, then the room left to the flexible columns, most important first.
  std::vector<std::size_t> width(shown.size());
  for (std::size_t i = 0; i < shown.size(); ++i) {
    width[i] = shown[i].min;
  }
  std::size_t room = cols > total(shown, false) ? cols - total(shown, false) : 0;
  std::vector<std::size_t> order(shown.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return shown[a].priority > shown[b].priority;
  });
  // First every flexible column to its comfortable width, then to its preferred one.
  for (const bool comfort : {true, false}) {
    for (const std::size_t i : order) {
      const std::size_t goal = comfort ? std::max(shown[i].comfort, shown[i].min) : shown[i].pref;
      const std::size_t grow = std::min(room, goal > width[i] ? goal - width[i] : 0);
      width[i] += grow;
      room -= grow;
    }
  }
  for (const std::size_t i : order) {  // the rest to the address (or the first flexible column)
    if (shown[i].pref > shown[i].min) {
      const std::size_t cap = std::max(kMaxAddress, shown[i].pref);
      const std::size_t grow = std::min(room, cap - width[i]);
      width[i] += grow;
      break;
    }
  }
  TableLayout layout;
  std::size_t x = 0;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const std::size_t w = std::min(width[i], cols > x ? cols - x : 0);
    layout.columns.push_back(Placed{shown[i].column, x, w, shown[i].right});
    x += w + 1;
  }
  return layout;
}

Line header_line(const TableLayout& layout, Tab tab, const view::SortSpec& sort, bool ascii,
                 std::size_t cols, int line_no, std::vector<Hit>& hits) {
  LineBuilder b(cols, ascii);
  for (const Placed& p : layout.columns) {
    b.pad_to(p.x, Style::Header);
    std::string label(view::column_label(tab, p.column, ascii));
    Style style = Style::Header;
    if (p.column == sort.column) {
      const std::string mark =
          ascii ? (sort.descending ? "v" : "^") : (sort.descending ? "▼" : "▲");
      // The mark replaces the label's end when the column is too narrow for both.
      const std::size_t keep = p.width > 0 ? p.width - 1 : 0;
      label.resize(core::truncate_to_width(label, keep).size());  // a prefix: cut in place
      label += mark;
      style = Style::HeaderSorted;
    }
    b.field(label, p.width, style, p.right);
    hits.push_back(
        Hit{line_no, static_cast<int>(p.x), static_cast<int>(p.width),
            view::Command{view::Command::Kind::SortBy, static_cast<std::int64_t>(p.column)}});
  }
  return b.take(Style::Header);
}

Line row_line(const TableLayout& layout, const std::vector<std::string>& cells, Style style,
              std::size_t cols, bool ascii) {
  LineBuilder b(cols, ascii);
  for (std::size_t i = 0; i < layout.columns.size() && i < cells.size(); ++i) {
    const Placed& p = layout.columns[i];
    b.pad_to(p.x, style);
    const Style cell_style = style == Style::Normal && cells[i] == "-" ? Style::Dim : style;
    b.field(cells[i], p.width, cell_style, p.right);
  }
  return b.take(style);
}

}  // namespace flowtop::render::detail
