#pragma once

#include <cstdint>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::sys {

/// A non-blocking eventfd used to wake a poll loop. notify() from any thread (async-signal-safe);
/// drain() by the owner.
class EventFd {
 public:
  EventFd();
  void notify() const noexcept;
  /// Reads and returns the accumulated count (0 when none).
  std::uint64_t drain() const noexcept;  // NOLINT(modernize-use-nodiscard): often unused
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace flowtop::sys
