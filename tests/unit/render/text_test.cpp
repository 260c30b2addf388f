#include "flowtop/render/text.hpp"

#include <gtest/gtest.h>

#include "flowtop/render/format.hpp"

namespace flowtop::render {
namespace {

TEST(CodepointWidth, LikeWcwidth) {
  EXPECT_EQ(codepoint_width(U'a'), 1);
  EXPECT_EQ(codepoint_width(U'é'), 1);
  EXPECT_EQ(codepoint_width(U'\u0301'), 0);  // combining acute accent
  EXPECT_EQ(codepoint_width(U'\u200B'), 0);  // zero width space
  EXPECT_EQ(codepoint_width(U'\u200D'), 0);  // zero width joiner
  EXPECT_EQ(codepoint_width(U'\uFE0F'), 0);  // variation selector
  EXPECT_EQ(codepoint_width(U'日'), 2);
  EXPECT_EQ(codepoint_width(U'ｱ'), 1);   // halfwidth katakana
  EXPECT_EQ(codepoint_width(U'Ａ'), 2);  // fullwidth A
  EXPECT_EQ(codepoint_width(U'한'), 2);
  EXPECT_EQ(codepoint_width(U'\U0001F600'), 2);  // emoji
  EXPECT_EQ(codepoint_width(U'\U00020000'), 2);  // CJK extension B
  EXPECT_EQ(codepoint_width(U'↑'), 1);
  EXPECT_EQ(codepoint_width(U'…'), 1);
  EXPECT_EQ(codepoint_width(U'\t'), -1);
  EXPECT_EQ(codepoint_width(U'\x1b'), -1);
  EXPECT_EQ(codepoint_width(U'\x7f'), -1);
  EXPECT_EQ(codepoint_width(U'\u009b'), -1);  // CSI
}

TEST(DisplayWidth, CountsColumnsNotBytes) {
  EXPECT_EQ(display_width(""), 0U);
  EXPECT_EQ(display_width("flowtop"), 7U);
  EXPECT_EQ(display_width("Tōkyō"), 5U);
  EXPECT_EQ(display_width("e\xcc\x81"), 1U);  // e + combining acute
  EXPECT_EQ(display_width("日本語"), 6U);
  EXPECT_EQ(display_width("a\xf0\x9f\x98\x80"), 3U);
  EXPECT_EQ(display_width("\xff"), 1U);  // an invalid byte is one U+FFFD
}

TEST(TruncateToWidth, NeverSplitsACharacter) {
  EXPECT_EQ(truncate_to_width("abcdef", 3), "abc");
  EXPECT_EQ(truncate_to_width("日本語", 3), "日");  // 語 would straddle the edge
  EXPECT_EQ(truncate_to_width("日本語", 4), "日本");
  EXPECT_EQ(truncate_to_width("e\xcc\x81x", 1), "e\xcc\x81");  // keeps the mark with its letter
  EXPECT_EQ(truncate_to_width("Tōkyō", 2), "Tō");
  EXPECT_EQ(truncate_to_width("abc", 0), "");
  EXPECT_EQ(truncate_to_width("ab", 10), "ab");
}

TEST(Fit, CutsWithAnEllipsisAndPads) {
  EXPECT_EQ(fit("example.com", 8), "example…");
  EXPECT_EQ(fit("example.com", 8, false, true, true), "example~");
  EXPECT_EQ(fit("abc", 6), "abc   ");
  EXPECT_EQ(fit("abc", 6, true), "   abc");
  EXPECT_EQ(fit("abc", 6, false, false), "abc");
  EXPECT_EQ(fit("日本語ツール", 6), "日本… ");  // 5 columns of text, padded to 6
  EXPECT_EQ(display_width(fit("日本語ツール", 6)), 6U);
  EXPECT_EQ(fit("abc", 0), "");
  EXPECT_EQ(fit("abc", 1), "…");
}

TEST(Sanitize, EscapeSequencesNeverPass) {
  EXPECT_EQ(sanitize("\x1b]0;pwned\x07"), "?]0;pwned?");
  EXPECT_EQ(sanitize("a\x1b[2Jb"), "a?[2Jb");
  EXPECT_EQ(sanitize("\xc2\x9b"
                     "31m"),
            "?31m");  // C1 CSI
  EXPECT_EQ(sanitize("ok\r\nx"), "ok??x");
  EXPECT_EQ(sanitize("日本"), "日本");
}

}  // namespace
}  // namespace flowtop::render
