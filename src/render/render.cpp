#include "flowtop/render/render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "flowtop/core/text.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/redact.hpp"
#include "flowtop/view/totals.hpp"
#include "render/line.hpp"
#include "render/panels.hpp"
#include "render/sparkline.hpp"
#include "render/table.hpp"

namespace flowtop::render {
namespace {

using detail::LineBuilder;
using view::Tab;

constexpr std::size_t kMaxHealth = 3;
constexpr std::size_t kMinTable = 3;  // health lines give way to keep this many table lines

// Where each part of the screen goes. Shared by table_capacity() and render().
struct Areas {
  bool too_small = false;
  std::size_t health = 0;  // health lines shown (from line 2)
  std::size_t tabs = 0, header = 0, table_top = 0, table_lines = 0;
  std::size_t detail_top = 0, detail_lines = 0;
  std::size_t prompt_top = 0, prompt_lines = 0;
  std::size_t footer_top = 0, footer_lines = 0;
};

Areas areas(std::size_t health_count, const view::ViewState& state, Size size) {
  Areas a;
  if (size.cols < kMinCols || size.lines < kMinLines) {
    a.too_small = true;
    return a;
  }
  const auto lines = static_cast<std::size_t>(size.lines);
  a.prompt_lines =
      state.confirm_delete ? 1 : (state.prompt.open ? (state.prompt.error.empty() ? 1 : 2) : 0);
  // The prompt takes the footer's place.
  a.footer_lines = state.footer && a.prompt_lines == 0 && size.lines >= kFooterLines ? 1 : 0;
  constexpr std::size_t kFixed = 4;  // title, status, tabs, header
  const std::size_t spare = lines - kFixed - a.prompt_lines - a.footer_lines;
  a.health = std::min({health_count, kMaxHealth, spare > kMinTable ? spare - kMinTable : 0});
  a.tabs = 2 + a.health;
  a.header = a.tabs + 1;
  a.table_top = a.header + 1;
  const std::size_t body = lines - a.table_top - a.prompt_lines - a.footer_lines;
  a.detail_lines =
      state.pressure_open || (state.detail_open && state.tab == Tab::Flows) ? body / 2 : 0;
  a.table_lines = body - a.detail_lines;
  a.detail_top = a.table_top + a.table_lines;
  a.prompt_top = a.detail_top + a.detail_lines;
  a.footer_top = a.prompt_top;
  return a;
}

std::string interval_text(double s) {
  return fmt::format("every {:g}s", s);
}

// "  ↑▁▂▅█ ↓▁▃▄▇": the ↑ and ↓ rates of the last intervals in at most `room` columns, as many
// intervals as fit (up to view::kHistory); "" when fewer than 4 fit or nothing was measured.
std::string history_text(const view::RateHistory& h, std::size_t room, bool ascii) {
  constexpr std::size_t kLabels = 6;  // "  ↑" and " ↓" (ASCII: "  ^" and " v")
  constexpr std::size_t kMinGlyphs = 4;
  const std::size_t n = std::min(h.size(), room > kLabels ? (room - kLabels) / 2 : 0);
  if (h.empty() || n < kMinGlyphs) {
    return "";
  }
  const std::vector<double> out = h.series_out();
  const std::vector<double> in = h.series_in();
  return fmt::format("  {}{} {}{}", ascii ? "^" : "↑", detail::sparkline(out, n, ascii),
                     ascii ? "v" : "↓", detail::sparkline(in, n, ascii));
}

Line title_line(const view::Rows& rows, const view::ViewState& state, std::size_t cols,
                const RenderOptions& opt) {
  LineBuilder b(cols, opt.ascii);
  std::string left = opt.version.empty() ? " flowtop" : " flowtop " + opt.version;
  const std::string sep = opt.ascii ? " - " : " · ";
  // Privacy mode masks the machine's own names with the local end's.
  const bool mask = view::redacting(state) && core::redacts_local(state.redact);
  if (!opt.host.empty()) {
    left += sep + core::sanitize(mask ? state.redactor->name(opt.host) : opt.host);
  }
  if (!opt.netns.empty()) {
    left += sep + "netns " + core::sanitize(mask ? state.redactor->name(opt.netns) : opt.netns);
  }
  b.add(left, Style::Title);
  std::string right = interval_text(state.interval_s) + " ";
  if (state.window != core::RateWindow::Off) {
    right = fmt::format("avg {}s, {}", core::rate_window_seconds(state.window), right);
  }
  if (rows.status.dbip) {
    right = "IP Geolocation by DB-IP  " + right;
  }
  const std::size_t w = core::display_width(right);
  if (rows.totals && b.room() > w + 2) {
    b.add(history_text(rows.totals->history, b.room() - w - 2, opt.ascii), Style::Title);
  }
  if (b.room() > w + 2) {
    b.pad_to(cols - w, Style::Title);
    b.add(right, Style::Title);
  }
  return b.take(Style::Title);
}

struct Segment {
  std::string text;
  Style style;
  int priority;  // the lowest goes first when the line is too narrow
};

std::string hidden_text(const view::Counts& c) {
  std::string reasons;
  const auto reason = [&](std::string_view name, std::uint64_t n) {
    if (n != 0) {
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", name, core::format_count(n));
    }
  };
  reason("loopback", c.hidden.loopback);
  reason("DNS", c.hidden.dns);
  reason("protocol", c.hidden.protocol);
  reason("family", c.hidden.family);
  reason("inactive", c.inactive);
  reason("filter", c.filtered);
  return fmt::format("{} hidden: {}", core::format_count(c.hidden_total()), reasons);
}

std::string proto_counts(const view::Counts& c) {
  std::string s;
  const auto add = [&](std::string_view name, std::uint64_t n) {
    if (n != 0) {
      s += fmt::format("{}{} {}", s.empty() ? "" : " ", name, core::format_count(n));
    }
  };
  add("tcp", c.tcp);
  add("udp", c.udp);
  add("icmp", c.icmp);
  add("sctp", c.sctp);
  add("dccp", c.dccp);
  add("other", c.other);
  return s;
}

// The status line. `hidden_sort`: the sort column's label and mark when the table does not
// show that column ("" when it does). The filter stands first and is never dropped (a long one is
// cut to half the line).
Line status_line(const view::Rows& rows, const view::ViewState& state, std::size_t cols, bool ascii,
                 const std::string& hidden_sort = {}) {
  const view::Counts& c = rows.counts;
  std::vector<Segment> segs;
  if (!state.message.empty()) {  // an action's outcome: the last to go
    segs.push_back({state.message, Style::Warning, 11});
  }
  const bool redacted = view::redacting(state);
  if (redacted) {  // whoever sees a screenshot knows the addresses are pseudonyms
    segs.push_back(
        {fmt::format("redacted: {}", core::redact_scope_name(state.redact)), Style::Warning, 10});
  }
  if (state.paused) {
    segs.push_back({"PAUSED", Style::Paused, 9});
  }
  if (!state.filter.empty()) {
    const std::size_t cap = std::max<std::size_t>(cols / 2, 24);
    const std::string text = core::sanitize(
        "filter: " + (redacted ? view::redact_addresses_in(state.filter.text(), *state.redactor)
                               : state.filter.text()));
    segs.push_back({core::fit(text, std::min(cap, core::display_width(text)), false, false, ascii),
                    Style::Status, 11});
  }
  if (rows.status.collecting) {
    segs.push_back({ascii ? "collecting..." : "collecting…", Style::Status, 8});
  }
  if (rows.status.tracking == view::Tracking::Session) {
    // flowtop's nft table (--track or `t`) makes conntrack track; it goes when flowtop does.
    segs.push_back({"tracking for this session", Style::Status, 7});
  }
  segs.push_back({core::format_count(c.shown) + " shown", Style::Status, 10});
  segs.push_back({core::format_count(c.tracked) + " tracked", Style::Status, 6});
  if (!hidden_sort.empty()) {
    segs.push_back({"sort: " + hidden_sort, Style::Status, 9});
  }
  if (c.hidden_total() != 0) {
    segs.push_back({hidden_text(c), Style::Status, 7});
  }
  // Until a rate is known the sums are unknown, never a misleading 0.
  const bool sums = c.rate_sums_known();
  segs.push_back(
      {fmt::format("{} {} {} {}", ascii ? "out" : "↑",
                   sums ? core::format_rate(c.rate_out, state.bits) : "-", ascii ? "in" : "↓",
                   sums ? core::format_rate(c.rate_in, state.bits) : "-"),
       Style::Status, 8});
  if (rows.totals) {  // since flowtop started or R, ended flows included
    segs.push_back(
        {fmt::format("total {} {} {} {}", ascii ? "out" : "↑", core::format_bytes(rows.totals->out),
                     ascii ? "in" : "↓", core::format_bytes(rows.totals->in)),
         Style::Status, 3});
  }
  if (c.ended != 0) {
    segs.push_back({core::format_count(c.ended) + " ended", Style::Status, 5});
  }
  segs.push_back({view::describe(state.selection), Style::Status, 5});
  if (state.active_only) {
    segs.push_back({"active only", Style::Status, 4});
  }
  if (const std::string pc = proto_counts(c); !pc.empty()) {
    segs.push_back({pc, Style::Status, 3});
  }
  if (!state.dns) {
    segs.push_back({"no DNS", Style::Status, 2});
  }
  if (!state.geoip) {
    segs.push_back({"no GeoIP", Style::Status, 2});
  }
  const std::string sep = ascii ? " | " : " · ";
  const auto width = [&] {
    std::size_t w = 1;
    for (const Segment& s : segs) {
      w += core::display_width(core::sanitize(s.text)) + 3;
    }
    return w;
  };
  while (segs.size() > 1 && width() > cols) {
    segs.erase(
        std::min_element(segs.rbegin(), segs.rend(),
                         [](const Segment& a, const Segment& b) { return a.priority < b.priority; })
            .base() -
        1);
  }
  LineBuilder b(cols, ascii);
  b.add(" ", Style::Status);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (i != 0) {
      b.add(sep, Style::Status);
    }
    b.add(segs[i].text, segs[i].style);
  }
  return b.take(Style::Status);
}

Line tab_line(const view::ViewState& state, std::size_t cols, int line_no, std::vector<Hit>& hits,
              bool ascii) {
  LineBuilder b(cols, ascii);
  for (std::size_t t = 0; t < view::kTabCount; ++t) {
    const auto tab = static_cast<Tab>(t);
    const std::size_t x = b.col();
    const std::size_t w = b.add(fmt::format(" {} ", view::tab_name(tab)),
                                tab == state.tab ? Style::TabActive : Style::Tab);
    hits.push_back(Hit{line_no, static_cast<int>(x), static_cast<int>(w),
                       view::Command{view::Command::Kind::SetTab, static_cast<std::int64_t>(t)}});
    b.add(" ", Style::Normal);
  }
  return b.take(Style::Normal);
}

// On an aggregate tab, the selected group's rates since it was selected, at the right of the tab
// bar: "curl ↑▁▂▅ ↓▃▄█" (as many intervals as fit; nothing when fewer than 4 fit).
void group_history(const view::Rows& rows, std::size_t cols, bool ascii, Line& tabs) {
  const view::GroupRow* g = rows.selected_group();
  if (g == nullptr || !rows.totals || rows.totals->focus.group != g->key) {
    return;
  }
  const std::size_t used = detail::line_width(tabs);
  const std::string label = core::sanitize(g->label);
  const std::size_t label_w = std::min<std::size_t>(core::display_width(label), 20);
  if (cols < used + label_w + 2) {
    return;
  }
  const std::string spark =
      history_text(rows.totals->focus_history, cols - used - label_w - 2, ascii);
  if (spark.empty()) {
    return;
  }
  LineBuilder b(cols - used, ascii);
  b.pad_to(cols - used - label_w - core::display_width(spark) - 1, Style::Normal);
  b.field(label, label_w, Style::Dim);
  b.add(spark, Style::Dim);
  const Line right = b.take();
  tabs = detail::overlay(tabs, used, right, cols);
}

struct FooterKey {
  std::string key;
  std::string what;
  int priority;  // the lowest goes first when the line is too narrow
};

// The keys of the mode the screen is in, htop's way: "?Help /Filter F6Sort ⏎Detail ... q Quit".
std::vector<FooterKey> footer_keys(const view::ViewState& state, bool ascii) {
  // A word for a key is set off from what it does; a symbol is not ("⏎Detail", "Enter Detail").
  const std::string enter = ascii ? "Enter" : "⏎";
  const std::string gap = ascii ? " " : "";
  if (state.columns_open) {
    return {{ascii ? "Up/Dn" : "↑↓", gap + "Column", 3},
            {"Space", " Show/hide", 5},
            {"[ ]", " Move", 4},
            {"Esc", " Close", 4}};
  }
  if (state.sort_menu_open) {
    return {{ascii ? "Up/Dn" : "↑↓", gap + "Column", 3},
            {enter, gap + "Sort", 5},
            {"r", " Reverse", 2},
            {"Esc", " Close", 4}};
  }
  std::vector<FooterKey> keys{{"?", "Help", 10}, {"/", "Filter", 8}, {"F6", "Sort", 7}};
  if (state.tab != Tab::Flows) {
    keys.push_back({enter, gap + "Flows", 6});
  } else if (state.detail_open) {
    keys.push_back({enter, gap + "Close", 6});
  } else {
    keys.push_back({enter, gap + "Detail", 6});
  }
  keys.push_back({"Tab", " View", 5});
  keys.push_back({"Space", state.paused ? " Resume" : " Pause", 4});
  keys.push_back({"h l", " Scroll", 2});
  keys.push_back({"F2", "Columns", 1});
  keys.push_back({"q", " Quit", 9});
  return keys;
}

// The footer's key bar: the keys that fit, the least needed dropped first.
Line footer_line(const view::ViewState& state, std::size_t cols, bool ascii) {
  std::vector<FooterKey> keys = footer_keys(state, ascii);
  const auto width = [&] {
    std::size_t w = 0;
    for (const FooterKey& k : keys) {
      w += core::display_width(k.key) + core::display_width(k.what) + 1;
    }
    return w;
  };
  while (keys.size() > 1 && width() > cols) {
    keys.erase(std::min_element(
                   keys.rbegin(), keys.rend(),
                   [](const FooterKey& a, const FooterKey& b) { return a.priority < b.priority; })
                   .base() -
               1);
  }
  LineBuilder b(cols, ascii);
  for (const FooterKey& k : keys) {
    b.add(k.key, Style::FooterKey);
    b.add(k.what + " ", Style::Footer);
  }
  return b.take(Style::Footer);
}

// The cells of one row, each from its column's formatter.
template <class Row, class Cell>
std::vector<std::string> cells_of(const Row& row, const detail::TableLayout& layout,
                                  const view::ViewState& state, std::int64_t now, bool ascii,
                                  Cell cell) {
  std::vector<std::string> cells;
  cells.reserve(layout.columns.size());
  for (const detail::Placed& p : layout.columns) {
    const auto fn = view::spec_of(p.column).*cell;
    cells.push_back(fn != nullptr ? fn(row, view::CellContext{state, now, p.width, ascii}) : "");
  }
  return cells;
}

// The table body from screen line `top`, at most `max_lines` lines: rows, `-s` source rows, the
// selection bar (when `selection`), or the empty-table reason. Adds a SelectRow hit per row.
std::vector<Line> table_body(const view::Rows& rows, const view::ViewState& state,
                             const detail::TableLayout& layout, std::size_t top,
                             std::size_t max_lines, std::size_t cols, bool ascii, bool selection,
                             std::vector<Hit>& hits) {
  std::vector<Line> out;
  if (rows.total == 0) {
    LineBuilder b(cols, ascii);
    b.add(" " + rows.empty_reason, rows.status.collecting ? Style::Dim : Style::Warning);
    out.push_back(b.take());
    return out;
  }
  const bool src = state.show_src && rows.tab == Tab::Flows;
  const std::size_t per_row = src ? 2 : 1;
  std::size_t address_x = 0;
  for (const detail::Placed& p : layout.columns) {
    if (p.column == view::Column::Address) {
      address_x = p.x;
    }
  }
  const std::size_t count = rows.tab == Tab::Flows ? rows.flows.size() : rows.groups.size();
  for (std::size_t i = 0; i < count && (i + 1) * per_row <= max_lines; ++i) {
    const std::size_t index = rows.first + i;
    const bool selected = selection && rows.selected && *rows.selected == index;
    const std::size_t line = top + out.size();
    if (rows.tab == Tab::Flows) {
      const view::FlowRow& row = rows.flows[i];
      // An ended flow lingers dimmed.
      const Style style =
          selected ? Style::Selected : (row.rec.ended() ? Style::Dim : Style::Normal);
      out.push_back(detail::row_line(
          layout,
          cells_of(row, layout, state, rows.realtime_ns, ascii, &view::ColumnSpec::flow_cell),
          style, cols, ascii));
      if (src) {
        LineBuilder b(cols, ascii);
        b.pad_to(address_x, style);
        b.add(view::source_text(row, state.dns, ascii), selected ? style : Style::Dim);
        out.push_back(b.take(style));
      }
    } else {
      const Style style = selected ? Style::Selected : Style::Normal;
      out.push_back(detail::row_line(layout,
                                     cells_of(rows.groups[i], layout, state, rows.realtime_ns,
                                              ascii, &view::ColumnSpec::group_cell),
                                     style, cols, ascii));
    }
    const view::Command select{view::Command::Kind::SelectRow, static_cast<std::int64_t>(index)};
    for (std::size_t k = 0; k < per_row; ++k) {
      hits.push_back(Hit{static_cast<int>(line + k), 0, static_cast<int>(cols), select});
    }
  }
  return out;
}

void detail_pane(const view::Rows& rows, const view::ViewState& state, const Areas& a,
                 std::size_t cols, bool ascii, Frame& frame) {
  if (a.detail_lines == 0) {
    return;
  }
  std::vector<Line> lines;
  if (state.pressure_open) {
    lines = detail::pressure_lines(rows.status, cols, ascii);
  } else if (rows.detail) {
    const view::RateHistory* history = nullptr;
    if (rows.totals && rows.totals->focus.flow == rows.detail->rec.key) {
      history = &rows.totals->focus_history;
    }
    lines = detail::detail_lines(*rows.detail, state, rows.realtime_ns, cols, ascii, history);
  } else {
    LineBuilder b(cols, ascii);
    b.add(" no flow selected", Style::OverlayTitle);
    lines.push_back(b.take(Style::OverlayTitle));
  }
  for (std::size_t i = 0; i < a.detail_lines && i < lines.size(); ++i) {
    frame.lines[a.detail_top + i] = std::move(lines[i]);
  }
}

void prompt(const view::ViewState& state, const Areas& a, std::size_t cols, bool ascii,
            Frame& frame) {
  if (a.prompt_lines == 0) {
    return;
  }
  if (state.confirm_delete) {  // `x`: "delete tcp 10.1.2.3:5555 → 10.4.5.6:80? y/N"
    LineBuilder b(cols, ascii);
    const core::FlowKey shown =
        view::redacting(state)
            ? view::redact_key(*state.confirm_delete, state.redact, *state.redactor)
            : *state.confirm_delete;
    const std::string text = "delete " + view::flow_text(shown, ascii) + "? y/N";
    const std::size_t w = b.add(text, Style::Prompt);
    frame.lines[a.prompt_top] = b.take(Style::Prompt);
    frame.cursor =
        std::pair{static_cast<int>(a.prompt_top), static_cast<int>(std::min(w, cols - 1))};
    return;
  }
  const view::FilterPrompt& p = state.prompt;
  const std::string text = core::sanitize(p.text);
  // Byte offsets into the sanitised text match the original's as long as nothing was replaced;
  // the prompt only ever holds printable code points, so they do.
  const std::size_t cursor_w =
      1 + core::display_width(std::string_view(text).substr(0, std::min(p.cursor, text.size())));
  const std::size_t offset = cursor_w + 2 > cols ? cursor_w + 2 - cols : 0;
  LineBuilder full(static_cast<std::size_t>(-1) / 2, ascii);
  full.add("/", Style::Prompt);
  full.add(text, Style::Prompt);
  Line line = detail::slice(full.take(Style::Prompt), offset, offset + cols);
  line.fill = Style::Prompt;
  frame.lines[a.prompt_top] = std::move(line);
  frame.cursor = std::pair{static_cast<int>(a.prompt_top), static_cast<int>(cursor_w - offset)};
  if (a.prompt_lines > 1) {
    const std::size_t err_w = 1 + core::display_width(std::string_view(text).substr(
                                      0, std::min(p.error_pos, text.size())));
    const std::size_t caret = err_w > offset ? std::min(err_w - offset, cols - 1) : 0;
    LineBuilder b(cols, ascii);
    b.pad_to(caret, Style::Normal);
    b.add(fmt::format("^ at {}: {}", p.error_pos + 1, p.error), Style::Warning);
    frame.lines[a.prompt_top + 1] = b.take();
  }
}

}  // namespace

std::size_t table_capacity(const view::Status& status, const view::ViewState& state, Size size) {
  const Areas a = areas(status.health.size(), state, size);
  if (a.too_small) {
    return 0;
  }
  return a.table_lines / (state.show_src && state.tab == Tab::Flows ? 2 : 1);
}

Frame render(const view::Rows& rows, const view::ViewState& state, Size size,
             const RenderOptions& options) {
  Frame frame;
  frame.cols = std::max(size.cols, 0);
  frame.lines_max = std::max(size.lines, 0);
  const auto cols = static_cast<std::size_t>(frame.cols);
  const bool ascii = options.ascii;
  const Areas a = areas(rows.status.health.size(), state, size);
  if (a.too_small) {
    if (size.lines >= 1 && size.cols >= 1) {
      LineBuilder b(cols, ascii);
      b.add("terminal too small", Style::Warning);
      frame.lines.push_back(b.take());
      if (size.lines >= 2) {
        LineBuilder n(cols, ascii);
        n.add(fmt::format("flowtop needs {}x{}", kMinCols, kMinLines), Style::Dim);
        frame.lines.push_back(n.take());
      }
    }
    return frame;
  }
  frame.lines.resize(static_cast<std::size_t>(size.lines));
  frame.lines[0] = title_line(rows, state, cols, options);
  if (state.help_open) {
    std::vector<Line> help =
        detail::help_lines(cols, frame.lines.size() - 1, ascii, rows.status.dbip);
    for (std::size_t i = 0; i < help.size(); ++i) {
      frame.lines[1 + i] = std::move(help[i]);
    }
    return frame;
  }
  const detail::TableLayout layout = detail::layout_table(
      rows.tab, cols, detail::content_widths(rows, state, ascii), state.current_sort(), state.bits,
      state.h_scroll, ascii, view::shown_columns(state, rows.tab));
  const std::string hidden_sort = layout.shows(state.current_sort().column)
                                      ? std::string()
                                      : detail::sort_label(rows.tab, state.current_sort(), ascii);
  frame.lines[1] = status_line(rows, state, cols, ascii, hidden_sort);
  for (std::size_t i = 0; i < a.health; ++i) {
    LineBuilder b(cols, ascii);
    b.add(" " + rows.status.health[i], Style::Health);
    frame.lines[2 + i] = b.take(Style::Health);
  }
  frame.lines[a.tabs] = tab_line(state, cols, static_cast<int>(a.tabs), frame.hits, ascii);
  group_history(rows, cols, ascii, frame.lines[a.tabs]);
  frame.lines[a.header] = detail::header_line(layout, rows.tab, state.current_sort(), ascii, cols,
                                              static_cast<int>(a.header), frame.hits);
  std::vector<Line> body =
      table_body(rows, state, layout, a.table_top, a.table_lines, cols, ascii, true, frame.hits);
  for (std::size_t i = 0; i < body.size(); ++i) {
    frame.lines[a.table_top + i] = std::move(body[i]);
  }
  if (state.columns_open) {
    const std::vector<Line> pane = detail::chooser_lines(state, ascii);
    for (std::size_t i = 0; i < pane.size() && a.header + i < a.detail_top; ++i) {
      Line& base = frame.lines[a.header + i];
      base = detail::overlay(base, 0, pane[i], cols);
    }
  }
  if (state.sort_menu_open) {
    const std::vector<Line> menu = detail::sort_menu_lines(state, ascii);
    for (std::size_t i = 0; i < menu.size() && a.header + i < a.detail_top; ++i) {
      Line& base = frame.lines[a.header + i];
      base = detail::overlay(base, 0, menu[i], cols);
    }
  }
  detail_pane(rows, state, a, cols, ascii, frame);
  prompt(state, a, cols, ascii, frame);
  if (a.footer_lines != 0) {
    frame.lines[a.footer_top] = footer_line(state, cols, ascii);
  }
  return frame;
}

namespace {

// The report's lines above its table body: title, status line, health lines, column header.
void report_head(Frame& frame, const view::Rows& rows, const view::ViewState& state,
                 std::size_t cols, const ReportOptions& options,
                 const detail::TableLayout& layout) {
  const bool ascii = options.ascii;
  std::vector<Hit> hits;  // a report is not clicked
  {
    const auto secs = static_cast<std::time_t>(options.realtime_ns / 1'000'000'000);
    std::tm local{};
    localtime_r(&secs, &local);
    LineBuilder b(cols, ascii);
    b.add(fmt::format("{} - {:02}:{:02}:{:02} - frame {}",
                      options.version.empty() ? "flowtop" : "flowtop " + options.version,
                      local.tm_hour, local.tm_min, local.tm_sec, options.frame),
          Style::Title);
    frame.lines.push_back(b.take(Style::Title));
  }
  const std::string hidden_sort = layout.shows(state.current_sort().column)
                                      ? std::string()
                                      : detail::sort_label(rows.tab, state.current_sort(), ascii);
  frame.lines.push_back(status_line(rows, state, cols, ascii, hidden_sort));
  for (const std::string& health : rows.status.health) {
    LineBuilder b(cols, ascii);
    b.add(" " + health, Style::Health);
    frame.lines.push_back(b.take(Style::Health));
  }
  frame.lines.push_back(detail::header_line(layout, rows.tab, state.current_sort(), ascii, cols,
                                            static_cast<int>(frame.lines.size()), hits));
}

detail::TableLayout report_layout(view::Tab tab, const detail::ContentWidths& content,
                                  const view::ViewState& state, std::size_t cols, bool ascii) {
  return detail::layout_table(tab, cols, content, state.current_sort(), state.bits, 0, ascii,
                              view::shown_columns(state, tab));
}

}  // namespace

Frame render_report(const view::Rows& rows, const view::ViewState& state, std::size_t cols,
                    const ReportOptions& options) {
  Frame frame;
  frame.cols = static_cast<int>(cols);
  const detail::TableLayout layout = report_layout(
      rows.tab, detail::content_widths(rows, state, options.ascii), state, cols, options.ascii);
  report_head(frame, rows, state, cols, options, layout);
  std::vector<Hit> hits;  // a report is not clicked
  std::vector<Line> body =
      table_body(rows, state, layout, frame.lines.size(), static_cast<std::size_t>(-1) / 2, cols,
                 options.ascii, false, hits);
  for (Line& line : body) {
    frame.lines.push_back(std::move(line));
  }
  frame.lines_max = static_cast<int>(frame.lines.size());
  return frame;
}

bool write_report_text(const view::Rows& head,
                       core::FunctionRef<view::Rows(std::size_t first, std::size_t count)> chunk,
                       const view::ViewState& state, std::size_t cols, const ReportOptions& options,
                       core::FunctionRef<bool(std::string_view)> sink) {
  constexpr std::size_t kRows = 1024;
  constexpr std::size_t kFlush = std::size_t{256} * 1024;
  const bool ascii = options.ascii;
  // Pass 1: the widest cell of each column over every row (a maximum taken piece by piece is
  // the maximum over the whole table).
  detail::ContentWidths content = detail::content_widths(head, state, ascii);
  for (std::size_t first = 0; first < head.total; first += kRows) {
    const detail::ContentWidths part = detail::content_widths(chunk(first, kRows), state, ascii);
    for (std::size_t c = 0; c < content.size(); ++c) {
      content[c] = std::max(content[c], part[c]);
    }
  }
  const detail::TableLayout layout = report_layout(head.tab, content, state, cols, ascii);
  Frame frame;
  frame.cols = static_cast<int>(cols);
  report_head(frame, head, state, cols, options, layout);
  std::string out;
  for (const Line& line : frame.lines) {
    append_plain_text(out, line);
  }
  std::vector<Hit> hits;  // a report is not clicked
  const auto body = [&](const view::Rows& rows) {
    for (const Line& line : table_body(rows, state, layout, 0, static_cast<std::size_t>(-1) / 2,
                                       cols, ascii, false, hits)) {
      append_plain_text(out, line);
    }
    hits.clear();
  };
  if (head.total == 0) {
    body(head);  // why the table is empty
  }
  // Pass 2: the rows, a piece at a time.
  for (std::size_t first = 0; first < head.total; first += kRows) {
    body(chunk(first, kRows));
    if (out.size() >= kFlush) {
      if (!sink(out)) {
        return false;
      }
      out.clear();
    }
  }
  return out.empty() || sink(out);
}

}  // namespace flowtop::render
