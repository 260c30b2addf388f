#pragma once

// Building screen lines that never overflow (private to src/render).

#include <cstddef>
#include <string>
#include <string_view>

#include "flowtop/render/frame.hpp"

namespace flowtop::render::detail {

/// Appends spans to one line of at most `cols` columns. Every text is sanitised on the way in,
/// so nothing untrusted can reach a terminal through a Line built here.
class LineBuilder {
 public:
  explicit LineBuilder(std::size_t cols, bool ascii = false) : cols_(cols), ascii_(ascii) {}

  /// Appends `text`, cut to the room left (with "…" when cut). Returns the columns used.
  std::size_t add(std::string_view text, Style style);
  /// Appends `text` in a field of exactly min(width, room left) columns: cut with "…" or padded.
  std::size_t field(std::string_view text, std::size_t width, Style style,
                    bool align_right = false);
  /// Appends blanks up to column `col` (no-op when already there).
  void pad_to(std::size_t col, Style style);
  [[nodiscard]] std::size_t col() const { return used_; }
  [[nodiscard]] std::size_t room() const { return cols_ - used_; }
  /// The line; `fill` styles the blank rest of it.
  Line take(Style fill = Style::Normal);

 private:
  void push(std::string text, Style style, std::size_t width);

  std::size_t cols_;
  bool ascii_;
  std::size_t used_ = 0;
  Line line_;
};

/// Display width of a whole line.
std::size_t line_width(const Line& line);

/// Columns [from, to) of `line` (a wide character cut in half becomes a blank).
Line slice(const Line& line, std::size_t from, std::size_t to);

/// `top` drawn over `base` at column `col`; the result is at most `cols` wide.
Line overlay(const Line& base, std::size_t col, const Line& top, std::size_t cols);

/// Sets every span of the line (and its fill) to `style`.
void restyle(Line& line, Style style);

}  // namespace flowtop::render::detail
