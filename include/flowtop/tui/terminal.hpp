#pragma once

#include <memory>
#include <stdexcept>
#include <vector>

#include "flowtop/render/frame.hpp"
#include "flowtop/render/render.hpp"
#include "flowtop/view/command.hpp"

namespace flowtop::tui {

/// The terminal cannot be used for the screen (not a terminal, unknown TERM). The message is one
/// line a user understands.
class TerminalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TerminalOptions {
  bool color = true;  ///< false: monochrome attributes only (NO_COLOR is also honoured)
  bool mouse = true;  ///< wheel and clicks
};

/// Whether stdin and stdout are a terminal; otherwise `why` says what to do instead.
bool have_terminal(std::string* why = nullptr);

/// The ncurses screen, RAII: the constructor enters curses mode (cbreak, noecho, keypad, no
/// input wait, hidden cursor, mouse, colours on the default background), the destructor leaves it
/// (endwin). On a fatal signal a registered emergency action writes the terminal's reset
/// sequences and restores the saved tty modes with async-signal-safe calls only. Not copyable;
/// owned by the UI thread, which alone may call it.
class Terminal {
 public:
  /// Throws TerminalError when stdin/stdout are not a terminal or TERM is unusable.
  explicit Terminal(const TerminalOptions& options = {});
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  /// The current size in cells.
  [[nodiscard]] render::Size size() const;
  /// Whether the locale is UTF-8 (otherwise render in ASCII: RenderOptions::ascii).
  [[nodiscard]] bool utf8() const;
  /// Whether styles map to colours (false: bold / reverse / dim only).
  [[nodiscard]] bool color() const;
  /// The descriptor to poll for input (stdin).
  [[nodiscard]] int input_fd() const;

  /// Reads every input event available now without waiting (beyond ncurses' short ESC delay).
  std::vector<view::Input> read_input();

  /// Draws `frame`: only the cells that changed reach the terminal, unless a full redraw was
  /// requested (redraw_all(), resize(), resume) since the last paint.
  void paint(const render::Frame& frame);
  /// The next paint() rewrites every cell (Ctrl-L, SIGCONT).
  void redraw_all();
  /// Adopts the tty's current size (TIOCGWINSZ), after SIGWINCH; the next paint is full.
  void resize();
  /// Ctrl-Z: restores the terminal, stops the process (SIGTSTP's default action), and on SIGCONT
  /// re-enters curses mode at the tty's current size; the next paint is full.
  void suspend();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::tui
