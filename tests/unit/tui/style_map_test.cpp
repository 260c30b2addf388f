#include "tui/style_map.hpp"

#include <curses.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <set>
#include <utility>

namespace flowtop::tui {
namespace {

using render::Style;

constexpr Style kAll[] = {
    Style::Normal,       Style::Title,        Style::Status,      Style::Health,
    Style::Warning,      Style::Tab,          Style::TabActive,   Style::Header,
    Style::HeaderSorted, Style::Selected,     Style::Dim,         Style::Paused,
    Style::FooterKey,    Style::Footer,       Style::Prompt,      Style::PromptCursor,
    Style::Overlay,      Style::OverlayTitle, Style::MenuSelected};

static_assert(std::size(kAll) == kStyleCount, "a style was added: map it and list it here");

TEST(StyleLook, MonochromeUsesNoColours) {
  for (const Style s : kAll) {
    EXPECT_EQ(style_look(s, false).fg, -1) << static_cast<int>(s);
  }
}

TEST(StyleLook, NormalIsPlainInBothModes) {
  EXPECT_EQ(style_look(Style::Normal, false).attrs, 0U);
  EXPECT_EQ(style_look(Style::Normal, true).attrs, 0U);
  EXPECT_EQ(style_look(Style::Normal, true).fg, -1);
}

TEST(StyleLook, BarsAreReverseVideoInBothModes) {
  for (const bool color : {false, true}) {
    for (const Style s :
         {Style::Title, Style::TabActive, Style::Header, Style::HeaderSorted, Style::Selected,
          Style::Paused, Style::Footer, Style::PromptCursor, Style::MenuSelected}) {
      EXPECT_NE(style_look(s, color).attrs & A_REVERSE, 0U)
          << "style " << static_cast<int>(s) << (color ? " colour" : " mono");
    }
  }
}

TEST(StyleLook, MonochromeKeepsTheDistinctionsThatMatter) {
  // The selection bar, the header, the sorted header, the active tab and a plain row must look
  // different from each other without colours.
  const std::set<std::uint64_t> looks{
      style_look(Style::Normal, false).attrs, style_look(Style::Selected, false).attrs,
      style_look(Style::Header, false).attrs, style_look(Style::HeaderSorted, false).attrs};
  EXPECT_EQ(looks.size(), 4U);
  EXPECT_NE(style_look(Style::Tab, false).attrs, style_look(Style::TabActive, false).attrs);
  EXPECT_NE(style_look(Style::Warning, false).attrs, 0U);
  EXPECT_NE(style_look(Style::Dim, false).attrs & A_DIM, 0U);
  // The footer's keys stand out from what they do.
  EXPECT_NE(style_look(Style::FooterKey, false).attrs, style_look(Style::Footer, false).attrs);
}

TEST(StyleLook, ColoursDistinguishSelectionFromHeader) {
  const auto sel = style_look(Style::Selected, true);
  const auto hdr = style_look(Style::Header, true);
  EXPECT_NE(std::make_pair(sel.attrs, sel.fg), std::make_pair(hdr.attrs, hdr.fg));
  EXPECT_EQ(style_look(Style::Warning, true).fg, COLOR_RED);
}

TEST(NoColor, SetAndNonEmptyMeansNoColours) {
  ::unsetenv("NO_COLOR");
  EXPECT_FALSE(no_color_requested());
  ::setenv("NO_COLOR", "", 1);
  EXPECT_FALSE(no_color_requested());  // no-color.org: an empty value does not count
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_TRUE(no_color_requested());
  ::unsetenv("NO_COLOR");
}

}  // namespace
}  // namespace flowtop::tui
