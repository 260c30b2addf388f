#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "flowtop/core/function_ref.hpp"
#include "flowtop/render/render.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::output {

/// One `top -b`-style text frame of `rows` (every row of the tab, as view::build_rows gives
/// them): render::render_report() as plain text, `width` columns wide, then a blank line. The
/// table is the screen's: the same columns, order, units and sanitising. Pure.
std::string batch_frame(const view::Rows& rows, const view::ViewState& state, std::size_t width,
                        const render::ReportOptions& options);

/// batch_frame() of every row of `prepared` (built from `snapshot` for `state`), written to
/// `sink` in pieces of about 256 KiB: the rows are copied, drawn and written 1,024 at a time
/// (view::rows_range, render::write_report_text), so that a frame of 100k flows never sits in
/// memory whole as rows, lines or text. Returns false as soon as `sink` does.
bool write_batch_frame(const view::Prepared& prepared, const view::Snapshot& snapshot,
                       const view::ViewState& state, std::size_t width,
                       const render::ReportOptions& options,
                       core::FunctionRef<bool(std::string_view)> sink);

}  // namespace flowtop::output
