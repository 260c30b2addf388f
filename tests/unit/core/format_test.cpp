#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "flowtop/core/text.hpp"

namespace flowtop::core {
namespace {

TEST(FormatBytes, BelowAThousandIsWholeBytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1), "1 B");
  EXPECT_EQ(format_bytes(999), "999 B");
}

TEST(FormatBytes, DecimalUnitsWithOneDecimal) {
  EXPECT_EQ(format_bytes(1000), "1.0 kB");
  EXPECT_EQ(format_bytes(1049), "1.0 kB");
  EXPECT_EQ(format_bytes(1050), "1.1 kB");  // half rounds up
  EXPECT_EQ(format_bytes(1234), "1.2 kB");
  EXPECT_EQ(format_bytes(999'900), "999.9 kB");
  EXPECT_EQ(format_bytes(999'949), "999.9 kB");
  EXPECT_EQ(format_bytes(3'400'000), "3.4 MB");
  EXPECT_EQ(format_bytes(5'000'000'000), "5.0 GB");
  EXPECT_EQ(format_bytes(1'100'000'000'000), "1.1 TB");
}

TEST(FormatBytes, RoundingNeverShowsAThousandOfAUnit) {
  EXPECT_EQ(format_bytes(999'950), "1.0 MB");
  EXPECT_EQ(format_bytes(999'999), "1.0 MB");
  EXPECT_EQ(format_bytes(1'000'000), "1.0 MB");
  EXPECT_EQ(format_bytes(999'950'000), "1.0 GB");
  EXPECT_EQ(format_bytes(999'949'999), "999.9 MB");
}

TEST(FormatBytes, HugeValuesStayShort) {
  EXPECT_EQ(format_bytes(1'500'000'000'000'000), "1.5 PB");
  EXPECT_EQ(format_bytes(std::numeric_limits<std::uint64_t>::max()), "18.4 EB");
  // Every value's number part stays below 1000 with one decimal: at most "999.9 XB".
  for (std::uint64_t v = 1; v < std::numeric_limits<std::uint64_t>::max() / 3; v = v * 3 + 1) {
    EXPECT_LE(format_bytes(v).size(), 8U) << v;
  }
}

TEST(FormatRate, BytesPerSecond) {
  EXPECT_EQ(format_rate(0, false), "0 B/s");
  EXPECT_EQ(format_rate(12, false), "12 B/s");
  EXPECT_EQ(format_rate(12.4, false), "12 B/s");
  EXPECT_EQ(format_rate(999.4, false), "999 B/s");
  EXPECT_EQ(format_rate(999.5, false), "1.0 kB/s");
  EXPECT_EQ(format_rate(1500, false), "1.5 kB/s");
  EXPECT_EQ(format_rate(999'949, false), "999.9 kB/s");
  EXPECT_EQ(format_rate(999'950, false), "1.0 MB/s");
  EXPECT_EQ(format_rate(3e6, false), "3.0 MB/s");
  EXPECT_EQ(format_rate(2.5e9, false), "2.5 GB/s");
}

TEST(FormatRate, BitsPerSecond) {
  EXPECT_EQ(format_rate(12, true), "96 bit/s");
  EXPECT_EQ(format_rate(124, true), "992 bit/s");
  EXPECT_EQ(format_rate(125, true), "1.0 kbit/s");
  EXPECT_EQ(format_rate(1500, true), "12.0 kbit/s");
  EXPECT_EQ(format_rate(125'000, true), "1.0 Mbit/s");
  EXPECT_EQ(format_rate(125e6, true), "1.0 Gbit/s");
  EXPECT_EQ(format_rate(0, true), "0 bit/s");
}

TEST(FormatRate, NonsenseInputIsClamped) {
  EXPECT_EQ(format_rate(-5, false), "0 B/s");
  EXPECT_EQ(format_rate(std::nan(""), true), "0 bit/s");
  const std::string inf = format_rate(std::numeric_limits<double>::infinity(), false);
  EXPECT_TRUE(inf.ends_with(" EB/s")) << inf;
  EXPECT_LE(inf.size(), 10U) << inf;
}

TEST(FormatAge, LargestUnitRoundedDown) {
  EXPECT_EQ(format_age(0), "0s");
  EXPECT_EQ(format_age(5), "5s");
  EXPECT_EQ(format_age(59), "59s");
  EXPECT_EQ(format_age(60), "1m");
  EXPECT_EQ(format_age(3 * 60 + 59), "3m");
  EXPECT_EQ(format_age(3599), "59m");
  EXPECT_EQ(format_age(3600), "1h");
  EXPECT_EQ(format_age(2 * 3600 + 3599), "2h");
  EXPECT_EQ(format_age(86'399), "23h");
  EXPECT_EQ(format_age(86'400), "1d");
  EXPECT_EQ(format_age(400 * 86'400 + 5), "400d");
}

TEST(Sanitize, PlainTextIsUnchanged) {
  EXPECT_EQ(sanitize(""), "");
  EXPECT_EQ(sanitize("example.com"), "example.com");
  EXPECT_EQ(sanitize("a b~!"), "a b~!");
}

TEST(Sanitize, EscapeSequencesCannotReachTheTerminal) {
  EXPECT_EQ(sanitize("\x1b[2J\x1b[31mred"), "?[2J?[31mred");
  EXPECT_EQ(sanitize("\x1b]0;title\x07"), "?]0;title?");  // OSC ending in BEL
  EXPECT_EQ(sanitize("a\tb\nc\rd"), "a?b?c?d");
  EXPECT_EQ(sanitize(std::string_view("x\0y", 3)), "x?y");
  EXPECT_EQ(sanitize("\x7f"), "?");
}

TEST(Sanitize, C1ControlsBecomeQuestionMarks) {
  EXPECT_EQ(sanitize("\xc2\x9b"
                     "31m"),
            "?31m");  // U+009B CSI
  EXPECT_EQ(sanitize("\xc2\x80\xc2\x9f"), "??");
  EXPECT_EQ(sanitize("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is not a control
}

TEST(Sanitize, ValidMultibyteAndWideCharactersPass) {
  EXPECT_EQ(sanitize("Zürich"), "Zürich");
  EXPECT_EQ(sanitize("東京.example"), "東京.example");
  EXPECT_EQ(sanitize("ok \xf0\x9f\x98\x80"), "ok \xf0\x9f\x98\x80");  // U+1F600
  EXPECT_EQ(sanitize("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");        // U+10FFFF
}

TEST(Sanitize, InvalidUtf8BecomesReplacementCharacters) {
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(sanitize("\xff"), r);
  EXPECT_EQ(sanitize("a\x80z"), "a" + r + "z");            // stray continuation byte
  EXPECT_EQ(sanitize("\xc0\xaf"), r + r);                  // overlong '/'
  EXPECT_EQ(sanitize("\xe0\x80\xaf"), r + r + r);          // overlong 3-byte form
  EXPECT_EQ(sanitize("\xed\xa0\x80"), r + r + r);          // UTF-16 surrogate
  EXPECT_EQ(sanitize("\xf4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(sanitize("\xe2\x82"
                     "A"),
            r + "A");                  // truncated, then ASCII
  EXPECT_EQ(sanitize("\xe2\x82"), r);  // truncated at the end
  EXPECT_EQ(sanitize("\xf0\x9f\x98"), r);
  EXPECT_EQ(sanitize("\xe2\x82\x1b"), r + "?");  // truncation cannot hide an ESC
}

// Whatever the input, the output is valid UTF-8 without controls.
TEST(Sanitize, OutputIsAlwaysCleanForAllTwoByteInputs) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char in[2] = {static_cast<char>(a), static_cast<char>(b)};
      const std::string out = sanitize(std::string_view(in, 2));
      for (unsigned char c : out) {
        ASSERT_TRUE(c >= 0x20 && c != 0x7f) << a << "," << b;
      }
      ASSERT_EQ(sanitize(out), out) << a << "," << b;  // idempotent: the output is valid
      ASSERT_EQ(out.find("\xc2\x80"), std::string::npos);
      ASSERT_EQ(out.find("\xc2\x9b"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace flowtop::core
