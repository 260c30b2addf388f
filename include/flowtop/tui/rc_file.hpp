#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowtop/sys/privileges.hpp"

namespace flowtop::tui {

/// One `key=value` line of flowtoprc, trimmed.
struct RcEntry {
  std::string key;
  std::string value;
  int line = 0;  ///< 1-based
};

/// A parsed flowtoprc: the well-formed lines in file order, and one `file:line: reason` per bad
/// line (already sanitised for a terminal). Plain value.
struct RcFile {
  std::vector<RcEntry> entries;
  std::vector<std::string> errors;
};

/// The most flowtoprc may hold; a bigger file is not read.
inline constexpr std::size_t kMaxRcBytes = std::size_t{64} * 1024;
/// The most of a bad line (or value) an error message shows, in columns.
inline constexpr std::size_t kRcExcerptColumns = 40;

/// Parses htoprc-like text: `key=value` per line, blank lines and `#` comments ignored, spaces
/// around key and value trimmed. A line without `=`, with an empty or malformed key, or a key seen
/// before is an error naming `name` and the line; the rest is used. An error quotes at most
/// rc_excerpt() of the line. Pure.
RcFile parse_rc(std::string_view text, std::string_view name);

/// Where flowtoprc is and whose it is. Plain value.
struct RcLocation {
  std::string base;  ///< where the walk starts: the user's home, or $XDG_CONFIG_HOME
  std::vector<std::string> subdirs;  ///< below base: {".config", "flowtop"} or {"flowtop"}
  uid_t uid = 0;                     ///< the user who must own the directories and the file
  gid_t gid = 0;
  /// base/subdirs.../flowtoprc, for messages.
  [[nodiscard]] std::string path() const;
};

/// The location for `user`: `$XDG_CONFIG_HOME/flowtop/flowtoprc` when the user's environment is
/// trusted and gives one, else `HOME/.config/flowtop/flowtoprc`. Pure.
RcLocation rc_location(const sys::InvokingUser& user);
/// The location for sys::invoking_user() (under sudo or pkexec: the calling user's home from the
/// password database, whatever the environment says); nullopt without a usable home.
std::optional<RcLocation> rc_location();

/// Reads and parses flowtoprc as the user `files` acts for: no symbolic link is followed below
/// `base`; every directory below `base` and the file must belong to `loc.uid` and be writable by
/// nobody else; the file must be a regular file of at most kMaxRcBytes (a FIFO, a device or a
/// bigger file is never read). A missing file is empty (no error); any other problem is one
/// error, which never quotes the file. Blocks until `files` has done it.
RcFile read_rc(const RcLocation& loc, const sys::UserFiles& files);
/// The same, as sys::invoking_user_files().
RcFile read_rc(const RcLocation& loc);

/// Writes `text` to flowtoprc atomically (a temporary file in the same directory, then rename),
/// as the user `files` acts for: through directory descriptors opened without following symbolic
/// links, each checked as read_rc() does; missing directories below `base` are created (0700) by
/// that user. Throws std::system_error naming the path on failure.
void write_rc(const RcLocation& loc, std::string_view text, const sys::UserFiles& files);
/// The same, as sys::invoking_user_files().
void write_rc(const RcLocation& loc, std::string_view text);

/// Formats one error: "file:line: reason", with `name` sanitised.
std::string rc_error(std::string_view name, int line, std::string_view reason);

/// Untrusted text from the file as an error may quote it: sanitised, and cut to
/// kRcExcerptColumns columns (ending in "…" when cut). Pure.
std::string rc_excerpt(std::string_view text);

}  // namespace flowtop::tui
