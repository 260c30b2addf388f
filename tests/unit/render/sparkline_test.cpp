#include "render/sparkline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "flowtop/core/text.hpp"
#include "flowtop/render/render.hpp"
#include "flowtop/view/totals.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::render {
namespace {

using detail::sparkline;

TEST(Sparkline, OneGlyphPerValueScaledToTheLargest) {
  const std::vector<double> v{0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(sparkline(v, 8, false), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(sparkline(v, 8, true), "_.:-=+*#");
  EXPECT_EQ(sparkline(std::vector<double>{0, 0, 0}, 10, false), "▁▁▁") << "nothing moved";
  EXPECT_EQ(sparkline(std::vector<double>{1, 1000}, 10, false), "▂█") << "any traffic shows";
}

TEST(Sparkline, ANarrowOneKeepsTheNewestValues) {
  const std::vector<double> v{1, 2, 3, 4};
  EXPECT_EQ(sparkline(v, 2, false), "▇█");
  EXPECT_EQ(sparkline(v, 0, false), "");
  EXPECT_EQ(sparkline(std::vector<double>{}, 5, false), "");
}

TEST(Sparkline, EveryWidthIsThatManyColumns) {
  std::vector<double> v;
  for (int i = 0; i < 60; ++i) {
    v.push_back((i * 37) % 11);
  }
  for (std::size_t w = 0; w <= 80; ++w) {
    for (const bool ascii : {false, true}) {
      const std::string s = sparkline(v, w, ascii);
      EXPECT_EQ(core::display_width(s), std::min<std::size_t>(w, 60)) << w;
      if (ascii) {
        EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; }));
      }
    }
  }
}

// The header of a screen with `n` intervals of history.
std::string title_of(std::size_t n, int cols, bool ascii) {
  const test::FakeWorld w = test::sample_world();
  view::Snapshot snap = w.snapshot();
  auto totals = std::make_shared<view::Totals>();
  for (std::size_t i = 0; i < n; ++i) {
    totals->history.push(static_cast<double>(i % 8), static_cast<double>(7 - i % 8));
  }
  totals->out = 1'500'000;
  totals->in = 42'000'000;
  snap.totals = totals;
  view::ViewState state = view::default_view_state();
  const Size size{cols, 30};
  const view::Rows rows = view::build_rows(snap, state, table_capacity(snap.status, state, size));
  const Frame f = render(rows, state, size, RenderOptions{"0.1.0", ascii});
  const std::string text = to_plain_text(f);
  return text.substr(0, text.find('\n'));
}

TEST(Sparkline, TheHeaderShowsTheSessionRatesAtEveryWidth) {
  const std::string wide = title_of(60, 200, false);
  EXPECT_NE(wide.find("↑▁▂▃▄▅▆▇█▁▂▃▄▅▆▇█"), std::string::npos) << wide;
  EXPECT_NE(wide.find("↓█▇▆▅▄▃▂▁"), std::string::npos) << wide;
  EXPECT_NE(wide.find("every 1s"), std::string::npos) << wide;
  EXPECT_NE(title_of(60, 200, true).find("^_.:-=+*#"), std::string::npos);
  std::size_t last_glyphs = 0;
  for (int cols = kMinCols; cols <= 200; ++cols) {
    for (const bool ascii : {false, true}) {
      const std::string line = title_of(60, cols, ascii);
      ASSERT_LE(core::display_width(line), static_cast<std::size_t>(cols)) << cols << ": " << line;
      EXPECT_EQ(line.rfind(" flowtop 0.1.0", 0), 0U) << cols << ": " << line;
      EXPECT_NE(line.find("every 1s"), std::string::npos) << cols << ": " << line;
    }
    // It shrinks with the terminal (newest intervals kept), and hides rather than break.
    const std::string line = title_of(60, cols, true);
    const std::size_t up = line.find(" ^");
    const std::size_t glyphs = up == std::string::npos ? 0 : line.find(' ', up + 2) - up - 2;
    EXPECT_TRUE(glyphs == 0 || glyphs >= 4) << cols << ": " << line;
    EXPECT_LE(glyphs, 60U);
    EXPECT_GE(glyphs, last_glyphs) << "a wider terminal never shows fewer: " << cols;
    last_glyphs = glyphs;
  }
  EXPECT_EQ(title_of(3, 200, false).find("↑"), std::string::npos) << "under 4 intervals: hidden";
  EXPECT_EQ(title_of(0, 200, false).find("↑"), std::string::npos) << "nothing measured yet";
  EXPECT_NE(title_of(4, 200, false).find("↑▁▄▆█ ↓█▇▆▅"), std::string::npos);
}

TEST(Sparkline, TheStatusLineShowsTheSessionTotals) {
  const test::FakeWorld w = test::sample_world();
  view::Snapshot snap = w.snapshot();
  auto totals = std::make_shared<view::Totals>();
  totals->out = 1'500'000;
  totals->in = 42'000'000;
  snap.totals = totals;
  view::ViewState state = view::default_view_state();
  const Size size{160, 30};
  const view::Rows rows = view::build_rows(snap, state, table_capacity(snap.status, state, size));
  const std::string text = to_plain_text(render(rows, state, size, RenderOptions{"0.1.0", false}));
  EXPECT_NE(text.find("total ↑ 1.5 MB ↓ 42.0 MB"), std::string::npos) << text;
}

TEST(Sparkline, TheSelectedGroupsHistoryIsOnTheTabBar) {
  const test::FakeWorld w = test::sample_world();
  view::Snapshot snap = w.snapshot();
  auto totals = std::make_shared<view::Totals>();
  for (int i = 0; i < 10; ++i) {
    totals->focus_history.push(i, 0);
  }
  snap.totals = totals;
  view::ViewState state = view::default_view_state();
  state.tab = view::Tab::Owners;
  for (const int cols : {40, 60, 80, 120, 200}) {
    const Size size{cols, 30};
    const view::Rows rows = view::build_rows(snap, state, table_capacity(snap.status, state, size));
    ASSERT_NE(rows.selected_group(), nullptr);
    totals->focus.tab = view::Tab::Owners;
    totals->focus.group = rows.selected_group()->key;
    const Frame f = render(rows, state, size, RenderOptions{"0.1.0", false});
    const std::string text = to_plain_text(f);
    const std::string tabs = text.substr(0, text.find("OWNER"));
    const std::string tab_line = tabs.substr(tabs.rfind("Flows"));
    EXPECT_LE(core::display_width(tab_line.substr(0, tab_line.find('\n'))),
              static_cast<std::size_t>(cols));
    if (cols >= 120) {
      EXPECT_NE(tab_line.find(rows.selected_group()->label + "  ↑▁▂▃▄▅▅▆▇██ ↓▁▁▁▁▁▁▁▁▁▁"),
                std::string::npos)
          << cols << ":\n"
          << text;
    }
  }
  totals->focus.group.reset();  // another row's history is not shown for this one
  const Size size{120, 30};
  const view::Rows rows = view::build_rows(snap, state, table_capacity(snap.status, state, size));
  const std::string text = to_plain_text(render(rows, state, size, RenderOptions{"0.1.0", false}));
  EXPECT_EQ(text.substr(0, text.find("OWNER")).find("↓▁"), std::string::npos) << text;
}

}  // namespace
}  // namespace flowtop::render
