#include "render/table.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "flowtop/render/text.hpp"
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

constexpr std::array kFlows{
    Spec{Column::Process, 7, 15, 10, 7, false}, Spec{Column::Pid, 7, 7, 7, 2, true},
    Spec{Column::Proto, 6, 6, 6, 11, false},    Spec{Column::State, 11, 11, 11, 6, false},
    Spec{Column::Age, 4, 4, 4, 4, true},        Spec{Column::Address, 15, 40, 24, 13, false},
    Spec{Column::Port, 5, 10, 5, 9, false},     Spec{Column::Geo, 3, 28, 3, 3, false},
    Spec{Column::BytesOut, 8, 8, 8, 5, true},   Spec{Column::RateOut, 10, 10, 10, 10, true},
    Spec{Column::BytesIn, 8, 8, 8, 8, true},    Spec{Column::RateIn, 10, 10, 10, 12, true},
    Spec{Column::PacketsOut, 6, 6, 6, 1, true}, Spec{Column::PacketsIn, 6, 6, 6, 1, true},
};
constexpr std::array kProcesses{
    Spec{Column::Process, 10, 24, 12, 10, false}, Spec{Column::Pid, 7, 7, 7, 8, true},
    Spec{Column::User, 8, 12, 8, 3, false},       Spec{Column::Flows, 6, 6, 6, 9, true},
    Spec{Column::BytesOut, 8, 8, 8, 5, true},     Spec{Column::RateOut, 10, 10, 10, 7, true},
    Spec{Column::BytesIn, 8, 8, 8, 6, true},      Spec{Column::RateIn, 10, 10, 10, 11, true},
    Spec{Column::PacketsOut, 6, 6, 6, 1, true},   Spec{Column::PacketsIn, 6, 6, 6, 1, true},
};
constexpr std::array kHosts{
    Spec{Column::Address, 15, 50, 24, 12, false}, Spec{Column::Geo, 3, 28, 3, 4, false},
    Spec{Column::Flows, 6, 6, 6, 9, true},        Spec{Column::BytesOut, 8, 8, 8, 5, true},
    Spec{Column::RateOut, 10, 10, 10, 7, true},   Spec{Column::BytesIn, 8, 8, 8, 6, true},
    Spec{Column::RateIn, 10, 10, 10, 11, true},   Spec{Column::PacketsOut, 6, 6, 6, 1, true},
    Spec{Column::PacketsIn, 6, 6, 6, 1, true},
};
constexpr std::array kCountries{
    Spec{Column::Country, 10, 10, 10, 12, false}, Spec{Column::CountryName, 10, 30, 16, 4, false},
    Spec{Column::Flows, 6, 6, 6, 9, true},        Spec{Column::BytesOut, 8, 8, 8, 5, true},
    Spec{Column::RateOut, 10, 10, 10, 7, true},   Spec{Column::BytesIn, 8, 8, 8, 6, true},
    Spec{Column::RateIn, 10, 10, 10, 11, true},   Spec{Column::PacketsOut, 6, 6, 6, 1, true},
    Spec{Column::PacketsIn, 6, 6, 6, 1, true},
};
constexpr std::array kAs{
    Spec{Column::Asn, 8, 12, 8, 12, false},     Spec{Column::Org, 10, 40, 16, 4, false},
    Spec{Column::Flows, 6, 6, 6, 9, true},      Spec{Column::BytesOut, 8, 8, 8, 5, true},
    Spec{Column::RateOut, 10, 10, 10, 7, true}, Spec{Column::BytesIn, 8, 8, 8, 6, true},
    Spec{Column::RateIn, 10, 10, 10, 11, true}, Spec{Column::PacketsOut, 6, 6, 6, 1, true},
    Spec{Column::PacketsIn, 6, 6, 6, 1, true},
};

std::span<const Spec> specs_of(Tab tab) {
  switch (tab) {
    case Tab::Flows: return kFlows;
    case Tab::Processes: return kProcesses;
    case Tab::Hosts: return kHosts;
    case Tab::Countries: return kCountries;
    case Tab::As: return kAs;
  }
  return {};
}

bool is_rate(Column c) {
  return c == Column::RateOut || c == Column::RateIn;
}

std::size_t total(const std::vector<Spec>& shown, bool comfort) {
  std::size_t sum = shown.empty() ? 0 : shown.size() - 1;  // separators
  for (const Spec& s : shown) {
    sum += comfort ? std::max(s.min, s.comfort) : s.min;
  }
  return sum;
}

}  // namespace

std::string column_label(Tab tab, Column column, bool ascii) {
  switch (column) {
    case Column::Process: return "PROCESS";
    case Column::Pid: return "PID";
    case Column::User: return "USER";
    case Column::Proto: return "PROTO";
    case Column::State: return "STATE";
    case Column::Age: return "TIME";
    case Column::Address: return tab == Tab::Hosts ? "HOST" : "ADDRESS";
    case Column::Port: return "PORT";
    case Column::Geo: return "GEO";
    case Column::Country: return "COUNTRY";
    case Column::CountryName: return "NAME";
    case Column::Asn: return "AS";
    case Column::Org: return "ORG";
    case Column::Flows: return "FLOWS";
    case Column::BytesOut: return ascii ? "BYTES-O" : "BYTES↑";
    case Column::RateOut: return ascii ? "RATE-O" : "RATE↑";
    case Column::BytesIn: return ascii ? "BYTES-I" : "BYTES↓";
    case Column::RateIn: return ascii ? "RATE-I" : "RATE↓";
    case Column::PacketsOut: return ascii ? "PKTS-O" : "PKTS↑";
    case Column::PacketsIn: return ascii ? "PKTS-I" : "PKTS↓";
  }
  return "";
}

TableLayout layout_table(Tab tab, std::size_t cols, bool bits, std::size_t h_scroll) {
  const auto specs = specs_of(tab);
  std::vector<Spec> shown(
      specs.begin() + static_cast<std::ptrdiff_t>(std::min(h_scroll, specs.size() - 1)),
      specs.end());
  if (bits) {
    for (Spec& s : shown) {
      if (is_rate(s.column)) {
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
    std::string label = column_label(tab, p.column, ascii);
    Style style = Style::Header;
    if (p.column == sort.column) {
      const std::string mark =
          ascii ? (sort.descending ? "v" : "^") : (sort.descending ? "▼" : "▲");
      // The mark replaces the label's end when the column is too narrow for both.
      const std::size_t keep = p.width > 0 ? p.width - 1 : 0;
      label.resize(truncate_to_width(label, keep).size());  // a prefix: cut in place
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
