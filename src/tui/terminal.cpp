#include "flowtop/tui/terminal.hpp"

#include <curses.h>
#include <fmt/format.h>
#include <langinfo.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <clocale>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "flowtop/core/text.hpp"
#include "flowtop/sys/signals.hpp"
#include "tui/key_decoder.hpp"
#include "tui/style_map.hpp"

namespace flowtop::tui {
namespace {

// ncurses waits this long after Esc for the rest of a key sequence (default 1 s).
constexpr int kEscDelayMs = 25;

// tigetstr()'s "not a string capability" value, (char *)-1.
const char* const kNotAString =
    reinterpret_cast<const char*>(-1);  // NOLINT(performance-no-int-to-ptr)

// Appends a terminfo string capability (if the terminal has it) to the reset buffer.
void append_cap(std::string& out, const char* name) {
  const char* cap = tigetstr(name);
  if (cap != nullptr && cap != kNotAString) {
    out += cap;
  }
}

// Whether the current terminal can address the cursor (cup): "dumb", "unknown" and the like
// cannot draw a screen.
bool can_address_cursor() {
  const char* cup = tigetstr("cup");
  return cup != nullptr && cup != kNotAString;
}

}  // namespace

bool have_terminal(std::string* why) {
  if (isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0) {
    return true;
  }
  if (why != nullptr) {
    *why = "flowtop: the screen needs a terminal; use --batch or --json";
  }
  return false;
}

struct Terminal::Impl {
  SCREEN* screen = nullptr;
  termios saved{};
  bool saved_ok = false;
  bool utf8 = false;
  bool color = false;
  bool cursor_visible = false;
  bool full_redraw = true;
  KeyDecoder decoder;
  // What the emergency action writes: the terminal's own reset sequences, computed while it was
  // safe to call terminfo. Read from a signal handler: fixed storage, no allocation.
  std::array<char, 512> reset{};
  std::size_t reset_len = 0;
  std::atomic<bool> active{false};
  std::array<std::uint64_t, kStyleCount> attrs{};  // per style: curses attributes incl. pair

  static void emergency(void* ctx) noexcept {
    auto* self = static_cast<Impl*>(ctx);
    if (!self->active.load(std::memory_order_acquire)) {
      return;
    }
    std::size_t off = 0;
    while (off < self->reset_len) {
      const ssize_t n = ::write(STDOUT_FILENO, self->reset.data() + off, self->reset_len - off);
      if (n <= 0) {
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    if (self->saved_ok) {
      ::tcsetattr(STDIN_FILENO, TCSANOW, &self->saved);
    }
  }

  void set_style(render::Style style) const {
    const std::uint64_t a = attrs[static_cast<std::size_t>(style)];
    wattrset(stdscr, static_cast<int>(a));
  }

  // Draws `text` from column `x` of line `y`, never past `limit`; returns the column after it.
  // Positions follow the one width table (core::codepoint_width), so one odd character cannot
  // shift the rest of the line.
  [[nodiscard]] int draw_text(int y, int x, std::string_view text, int limit) const {
    std::wstring buf;
    buf.reserve(text.size());
    int col = x;
    std::size_t i = 0;
    while (i < text.size()) {
      const core::Utf8Step step = core::utf8_step(text, i);
      i += step.len;
      const char32_t cp = step.cp;  // U+FFFD for an invalid sequence
      const int w = core::codepoint_width(cp);
      if (w < 0 ||
          core::is_unsafe_codepoint(
              cp)) {  // a control character: render sanitises, so only as a last line of defence
        if (col + 1 > limit) {
          break;
        }
        buf.push_back(L'?');
        col += 1;
        continue;
      }
      if (col + w > limit) {
        break;
      }
      if (!utf8 && cp >= 0x80) {
        buf.append(static_cast<std::size_t>(w), L'?');  // keeps the columns render planned
      } else if (w == 0 && buf.empty() && col == x) {
        // A combining mark with nothing before it in this span: drop it.
      } else {
        buf.push_back(static_cast<wchar_t>(cp));
      }
      col += w;
    }
    if (!buf.empty()) {
      mvwaddnwstr(stdscr, y, x, buf.c_str(), static_cast<int>(buf.size()));
    }
    return col;
  }
};

Terminal::Terminal(const TerminalOptions& options) : impl_(std::make_unique<Impl>()) {
  std::string why;
  if (!have_terminal(&why)) {
    throw TerminalError(why);
  }
  // ncursesw takes the character encoding from LC_CTYPE; LC_NUMERIC and the rest stay "C" so
  // number formatting elsewhere is unaffected.
  // Called before curses starts; other threads do not depend on LC_CTYPE.
  std::setlocale(LC_CTYPE, "");                                   // NOLINT(concurrency-mt-unsafe)
  impl_->utf8 = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;  // NOLINT(concurrency-mt-unsafe)
  impl_->saved_ok = ::tcgetattr(STDIN_FILENO, &impl_->saved) == 0;

  const char* term = std::getenv("TERM");  // NOLINT(concurrency-mt-unsafe)
  if (term == nullptr || term[0] == '\0') {
    throw TerminalError(
        "flowtop: TERM is not set: set it to your terminal type (e.g. "
        "TERM=xterm-256color), or use --batch");
  }
  impl_->screen = newterm(nullptr, stdout, stdin);
  if (impl_->screen == nullptr) {
    throw TerminalError(fmt::format(
        "flowtop: the terminal type '{}' (TERM) is unknown here: set TERM to a type in the "
        "terminfo database (e.g. xterm-256color), or use --batch",
        core::sanitize(term)));
  }
  set_term(impl_->screen);
  // Nothing has been drawn yet: a terminal that cannot move the cursor is given back at once.
  if (!can_address_cursor()) {
    endwin();
    delscreen(std::exchange(impl_->screen, nullptr));
    throw TerminalError(fmt::format(
        "flowtop: the terminal type '{}' (TERM) cannot move the cursor: set TERM to a type in the "
        "terminfo database (e.g. xterm-256color), or use --batch",
        core::sanitize(term)));
  }
  set_escdelay(kEscDelayMs);
  cbreak();
  noecho();
  nonl();
  intrflush(stdscr, FALSE);
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  leaveok(stdscr, TRUE);
  curs_set(0);

  impl_->color = options.color && !no_color_requested() && has_colors();
  short bg = -1;
  if (impl_->color) {
    start_color();
    if (use_default_colors() != OK) {
      bg = COLOR_BLACK;
    }
  }
  for (int s = 0; s < kStyleCount; ++s) {
    const StyleLook look = style_look(static_cast<render::Style>(s), impl_->color);
    std::uint64_t a = look.attrs;
    if (impl_->color && look.fg >= 0 && s + 1 < COLOR_PAIRS) {
      init_pair(static_cast<short>(s + 1), look.fg, bg);
      a |= static_cast<std::uint64_t>(COLOR_PAIR(s + 1));
    }
    impl_->attrs[static_cast<std::size_t>(s)] = a;
  }
  if (options.mouse) {
    mousemask(static_cast<mmask_t>(wanted_mouse_events()), nullptr);
    mouseinterval(0);  // report presses at once: no waiting to tell a click from a double click
  }

  // The emergency reset: leave the alternate screen, show the cursor, plain attributes, keypad
  // off, mouse reporting off (xterm protocols, when the terminal reports a mouse).
  std::string reset;
  append_cap(reset, "rmcup");
  append_cap(reset, "sgr0");
  append_cap(reset, "cnorm");
  append_cap(reset, "rmkx");
  const char* kmous = tigetstr("kmous");
  if (options.mouse && kmous != nullptr && kmous != kNotAString) {
    reset += "\033[?1000l\033[?1002l\033[?1006l";
  }
  impl_->reset_len = std::min(reset.size(), impl_->reset.size());
  std::memcpy(impl_->reset.data(), reset.data(), impl_->reset_len);
  impl_->active.store(true, std::memory_order_release);
  sys::install_fatal_signal_handlers();
  sys::register_emergency_action(&Impl::emergency, impl_.get());
}

Terminal::~Terminal() {
  sys::unregister_emergency_action(&Impl::emergency, impl_.get());
  if (impl_->screen != nullptr) {
    curs_set(1);
    endwin();
    impl_->active.store(false, std::memory_order_release);
    delscreen(impl_->screen);
  }
}

render::Size Terminal::size() const {  // NOLINT(readability-convert-member-functions-to-static)
  int lines = 0;
  int cols = 0;
  getmaxyx(stdscr, lines, cols);
  return {cols, lines};
}

bool Terminal::utf8() const {
  return impl_->utf8;
}

bool Terminal::color() const {
  return impl_->color;
}

int Terminal::input_fd() const {  // NOLINT(readability-convert-member-functions-to-static)
  return STDIN_FILENO;
}

std::vector<view::Input> Terminal::read_input() {
  std::vector<view::Input> out;
  for (;;) {
    wint_t ch = 0;
    const int r = wget_wch(stdscr, &ch);
    if (r == ERR) {
      break;
    }
    RawKey raw;
    if (r == KEY_CODE_YES) {
      if (ch == KEY_MOUSE) {
        MEVENT ev{};
        if (getmouse(&ev) != OK) {
          continue;
        }
        raw = RawKey{RawKey::Type::Mouse, static_cast<std::uint32_t>(ev.bstate), ev.y, ev.x};
      } else {
        raw = RawKey{RawKey::Type::Function, static_cast<std::uint32_t>(ch)};
      }
    } else {
      raw = RawKey{RawKey::Type::Char, static_cast<std::uint32_t>(ch)};
    }
    if (auto in = impl_->decoder.feed(raw)) {
      out.push_back(*in);
    }
  }
  if (auto in = impl_->decoder.flush()) {
    out.push_back(*in);
  }
  return out;
}

void Terminal::paint(const render::Frame& frame) {
  const render::Size sz = size();
  if (impl_->full_redraw) {
    clearok(curscr, TRUE);
    impl_->full_redraw = false;
  }
  werase(stdscr);
  const int nlines = std::min(static_cast<int>(frame.lines.size()), sz.lines);
  for (int y = 0; y < nlines; ++y) {
    const render::Line& line = frame.lines[static_cast<std::size_t>(y)];
    int x = 0;
    for (const render::Span& span : line.spans) {
      if (x >= sz.cols) {
        break;
      }
      impl_->set_style(span.style);
      x = impl_->draw_text(y, x, span.text, sz.cols);
    }
    if (line.fill != render::Style::Normal && x < sz.cols) {
      impl_->set_style(line.fill);
      mvwhline(stdscr, y, x, ' ', sz.cols - x);
    }
  }
  wattrset(stdscr, A_NORMAL);
  if (frame.cursor && frame.cursor->first < sz.lines && frame.cursor->second < sz.cols) {
    leaveok(stdscr, FALSE);
    wmove(stdscr, frame.cursor->first, frame.cursor->second);
    if (!impl_->cursor_visible) {
      curs_set(1);
      impl_->cursor_visible = true;
    }
  } else if (impl_->cursor_visible) {
    curs_set(0);
    leaveok(stdscr, TRUE);
    impl_->cursor_visible = false;
  }
  wnoutrefresh(stdscr);
  doupdate();
}

void Terminal::redraw_all() {
  impl_->full_redraw = true;
}

void Terminal::resize() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    resizeterm(ws.ws_row, ws.ws_col);
  }
  impl_->full_redraw = true;
}

void Terminal::suspend() {
  endwin();
  // SIGTSTP is blocked in every thread and read from the signalfd; to stop as the shell expects
  // (job "Stopped"), raise it again with its default action, unblocked in this thread only.
  struct sigaction dfl {};
  struct sigaction old {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGTSTP, &dfl, &old);
  sigset_t set;
  sigset_t prev;
  sigemptyset(&set);
  sigaddset(&set, SIGTSTP);
  ::pthread_sigmask(SIG_UNBLOCK, &set, &prev);
  ::raise(SIGTSTP);  // the whole process stops here until SIGCONT
  ::pthread_sigmask(SIG_SETMASK, &prev, nullptr);
  ::sigaction(SIGTSTP, &old, nullptr);
  // Back from `fg`: re-enter program mode now (tty modes, alternate screen) so nothing typed
  // before the next frame is echoed; the size may have changed while stopped.
  resize();
  wnoutrefresh(stdscr);
  doupdate();
}

}  // namespace flowtop::tui
