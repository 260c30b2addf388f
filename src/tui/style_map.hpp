#pragma once

#include <cstdint>

#include "flowtop/render/frame.hpp"

namespace flowtop::tui {

/// How a semantic style looks: curses attribute bits (A_BOLD...) and, with colours, a foreground
/// colour (COLOR_*; -1 = the terminal's default) drawn on the default background.
struct StyleLook {
  std::uint64_t attrs = 0;
  short fg = -1;
};

/// The look of `style` with or without colours. Monochrome uses only bold, reverse, dim and
/// underline, so every distinction survives on a terminal without colours (or with NO_COLOR).
/// Pure.
StyleLook style_look(render::Style style, bool color);

/// Number of render::Style values (colour pair i + 1 is style i).
inline constexpr int kStyleCount = static_cast<int>(render::Style::MenuSelected) + 1;

/// Whether NO_COLOR (https://no-color.org) asks for no colours: set and non-empty.
bool no_color_requested();

}  // namespace flowtop::tui
