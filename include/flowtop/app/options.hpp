#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/redact.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/filter.hpp"
#include "flowtop/view/selection.hpp"

namespace flowtop::app {

enum class Mode { Screen, Batch, Json, Update, Version, Help };

/// The parsed command line. Plain value; main thread.
struct Options {
  Mode mode = Mode::Screen;
  view::Selection selection;  ///< families, protocols, loopback/DNS/other rules
  bool no_dns = false;        ///< -n
  bool no_geoip = false;      ///< -G
  bool show_src = false;      ///< -s
  bool bits = false;          ///< -b
  double interval_s = 1.0;    ///< -t, 0.1 .. 3600
  /// Which of the settings flowtoprc also holds were given on the command line (they override it).
  bool families_given = false, protocols_given = false, interval_given = false;
  std::optional<std::uint64_t> iterations;  ///< -c N (N >= 1): frames, or --events records
  double linger_s = 5.0;                    ///< --linger SEC, 0 .. 3600 (0: ended flows go at once)
  bool events = false;                      ///< --events (with --json): start/end records
  bool no_sysctl = false;
  bool track = false;
  bool read_only = false;  ///< --read-only: the screen's actions (`x`, `t`) are disabled
  /// --redact local|remote|all: privacy mode from the start (the screen's `P` switches it off
  /// and back to this scope). nullopt: off (`P` masks all).
  std::optional<core::RedactScope> redact;
  /// --window 2|10|40|off: the rates' averaging window (nullopt: off, the last interval's rates;
  /// the screen's `w` cycles).
  std::optional<core::RateWindow> window;
  bool stats = false;
  std::string geoip_dir;
  std::vector<std::string> lease_files;  ///< --leases FILE, repeatable
  std::string netns;                     ///< --netns NAME|PATH|PID ("" = this namespace)
  std::optional<view::Column> sort;      ///< --sort KEY (a column name or alias)
  view::Filter filter;                   ///< --filter EXPR, compiled (empty: none)
  std::optional<view::Tab> tab;  ///< --tab NAME: the tab --batch/--json show (screen: start)
  /// Hidden, for tests: event socket receive buffer in bytes (--event-buffer N); 0 = default.
  std::size_t event_buffer = 0;
};

/// A bad command line: the message is one line naming the option and the problem; exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses argv (getopt_long; reentrant: resets optind), checking every value: --sort names a
/// column, --filter compiles, --tab names a tab. Throws UsageError. Never touches the kernel.
Options parse_options(int argc, char* const* argv);
/// The --help text.
std::string help_text();
/// "flowtop 0.1.0".
std::string version_text();

}  // namespace flowtop::app
