#include "flowtop/core/clock.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <ctime>
#include <system_error>

namespace flowtop::core {
namespace {

std::int64_t read_clock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t steady_ns() const override { return read_clock(CLOCK_MONOTONIC); }
  [[nodiscard]] std::int64_t realtime_ns() const override { return read_clock(CLOCK_REALTIME); }
};

}  // namespace

std::int64_t steady_ns() {
  return read_clock(CLOCK_MONOTONIC);
}
std::int64_t realtime_ns() {
  return read_clock(CLOCK_REALTIME);
}

int Clock::poll_timeout_ms(std::int64_t wait_ns) const {
  if (wake_fd() >= 0) {
    return -1;
  }
  if (wait_ns <= 0) {
    return 0;
  }
  constexpr std::int64_t kMaxMs = 1'000'000'000;  // poll takes an int
  const std::int64_t ms = (wait_ns + 999'999) / 1'000'000;
  return static_cast<int>(ms < kMaxMs ? ms : kMaxMs);
}

std::int64_t Clock::real_wait_ns(std::int64_t wait_ns) const {
  constexpr std::int64_t kFakePoll = 5'000'000;
  return wake_fd() >= 0 && wait_ns > kFakePoll ? kFakePoll : wait_ns;
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

FakeClock::FakeClock(std::int64_t steady_ns, std::int64_t realtime_ns)
    : steady_(steady_ns), realtime_(realtime_ns), fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
}

FakeClock::~FakeClock() {
  ::close(fd_);
}

void FakeClock::advance(std::int64_t ns) {
  steady_.fetch_add(ns);
  realtime_.fetch_add(ns);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

void FakeClock::set(std::int64_t steady_ns) {
  advance(steady_ns - steady_.load());
}

void drain_wake(int wake_fd) {
  if (wake_fd < 0) {
    return;
  }
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(wake_fd, &count, sizeof count);
}

}  // namespace flowtop::core
