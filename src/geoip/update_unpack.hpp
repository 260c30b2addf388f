#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

// Unpacking of downloaded files (zlib, libarchive) for the updater. Main thread.
namespace flowtop::geoip::detail {

/// Why one source could not be used (one line for a user, already sanitised).
class SourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The update was interrupted (SIGINT, SIGTERM, SIGHUP): stop, clean up.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

/// The most a download may unpack to (all members of an archive together).
inline constexpr std::uint64_t kMaxUnpackedBytes = std::uint64_t{1} << 30;

/// True when the update should stop; checked before every block of 64 KiB, also inside an archive
/// member. It may throw SourceError itself (the updater's time limit).
using StopFn = std::function<bool()>;

/// Copies `in_fd` (from offset 0) to `out_fd`; returns the bytes written. Throws SourceError.
std::uint64_t copy_file(int in_fd, int out_fd, const StopFn& stop);
/// Writes the gunzipped `in_fd` (from offset 0) to `out_fd`; returns the bytes written. Throws
/// SourceError: not gzip data, truncated, corrupt, or more than kMaxUnpackedBytes.
std::uint64_t gunzip_file(int in_fd, int out_fd, const StopFn& stop);
/// Writes the one *.mmdb member of the .tar.gz `in_fd` to `out_fd` and returns the member's file
/// name (checked with is_safe_file_name). Throws SourceError: not a tar.gz, truncated, corrupt, no
/// or several .mmdb members, an unsafe member name, more than kMaxUnpackedBytes in all members.
std::string untar_mmdb(int in_fd, int out_fd, const StopFn& stop);

}  // namespace flowtop::geoip::detail
