#include "flowtop/sys/event_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace flowtop::sys {

EventFd::EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!fd_.valid()) {
    throw_errno("eventfd");
  }
}

void EventFd::notify() const noexcept {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: the owner is already due to wake up.
  const int saved_errno = errno;
  while (::write(fd_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
  errno = saved_errno;
}

std::uint64_t EventFd::drain() const noexcept {
  std::uint64_t count = 0;
  ssize_t n = 0;
  do {
    n = ::read(fd_.get(), &count, sizeof count);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof count) ? count : 0;
}

}  // namespace flowtop::sys
