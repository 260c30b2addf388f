#include "render/line.hpp"

#include <algorithm>

#include "flowtop/core/text.hpp"

namespace flowtop::render::detail {
namespace {

std::size_t cp_width(const core::Utf8Step& u) {
  return u.valid ? static_cast<std::size_t>(std::max(core::codepoint_width(u.cp), 0)) : 1;
}

}  // namespace

void LineBuilder::push(std::string text, Style style, std::size_t width) {
  if (text.empty()) {
    return;
  }
  used_ += width;
  if (!line_.spans.empty() && line_.spans.back().style == style) {
    line_.spans.back().text += text;
  } else {
    line_.spans.push_back(Span{std::move(text), style});
  }
}

std::size_t LineBuilder::add(std::string_view text, Style style) {
  const std::string clean = core::sanitize(text);
  const std::size_t w = core::display_width(clean);
  if (w <= room()) {
    push(clean, style, w);
    return w;
  }
  std::string cut = core::fit(clean, room(), false, false, ascii_);
  const std::size_t cw = core::display_width(cut);
  push(std::move(cut), style, cw);
  return cw;
}

std::size_t LineBuilder::field(std::string_view text, std::size_t width, Style style,
                               bool align_right) {
  const std::size_t w = std::min(width, room());
  std::string cell = core::fit(core::sanitize(text), w, align_right, true, ascii_);
  push(std::move(cell), style, w);
  return w;
}

void LineBuilder::pad_to(std::size_t col, Style style) {
  col = std::min(col, cols_);
  if (col > used_) {
    push(std::string(col - used_, ' '), style, col - used_);
  }
}

Line LineBuilder::take(Style fill) {
  line_.fill = fill;
  used_ = 0;
  return std::exchange(line_, Line{});
}

std::size_t line_width(const Line& line) {
  std::size_t w = 0;
  for (const Span& s : line.spans) {
    w += core::display_width(s.text);
  }
  return w;
}

Line slice(const Line& line, std::size_t from, std::size_t to) {
  Line out;
  out.fill = line.fill;
  std::size_t col = 0;
  for (const Span& s : line.spans) {
    std::string text;
    for (std::size_t i = 0; i < s.text.size();) {
      const core::Utf8Step u = core::utf8_step(s.text, i);
      const std::size_t w = cp_width(u);
      if (col >= from && col + w <= to) {
        text.append(s.text, i, u.len);
      } else if (w == 2 && col < to && col + w > from) {
        text += ' ';  // half of a wide character
      }
      col += w;
      i += u.len;
    }
    if (!text.empty()) {
      out.spans.push_back(Span{std::move(text), s.style});
    }
  }
  return out;
}

Line overlay(const Line& base, std::size_t col, const Line& top, std::size_t cols) {
  Line out = slice(base, 0, col);
  const std::size_t have = line_width(out);
  if (have < col) {
    out.spans.push_back(Span{std::string(col - have, ' '), base.fill});
  }
  const std::size_t top_end = std::min(cols, col + line_width(top));
  const Line mid = slice(top, 0, top_end - std::min(col, top_end));
  out.spans.insert(out.spans.end(), mid.spans.begin(), mid.spans.end());
  const Line rest = slice(base, top_end, cols);
  out.spans.insert(out.spans.end(), rest.spans.begin(), rest.spans.end());
  return out;
}

void restyle(Line& line, Style style) {
  for (Span& s : line.spans) {
    s.style = style;
  }
  line.fill = style;
}

}  // namespace flowtop::render::detail
