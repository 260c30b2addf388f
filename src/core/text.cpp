#include "flowtop/core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "core/width_tables.hpp"

namespace flowtop::core {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

constexpr std::array<std::string_view, 7> kByteUnits{"B", "kB", "MB", "GB", "TB", "PB", "EB"};
constexpr std::array<std::string_view, 7> kBitUnits{"bit",  "kbit", "Mbit", "Gbit",
                                                    "Tbit", "Pbit", "Ebit"};

template <std::size_t N>
bool in_table(const std::array<detail::Range, N>& table, char32_t cp) {
  const auto it = std::upper_bound(table.begin(), table.end(), cp,
                                   [](char32_t c, const detail::Range& r) { return c < r.first; });
  return it != table.begin() && cp <= std::prev(it)->last;
}

std::size_t step_width(const Utf8Step& u) {
  return u.valid ? static_cast<std::size_t>(std::max(codepoint_width(u.cp), 0)) : 1;
}

// "12.3 kB" from a count of tenths.
std::string tenths_text(std::uint64_t tenths, std::string_view unit, std::string_view suffix) {
  return fmt::format("{}.{} {}{}", tenths / 10, tenths % 10, unit, suffix);
}

// Rounded half up in integers: the unit is chosen after rounding ("999.95k" is "1.0M").
template <class Units>
std::string scaled(std::uint64_t v, const Units& units, std::string_view sep,
                   std::string_view suffix) {
  std::uint64_t step = 100;  // a tenth of the unit
  for (std::size_t u = 1; u < units.size(); ++u, step *= 1000) {
    const std::uint64_t tenths = v / step + (v % step >= step / 2 ? 1 : 0);
    if (tenths < 10000 || u + 1 == units.size()) {
      return fmt::format("{}.{}{}{}{}", tenths / 10, tenths % 10, sep, units[u], suffix);
    }
  }
  return {};  // unreachable
}

}  // namespace

Utf8Step utf8_step(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    return {b0, 1, true};
  }
  std::size_t need = 0;
  char32_t cp = 0;
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
    return {};  // a stray continuation byte, C0/C1 (overlong) or F5..FF
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) {
      return {0xFFFD, k, false};
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < lo || b > hi) {
      return {0xFFFD, k, false};
    }
    cp = (cp << 6U) | (b & 0x3FU);
    lo = 0x80;
    hi = 0xBF;
  }
  return {cp, need + 1, true};
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0U | (cp >> 6U));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0U | (cp >> 12U));
    out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  } else {
    out += static_cast<char>(0xF0U | (cp >> 18U));
    out += static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU));
    out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  }
}

int codepoint_width(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
    return -1;
  }
  if (cp < 0x300) {
    return 1;  // Latin: the common case, without a table search
  }
  if (in_table(detail::kZeroWidth, cp)) {
    return 0;
  }
  return in_table(detail::kWide, cp) ? 2 : 1;
}

namespace {
// Printable ASCII: one column, safe as it is (the text toolkit's common case, taken first).
bool printable_ascii(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b >= 0x20 && b < 0x7F;
}
}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (printable_ascii(text[i])) {
      ++width;
      ++i;
      continue;
    }
    const Utf8Step u = utf8_step(text, i);
    i += u.len;
    width += step_width(u);
  }
  return width;
}

std::string_view truncate_to_width(std::string_view text, std::size_t width) {
  std::size_t used = 0;
  std::size_t end = 0;
  for (std::size_t i = 0; i < text.size();) {
    const Utf8Step u = utf8_step(text, i);
    const std::size_t w = step_width(u);
    if (used + w > width) {
      break;
    }
    used += w;
    i += u.len;
    end = i;  // zero-width marks after the last kept character stay with it
  }
  return text.substr(0, end);
}

std::string fit(std::string_view text, std::size_t width, bool align_right, bool pad, bool ascii) {
  std::string_view kept = text;
  std::string_view mark;
  std::size_t used = display_width(text);
  if (used > width) {  // cut, with a mark of one column, in what room there is
    kept = {};
    used = 0;
    if (width > 0) {
      kept = truncate_to_width(text, width - 1);
      mark = ascii ? "~" : "…";
      used = display_width(kept) + 1;
    }
  }
  const std::size_t fill = pad && width > used ? width - used : 0;
  std::string out;
  out.reserve(kept.size() + mark.size() + fill);
  if (align_right) {
    out.append(fill, ' ');
  }
  out.append(kept);
  out.append(mark);
  if (!align_right) {
    out.append(fill, ' ');
  }
  return out;
}

bool is_unsafe_codepoint(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
    return true;  // C0 (ESC, CR, LF, TAB...), DEL, C1 (CSI, OSC...)
  }
  if (cp < 0x61C) {
    return false;
  }
  return cp == 0x061C ||                    // Arabic letter mark
         (cp >= 0x200B && cp <= 0x200F) ||  // zero-width space/non-joiner/joiner, LRM, RLM
         (cp >= 0x2028 && cp <= 0x202E) ||  // line/paragraph separators, LRE RLE PDF LRO RLO
         (cp >= 0x2060 && cp <= 0x2064) ||  // word joiner, invisible operators
         (cp >= 0x2066 && cp <= 0x2069) ||  // LRI RLI FSI PDI
         cp == 0xFEFF ||                    // zero-width no-break space (BOM)
         (cp >= 0xFFF9 && cp <= 0xFFFB);    // interlinear annotation
}

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t run = i;  // printable ASCII, the common case, is copied a run at a time
    while (run < text.size() && printable_ascii(text[run])) {
      ++run;
    }
    if (run > i) {
      out.append(text.substr(i, run - i));
      i = run;
      continue;
    }
    const Utf8Step u = utf8_step(text, i);
    if (!u.valid) {
      out += kReplacement;
    } else if (is_unsafe_codepoint(u.cp)) {
      out += '?';
    } else {
      out.append(text.substr(i, u.len));
    }
    i += u.len;
  }
  return out;
}

std::string sanitize(std::string_view text, std::size_t max_bytes) {
  std::string clean = sanitize(text);
  if (clean.size() <= max_bytes) {
    return clean;
  }
  constexpr std::string_view kMore = "...";
  std::size_t end = 0;
  const std::size_t room = max_bytes > kMore.size() ? max_bytes - kMore.size() : 0;
  for (std::size_t i = 0; i < clean.size();) {
    const std::size_t len = utf8_step(clean, i).len;  // valid: sanitize() made it so
    if (i + len > room) {
      break;
    }
    i += len;
    end = i;
  }
  clean.resize(end);
  clean += kMore;
  return clean;
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kBlanks = " \t\r\n\v\f";
  const std::size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string_view::npos) {
    return {};
  }
  return s.substr(b, s.find_last_not_of(kBlanks) - b + 1);
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool icontains(std::string_view hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                     [](char h, char n) { return ascii_lower(h) == ascii_lower(n); }) != hay.end();
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1000) {
    return fmt::format("{} B", bytes);
  }
  return scaled(bytes, kByteUnits, " ", "");
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

std::string format_count(std::uint64_t n) {
  const std::string digits = std::to_string(n);
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

std::string format_count_short(std::uint64_t n) {
  if (n < 1000) {
    return std::to_string(n);
  }
  static constexpr std::array<std::string_view, 7> kSuffix{"", "k", "M", "G", "T", "P", "E"};
  return scaled(n, kSuffix, "", "");
}

}  // namespace flowtop::core
