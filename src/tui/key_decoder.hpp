#pragma once

#include <cstdint>
#include <optional>

#include "flowtop/view/command.hpp"

namespace flowtop::tui {

/// One event as ncurses reported it, before interpretation.
struct RawKey {
  enum class Type : std::uint8_t {
    Char,      ///< get_wch() returned OK: `code` is a code point (or an ASCII control code)
    Function,  ///< get_wch() returned KEY_CODE_YES: `code` is a curses KEY_* value
    Mouse,     ///< KEY_MOUSE, read with getmouse(): `code` is the event's bstate
  };
  Type type = Type::Char;
  std::uint32_t code = 0;
  int y = 0, x = 0;  ///< Mouse only: screen cell
};

/// Turns ncurses input into view::Input. Pure; owned by the UI thread.
///
/// Esc needs context: a lone Esc is kKeyEscape; Esc followed at once by another key is Alt+key
/// (no binding: both are dropped, so Alt-q in the filter prompt neither cancels nor quits); Esc
/// followed by `[` or `O` starts an escape sequence terminfo did not know (e.g. Ctrl-Up), which is
/// swallowed whole rather than read as keys. Call feed() for each event of a batch and flush()
/// when no more input is pending (a lone trailing Esc is only known then).
class KeyDecoder {
 public:
  std::optional<view::Input> feed(const RawKey& key);
  std::optional<view::Input> flush();

 private:
  enum class State : std::uint8_t { Normal, AfterEsc, InSequence };
  State state_ = State::Normal;
};

/// The view key for a curses function key (KEY_UP...), nullopt when flowtop has no use for it.
std::optional<std::int32_t> map_function_key(std::uint32_t curses_key);
/// The view key for a character: Enter, Tab, Backspace and Esc get their KeyCode; any other code
/// point (including control codes such as Ctrl-L) passes as is. Invalid code points: nullopt.
std::optional<std::int32_t> map_char(std::uint32_t code_point);
/// Wheel up/down and left-button presses; nullopt for other mouse events.
std::optional<view::Input> map_mouse(std::uint32_t bstate, int y, int x);

/// The mouse events flowtop asks ncurses for (a mmask_t value).
std::uint32_t wanted_mouse_events();

}  // namespace flowtop::tui
