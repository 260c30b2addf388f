#include "render/sparkline.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace flowtop::render::detail {

std::string sparkline(std::span<const double> values, std::size_t width, bool ascii) {
  static constexpr std::array<std::string_view, 8> kBlocks{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static constexpr std::string_view kAscii = "_.:-=+*#";
  const std::size_t n = std::min(width, values.size());
  const std::span<const double> shown = values.subspan(values.size() - n);
  double max = 0;
  for (const double v : shown) {
    max = std::max(max, v);
  }
  std::string out;
  out.reserve(n * (ascii ? 1 : 3));
  for (const double v : shown) {
    // 0 is the lowest glyph; anything that moved at least the second, the maximum the highest.
    std::size_t level = 0;
    if (v > 0 && max > 0) {
      level = 1 + static_cast<std::size_t>(v / max * 6.999);
      level = std::min<std::size_t>(level, 7);
    }
    if (ascii) {
      out += kAscii[level];
    } else {
      out += kBlocks[level];
    }
  }
  return out;
}

}  // namespace flowtop::render::detail
