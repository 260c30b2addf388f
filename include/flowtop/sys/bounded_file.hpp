#pragma once

#include <fcntl.h>

#include <cstddef>
#include <optional>
#include <string>

namespace flowtop::sys {

/// What read_bounded_file() found. Plain value.
struct FileText {
  std::optional<std::string> text;  ///< the content, when it could be read
  int error = 0;                    ///< errno of an open/read failure (ENOENT: missing), else 0
  std::string why;                  ///< why there is no text, for a user ("not a regular file")
};

/// Reads a configuration or state file of at most `max_bytes`. Opened with O_NONBLOCK and
/// O_NOCTTY, so a FIFO or a device in its place never blocks and is never read: anything but a
/// regular file is refused, and so is one larger than `max_bytes` (without reading past the
/// limit). `extra_flags` adds open flags (O_NOFOLLOW); `dirfd` resolves a relative `path`.
/// Any thread.
FileText read_bounded_file(const std::string& path, std::size_t max_bytes, int extra_flags = 0,
                           int dirfd = AT_FDCWD);

/// The same checks and read on an open descriptor (from its current offset 0).
FileText read_bounded_fd(int fd, std::size_t max_bytes);

/// "64 KiB", "1 MiB": a limit for messages.
std::string describe_limit(std::size_t bytes);

}  // namespace flowtop::sys
