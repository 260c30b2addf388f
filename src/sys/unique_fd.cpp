#include "flowtop/sys/unique_fd.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace flowtop::sys {

void throw_errno(std::string_view what) {
  throw_errno(errno, what);
}

void throw_errno(int err, std::string_view what) {
  throw std::system_error(err, std::generic_category(), std::string(what));
}

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) {
    // Linux releases the descriptor even when close() reports EINTR: never retry.
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace flowtop::sys
