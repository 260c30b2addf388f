#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace flowtop::render {

/// Terminal columns of one code point, as wcwidth() would say in a UTF-8 locale but without
/// depending on the locale: 0 for combining marks, zero-width and format characters; 2 for East
/// Asian wide and fullwidth characters and emoji; -1 for controls (C0, DEL, C1); else 1.
int codepoint_width(char32_t cp);

/// Terminal columns of sanitised UTF-8 text (controls count as 0; invalid bytes as 1, as the
/// U+FFFD sanitize() would put there).
std::size_t display_width(std::string_view text);

/// The longest prefix of `text` that fits in `width` columns; never splits a code point or a
/// wide character (a wide character that would straddle the edge is left out), and keeps the
/// combining marks that follow the last kept character.
std::string_view truncate_to_width(std::string_view text, std::size_t width);

/// `text` cut to `width` columns with "…" (or "~" when `ascii`) as the last column when something
/// was cut; exactly `width` columns when `pad`, padded on the right (or the left when
/// `align_right`).
std::string fit(std::string_view text, std::size_t width, bool align_right = false, bool pad = true,
                bool ascii = false);

}  // namespace flowtop::render
