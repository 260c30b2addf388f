#include "flowtop/render/frame.hpp"

namespace flowtop::render {

std::string to_plain_text(const Frame& frame) {
  std::string out;
  for (const Line& line : frame.lines) {
    std::string text;
    for (const Span& s : line.spans) {
      text += s.text;
    }
    text.erase(text.find_last_not_of(' ') + 1);
    out += text;
    out += '\n';
  }
  return out;
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
