#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowtop/core/text.hpp"

// Text helpers of the updater and the geoip.conf reader. Pure functions; any thread.
namespace flowtop::geoip::detail {

/// Untrusted text (server data, archive member names, metadata, file content) made safe for a
/// terminal, cut to `max_bytes` (core::sanitize).
inline std::string sanitize_text(std::string_view text, std::size_t max_bytes = 200) {
  return core::sanitize(text, max_bytes);
}
/// The URL without a "user:password@" part, sanitised, for messages.
std::string display_url(std::string_view url);
/// Decimal units with one decimal: "980 B", "1.5 kB", "61.2 MB" (core::format_bytes).
inline std::string format_size(std::uint64_t bytes) {
  return core::format_bytes(bytes);
}
/// strerror(err), thread-safe: "No such file or directory".
std::string errno_text(int err);
using core::ascii_lower;
/// A name safe to create in the GeoIP directory: letters, digits, '.', '_', '-', '+', not
/// starting with '.', at most 200 bytes.
bool is_safe_file_name(std::string_view name);

/// The words of a line, split at blanks (spaces and tabs).
std::vector<std::string> split_words(std::string_view line);
/// The line without its comment: '#' at the start or after a blank starts one (a '#' inside a URL
/// is kept).
std::string_view strip_comment(std::string_view line);
/// Calls fn(line_number, text) for each line of `text` (numbered from 1; the CR of CRLF removed).
template <class Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  int number = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    fn(++number, line);
  }
}
/// A configuration file's text (at most 1 MiB); nullopt with `why` set when it cannot be read.
std::optional<std::string> read_small_file(const std::string& path, std::string& why);

}  // namespace flowtop::geoip::detail
