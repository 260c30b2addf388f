#include "flowtop/render/text.hpp"

#include <algorithm>

#include "render/utf8.hpp"
#include "render/width_tables.hpp"

namespace flowtop::render {
namespace {

template <std::size_t N>
bool in_table(const std::array<detail::Range, N>& table, char32_t cp) {
  const auto it = std::upper_bound(table.begin(), table.end(), cp,
                                   [](char32_t c, const detail::Range& r) { return c < r.first; });
  return it != table.begin() && cp <= std::prev(it)->last;
}

}  // namespace

int codepoint_width(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
    return -1;
  }
  if (cp < 0x300) {
    return 1;  // Latin: the common case, without a table search
  }
  if (in_table(detail::kZeroWidth, cp)) {
    return 0;
  }
  return in_table(detail::kWide, cp) ? 2 : 1;
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const detail::Utf8 u = detail::next_utf8(text, i);
    i += u.len;
    width += u.valid ? static_cast<std::size_t>(std::max(codepoint_width(u.cp), 0)) : 1;
  }
  return width;
}

std::string_view truncate_to_width(std::string_view text, std::size_t width) {
  std::size_t used = 0;
  std::size_t end = 0;
  for (std::size_t i = 0; i < text.size();) {
    const detail::Utf8 u = detail::next_utf8(text, i);
    const std::size_t w =
        u.valid ? static_cast<std::size_t>(std::max(codepoint_width(u.cp), 0)) : 1;
    if (used + w > width) {
      break;
    }
    used += w;
    i += u.len;
    end = i;  // zero-width marks after the last kept character stay with it
  }
  return text.substr(0, end);
}

std::string fit(std::string_view text, std::size_t width, bool align_right, bool pad, bool ascii) {
  std::string out;
  const std::size_t w = display_width(text);
  if (w <= width) {
    out.assign(text);
  } else if (width > 0) {
    out.assign(truncate_to_width(text, width - 1));
    out += ascii ? "~" : "…";
  }
  if (pad) {
    const std::size_t used = display_width(out);
    const std::string fill(width > used ? width - used : 0, ' ');
    out = align_right ? fill + out : out + fill;
  }
  return out;
}

}  // namespace flowtop::render
