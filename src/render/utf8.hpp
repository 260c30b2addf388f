#pragma once

// A lenient UTF-8 step for measuring text (private to src/render).

#include <cstddef>
#include <string_view>

namespace flowtop::render::detail {

struct Utf8 {
  char32_t cp = 0;
  std::size_t len = 1;
  bool valid = false;  ///< false: one invalid byte (len 1)
};

/// The code point at byte `i` of `s` (i < s.size()).
inline Utf8 next_utf8(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    return {b0, 1, true};
  }
  std::size_t need = 0;
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1FU;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0FU;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07U;
  } else {
    return {};
  }
  if (i + need >= s.size()) {
    return {};
  }
  for (std::size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0U) != 0x80U) {
      return {};
    }
    cp = (cp << 6) | (b & 0x3FU);
  }
  const bool overlong = (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {};
  }
  return {cp, need + 1, true};
}

}  // namespace flowtop::render::detail
