// --batch frames come from the screen's pipeline: view::prepare → rows → render → plain text.
// The same snapshot gives the same table on the screen and in a batch frame.
#include "flowtop/output/batch_writer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "flowtop/core/text.hpp"
#include "flowtop/render/frame.hpp"
#include "flowtop/render/render.hpp"
#include "flowtop/view/filter.hpp"
#include "flowtop/view/rows.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::output {
namespace {

using view::Column;
using view::Tab;

std::vector<std::string> split(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) {
    out.push_back(l);
  }
  return out;
}

// The index of the column header line ("OWNER ...", "HOST ...", "COUNTRY ...").
std::size_t header_of(const std::vector<std::string>& lines, std::string_view first) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with(first)) {
      return i;
    }
  }
  return lines.size();
}

view::ViewState state_for(Tab tab) {
  view::ViewState s = view::default_view_state();
  s.tab = tab;
  s.selection.udp = true;
  s.selection.icmp = true;
  return s;
}

class Batch : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);  // NOLINT(concurrency-mt-unsafe): single-threaded test
    tzset();
    snapshot_ = world_.snapshot();
    report_.version = "0.1.0";
    report_.frame = 3;
    report_.realtime_ns = test::kNowNs;
  }

  // Every row of the tab, as --batch asks for them.
  std::string batch(const view::ViewState& state, std::size_t width) {
    const view::Prepared p = view::prepare(snapshot_, state);
    const view::Rows rows = view::build_rows(p, snapshot_, state, p.total());
    return batch_frame(rows, state, width, report_);
  }

  // The screen's frame of the same snapshot and state, tall enough for every row.
  std::string screen(view::ViewState state, int cols) {
    const render::Size size{cols, 60};
    const view::Rows rows =
        view::build_rows(snapshot_, state, render::table_capacity(snapshot_.status, state, size));
    return render::to_plain_text(render::render(rows, state, size, {"0.1.0", false}));
  }

  test::FakeWorld world_ = test::sample_world();
  view::Snapshot snapshot_;
  render::ReportOptions report_;
};

TEST_F(Batch, TheTableIsTheScreensTableLineForLine) {
  for (const Tab tab : {Tab::Flows, Tab::Owners, Tab::Hosts, Tab::Countries, Tab::As}) {
    for (const int cols : {80, 120, 200}) {
      const view::ViewState state = state_for(tab);
      const auto b = split(batch(state, static_cast<std::size_t>(cols)));
      const auto s = split(screen(state, cols));
      const std::string first(
          view::column_label(tab, view::columns_of(tab).front(), false).substr(0, 4));
      const std::size_t bh = header_of(b, first);
      const std::size_t sh = header_of(s, first);
      ASSERT_LT(bh, b.size()) << view::tab_name(tab) << " " << cols;
      ASSERT_LT(sh, s.size()) << view::tab_name(tab) << " " << cols;
      // The status line, the header and every row are the same text.
      EXPECT_EQ(b[1], s[1]) << view::tab_name(tab) << " " << cols;
      const std::size_t rows = b.size() - bh - 1;  // the batch frame ends with a blank line
      ASSERT_GE(rows, 2U) << view::tab_name(tab);
      for (std::size_t i = 0; i < rows; ++i) {
        EXPECT_EQ(b[bh + i], s[sh + i]) << view::tab_name(tab) << " " << cols << " line " << i;
      }
    }
  }
}

TEST_F(Batch, SourceRowsAndBitsAsOnScreen) {
  view::ViewState state = state_for(Tab::Flows);
  state.show_src = true;
  state.bits = true;
  const auto b = split(batch(state, 120));
  const auto s = split(screen(state, 120));
  const std::size_t bh = header_of(b, "OWNER");
  const std::size_t sh = header_of(s, "OWNER");
  ASSERT_LT(bh + 4, b.size());
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(b[bh + i], s[sh + i]) << i;
  }
  EXPECT_NE(b[bh + 2].find("local 10.0.0.2:51000"), std::string::npos) << b[bh + 2];
  EXPECT_NE(b[bh + 1].find("Mbit/s"), std::string::npos) << b[bh + 1];
}

TEST_F(Batch, TitleStatusAndHealthLines) {
  snapshot_.status.health = {"accounting was off", "events lost: \x1b[2Jresync"};
  const auto l = split(batch(state_for(Tab::Flows), 120));
  EXPECT_EQ(l[0], "flowtop 0.1.0 - 20:26:40 - frame 3");
  EXPECT_TRUE(l[1].starts_with(" 7 shown · 9 tracked · 2 hidden: loopback 1, DNS 1")) << l[1];
  EXPECT_EQ(l[2], " accounting was off");
  EXPECT_EQ(l[3], " events lost: ?[2Jresync");  // sanitised: no escape reaches a terminal
  EXPECT_TRUE(l[4].starts_with("OWNER")) << l[4];
  report_.version.clear();
  EXPECT_EQ(split(batch(state_for(Tab::Flows), 120))[0], "flowtop - 20:26:40 - frame 3");
}

TEST_F(Batch, FilteredFlowsAreCountedAsOnScreen) {
  view::ViewState state = state_for(Tab::Flows);
  state.filter = std::get<view::Filter>(view::compile_filter("proc=firefox-esr"));
  const auto l = split(batch(state, 160));
  // The filter stands first on the status line, then the counts.
  EXPECT_TRUE(
      l[1].starts_with(" filter: proc=firefox-esr · 2 shown · 9 tracked · 7 hidden: "
                       "loopback 1, DNS 1, filter 5"))
      << l[1];
  const std::size_t h = header_of(l, "OWNER");
  ASSERT_EQ(l.size(), h + 1 + 2 + 1) << "two rows and the blank line";
}

TEST_F(Batch, RowsFollowTheSortColumn) {
  view::ViewState state = state_for(Tab::Flows);
  state.sort[0] = view::SortSpec{Column::Port, false};
  const auto l = split(batch(state, 160));
  const std::size_t h = header_of(l, "OWNER");
  // The PORT column's display column; rows hold wide characters, so find each row's byte there.
  const std::size_t col = core::display_width(l[h].substr(0, l[h].find("PORT")));
  std::vector<std::string> ports;
  for (std::size_t i = h + 1; i + 1 < l.size(); ++i) {
    const std::size_t at = core::truncate_to_width(l[i], col).size();
    ports.push_back(std::string(core::trim(l[i].substr(at, 6))));
  }
  // By port number; ICMP type 8 code 0 sorts as 8 * 256 + 0.
  EXPECT_EQ(ports,
            (std::vector<std::string>{"22", "https", "https", "https", "8/0", "5353", "50022"}));
}

TEST_F(Batch, UnknownIsDashZeroIsBlankPendingIsBlank) {
  const auto l = split(batch(state_for(Tab::Flows), 160));
  const std::size_t h = header_of(l, "OWNER");
  for (std::size_t i = h + 1; i + 1 < l.size(); ++i) {
    if (l[i].find("backup.lan") != std::string::npos) {  // accounting was off: "-"
      EXPECT_NE(l[i].find("       -          -        -          -"), std::string::npos) << l[i];
    }
  }
  // A pending enrichment is blank, not "-": the OWNER column of flow 1 while looked up.
  world_.enrichment[1].process = {};
  snapshot_ = world_.snapshot();
  const auto p = split(batch(state_for(Tab::Flows), 160));
  const std::size_t ph = header_of(p, "OWNER");
  bool seen = false;
  for (std::size_t i = ph + 1; i + 1 < p.size(); ++i) {
    if (p[i].find("example.com") != std::string::npos && p[i].find("evil") == std::string::npos) {
      EXPECT_TRUE(p[i].starts_with("          ")) << p[i];
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
}

TEST_F(Batch, HostileNamesAreSanitisedAndWideTextFits) {
  for (std::size_t width = 13; width <= 200; ++width) {
    const std::string text = batch(state_for(Tab::Flows), width);
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << width;
    for (const auto& line : split(text)) {
      EXPECT_LE(core::display_width(line), width) << width << ": " << line;
    }
  }
}

TEST_F(Batch, EmptyTableSaysWhy) {
  view::ViewState state = state_for(Tab::Flows);
  state.filter = std::get<view::Filter>(view::compile_filter("port=1"));
  const auto l = split(batch(state, 120));
  const std::size_t h = header_of(l, "OWNER");
  ASSERT_LT(h + 1, l.size());
  EXPECT_EQ(l[h + 1], " no flows match TCP+UDP+ICMP, IPv4+IPv6, filter port=1 (9 hidden)");
  world_.flows.clear();
  snapshot_ = world_.snapshot();
  const auto e = split(batch(state_for(Tab::Flows), 120));
  EXPECT_EQ(e[header_of(e, "OWNER") + 1],
            " conntrack is not tracking in this namespace: try --track");
}

TEST_F(Batch, FrameEndsWithABlankLineAndAsciiLabelsWithoutUtf8) {
  const std::string f = batch(state_for(Tab::Flows), 120);
  EXPECT_TRUE(f.ends_with("\n\n"));
  EXPECT_FALSE(f.ends_with("\n\n\n"));
  EXPECT_NE(f.find("RATE↓▼"), std::string::npos);
  report_.ascii = true;
  const std::string a = batch(state_for(Tab::Flows), 120);
  EXPECT_NE(a.find("RATE-Iv"), std::string::npos) << a;
  EXPECT_EQ(a.find("↓"), std::string::npos);
}

}  // namespace
}  // namespace flowtop::output

// --batch at 100k flows writes the frame a piece at a time (write_batch_frame): the text is the
// whole-frame text (batch_frame of every row) byte for byte, whatever the tab, the source rows,
// widths, or a table of several pieces whose widest cells sit in different pieces.
namespace flowtop::output {
namespace {

std::string whole(const view::Snapshot& snap, const view::ViewState& state, std::size_t width,
                  const render::ReportOptions& report) {
  const view::Prepared p = view::prepare(snap, state);
  return batch_frame(view::build_rows(p, snap, state, p.total()), state, width, report);
}

std::string streamed(const view::Snapshot& snap, const view::ViewState& state, std::size_t width,
                     const render::ReportOptions& report, std::size_t* pieces = nullptr) {
  const view::Prepared p = view::prepare(snap, state);
  std::string out;
  EXPECT_TRUE(write_batch_frame(p, snap, state, width, report, [&](std::string_view s) {
    out += s;
    if (pieces != nullptr) {
      ++*pieces;
    }
    return true;
  }));
  return out;
}

TEST(BatchStream, EqualsTheWholeFrameByteForByte) {
  setenv("TZ", "UTC", 1);  // NOLINT(concurrency-mt-unsafe): single-threaded test
  tzset();
  render::ReportOptions report;
  report.version = "0.1.0";
  report.frame = 2;
  report.realtime_ns = test::kNowNs;
  const test::FakeWorld world = test::random_world(5000, 7);
  const view::Snapshot snap = world.snapshot();
  for (const Tab tab : {Tab::Flows, Tab::Owners, Tab::Hosts, Tab::Countries, Tab::As}) {
    for (const bool src : {false, true}) {
      for (const std::size_t cols : {std::size_t{80}, std::size_t{200}}) {
        view::ViewState state = state_for(tab);
        state.show_src = src;
        report.ascii = cols == 80;
        std::size_t pieces = 0;
        const std::string text = streamed(snap, state, cols, report, &pieces);
        EXPECT_EQ(text, whole(snap, state, cols, report))
            << view::tab_name(tab) << " src " << src << " cols " << cols;
        if (tab == Tab::Flows) {
          EXPECT_GT(pieces, 1U) << "5,000 flows are written in pieces";
        }
      }
    }
  }
}

TEST(BatchStream, AWideCellInALatePieceWidensTheWholeTable) {
  setenv("TZ", "UTC", 1);  // NOLINT(concurrency-mt-unsafe): single-threaded test
  tzset();
  render::ReportOptions report;
  test::FakeWorld world = test::random_world(3000, 11);
  // The slowest flow (sorted last by RATE↓) with the widest owner and the biggest byte count.
  test::FlowSpec slow;
  slow.id = 99'999;
  slow.rate_out = 0;
  slow.rate_in = 0;
  slow.bytes_in = 987'654'321'098'765;
  world.flows.push_back(test::make_flow(slow));
  core::Enrichment e;
  e.process = test::process(4242, "an-unusually-long-process-name");
  world.enrichment[slow.id] = e;
  const view::Snapshot snap = world.snapshot();
  const view::ViewState state = state_for(Tab::Flows);
  const std::string text = streamed(snap, state, 250, report);
  EXPECT_EQ(text, whole(snap, state, 250, report));
  const auto lines = split(text);
  std::size_t at = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("an-unusually") != std::string::npos) {
      at = i;
    }
  }
  EXPECT_GT(at, 1030U) << "the wide cell is in a later piece than the first";
}

TEST(BatchStream, AnEmptyTableSaysWhy) {
  render::ReportOptions report;
  const view::Snapshot snap = test::FakeWorld{}.snapshot();
  const view::ViewState state = state_for(Tab::Flows);
  const std::string text = streamed(snap, state, 100, report);
  EXPECT_EQ(text, whole(snap, state, 100, report));
}

TEST(BatchStream, StopsWhenTheReaderGoesAway) {
  render::ReportOptions report;
  const test::FakeWorld world = test::random_world(5000, 3);
  const view::Snapshot snap = world.snapshot();
  const view::ViewState state = state_for(Tab::Flows);
  const view::Prepared p = view::prepare(snap, state);
  std::size_t calls = 0;
  EXPECT_FALSE(write_batch_frame(p, snap, state, 120, report, [&](std::string_view) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1U);
}

}  // namespace
}  // namespace flowtop::output
