#include "flowtop/core/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace flowtop::core {
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

TEST(Sanitize, BidiAndFormatControlsAreNeutralised) {
  // A right-to-left override would make "gnp.exe" read as "exe.png"; isolates, marks,
  // zero-width characters and separators hide or reorder text just as well.
  EXPECT_EQ(sanitize("evil\u202Egnp.exe"), "evil?gnp.exe");
  for (const char32_t cp : {0x061CU, 0x200BU, 0x200CU, 0x200DU, 0x200EU, 0x200FU, 0x2028U, 0x2029U,
                            0x202AU, 0x202BU, 0x202CU, 0x202DU, 0x202EU, 0x2060U, 0x2064U, 0x2066U,
                            0x2067U, 0x2068U, 0x2069U, 0xFEFFU, 0xFFF9U, 0xFFFBU}) {
    std::string in = "a";
    append_utf8(in, cp);
    in += "b";
    EXPECT_EQ(sanitize(in), "a?b") << std::hex << static_cast<unsigned>(cp);
    EXPECT_TRUE(is_unsafe_codepoint(cp));
  }
  // Neighbours that are ordinary text stay.
  EXPECT_EQ(sanitize("\u2010\u2030\u2070\uFFFC"), "\u2010\u2030\u2070\uFFFC");
  EXPECT_FALSE(is_unsafe_codepoint(U'é'));
}

TEST(Sanitize, ExcerptsAreCutAtACharacterBoundary) {
  EXPECT_EQ(sanitize("short", 40), "short");
  EXPECT_EQ(sanitize("abcdefghij", 8), "abcde...");
  EXPECT_EQ(sanitize("日本語日本語", 10), "日本...");  // 3 bytes each: two fit before "..."
  EXPECT_EQ(sanitize("a\x1b[31mb", 40), "a?[31mb");
  EXPECT_LE(sanitize(std::string(1000, 'x'), 40).size(), 40U);
}

TEST(Utf8Step, DecodesAndMeasuresSequences) {
  EXPECT_EQ(utf8_step("a", 0).cp, U'a');
  const Utf8Step e = utf8_step("é", 0);
  EXPECT_TRUE(e.valid);
  EXPECT_EQ(e.cp, U'é');
  EXPECT_EQ(e.len, 2U);
  const Utf8Step bad = utf8_step(
      "\xe2\x82"
      "A",
      0);  // truncated: the maximal subpart
  EXPECT_FALSE(bad.valid);
  EXPECT_EQ(bad.len, 2U);
  std::string round;
  for (const char32_t cp : {U'a', U'é', U'日', U'\U0001F600'}) {
    append_utf8(round, cp);
  }
  EXPECT_EQ(round, "aé日\U0001F600");
}

TEST(PlainText, TrimAndCaseFolding) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(ascii_lower("Ab-Ç"), "ab-Ç");
  EXPECT_TRUE(iequals("Hosts", "hOSTS"));
  EXPECT_FALSE(iequals("Host", "Hosts"));
  EXPECT_TRUE(icontains("www.Example.COM", "example.com"));
  EXPECT_FALSE(icontains("abc", "abd"));
  EXPECT_TRUE(istarts_with("Location: x", "location:"));
  EXPECT_TRUE(iends_with("City.MMDB", ".mmdb"));
  EXPECT_FALSE(iends_with("mmdb", ".mmdb"));
}

TEST(FormatCountShort, OneDecimalAndASuffix) {
  EXPECT_EQ(format_count_short(999), "999");
  EXPECT_EQ(format_count_short(1000), "1.0k");
  EXPECT_EQ(format_count_short(12'345), "12.3k");
  EXPECT_EQ(format_count_short(999'950), "1.0M");
  EXPECT_EQ(format_count_short(1'240'000'000), "1.2G");
}

}  // namespace
}  // namespace flowtop::core
