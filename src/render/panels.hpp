#pragma once

// The detail pane, the help overlay and the sort menu (private to src/render).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "flowtop/render/frame.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/totals.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::render::detail {

/// Everything known of one flow: both tuples (NAT visible), every counter, timestamps, status
/// flags, zone, mark, id, timeout, and every enrichment including the command line. Most
/// important first, so a short pane cuts the least useful lines.
/// `history`: the flow's rates over the last intervals (a sparkline line), or nullptr.
std::vector<Line> detail_lines(const view::FlowRow& row, const view::ViewState& state,
                               std::int64_t realtime_ns, std::size_t cols, bool ascii,
                               const view::RateHistory* history = nullptr);

/// "history  ↑ ▁▂▅ max 1.2 kB/s  ↓ ▁▃█ max 9.9 kB/s  (3 intervals)": as many intervals as fit.
Line history_line(const view::RateHistory& history, std::size_t cols, bool ascii, bool bits);

/// The conntrack pressure pane: the table's fill against nf_conntrack_max, the drop counters
/// with their rates, flowtop's own lost events, offloaded flows, and every CPU's counters as
/// `conntrack -S` prints them. Most important first.
std::vector<Line> pressure_lines(const view::Status& status, std::size_t cols, bool ascii);

/// Every key (view::KeyMap::help()), the filter terms and the column arrows, in `max_lines`.
/// The help overlay; `dbip`: a DB-IP database is in use, so its attribution is shown (CC BY 4.0).
std::vector<Line> help_lines(std::size_t cols, std::size_t max_lines, bool ascii, bool dbip);

/// The F6 menu: a title and one entry per column of the tab, the highlighted one marked.
std::vector<Line> sort_menu_lines(const view::ViewState& state, bool ascii);
/// The F2 column chooser: a title, then every column of the tab in the chosen order, "[x]" shown,
/// "[ ]" hidden, with its flowtoprc name; the highlighted one selected.
std::vector<Line> chooser_lines(const view::ViewState& state, bool ascii);

}  // namespace flowtop::render::detail
