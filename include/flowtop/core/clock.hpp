#pragma once

#include <atomic>
#include <cstdint>

namespace flowtop::core {

/// Monotonic nanoseconds (CLOCK_MONOTONIC). Any thread.
std::int64_t steady_ns();
/// Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME). Any thread.
std::int64_t realtime_ns();

/// Where time comes from, for code that schedules or stamps: the system's clocks in the program,
/// a FakeClock that a test advances. Implementations are thread-safe.
class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock() = default;

  [[nodiscard]] virtual std::int64_t steady_ns() const = 0;
  [[nodiscard]] virtual std::int64_t realtime_ns() const = 0;
  /// A descriptor that becomes readable whenever the clock jumps (a fake clock advanced), or -1
  /// when time only passes (the system clock). A loop that waits for a deadline polls it too and,
  /// when it is not -1, waits for it rather than for a real-time timeout.
  [[nodiscard]] virtual int wake_fd() const { return -1; }
  /// The real-time poll() timeout for waiting `wait_ns` of this clock's time: milliseconds,
  /// rounded up; -1 (until the wake fd says the clock moved) for a clock that does not run.
  [[nodiscard]] int poll_timeout_ms(std::int64_t wait_ns) const;
  /// How long a wait that cannot watch the wake fd (a condition variable) may sleep in real time
  /// for `wait_ns` of this clock's time: `wait_ns` for a running clock; a short poll (5 ms) for
  /// one that moves only when told, so such a waiter notices a move promptly.
  [[nodiscard]] std::int64_t real_wait_ns(std::int64_t wait_ns) const;
};

/// CLOCK_MONOTONIC and CLOCK_REALTIME. Any thread.
const Clock& system_clock();

/// A clock that stands still until the test moves it. Its wake_fd() (an eventfd) becomes readable
/// on every move; readers drain it with drain_wake().
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t steady_ns = 1'000'000'000,
                     std::int64_t realtime_ns = 1'780'000'000'000'000'000);
  ~FakeClock() override;

  [[nodiscard]] std::int64_t steady_ns() const override { return steady_.load(); }
  [[nodiscard]] std::int64_t realtime_ns() const override { return realtime_.load(); }
  [[nodiscard]] int wake_fd() const override { return fd_; }

  /// Moves both clocks forward by `ns` and wakes the waiters.
  void advance(std::int64_t ns);
  /// Sets the monotonic clock to `ns` (the wall clock moves by as much) and wakes the waiters.
  void set(std::int64_t steady_ns);

 private:
  std::atomic<std::int64_t> steady_;
  std::atomic<std::int64_t> realtime_;
  int fd_;
};

/// Reads a Clock's wake fd empty (after poll() said it is readable). No-op for -1.
void drain_wake(int wake_fd);

}  // namespace flowtop::core
