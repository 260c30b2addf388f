#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

// The updater's progress bar on a terminal. Main thread.
namespace flowtop::geoip::detail {

/// One line redrawn in place ("\r"): name, bar, percentage, bytes, rate. Fits `columns`.
class ProgressBar {
 public:
  ProgressBar(std::ostream& out, std::string label, int columns);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Redraws at most ten times a second (and at 100%). `total` 0: unknown size.
  void update(std::uint64_t now, std::uint64_t total);
  /// Draws the final numbers and ends the line, so the finished bar stays on the screen.
  void finish(std::uint64_t now, std::uint64_t total);
  /// Erases the line (done by the destructor unless finish() was called).
  void clear();

  /// The text of the line for these numbers (no control characters), for tests.
  static std::string line(std::string_view label, std::uint64_t now, std::uint64_t total,
                          double bytes_per_s, int columns);

 private:
  std::ostream& out_;
  std::string label_;
  int columns_;
  bool drawn_ = false;
  std::uint64_t last_now_ = 0;
  std::uint64_t last_total_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace flowtop::geoip::detail
