#include "update_progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "update_text.hpp"

namespace flowtop::geoip::detail {

ProgressBar::ProgressBar(std::ostream& out, std::string label, int columns)
    : out_(out),
      label_(std::move(label)),
      columns_(std::clamp(columns, 20, 400)),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  clear();
}

std::string ProgressBar::line(std::string_view label, std::uint64_t now, std::uint64_t total,
                              double bytes_per_s, int columns) {
  const auto width = static_cast<std::size_t>(std::max(columns - 1, 10));
  const std::string rate =
      bytes_per_s > 0 ? format_size(static_cast<std::uint64_t>(bytes_per_s)) + "/s" : std::string();
  std::string tail;
  int percent = -1;
  if (total > 0) {
    percent = static_cast<int>(std::min<std::uint64_t>(100, now * 100 / total));
    tail = fmt::format("{:3}% {} / {}", percent, format_size(now), format_size(total));
  } else {
    tail = format_size(now);
  }
  if (!rate.empty()) {
    tail += "  " + rate;
  }
  std::string name(label.substr(0, std::min<std::size_t>(label.size(), 40)));
  // The bar takes what is left, between 10 and 40 cells; without room it is left out. Room for
  // the rate is kept from the start, so the bar does not shrink when the rate appears.
  const std::size_t rate_room = rate.empty() ? 10 : 0;
  const std::size_t fixed = name.size() + 2 + 2 + 1 + tail.size() + rate_room;
  std::string out = name + "  ";
  if (percent >= 0 && width > fixed + 10) {
    const std::size_t cells = std::min<std::size_t>(40, width - fixed);
    const std::size_t full = cells * static_cast<std::size_t>(percent) / 100;
    out += "[" + std::string(full, '#') + std::string(cells - full, '-') + "] ";
  }
  out += tail;
  if (out.size() > width) {
    out.resize(width);
  }
  return out;
}

void ProgressBar::update(std::uint64_t now, std::uint64_t total) {
  const auto t = std::chrono::steady_clock::now();
  const bool done = total > 0 && now >= total;
  const bool changed = now != last_now_ || total != last_total_;
  const auto since = t - last_draw_;
  if (drawn_ && (changed ? !done && since < std::chrono::milliseconds(100)
                         : since < std::chrono::seconds(1))) {
    return;
  }
  last_now_ = now;
  last_total_ = total;
  const double secs = std::chrono::duration<double>(t - start_).count();
  const double rate = secs > 0.2 ? static_cast<double>(now) / secs : 0.0;
  out_ << '\r' << line(label_, now, total, rate, columns_) << "\x1b[K" << std::flush;
  drawn_ = true;
  last_draw_ = t;
}

void ProgressBar::finish(std::uint64_t now, std::uint64_t total) {
  if (!drawn_) {
    return;
  }
  if (now == last_now_ && total == last_total_) {
    out_ << '\n' << std::flush;  // the last frame already shows these numbers
  } else {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0.2 ? static_cast<double>(now) / secs : 0.0;
    out_ << '\r' << line(label_, now, total, rate, columns_) << "\x1b[K\n" << std::flush;
  }
  drawn_ = false;
}

void ProgressBar::clear() {
  if (drawn_) {
    out_ << "\r\x1b[K" << std::flush;
    drawn_ = false;
  }
}

}  // namespace flowtop::geoip::detail
