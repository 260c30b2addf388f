#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "flowtop/core/function_ref.hpp"
#include "flowtop/render/frame.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/snapshot.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::render {

/// Terminal size in character cells.
struct Size {
  int cols = 80;
  int lines = 24;
};

/// What render needs besides rows and state.
struct RenderOptions {
  std::string version;  ///< "0.1.0": the title bar reads "flowtop 0.1.0"
  bool ascii = false;  ///< no UTF-8 terminal: ASCII arrows and markers instead of ↑ ↓ ▲ ▼ …
  std::string host{};   ///< the host name for the title bar ("" none); untrusted: sanitised
  std::string netns{};  ///< --netns: the namespace's name for the title bar ("" none)
};

/// What a --batch frame says in its title besides the version.
struct ReportOptions {
  std::string version;  ///< "0.1.0"
  bool ascii = false;   ///< no UTF-8: ASCII arrows and markers
  std::uint64_t frame = 0;
  std::int64_t realtime_ns = 0;  ///< the frame's wall clock, shown as local time
};

/// Smallest screen render() draws; below it the frame says "terminal too small".
inline constexpr int kMinCols = 40;
inline constexpr int kMinLines = 10;
/// The footer's key bar shows from this many lines on (below, the table keeps the room).
inline constexpr int kFooterLines = 12;

/// How many table entries (flows or groups) fit on a screen of `size` with this status and state:
/// the lines below the title, status, health, tab bar and column header (and above the prompt /
/// detail pane / footer), divided by two for Flows with `-s`. 0 when the terminal is too small.
/// Pass the result to view::build_rows().
std::size_t table_capacity(const view::Status& status, const view::ViewState& state, Size size);

/// The screen for one frame. Layout, top to bottom: title bar (version, host, namespace); status
/// line (the filter first; the sort column when it is not on screen); health lines; tab bar;
/// column header with the sort indicator; table rows (selection bar; `-s` source rows) or the
/// empty-table reason; the detail pane (bottom half, Flows tab, when open); the filter prompt
/// (last lines, when open or when a filter error is pending) or else the footer's key bar (last
/// line, when `state.footer` and the screen has kFooterLines lines). The help overlay and the
/// sort menu are drawn over the table. Every untrusted string is sanitised; no line is wider than
/// `size.cols` and there are never more than `size.lines` lines. Pure.
Frame render(const view::Rows& rows, const view::ViewState& state, Size size,
             const RenderOptions& options);

/// A --batch frame, `cols` wide: a title ("flowtop 0.1.0 - 12:37:50 - frame 3"), the screen's
/// status line, every health line, then the screen's table for every row of `rows`: the same
/// column header, cells, units, widths and sanitising as render() draws at `cols` columns, with
/// no selection bar, tab bar, panes or scrolling. Pure apart from reading the local time zone.
Frame render_report(const view::Rows& rows, const view::ViewState& state, std::size_t cols,
                    const ReportOptions& options);

/// to_plain_text(render_report(rows, state, cols, options)) for a table of any size, without
/// holding its rows or its lines whole: `head` is the Rows of the whole table with no rows in it
/// (its tab, total, counts, status, totals, empty reason, wall clock); `chunk(first, count)`
/// returns rows [first, first + count) of the same table as build_rows() gives them (called twice
/// per piece: once to measure the columns, once to draw). The text goes to `sink` in pieces of
/// about 256 KiB; returns false as soon as `sink` does.
bool write_report_text(const view::Rows& head,
                       core::FunctionRef<view::Rows(std::size_t first, std::size_t count)> chunk,
                       const view::ViewState& state, std::size_t cols, const ReportOptions& options,
                       core::FunctionRef<bool(std::string_view)> sink);

}  // namespace flowtop::render
