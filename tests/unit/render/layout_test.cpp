// The table's layout at fixed sizes, the status line, the title and the footer, as text.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "flowtop/core/redact.hpp"
#include "flowtop/render/render.hpp"
#include "flowtop/view/command.hpp"
#include "unit/render/render_fixture.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::render {
namespace {

using view::Command;
using K = view::Command::Kind;

// Line `n` of a frame's text.
std::string line_at(const std::string& text, std::size_t n) {
  std::istringstream in(text);
  std::string line;
  for (std::size_t i = 0; i <= n && std::getline(in, line); ++i) {
  }
  return line;
}

// The labels of the header line (below the title, status and tab bar) at a size, in order (DIR's
// empty label is skipped).
std::vector<std::string> header_labels(const test::FakeWorld& w, view::ViewState s, Size size,
                                       bool ascii = false) {
  const std::string header = line_at(text_of(w, s, size, ascii), 3);
  std::vector<std::string> out;
  std::istringstream in(header);
  for (std::string label; in >> label;) {
    out.push_back(label);
  }
  return out;
}

using Labels = std::vector<std::string>;

// Regression: at 80 columns PID, TIME, GEO and BYTES↑ dropped, and with -b STATE went too.
TEST(RenderWidth, EightyByTwentyFourShowsTheEssentials) {
  view::ViewState s = all_protocols();
  EXPECT_EQ(
      header_labels(test::sample_world(), s, {80, 24}),
      (Labels{"OWNER", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "GEO", "RATE↑", "RATE↓▼"}));
  s.bits = true;  // wider rates: GEO gives way, STATE and TIME stay
  EXPECT_EQ(header_labels(test::sample_world(), s, {80, 24}),
            (Labels{"OWNER", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "RATE↑", "RATE↓▼"}));
  // Every header and row fits exactly: no line is cut at the right edge.
  const std::string text = text_of(test::sample_world(), all_protocols(), {80, 24});
  EXPECT_EQ(line_with(text, "ADDRESS"),
            "OWNER   PROTO STATE       TIME   ADDRESS         PORT  GEO      RATE↑     RATE↓▼");
  EXPECT_EQ(line_with(text, "curl"),
            "curl    tcp4  ESTABLISHED   1m → example.com     https US     120 B/s   5.3 kB/s");
}

TEST(RenderWidth, OneTwentyAndTwoHundredColumns) {
  const view::ViewState s = all_protocols();
  EXPECT_EQ(header_labels(test::sample_world(), s, {120, 24}),
            (Labels{"OWNER", "PID", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "GEO", "BYTES↑",
                    "RATE↑", "BYTES↓", "RATE↓▼"}));
  EXPECT_EQ(header_labels(test::sample_world(), s, {200, 24}),
            (Labels{"OWNER", "PID", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "NAT", "GEO",
                    "BYTES↑", "RATE↑", "BYTES↓", "RATE↓▼", "PKTS↑", "PKTS↓"}));
  // At 120 the owner and the remote name have their whole content.
  const std::string text = text_of(test::sample_world(), s, {120, 24});
  EXPECT_NE(text.find("firefox-esr "), std::string::npos) << text;
  EXPECT_NE(text.find("lhr25s34-in-f14.1e100.net "), std::string::npos) << text;
}

// PORT was fixed at 5 columns: "http…" for https-alt even where there was room.
TEST(RenderWidth, ColumnsAreAsWideAsTheirContent) {
  test::FakeWorld w = test::sample_world();
  core::Enrichment e = w.enrichment[1];
  e.service = "https-alt";
  w.flows.push_back(test::make_flow({.dport = 8443, .id = 42}));
  w.enrichment[42] = e;
  const std::string text = text_of(w, all_protocols(), {120, 24});
  EXPECT_NE(text.find("https-alt"), std::string::npos) << text;
  EXPECT_EQ(text.find("http…"), std::string::npos) << text;
  // Without a long name the column is as narrow as its header and values allow.
  const std::string header =
      line_with(text_of(test::sample_world(), all_protocols(), {120, 24}), "ADDRESS");
  EXPECT_NE(header.find(" PORT  GEO "), std::string::npos) << header;
}

// Owners: the name column took every spare column (66 blanks at 200 wide).
TEST(RenderWidth, TheOwnersNameTakesWhatItNeeds) {
  view::ViewState s = all_protocols();
  s.tab = view::Tab::Owners;
  const std::string text = text_of(test::sample_world(), s, {200, 24});
  const std::string header = line_with(text, "FLOWS");
  const std::string row = line_with(text, "firefox-esr");
  // The PID column follows the widest name (the hostile one is "?[31m日本語ツール?", 16 wide).
  EXPECT_LT(header.find("PID"), 24U) << header;
  EXPECT_NE(row.find("firefox-esr"), std::string::npos);
}

TEST(RenderWidth, SideScrollingReachesEveryColumn) {
  const auto columns = view::columns_of(view::Tab::Flows);
  for (const bool bits : {false, true}) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      view::ViewState s = all_protocols();
      s.bits = bits;
      s.h_scroll = i;
      const std::string label(view::column_label(view::Tab::Flows, columns[i], false));
      if (label.empty()) {
        continue;  // DIR
      }
      const Labels header = header_labels(test::sample_world(), s, {80, 24});
      ASSERT_FALSE(header.empty());
      EXPECT_EQ(header.front().rfind(label, 0), 0U) << "h_scroll " << i << ": " << header.front();
    }
  }
  // One step right drops OWNER and brings PID in its place.
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::ScrollRight});
  EXPECT_EQ(header_labels(test::sample_world(), s, {80, 24}).front(), "PID");
}

// Regression: "GE▲", "TIM▼": the sort mark overwrote the end of a narrow column's label.
TEST(RenderWidth, TheSortMarkNeverOverwritesTheLabel) {
  for (const view::Column c : view::columns_of(view::Tab::Flows)) {
    for (const bool descending : {false, true}) {
      view::ViewState s = all_protocols();
      s.sort[0] = view::SortSpec{c, descending};
      for (const int cols : {80, 120, 200}) {
        const std::string text = text_of(test::sample_world(), s, {cols, 24});
        const std::string label(view::column_label(view::Tab::Flows, c, false));
        const std::string marked = label + (descending ? "▼" : "▲");
        const std::string header = line_with(text, "ADDRESS");
        const std::string status = line_with(text, " shown · ");
        // Either the header shows the whole label with its mark, or the status line names it.
        EXPECT_TRUE(header.find(marked) != std::string::npos ||
                    status.find("sort: " + marked) != std::string::npos)
            << cols << " " << marked << "\n"
            << header << "\n"
            << status;
      }
    }
  }
}

TEST(RenderWidth, SortingByAHiddenColumnSaysSoInTheStatusLine) {
  view::ViewState s = all_protocols();
  s.sort[0] = view::SortSpec{view::Column::BytesOut, true};
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(line_with(text, "ADDRESS").find("BYTES↑"), std::string::npos);
  EXPECT_NE(line_with(text, " shown · ").find("sort: BYTES↑▼"), std::string::npos) << text;
  // Shown, it is marked in the header only.
  const std::string wide = text_of(test::sample_world(), s, {200, 24});
  EXPECT_NE(line_with(wide, "ADDRESS").find("BYTES↑▼"), std::string::npos);
  EXPECT_EQ(wide.find("sort: "), std::string::npos);
  // ASCII.
  EXPECT_NE(text_of(test::sample_world(), s, {80, 24}, true).find("sort: BYTES-Ov"),
            std::string::npos);
}

// Regression: the filter was the first thing dropped from a long status line.
TEST(RenderStatus, TheFilterNeverDropsOffTheStatusLine) {
  view::ViewState s = all_protocols();
  s.paused = true;
  s.filter = std::get<view::Filter>(view::compile_filter("proc~firefox or port=22"));
  for (const int cols : {40, 60, 80, 120}) {
    const std::string status = line_at(text_of(test::sample_world(), s, {cols, 24}), 1);
    EXPECT_NE(status.find("filter: proc~"), std::string::npos) << cols << ": " << status;
  }
  EXPECT_EQ(line_at(text_of(test::sample_world(), s, {80, 24}), 1),
            " PAUSED · filter: proc~firefox or port=22 · 4 shown · ↑ 125.0 kB/s ↓ 2.4 MB/s");
  // A filter longer than the line is cut with an ellipsis, and the counts stay.
  std::string longer = "proc~firefox";
  for (int i = 0; i < 12; ++i) {
    longer += " or port=" + std::to_string(1000 + i);
  }
  s.filter = std::get<view::Filter>(view::compile_filter(longer));
  const std::string status = line_at(text_of(test::sample_world(), s, {80, 24}), 1);
  EXPECT_NE(status.find("filter: proc~firefox or port=1000"), std::string::npos) << status;
  EXPECT_NE(status.find("… · "), std::string::npos) << status;
  EXPECT_NE(status.find(" shown"), std::string::npos) << status;
}

TEST(RenderTitle, TheTitleNamesTheHostAndTheNamespace) {
  view::ViewState s = all_protocols();
  const test::FakeWorld w = test::sample_world();
  view::Snapshot snap = w.snapshot();
  const view::Rows rows = view::build_rows(snap, s, table_capacity(snap.status, s, {80, 24}));
  RenderOptions o{"0.1.0", false, "router\x1b[2J", "ftit-a"};
  std::string title = line_with(to_plain_text(render(rows, s, {80, 24}, o)), "flowtop");
  EXPECT_EQ(title,
            " flowtop 0.1.0 · router?[2J · netns ftit-a" + std::string(29, ' ') + "every 1s");
  o.netns.clear();
  o.ascii = true;
  title = line_with(to_plain_text(render(rows, s, {80, 24}, o)), "flowtop");
  EXPECT_EQ(title.rfind(" flowtop 0.1.0 - router?[2J ", 0), 0U) << title;
}

TEST(RenderTitle, PrivacyModeMasksTheHostAndTheNamespace) {
  view::ViewState s = all_protocols();
  core::Redactor::Key key{};
  key[0] = 7;
  s.redactor = std::make_shared<const core::Redactor>(key);
  const test::FakeWorld w = test::sample_world();
  view::Snapshot snap = w.snapshot();
  const view::Rows rows = view::build_rows(snap, s, table_capacity(snap.status, s, {100, 24}));
  const RenderOptions o{"0.1.0", false, "gateway-home", "ftit-a"};
  for (const core::RedactScope scope : {core::RedactScope::Local, core::RedactScope::All}) {
    s.redact = scope;
    const std::string title = line_with(to_plain_text(render(rows, s, {100, 24}, o)), "flowtop");
    EXPECT_EQ(title.find("gateway-home"), std::string::npos) << title;
    EXPECT_EQ(title.find("ftit-a"), std::string::npos) << title;
    EXPECT_NE(title.find(s.redactor->name("gateway-home")), std::string::npos) << title;
  }
  s.redact = core::RedactScope::Remote;  // the machine's own names are local
  const std::string title = line_with(to_plain_text(render(rows, s, {100, 24}, o)), "flowtop");
  EXPECT_NE(title.find("gateway-home · netns ftit-a"), std::string::npos) << title;
}

TEST(RenderFooter, TheKeyBarIsOnTheLastLine) {
  view::ViewState s = all_protocols();
  Frame f = frame_of(test::sample_world(), s, {80, 24});
  ASSERT_EQ(f.lines.size(), 24U);
  EXPECT_EQ(to_plain_text(Frame{80, 24, {f.lines[23]}, {}, {}}),
            "?Help /Filter F6Sort ⏎Detail Tab View Space Pause h l Scroll F2Columns q Quit\n");
  EXPECT_EQ(f.lines[23].fill, Style::Footer);
  EXPECT_EQ(f.lines[23].spans[0], (Span{"?", Style::FooterKey}));
  EXPECT_EQ(f.lines[23].spans[1], (Span{"Help ", Style::Footer}));
  // Narrow: the least needed keys go, help and quit stay.
  f = frame_of(test::sample_world(), s, {40, 24});
  EXPECT_EQ(to_plain_text(Frame{40, 24, {f.lines[23]}, {}, {}}),
            "?Help /Filter F6Sort ⏎Detail q Quit\n");
  // Short: no key bar below kFooterLines lines; the table keeps the line.
  f = frame_of(test::sample_world(), s, {80, kFooterLines - 1});
  EXPECT_EQ(to_plain_text(f).find("?Help"), std::string::npos);
  f = frame_of(test::sample_world(), s, {80, kFooterLines});
  EXPECT_NE(to_plain_text(f).find("?Help"), std::string::npos);
  // F hides it, and the table gets the line.
  view::ViewState off = view::apply(s, Command{K::ToggleFooter});
  EXPECT_FALSE(off.footer);
  EXPECT_TRUE(off.effects.persist);
  view::Snapshot snap = test::sample_world().snapshot();
  EXPECT_EQ(table_capacity(snap.status, off, {80, 24}),
            table_capacity(snap.status, s, {80, 24}) + 1);
  EXPECT_EQ(text_of(test::sample_world(), off, {80, 24}).find("?Help"), std::string::npos);
  // The prompt takes its place.
  s = view::apply(s, Command{K::OpenFilter});
  f = frame_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(to_plain_text(f).find("?Help"), std::string::npos);
  EXPECT_EQ(to_plain_text(Frame{80, 24, {f.lines[23]}, {}, {}}), "/\n");
}

TEST(RenderFooter, TheKeyBarFollowsTheMode) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SortMenu});
  EXPECT_NE(text_of(test::sample_world(), s, {80, 24}).find("↑↓Column ⏎Sort r Reverse Esc Close"),
            std::string::npos);
  s = all_protocols();
  s.tab = view::Tab::Hosts;
  s.paused = true;
  EXPECT_NE(text_of(test::sample_world(), s, {80, 24}).find("⏎Flows Tab View Space Resume"),
            std::string::npos);
  EXPECT_NE(text_of(test::sample_world(), s, {80, 24}, true).find("Enter Flows"),
            std::string::npos);
}

}  // namespace
}  // namespace flowtop::render
