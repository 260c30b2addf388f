#include "flowtop/render/frame.hpp"

namespace flowtop::render {

std::string to_plain_text(const Frame& frame) {
  std::string out;
  for (const Line& line : frame.lines) {
    append_plain_text(out, line);
  }
  return out;
}

void append_plain_text(std::string& out, const Line& line) {
  const std::size_t start = out.size();
  for (const Span& s : line.spans) {
    out += s.text;
  }
  // Trailing blanks trimmed (never into text appended before this line).
  const std::size_t last = out.find_last_not_of(' ');
  out.resize(last == std::string::npos || last < start ? start : last + 1);
  out += '\n';
}

std::optional<view::Command> hit_test(const Frame& frame, int line, int col) {
  for (const Hit& h : frame.hits) {
    if (h.line == line && col >= h.col && col < h.col + h.width) {
      return h.command;
    }
  }
  return std::nullopt;
}

}  // namespace flowtop::render
