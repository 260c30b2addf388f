#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flowtop/view/command.hpp"

namespace flowtop::render {

/// Semantic styles; tui maps them to colours / attributes (monochrome: bold, reverse, dim).
enum class Style : std::uint8_t {
  Normal,
  Title,         ///< the title bar (whole line)
  Status,        ///< the status line
  Health,        ///< a health line (something limits the data)
  Warning,       ///< a message that needs action (filter error, terminal too small, empty table)
  Tab,           ///< an inactive tab name
  TabActive,     ///< the current tab
  Header,        ///< a column header
  HeaderSorted,  ///< the header of the sort column (with its ▲/▼ indicator)
  Selected,      ///< the selection bar (whole line)
  Dim,           ///< secondary text: `-` unknowns, the source row of `-s`, labels
  Paused,        ///< "PAUSED" in the status line
  FooterKey,     ///< a key in the footer's key bar ("F6")
  Footer,        ///< what it does ("Sort"), and the rest of the bar
  Prompt,        ///< the filter prompt line
  PromptCursor,  ///< the cell under the prompt's cursor
  Overlay,       ///< help / sort menu / detail pane body
  OverlayTitle,  ///< their title lines
  MenuSelected,  ///< the highlighted entry of the sort menu
};

/// A run of text in one style. `text` is sanitised, printable UTF-8.
struct Span {
  std::string text;
  Style style = Style::Normal;

  bool operator==(const Span&) const = default;
};

/// One screen line: spans left to right. Its display width never exceeds the frame's columns;
/// it may be shorter (the rest of the line is blank in `fill` style).
struct Line {
  std::vector<Span> spans;
  Style fill = Style::Normal;  ///< style of the blank rest of the line (Title, Selected...)

  bool operator==(const Line&) const = default;
};

/// A clickable region: a click at (line, col) with col in [col, col + width) means `command`.
struct Hit {
  int line = 0;
  int col = 0;
  int width = 0;
  view::Command command;
};

/// A whole screen, top to bottom: never more lines than the terminal has rows. Pure value.
struct Frame {
  int cols = 0;
  int lines_max = 0;  ///< the terminal's rows the frame was rendered for
  std::vector<Line> lines;
  std::vector<Hit> hits;  ///< tabs, column headers, table rows
  /// Where the terminal cursor goes (the filter prompt), or nullopt to hide it.
  std::optional<std::pair<int, int>> cursor;  ///< (line, col)
};

/// The frame as text: one '\n'-terminated line per frame line, trailing blanks trimmed, styles
/// dropped. For tests, --batch and debugging.
std::string to_plain_text(const Frame& frame);
/// One line of to_plain_text(), appended to `out`.
void append_plain_text(std::string& out, const Line& line);

/// The command of the region under a click, if any.
std::optional<view::Command> hit_test(const Frame& frame, int line, int col);

}  // namespace flowtop::render
