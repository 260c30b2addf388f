#pragma once

#include <cstddef>
#include <string>

#include "flowtop/render/render.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::output {

/// One `top -b`-style text frame of `rows` (every row of the tab, as view::build_rows gives
/// them): render::render_report() as plain text, `width` columns wide, then a blank line. The
/// table is the screen's: the same columns, order, units and sanitising. Pure.
std::string batch_frame(const view::Rows& rows, const view::ViewState& state, std::size_t width,
                        const render::ReportOptions& options);

}  // namespace flowtop::output
