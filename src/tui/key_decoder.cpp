#include "tui/key_decoder.hpp"

#include <curses.h>

namespace flowtop::tui {

std::optional<std::int32_t> map_function_key(std::uint32_t curses_key) {
  switch (static_cast<int>(curses_key)) {
    case KEY_UP: return view::kKeyUp;
    case KEY_DOWN: return view::kKeyDown;
    case KEY_LEFT: return view::kKeyLeft;
    case KEY_RIGHT: return view::kKeyRight;
    case KEY_PPAGE: return view::kKeyPageUp;
    case KEY_NPAGE: return view::kKeyPageDown;
    case KEY_HOME:
    case KEY_A1:    // keypad 7 / Home on some terminals
    case KEY_FIND:  // Home on the VT220 layout (screen, rxvt)
      return view::kKeyHome;
    case KEY_END:
    case KEY_C1:      // keypad 1 / End
    case KEY_SELECT:  // End on the VT220 layout
      return view::kKeyEnd;
    case KEY_ENTER: return view::kKeyEnter;
    case KEY_BTAB: return view::kKeyBackTab;
    case KEY_BACKSPACE: return view::kKeyBackspace;
    case KEY_DC: return view::kKeyDelete;
    case KEY_RESIZE: return view::kKeyResize;
    default: break;
  }
  if (curses_key == static_cast<std::uint32_t>(KEY_F(1))) {
    return view::kKeyF1;
  }
  if (curses_key == static_cast<std::uint32_t>(KEY_F(2))) {
    return view::kKeyF2;
  }
  if (curses_key == static_cast<std::uint32_t>(KEY_F(6))) {
    return view::kKeyF6;
  }
  if (curses_key == static_cast<std::uint32_t>(KEY_F(10))) {
    return view::kKeyF10;
  }
  return std::nullopt;
}

std::optional<std::int32_t> map_char(std::uint32_t code_point) {
  switch (code_point) {
    case '\n':
    case '\r': return view::kKeyEnter;
    case '\t': return view::kKeyTab;
    case 8:
    case 127: return view::kKeyBackspace;
    case 27: return view::kKeyEscape;
    default: break;
  }
  if (code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return std::nullopt;
  }
  return static_cast<std::int32_t>(code_point);
}

std::uint32_t wanted_mouse_events() {
  return static_cast<std::uint32_t>(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED |
                                    BUTTON5_PRESSED);
}

std::optional<view::Input> map_mouse(std::uint32_t bstate, int y, int x) {
  const auto has = [bstate](mmask_t bit) {
    return (bstate & static_cast<std::uint32_t>(bit)) != 0;
  };
  if (has(BUTTON4_PRESSED)) {
    return view::Input{view::kKeyWheelUp, y, x};
  }
  if (has(BUTTON5_PRESSED)) {
    return view::Input{view::kKeyWheelDown, y, x};
  }
  if (has(BUTTON1_PRESSED) || has(BUTTON1_CLICKED)) {
    return view::Input{view::kKeyClick, y, x};
  }
  return std::nullopt;
}

std::optional<view::Input> KeyDecoder::feed(const RawKey& key) {
  auto as_input = [](std::optional<std::int32_t> k) -> std::optional<view::Input> {
    if (!k) {
      return std::nullopt;
    }
    return view::Input{*k, 0, 0};
  };
  switch (state_) {
    case State::InSequence:
      // CSI / SS3 parameter and intermediate bytes continue the sequence; a final byte ends it.
      if (key.type == RawKey::Type::Char && key.code >= 0x20 && key.code <= 0x3F) {
        return std::nullopt;
      }
      state_ = State::Normal;
      if (key.type == RawKey::Type::Char && key.code >= 0x40 && key.code <= 0x7E) {
        return std::nullopt;
      }
      return feed(key);  // not part of a sequence after all
    case State::AfterEsc:
      state_ = State::Normal;
      if (key.type == RawKey::Type::Char) {
        if (key.code == 27) {
          state_ = State::AfterEsc;  // Esc Esc: the first one was a lone Esc
          return view::Input{view::kKeyEscape, 0, 0};
        }
        if (key.code == '[' || key.code == 'O') {
          state_ = State::InSequence;
        }
        return std::nullopt;  // Alt+char: unbound, dropped with its Esc
      }
      return feed(key);  // Alt+function key or a mouse event: as without the Esc
    case State::Normal: break;
  }
  switch (key.type) {
    case RawKey::Type::Char:
      if (key.code == 27) {
        state_ = State::AfterEsc;
        return std::nullopt;
      }
      return as_input(map_char(key.code));
    case RawKey::Type::Function: return as_input(map_function_key(key.code));
    case RawKey::Type::Mouse: return map_mouse(key.code, key.y, key.x);
  }
  return std::nullopt;
}

std::optional<view::Input> KeyDecoder::flush() {
  const State was = state_;
  state_ = State::Normal;
  if (was == State::AfterEsc) {
    return view::Input{view::kKeyEscape, 0, 0};
  }
  return std::nullopt;
}

}  // namespace flowtop::tui
