#include "tui/style_map.hpp"

#include <curses.h>

#include <cstdlib>

namespace flowtop::tui {

StyleLook style_look(render::Style style, bool color) {
  using render::Style;
  const std::uint64_t bold = A_BOLD;
  const std::uint64_t rev = A_REVERSE;
  const std::uint64_t dim = A_DIM;
  const std::uint64_t ul = A_UNDERLINE;
  if (!color) {
    switch (style) {
      case Style::Normal:
      case Style::Status:
      case Style::Overlay:
      case Style::Tab: return {};
      case Style::Title: return {rev | bold};
      case Style::Health: return {bold};
      case Style::Warning: return {bold | ul};
      case Style::TabActive: return {rev | bold};
      case Style::Header: return {rev};
      case Style::HeaderSorted: return {rev | bold | ul};
      case Style::Selected: return {rev | bold};
      case Style::Dim: return {dim};
      case Style::Paused: return {rev | bold};
      case Style::FooterKey: return {bold};
      case Style::Footer: return {rev};
      case Style::Prompt: return {bold};
      case Style::PromptCursor:
      case Style::MenuSelected: return {rev};
      case Style::OverlayTitle: return {rev | bold};
    }
    return {};
  }
  // Bars are reverse video of a foreground colour: the bar's text is the terminal's own
  // background colour, so it reads on dark and light themes alike.
  switch (style) {
    case Style::Normal:
    case Style::Status:
    case Style::Overlay: return {};
    case Style::Title:
    case Style::OverlayTitle: return {rev | bold, COLOR_BLUE};
    case Style::Health: return {bold, COLOR_YELLOW};
    case Style::Warning: return {bold, COLOR_RED};
    case Style::Tab: return {0, COLOR_CYAN};
    case Style::TabActive: return {rev | bold, COLOR_CYAN};
    case Style::Header: return {rev, COLOR_GREEN};
    case Style::HeaderSorted:
    case Style::Selected: return {rev | bold, COLOR_CYAN};
    case Style::Dim: return {dim};
    case Style::Paused: return {rev | bold, COLOR_YELLOW};
    case Style::FooterKey: return {bold};
    case Style::Footer: return {rev, COLOR_CYAN};
    case Style::Prompt: return {bold};
    case Style::PromptCursor: return {rev};
    case Style::MenuSelected: return {rev | bold, COLOR_CYAN};
  }
  return {};
}

bool no_color_requested() {
  const char* v = std::getenv("NO_COLOR");  // NOLINT(concurrency-mt-unsafe): start-up only
  return v != nullptr && v[0] != '\0';
}

}  // namespace flowtop::tui
