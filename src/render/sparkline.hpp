#pragma once

// Sparklines of rate histories (private to src/render).

#include <cstddef>
#include <span>
#include <string>

namespace flowtop::render::detail {

/// The last `width` values (fewer when there are fewer) as one glyph each, newest on the right,
/// scaled to the largest of them: "▁" for 0 (or nothing moved at all), "▂".."█" for the rest.
/// ASCII: "_" for 0, then ".:-=+*#". "" when `width` is 0 or there are no values.
std::string sparkline(std::span<const double> values, std::size_t width, bool ascii);

}  // namespace flowtop::render::detail
