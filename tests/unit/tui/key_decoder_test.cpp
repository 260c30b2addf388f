#include "tui/key_decoder.hpp"

#include <curses.h>
#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace flowtop::tui {
namespace {

RawKey ch(std::uint32_t c) {
  return {RawKey::Type::Char, c};
}
RawKey fn(int k) {
  return {RawKey::Type::Function, static_cast<std::uint32_t>(k)};
}

// Feeds a batch of raw events as one read, then flushes: the keys the view would see.
std::vector<std::int32_t> decode(const std::vector<RawKey>& batch) {
  KeyDecoder d;
  std::vector<std::int32_t> out;
  for (const RawKey& k : batch) {
    if (auto in = d.feed(k)) {
      out.push_back(in->key);
    }
  }
  if (auto in = d.flush()) {
    out.push_back(in->key);
  }
  return out;
}

using Keys = std::vector<std::int32_t>;

TEST(KeyDecoder, CursorAndPagingKeysMapToViewKeys) {
  EXPECT_EQ(decode({fn(KEY_UP), fn(KEY_DOWN), fn(KEY_LEFT), fn(KEY_RIGHT)}),
            (Keys{view::kKeyUp, view::kKeyDown, view::kKeyLeft, view::kKeyRight}));
  EXPECT_EQ(decode({fn(KEY_PPAGE), fn(KEY_NPAGE), fn(KEY_HOME), fn(KEY_END)}),
            (Keys{view::kKeyPageUp, view::kKeyPageDown, view::kKeyHome, view::kKeyEnd}));
  // Home/End as other terminals send them.
  EXPECT_EQ(decode({fn(KEY_FIND), fn(KEY_SELECT), fn(KEY_A1), fn(KEY_C1)}),
            (Keys{view::kKeyHome, view::kKeyEnd, view::kKeyHome, view::kKeyEnd}));
}

TEST(KeyDecoder, FunctionKeysF1F6F10AndEditingKeys) {
  EXPECT_EQ(decode({fn(KEY_F(1)), fn(KEY_F(2)), fn(KEY_F(6)), fn(KEY_F(10))}),
            (Keys{view::kKeyF1, view::kKeyF2, view::kKeyF6, view::kKeyF10}));
  EXPECT_EQ(decode({fn(KEY_BACKSPACE), fn(KEY_DC), fn(KEY_BTAB), fn(KEY_ENTER)}),
            (Keys{view::kKeyBackspace, view::kKeyDelete, view::kKeyBackTab, view::kKeyEnter}));
  EXPECT_EQ(decode({fn(KEY_RESIZE)}), (Keys{view::kKeyResize}));
}

TEST(KeyDecoder, UnusedFunctionKeysAreDropped) {
  EXPECT_EQ(decode({fn(KEY_F(3)), fn(KEY_IC), fn(KEY_F(12))}), Keys{});
}

TEST(KeyDecoder, ControlCharactersGetTheirKeyCodes) {
  EXPECT_EQ(decode({ch('\n'), ch('\r'), ch('\t'), ch(127), ch(8)}),
            (Keys{view::kKeyEnter, view::kKeyEnter, view::kKeyTab, view::kKeyBackspace,
                  view::kKeyBackspace}));
  EXPECT_EQ(decode({ch(12), ch(21)}), (Keys{12, 21}));  // Ctrl-L, Ctrl-U pass as is
}

TEST(KeyDecoder, PrintableAndWideCharactersPassAsCodePoints) {
  EXPECT_EQ(decode({ch('q'), ch('T'), ch(' '), ch('/'), ch(U'é'), ch(U'中')}),
            (Keys{'q', 'T', ' ', '/', 0xE9, 0x4E2D}));
}

TEST(KeyDecoder, InvalidCodePointsAreDropped) {
  EXPECT_EQ(decode({ch(0xD800), ch(0x110000), ch('a')}), (Keys{'a'}));
}

TEST(KeyDecoder, LoneEscapeIsEscapeOnceTheBatchEnds) {
  KeyDecoder d;
  EXPECT_FALSE(d.feed(ch(27)));  // could still be the start of Alt+key
  const auto in = d.flush();
  ASSERT_TRUE(in);
  EXPECT_EQ(in->key, view::kKeyEscape);
  EXPECT_FALSE(d.flush());  // only once
}

TEST(KeyDecoder, AltKeyIsDroppedWithItsEscape) {
  // Alt-q must neither cancel the filter prompt (Esc) nor quit (q).
  EXPECT_EQ(decode({ch(27), ch('q')}), Keys{});
  EXPECT_EQ(decode({ch(27), ch('q'), ch('j')}), (Keys{'j'}));
}

TEST(KeyDecoder, EscapeEscapeIsTwoEscapes) {
  EXPECT_EQ(decode({ch(27), ch(27)}), (Keys{view::kKeyEscape, view::kKeyEscape}));
}

TEST(KeyDecoder, UnknownEscapeSequenceIsSwallowedWhole) {
  // Ctrl-Up from a terminal whose terminfo lacks it: ESC [ 1 ; 5 A, then a real key.
  EXPECT_EQ(decode({ch(27), ch('['), ch('1'), ch(';'), ch('5'), ch('A'), ch('j')}), (Keys{'j'}));
  // SS3 form: ESC O P.
  EXPECT_EQ(decode({ch(27), ch('O'), ch('P'), ch('k')}), (Keys{'k'}));
}

TEST(KeyDecoder, AltFunctionKeyActsAsTheFunctionKey) {
  EXPECT_EQ(decode({ch(27), fn(KEY_DOWN)}), (Keys{view::kKeyDown}));
}

TEST(KeyDecoder, MouseWheelAndClick) {
  KeyDecoder d;
  auto wheel_up = d.feed({RawKey::Type::Mouse, static_cast<std::uint32_t>(BUTTON4_PRESSED), 5, 7});
  ASSERT_TRUE(wheel_up);
  EXPECT_EQ(wheel_up->key, view::kKeyWheelUp);
  auto wheel_down =
      d.feed({RawKey::Type::Mouse, static_cast<std::uint32_t>(BUTTON5_PRESSED), 5, 7});
  ASSERT_TRUE(wheel_down);
  EXPECT_EQ(wheel_down->key, view::kKeyWheelDown);
  auto click = d.feed({RawKey::Type::Mouse, static_cast<std::uint32_t>(BUTTON1_PRESSED), 9, 31});
  ASSERT_TRUE(click);
  EXPECT_EQ(click->key, view::kKeyClick);
  EXPECT_EQ(click->line, 9);
  EXPECT_EQ(click->col, 31);
  EXPECT_FALSE(d.feed({RawKey::Type::Mouse, static_cast<std::uint32_t>(BUTTON3_PRESSED), 1, 1}));
  EXPECT_FALSE(d.feed({RawKey::Type::Mouse, static_cast<std::uint32_t>(BUTTON1_RELEASED), 1, 1}));
}

TEST(KeyDecoder, WantedMouseEventsCoverWheelAndLeftButton) {
  const std::uint32_t m = wanted_mouse_events();
  EXPECT_NE(m & static_cast<std::uint32_t>(BUTTON4_PRESSED), 0U);
  EXPECT_NE(m & static_cast<std::uint32_t>(BUTTON5_PRESSED), 0U);
  EXPECT_NE(m & static_cast<std::uint32_t>(BUTTON1_PRESSED), 0U);
  EXPECT_EQ(m & static_cast<std::uint32_t>(REPORT_MOUSE_POSITION), 0U);  // no motion flood
}

}  // namespace
}  // namespace flowtop::tui
