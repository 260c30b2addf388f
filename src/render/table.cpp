#include "render/table.hpp"

#include <algorithm>
#include <optional>

#include "flowtop/core/text.hpp"
#include "render/line.hpp"

namespace flowtop::render::detail {
namespace {

using view::Column;
using view::Tab;

constexpr int kOptional = 4;  // priorities up to this drop while the others would be cut
constexpr std::size_t kBitRateWidth = 12;  // "999.9 kbit/s"

struct Spec {
  Column column;
  std::size_t floor;  // the narrowest it stands (cut to this on a narrow screen)
  std::size_t comfy;  // what optional columns leave it before they show
  std::size_t want;   // its widest cell (or header), within its placement's range
  int priority;       // higher is more important: the lowest drops first
  bool right;
  bool empty;  // no cell on screen has anything to say
};

std::string_view mark_of(const view::SortSpec& sort, bool ascii) {
  return ascii ? (sort.descending ? "v" : "^") : (sort.descending ? "▼" : "▲");
}

std::size_t cell_width(const std::string& text) {
  return core::display_width(core::sanitize(text));
}

// The widest placement of a column on its tab: what its cells may say at most.
std::size_t widest(Tab tab, Column c, bool bits) {
  return bits && view::spec_of(c).rate ? kBitRateWidth : view::placement(tab, c).pref;
}

// The tab's columns as the registry places them, sized for their content.
std::vector<Spec> specs_of(Tab tab, std::span<const Column> columns, const ContentWidths& content,
                           const view::SortSpec& sort, bool bits, bool ascii) {
  std::vector<Spec> out;
  for (const Column c : columns) {
    const view::Placement& p = view::placement(tab, c);
    const view::ColumnSpec& spec = view::spec_of(c);
    std::size_t min = p.min;
    std::size_t max = std::max(p.pref, p.min);
    std::size_t comfort = p.comfort;
    if (bits && spec.rate) {
      min = max = comfort = kBitRateWidth;
    }
    // The header always fits, with room for the sort mark after the label.
    const std::size_t header = core::display_width(view::column_label(tab, c, ascii)) +
                               (c == sort.column ? core::display_width(mark_of(sort, ascii)) : 0);
    // A number is never narrower than its min nor cut; text may be cut down to its min.
    const std::size_t lo = spec.right ? std::max(min, header) : header;
    const std::size_t want =
        std::clamp(content[static_cast<std::size_t>(c)], lo, std::max(max, lo));
    const std::size_t floor = spec.right ? want : std::max(header, std::min(want, min));
    const std::size_t comfy = std::max(floor, std::min(want, comfort));
    out.push_back(Spec{c, floor, comfy, want, p.priority, spec.right,
                       content[static_cast<std::size_t>(c)] == 0});
  }
  return out;
}

std::size_t total(const std::vector<Spec>& shown, std::size_t Spec::*width) {
  std::size_t sum = shown.empty() ? 0 : shown.size() - 1;  // separators
  for (const Spec& s : shown) {
    sum += s.*width;
  }
  return sum;
}

}  // namespace

bool TableLayout::shows(Column column) const {
  return std::any_of(columns.begin(), columns.end(),
                     [&](const Placed& p) { return p.column == column; });
}

ContentWidths content_widths(const view::Rows& rows, const view::ViewState& state, bool ascii) {
  ContentWidths out{};
  for (const Column c : view::columns_of(rows.tab)) {
    const view::ColumnSpec& spec = view::spec_of(c);
    const view::CellContext ctx{state, rows.realtime_ns, widest(rows.tab, c, state.bits), ascii};
    std::size_t& w = out[static_cast<std::size_t>(c)];
    if (rows.tab == Tab::Flows && spec.flow_cell != nullptr) {
      for (const view::FlowRow& r : rows.flows) {
        w = std::max(w, cell_width(spec.flow_cell(r, ctx)));
      }
    } else if (rows.tab != Tab::Flows && spec.group_cell != nullptr) {
      for (const view::GroupRow& g : rows.groups) {
        w = std::max(w, cell_width(spec.group_cell(g, ctx)));
      }
    }
  }
  return out;
}

TableLayout layout_table(Tab tab, std::size_t cols, const ContentWidths& content,
                         const view::SortSpec& sort, bool bits, std::size_t h_scroll, bool ascii,
                         std::span<const view::Column> chosen) {
  const std::vector<Spec> specs =
      specs_of(tab, chosen.empty() ? view::columns_of(tab) : chosen, content, sort, bits, ascii);
  if (specs.empty()) {
    return {};
  }
  const std::size_t skip = std::min(h_scroll, specs.size() - 1);
  // The most important columns first (the leftmost among equals), each one kept when it fits at
  // its narrowest beside those already kept (an optional one only while every kept column still
  // has its comfort width). Scrolled sideways, the column scrolled to comes first: it stays.
  std::vector<std::size_t> by_priority;
  for (std::size_t i = skip; i < specs.size(); ++i) {
    by_priority.push_back(i);
  }
  std::stable_sort(
      by_priority.begin() + (skip > 0 ? 1 : 0), by_priority.end(),
      [&](std::size_t a, std::size_t b) { return specs[a].priority > specs[b].priority; });
  std::vector<bool> keep(specs.size(), false);
  std::vector<Spec> shown;
  const auto kept = [&] {
    std::vector<Spec> out;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (keep[i]) {
        out.push_back(specs[i]);
      }
    }
    return out;
  };
  for (const std::size_t i : by_priority) {
    // An optional column with nothing to say on screen (no NAT among the rows) is left out,
    // unless it is the sort column or the one scrolled to.
    if (specs[i].priority <= kOptional && specs[i].empty && specs[i].column != sort.column &&
        !(skip > 0 && i == skip)) {
      continue;
    }
    keep[i] = true;
    const std::vector<Spec> trial = kept();
    const bool fits = total(trial, &Spec::floor) <= cols &&
                      (specs[i].priority > kOptional || total(trial, &Spec::comfy) <= cols);
    if (!fits && !shown.empty()) {
      keep[i] = false;
      continue;
    }
    shown = trial;
  }
  // Widths: the narrowest, then the room left towards comfort and then content, most important
  // first.
  std::vector<std::size_t> width(shown.size());
  for (std::size_t i = 0; i < shown.size(); ++i) {
    width[i] = shown[i].floor;
  }
  std::size_t room = cols > total(shown, &Spec::floor) ? cols - total(shown, &Spec::floor) : 0;
  std::vector<std::size_t> order(shown.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return shown[a].priority > shown[b].priority;
  });
  for (const std::size_t Spec::*goal : {&Spec::comfy, &Spec::want}) {
    for (const std::size_t i : order) {
      const std::size_t g = shown[i].*goal;
      const std::size_t grow = std::min(room, g > width[i] ? g - width[i] : 0);
      width[i] += grow;
      room -= grow;
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

std::string sort_label(Tab tab, const view::SortSpec& sort, bool ascii) {
  return std::string(view::column_label(tab, sort.column, ascii)) +
         std::string(mark_of(sort, ascii));
}

Line header_line(const TableLayout& layout, Tab tab, const view::SortSpec& sort, bool ascii,
                 std::size_t cols, int line_no, std::vector<Hit>& hits) {
  LineBuilder b(cols, ascii);
  for (const Placed& p : layout.columns) {
    b.pad_to(p.x, Style::Header);
    std::string label(view::column_label(tab, p.column, ascii));
    Style style = Style::Header;
    if (p.column == sort.column) {
      const std::string_view mark = mark_of(sort, ascii);
      // The layout leaves room for the mark; only a column cut by the screen's edge loses the
      // label's end to it.
      const std::size_t mark_w = core::display_width(mark);
      const std::size_t keep = p.width > mark_w ? p.width - mark_w : 0;
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
