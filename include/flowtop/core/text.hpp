#pragma once

// The one text toolkit: UTF-8 stepping, display width, sanitising of untrusted text, trimming,
// ASCII case folding, and the number formats every output shares. Pure functions; any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace flowtop::core {

// ---- UTF-8 ----

/// One step through UTF-8 text: the code point at a byte offset and how many bytes it takes.
struct Utf8Step {
  char32_t cp = 0xFFFD;  ///< U+FFFD when !valid
  std::size_t len = 1;   ///< bytes consumed: the sequence, or the maximal invalid subpart
  bool valid = false;
};

/// Decodes the code point at byte `i` of `s` (i < s.size()). Strict: overlong forms, surrogates
/// and values above U+10FFFF are invalid. An invalid sequence consumes its maximal subpart
/// (Unicode's "substitution of maximal subparts": one U+FFFD per broken sequence).
Utf8Step utf8_step(std::string_view s, std::size_t i);

/// Appends the UTF-8 encoding of `cp` (a valid scalar value) to `out`.
void append_utf8(std::string& out, char32_t cp);

// ---- display width ----

/// Terminal columns of one code point, as wcwidth() would say in a UTF-8 locale but without
/// depending on the locale: 0 for combining marks, zero-width and format characters; 2 for East
/// Asian wide and fullwidth characters and emoji; -1 for controls (C0, DEL, C1); else 1.
int codepoint_width(char32_t cp);

/// Terminal columns of text (controls count as 0; an invalid sequence as 1, as the U+FFFD that
/// sanitize() puts there).
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

// ---- sanitising ----

/// Whether a code point must never reach a terminal as is: C0 controls (ESC, CR, LF, TAB...),
/// DEL, C1 controls (CSI...), and the invisible format characters that reorder or hide text:
/// bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), marks (U+061C,
/// U+200E, U+200F), zero-width characters (U+200B–U+200D, U+2060–U+2064, U+FEFF), line and
/// paragraph separators (U+2028, U+2029) and interlinear annotations (U+FFF9–U+FFFB).
bool is_unsafe_codepoint(char32_t cp);

/// Untrusted text (DNS names, process names, database and file content) made safe for a
/// terminal: every unsafe code point becomes '?', every invalid UTF-8 sequence U+FFFD. The
/// result is valid UTF-8 with no control, escape, bidi or format character.
std::string sanitize(std::string_view text);

/// sanitize(), cut at a character boundary to at most `max_bytes` bytes (then ending in "..."):
/// for excerpts of long untrusted text in messages.
std::string sanitize(std::string_view text, std::size_t max_bytes);

// ---- plain text ----

/// `s` without leading and trailing blanks (space, tab, CR, LF, vertical tab, form feed).
std::string_view trim(std::string_view s);

/// ASCII lower case ('A'..'Z' only; other bytes, UTF-8 included, are kept).
char ascii_lower(char c);
std::string ascii_lower(std::string_view s);

/// Equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

/// Whether `hay` contains `needle`, ignoring ASCII case.
bool icontains(std::string_view hay, std::string_view needle);

/// Whether `s` starts with `prefix` / ends with `suffix`, ignoring ASCII case.
bool istarts_with(std::string_view s, std::string_view prefix);
bool iends_with(std::string_view s, std::string_view suffix);

// ---- numbers ----

/// Decimal units with one decimal, rounded half up: "0 B" .. "999 B", "1.2 kB", "3.4 MB",
/// "5.0 GB", "1.1 TB" (the unit is chosen after rounding: 999,950 B is "1.0 MB").
std::string format_bytes(std::uint64_t bytes);

/// Bytes per second: "12 B/s", "1.5 kB/s", "3.0 MB/s"; with `bits`: "96 bit/s", "12.0 kbit/s",
/// "Mbit/s", "Gbit/s". Negative or NaN reads as 0. Never cut mid-unit.
std::string format_rate(double bytes_per_s, bool bits);

/// An age or duration in its largest unit: "5s", "3m", "2h", "1d".
std::string format_age(std::uint64_t seconds);

/// "1,204": a count with thousands separators.
std::string format_count(std::uint64_t n);

/// A count with one decimal and a decimal suffix, rounded half up: "999", "1.0k", "12.3k",
/// "3.4M", "1.2G" (at most six columns).
std::string format_count_short(std::uint64_t n);

}  // namespace flowtop::core
