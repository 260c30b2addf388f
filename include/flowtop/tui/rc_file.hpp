#pragma once

#include <string>
#include <string_view>
#include <vector>

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

/// Parses htoprc-like text: `key=value` per line, blank lines and `#` comments ignored, spaces
/// around key and value trimmed. A line without `=`, with an empty or malformed key, or a key seen
/// before is an error naming `name` and the line; the rest is used. Pure.
RcFile parse_rc(std::string_view text, std::string_view name);

/// Reads and parses `path`. A missing file is empty (no error); an unreadable one is one error.
RcFile read_rc(const std::string& path);

/// Writes `text` to `path` atomically (a temporary file in the same directory, then rename),
/// creating the parent directories (0700). Throws std::system_error with the path on failure.
void write_rc(const std::string& path, std::string_view text);

/// The flowtoprc path: `$XDG_CONFIG_HOME/flowtop/flowtoprc` when that variable is an absolute
/// path, else `$HOME/.config/flowtop/flowtoprc`; "" when neither is usable.
std::string rc_path();

/// Formats one error: "file:line: reason", with `name` sanitised.
std::string rc_error(std::string_view name, int line, std::string_view reason);

}  // namespace flowtop::tui
