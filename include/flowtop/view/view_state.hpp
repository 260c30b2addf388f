#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/ip_addr.hpp"
#include "flowtop/core/redact.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/filter.hpp"
#include "flowtop/view/selection.hpp"

namespace flowtop::view {

/// The identity of a row of an aggregate tab; only the fields of its tab are set.
///  Processes: pid and name (pid 0, name "" for flows without a known process).
///  Hosts: addr (the remote end: the original destination).
///  Countries: name = ISO code, or a GeoInfo kind label ("private"...), "" when unknown.
///  As: asn (0 when unknown).
struct GroupKey {
  std::int32_t pid = 0;
  std::string name{};
  core::IpAddr addr{};
  std::uint32_t asn = 0;

  bool operator==(const GroupKey&) const = default;
};

/// Sort order of one tab.
struct SortSpec {
  Column column = Column::RateIn;
  bool descending = true;

  bool operator==(const SortSpec&) const = default;
};

/// A cursor movement the reducer cannot resolve alone (it needs the sorted rows): applied by
/// build_rows() against the frame's data, then folded back with settle().
struct PendingMove {
  enum class Kind : std::uint8_t {
    None,
    By,    ///< `delta` rows from the selected row (Up -1, Down +1, wheel ±3)
    Page,  ///< `delta` pages (PgUp -1, PgDn +1)
    Home,
    End,
    Index,  ///< select row `delta` (mouse click); clamped
  };
  Kind kind = Kind::None;
  std::int64_t delta = 0;
  /// Rows and pages moved after a Home, End or Index (or rows before a Page) typed before the
  /// same frame: every sequence of movements adds up to one PendingMove, so that End then Up
  /// ends one row above the end without the rows being resolved in between.
  std::int64_t then_rows = 0;
  std::int64_t then_pages = 0;

  bool operator==(const PendingMove&) const = default;
};

/// Selection and scrolling of one tab. Until the user moves the selection (or opens the detail
/// pane), it stays at its position (`follow` false: the top row at start) while rows re-sort under
/// it. Once moved it follows its key, so it stays on its flow (or group) while rows move, and the
/// table scrolls to keep it visible; when the key has gone, the selection lands on the row now at
/// `index`.
struct Cursor {
  std::optional<core::FlowKey> flow;  ///< Flows tab: the selected flow's key, as last settled
  std::optional<GroupKey> group;      ///< aggregate tabs
  bool follow = false;                ///< select by key (true) or by position (false)
  std::size_t index = 0;              ///< row index of the selection last frame
  std::size_t scroll = 0;             ///< index of the first visible row last frame
  PendingMove move;
};

/// The `/` prompt while it is open. `cursor` is a byte offset on a code point boundary of `text`.
struct FilterPrompt {
  bool open = false;
  std::string text;
  std::size_t cursor = 0;
  std::string error;          ///< "" or the last compile error of `text` (from Enter)
  std::size_t error_pos = 0;  ///< byte offset into `text` of the error
};

/// One column of a tab's chosen layout (F2, flowtoprc `columns.<tab>`).
struct ColumnChoice {
  Column column = Column::Process;
  bool shown = true;

  bool operator==(const ColumnChoice&) const = default;
};

/// Things the reducer asks the outside world to do (tui/app read them after apply() and clear them
/// with take_effects()). The matching state fields already hold the new values.
struct Effects {
  bool quit = false;
  bool dns_changed = false;       ///< ViewState::dns toggled: enable/disable reverse DNS
  bool geoip_changed = false;     ///< ViewState::geoip toggled
  bool interval_changed = false;  ///< ViewState::interval_s changed: move the collector's tick
  bool window_changed = false;    ///< ViewState::window changed: the collector averages over it
  bool persist = false;           ///< a remembered setting changed (tab, sort, toggles, interval)
  bool track = false;             ///< `t`: make conntrack track in the namespace while flowtop runs
  /// `x` confirmed with `y`: delete this conntrack entry (the loop puts the outcome in
  /// ViewState::message).
  std::optional<core::FlowKey> delete_flow;
  bool reset_totals = false;  ///< `R`: the totals start again from 0

  bool operator==(const Effects&) const = default;
  [[nodiscard]] bool any() const {
    return quit || dns_changed || geoip_changed || interval_changed || window_changed || persist ||
           track || delete_flow.has_value() || reset_totals;
  }
};

/// Everything the user controls on screen. Plain value, owned by the UI thread; apply() returns an
/// updated copy.
struct ViewState {
  Tab tab = Tab::Flows;
  std::array<SortSpec, kTabCount> sort{};  ///< per tab; see default_view_state()
  std::array<Cursor, kTabCount> cursor{};  ///< per tab

  Filter filter;  ///< the applied filter (its text() is what the status line shows)
  FilterPrompt prompt;

  Selection selection;       ///< families, protocols, loopback, DNS flows, other (T U D I S L 4 6)
  bool active_only = false;  ///< `a`: only flows with a non-zero rate
  bool show_src = false;     ///< `s`: a second row per flow with the source end
  bool bits = false;         ///< `b`: rates in bit/s
  bool dns = true;           ///< reverse DNS enabled (mirrors the app; `n` toggles)
  bool geoip = true;         ///< GeoIP enabled (mirrors the app; `g` toggles)
  bool paused = false;       ///< space: the screen keeps its snapshot, collection continues
  bool footer = true;        ///< `F`: the key bar on the last line
  bool detail_open = false;  ///< Enter on the Flows tab: the detail pane of the selected flow
  bool help_open = false;    ///< `?` / F1
  bool pressure_open = false;   ///< `p`: the conntrack pressure pane (any tab; replaces the detail)
  bool sort_menu_open = false;  ///< F6
  std::size_t sort_menu_index = 0;  ///< highlighted entry of columns_of(tab)
  /// F2: the column chooser of the current tab (show, hide and order its columns).
  bool columns_open = false;
  std::size_t columns_index = 0;  ///< highlighted entry of column_choice(state, tab)
  /// Per tab, the chosen columns in their order (F2, flowtoprc); empty: every column of the tab
  /// in the registry's order, all shown. Read it through column_choice() / shown_columns().
  std::array<std::vector<ColumnChoice>, kTabCount> columns{};
  std::size_t h_scroll = 0;  ///< columns skipped from the left (Left/Right)
  double interval_s = 1.0;   ///< refresh interval, 0.1 .. 3600 (`+`/`-`)
  /// The byte rates' averaging window (`w`, --window): off (the last interval's rates), 2, 10
  /// or 40 seconds, as iftop's. Rows show, sort and sum that window's rates (the app puts them in
  /// each snapshot); the title says `avg 10s`.
  core::RateWindow window = core::RateWindow::Off;
  bool read_only = false;  ///< --read-only: the actions (`x`, `t`) say so instead of acting
  /// `x`: the flow the `delete ...? y/N` prompt names while it is open; `y` deletes it, any
  /// other key closes the prompt.
  std::optional<core::FlowKey> confirm_delete;
  /// Privacy mode: the ends whose addresses, names, MACs and user names are masked now (`P`,
  /// --redact); `P` switches between Off and `redact_choice` (--redact's scope, else All).
  core::RedactScope redact = core::RedactScope::Off;
  core::RedactScope redact_choice = core::RedactScope::All;
  /// The run's pseudonyms (one key per run); null: `P` says privacy mode is not available.
  std::shared_ptr<const core::Redactor> redactor;
  /// A note for the status line (an action's outcome: "deleted tcp ...", "read-only: ...");
  /// "" none. The next key clears it.
  std::string message;

  Effects effects;

  [[nodiscard]] const SortSpec& current_sort() const { return sort[static_cast<std::size_t>(tab)]; }
  [[nodiscard]] const Cursor& current_cursor() const {
    return cursor[static_cast<std::size_t>(tab)];
  }
};

/// The starting state: Flows tab, every tab sorted by its received rate (RATE↓), biggest first.
/// The app then applies flowtoprc and the command line.
ViewState default_view_state();

/// Every column of `tab` in the chosen order, each marked shown or hidden: the entries of
/// `state.columns` that are columns of the tab (each once), then the tab's other columns, hidden
/// (all shown when nothing was chosen). At least one is shown (else all are).
std::vector<ColumnChoice> column_choice(const ViewState& state, Tab tab);
/// The shown columns of `tab`, left to right: what the table lays out.
std::vector<Column> shown_columns(const ViewState& state, Tab tab);

/// Returns and clears the pending effects.
Effects take_effects(ViewState& state);

/// Refresh interval bounds (0.1 to 3600 s) and the `+`/`-` steps through them:
/// 0.1 0.2 0.5 1 2 5 10 30 60 300 600 1800 3600. A value between steps moves to the next step.
inline constexpr double kMinInterval = 0.1;
inline constexpr double kMaxInterval = 3600;
double next_interval(double interval_s, int direction);

}  // namespace flowtop::view
