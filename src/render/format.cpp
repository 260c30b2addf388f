#include "flowtop/render/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

namespace flowtop::render {
namespace {

constexpr std::array<std::string_view, 7> kByteUnits{"B", "kB", "MB", "GB", "TB", "PB", "EB"};
constexpr std::array<std::string_view, 7> kBitUnits{"bit",  "kbit", "Mbit", "Gbit",
                                                    "Tbit", "Pbit", "Ebit"};
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// "12.3 kB" from a count of tenths.
std::string tenths_text(std::uint64_t tenths, std::string_view unit, std::string_view suffix) {
  return fmt::format("{}.{} {}{}", tenths / 10, tenths % 10, unit, suffix);
}

// One UTF-8 sequence at the start of `s`: its code point, or -1 with the length of the maximal
// invalid subpart (Unicode's "substitution of maximal subparts": one U+FFFD per broken sequence).
struct Decoded {
  std::int32_t cp;
  std::size_t len;
};

Decoded decode(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  std::size_t need = 0;
  std::uint32_t cp = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1FU;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0FU;
    lo = b0 == 0xE0 ? 0xA0 : lo;  // no overlong forms
    hi = b0 == 0xED ? 0x9F : hi;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07U;
    lo = b0 == 0xF0 ? 0x90 : lo;  // no overlong forms
    hi = b0 == 0xF4 ? 0x8F : hi;  // nothing above U+10FFFF
  } else {
    return {-1, 1};  // a stray continuation byte, C0/C1 (overlong) or F5..FF
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (k >= s.size()) {
      return {-1, k};
    }
    const auto b = static_cast<unsigned char>(s[k]);
    if (b < lo || b > hi) {
      return {-1, k};
    }
    cp = (cp << 6) | (b & 0x3FU);
    lo = 0x80;
    hi = 0xBF;
  }
  return {static_cast<std::int32_t>(cp), need + 1};
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1000) {
    return fmt::format("{} B", bytes);
  }
  std::uint64_t step = 100;  // a tenth of the unit, in bytes
  for (std::size_t u = 1; u < kByteUnits.size(); ++u, step *= 1000) {
    // Rounded half up in integers: the unit is chosen after rounding, so 999,950 B is "1.0 MB".
    const std::uint64_t tenths = bytes / step + (bytes % step >= step / 2 ? 1 : 0);
    if (tenths < 10000 || u + 1 == kByteUnits.size()) {
      return tenths_text(tenths, kByteUnits[u], "");
    }
  }
  return {};  // unreachable
}

std::string format_rate(double bytes_per_s, bool bits) {
  const auto& units = bits ? kBitUnits : kByteUnits;
  double value = bits ? bytes_per_s * 8 : bytes_per_s;
  if (!(value >= 0)) {
    value = 0;  // negative or NaN: nothing sensible to show
  }
  value = std::min(value, 9.9994e20);  // below 1000 of the largest unit (and no infinity)
  const double whole = std::round(value);
  if (whole < 1000) {
    return fmt::format("{} {}/s", static_cast<std::uint64_t>(whole), units[0]);
  }
  double step = 100;  // powers of ten are exact doubles, so x / step rounds like the integer path
  for (std::size_t u = 1; u < units.size(); ++u, step *= 1000) {
    const double tenths = std::round(value / step);
    if (tenths < 10000 || u + 1 == units.size()) {
      return tenths_text(static_cast<std::uint64_t>(tenths), units[u], "/s");
    }
  }
  return {};  // unreachable
}

std::string format_age(std::uint64_t seconds) {
  constexpr std::uint64_t kMinute = 60;
  constexpr std::uint64_t kHour = 60 * kMinute;
  constexpr std::uint64_t kDay = 24 * kHour;
  if (seconds < kMinute) {
    return fmt::format("{}s", seconds);
  }
  if (seconds < kHour) {
    return fmt::format("{}m", seconds / kMinute);
  }
  if (seconds < kDay) {
    return fmt::format("{}h", seconds / kHour);
  }
  return fmt::format("{}d", seconds / kDay);
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += (c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c);  // C0 controls, ESC, DEL
      ++i;
      continue;
    }
    const Decoded d = decode(text.substr(i));
    if (d.cp < 0) {
      out += kReplacement;
    } else if (d.cp <= 0x9F) {
      out += '?';  // C1 controls (U+0080..U+009F): CSI and friends
    } else {
      out += text.substr(i, d.len);
    }
    i += d.len;
  }
  return out;
}

std::string format_count(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

std::string bytes_cell(bool known, std::uint64_t bytes) {
  if (!known) {
    return "-";
  }
  return bytes == 0 ? std::string() : format_bytes(bytes);
}

std::string rate_cell(bool known, double bytes_per_s, bool bits) {
  if (!known) {
    return "-";
  }
  std::string s = format_rate(bytes_per_s, bits);
  return s.starts_with("0 ") ? std::string() : s;  // rounds to nothing: blank, as a zero
}

std::string packets_cell(bool known, std::uint64_t packets) {
  if (!known) {
    return "-";
  }
  if (packets == 0) {
    return {};
  }
  if (packets < 10000) {
    return std::to_string(packets);
  }
  constexpr std::array<std::string_view, 6> kSuffix{"k", "M", "G", "T", "P", "E"};
  std::uint64_t step = 100;  // a tenth of the unit
  for (std::size_t u = 0; u < kSuffix.size(); ++u, step *= 1000) {
    const std::uint64_t tenths = packets / step + (packets % step >= step / 2 ? 1 : 0);
    if (tenths < 10000 || u + 1 == kSuffix.size()) {
      return fmt::format("{}.{}{}", tenths / 10, tenths % 10, kSuffix[u]);
    }
  }
  return {};  // unreachable
}

std::string count_cell(std::uint64_t n) {
  return n < 100'000 ? format_count(n) : packets_cell(true, n);
}

}  // namespace flowtop::render
