#include "flowtop/sys/bounded_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::sys {

std::string describe_limit(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) {
    return std::to_string(bytes >> 20) + " MiB";
  }
  if (bytes >= 1024 && bytes % 1024 == 0) {
    return std::to_string(bytes >> 10) + " KiB";
  }
  return std::to_string(bytes) + " bytes";
}

FileText read_bounded_fd(int fd, std::size_t max_bytes) {
  FileText out;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.error = errno;
    out.why = std::generic_category().message(out.error);
    return out;
  }
  if (!S_ISREG(st.st_mode)) {
    out.error = EINVAL;
    out.why = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
    return out;
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    out.error = EFBIG;
    out.why = "larger than " + describe_limit(max_bytes);
    return out;
  }
  std::string text;
  // One byte more than the limit: a file that grew since fstat is still caught.
  text.resize(max_bytes + 1);
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      out.error = errno;
      out.why = std::generic_category().message(out.error);
      return out;
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) {
    out.error = EFBIG;
    out.why = "larger than " + describe_limit(max_bytes);
    return out;
  }
  text.resize(got);
  out.text = std::move(text);
  return out;
}

FileText read_bounded_file(const std::string& path, std::size_t max_bytes, int extra_flags,
                           int dirfd) {
  const UniqueFd fd(
      ::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | extra_flags));
  if (!fd.valid()) {
    FileText out;
    out.error = errno;
    out.why = out.error == ELOOP && (extra_flags & O_NOFOLLOW) != 0
                  ? "is a symbolic link (not followed)"
                  : std::generic_category().message(out.error);
    return out;
  }
  return read_bounded_fd(fd.get(), max_bytes);
}

}  // namespace flowtop::sys
