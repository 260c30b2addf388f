#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include "flowtop/core/pressure.hpp"

namespace flowtop::core {

/// What the collector counts. Written by the collector (relaxed atomics); read by anyone.
struct CollectorStats {
  std::atomic<std::uint64_t> events{0};        ///< event messages received
  std::atomic<std::uint64_t> enobufs{0};       ///< times the event socket overflowed
  std::atomic<std::uint64_t> resyncs{0};       ///< resync dumps after lost events
  std::atomic<std::uint64_t> dumps{0};         ///< full dumps completed
  std::atomic<std::uint64_t> gets{0};          ///< per-flow GET refreshes
  std::atomic<std::uint64_t> parse_errors{0};  ///< malformed messages skipped
  std::atomic<std::uint64_t> last_dump_ns{0};  ///< wall time of the last full dump
  /// The collector thread's CPU time in the last full dump (receiving, parsing, updating the
  /// table; the kernel's part of the dump included): a counter refresh's cost.
  std::atomic<std::uint64_t> last_dump_cpu_ns{0};
  /// The same summed over the full dumps after the first (counter refreshes: the entries are
  /// known, only updated), and how many there were.
  std::atomic<std::uint64_t> refresh_cpu_ns{0};
  std::atomic<std::uint64_t> refreshes{0};
  std::atomic<std::uint64_t> rcvbuf{0};     ///< event socket buffer size in bytes
  std::atomic<std::uint64_t> flows{0};      ///< entries in the table
  std::atomic<std::uint64_t> ct_max{0};     ///< nf_conntrack_max
  std::atomic<bool> dump_stretched{false};  ///< full refresh slower than the interval (CPU budget)
  /// How often the periodic full refresh runs (the interval, or longer within the CPU budget).
  std::atomic<std::uint64_t> refresh_period_ns{0};
  std::atomic<bool> initial_dump_done{false};

  /// Keeps `sample` as the newest reading of the kernel's conntrack statistics (the one before it
  /// gives the rates). Collector thread.
  void publish_ct_stats(CtStatsSample sample) {
    std::lock_guard lock(ct_mu_);
    ct_prev_ = std::exchange(ct_now_, std::move(sample));
  }
  /// The newest reading with its rates since the one before. Any thread.
  [[nodiscard]] CtPressure pressure() const {
    std::lock_guard lock(ct_mu_);
    return pressure_between(ct_prev_, ct_now_);
  }

 private:
  mutable std::mutex ct_mu_;
  CtStatsSample ct_prev_, ct_now_;
};

}  // namespace flowtop::core
