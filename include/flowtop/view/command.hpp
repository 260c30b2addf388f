#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "flowtop/view/view_state.hpp"

namespace flowtop::view {

/// Keys that are not characters. Printable keys are their Unicode code point ('q' is 0x71);
/// control keys their ASCII code (Ctrl-L is 12). These live above the Unicode range so the two
/// never collide. tui maps curses key codes to these; view never sees curses.
enum KeyCode : std::int32_t {
  kKeyUp = 0x110000,
  kKeyDown,
  kKeyLeft,
  kKeyRight,
  kKeyPageUp,
  kKeyPageDown,
  kKeyHome,
  kKeyEnd,
  kKeyEnter,      ///< Enter / Return (also '\n' and '\r', which tui may pass as is)
  kKeyEscape,     ///< a lone Esc (also 27)
  kKeyTab,        ///< also '\t'
  kKeyBackTab,    ///< Shift-Tab
  kKeyBackspace,  ///< also 127 and 8
  kKeyDelete,
  kKeyF1,
  kKeyF2,
  kKeyF6,
  kKeyF10,
  kKeyWheelUp,
  kKeyWheelDown,
  kKeyClick,  ///< left button press at Input::line/col (screen coordinates, 0-based)
  kKeyResize,
};

/// One input event from the terminal.
struct Input {
  std::int32_t key = 0;  ///< a code point, an ASCII control code, or a KeyCode
  int line = 0;          ///< kKeyClick only
  int col = 0;           ///< kKeyClick only
};

/// What a key (or click) asks for. `arg` carries the parameter of the kinds that take one.
struct Command {
  enum class Kind : std::uint8_t {
    None,
    Quit,     ///< q, F10 (effect: quit)
    NextTab,  ///< Tab
    PrevTab,  ///< Shift-Tab
    SetTab,   ///< arg: Tab (a click on the tab bar)
    Up,       ///< Up, k, u
    Down,     ///< Down, j, d
    PageUp,
    PageDown,
    Home,
    End,
    MoveBy,          ///< arg: rows (mouse wheel: ±3)
    SelectRow,       ///< arg: row index in the table (a click on a row)
    ScrollLeft,      ///< Left, h
    ScrollRight,     ///< Right, l
    ToggleBits,      ///< b
    ToggleActive,    ///< a
    ToggleSource,    ///< s
    ToggleTcp,       ///< T
    ToggleUdp,       ///< U
    ToggleDccp,      ///< D
    ToggleIcmp,      ///< I
    ToggleSctp,      ///< S
    ToggleLoopback,  ///< L
    ToggleIpv4,      ///< 4
    ToggleIpv6,      ///< 6
    ToggleDns,       ///< n (effect: dns_changed)
    ToggleGeoip,     ///< g (effect: geoip_changed)
    ToggleHelp,      ///< ?, F1; any key closes the help
    TogglePressure,  ///< p: the conntrack pressure pane
    ToggleFooter,    ///< F: the key bar on the last line
    SortPrev,        ///< <  (the column to the left)
    SortNext,        ///< >
    SortReverse,     ///< r
    SortBy,          ///< arg: Column (a click on a header; the same column again reverses)
    SortMenu,        ///< F6: open / close the menu
    SortMenuUp,
    SortMenuDown,
    SortMenuAccept,   ///< Enter in the menu: sort by the highlighted column
    ColumnsMenu,      ///< F2: open / close the column chooser (Esc, q also close it)
    ColumnsUp,        ///< Up, k in the chooser
    ColumnsDown,      ///< Down, j
    ColumnsToggle,    ///< space, Enter: show / hide the highlighted column (one stays shown)
    ColumnsMoveUp,    ///< [ or -: move the highlighted column left (up the list)
    ColumnsMoveDown,  ///< ] or +: move it right (down the list)
    OpenFilter,       ///< /
    ClearFilter,      ///< Esc outside the prompt when a filter is set
    FilterInsert,     ///< arg: code point to insert at the prompt's cursor
    FilterBackspace,
    FilterDelete,
    FilterLeft,
    FilterRight,
    FilterHome,
    FilterEnd,
    FilterKill,     ///< Ctrl-U: clear the prompt's text
    FilterAccept,   ///< Enter: compile; on error the prompt stays with the message and the
                    ///< previous filter stays applied
    FilterCancel,   ///< Esc in the prompt: close it and clear the filter
    TogglePause,    ///< space
    Enter,          ///< Enter: Flows: toggle the detail pane; aggregate tabs: show the
                    ///< group's flows (Flows tab with a filter for the group)
    Close,          ///< Esc: close the detail or pressure pane / sort menu
    IntervalUp,     ///< +
    IntervalDown,   ///< -
    Redraw,         ///< Ctrl-L, resize: nothing changes, the screen is redrawn
    Track,          ///< t: make conntrack track in this namespace while flowtop runs (effect:
                    ///< track; as --track)
    DeleteFlow,     ///< x: ask to delete the selected flow's conntrack entry (the y/N prompt)
    ConfirmYes,     ///< y at the prompt (effect: delete_flow)
    ConfirmNo,      ///< any other key at the prompt: nothing is deleted
    TogglePrivacy,  ///< P: privacy mode off / on (the --redact scope, else all)
    ResetTotals,    ///< R: the TOTAL columns and the session's totals start again from 0 (effect:
                    ///< reset_totals)
    NextWindow,  ///< w: the rate window off → 2 → 10 → 40 s → off (effect: window_changed)
  };
  Kind kind = Kind::None;
  std::int64_t arg = 0;

  bool operator==(const Command&) const = default;
};

/// One line of the help overlay: the keys and what they do.
struct KeyHelp {
  std::string_view keys;  ///< "Up k u"
  std::string_view what;  ///< "select the previous row"
};

/// Maps terminal input to commands, by mode: the `x` prompt takes y (any other key says no); the
/// filter prompt takes text keys; the sort menu
/// takes Up/Down/Enter/Esc; the column chooser (F2) Up/Down, space/Enter, [ ] - +, Esc/F2; the help
/// overlay closes on any key (F10 still quits); otherwise the main keys (KeyMap::help() lists
/// them). Clicks are not mapped here: tui asks the frame (render::hit_test).
class KeyMap {
 public:
  /// The command for `in` in the mode `state` is in; Kind::None when the key does nothing.
  [[nodiscard]] Command lookup(const ViewState& state, const Input& in) const;
  /// Every key of the main mode, for the help overlay (and the man page).
  [[nodiscard]] static std::span<const KeyHelp> help();
};

/// What the status line says when an action's key is pressed under --read-only.
inline constexpr std::string_view kReadOnlyMessage =
    "read-only: actions are disabled (--read-only)";

/// The pure reducer: the state after `cmd`. Movement commands set the tab's PendingMove (resolved
/// by build_rows() and settle()); commands that need the outside world set `effects`.
ViewState apply(ViewState state, const Command& cmd);

}  // namespace flowtop::view
