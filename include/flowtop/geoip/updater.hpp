#pragma once

#include <atomic>
#include <iosfwd>
#include <string>
#include <vector>

#include "flowtop/geoip/geoip_conf.hpp"

namespace flowtop::geoip {

/// How `flowtop -u` runs. Plain value; main thread.
struct UpdateOptions {
  std::string dir = "/var/lib/flowtop";  ///< the GeoIP directory, created 0755 when missing
  YearMonth month =
      current_month_utc();           ///< {YYYY}/{MM} of dated sources (the previous as fallback)
  bool progress = false;             ///< draw a progress bar (on `err`: a terminal)
  int columns = 80;                  ///< the terminal's width for the progress bar
  long connect_timeout_s = 20;       ///< TCP + TLS set-up
  long stall_timeout_s = 60;         ///< no data at all for this long
  long total_timeout_s = 1800;       ///< one whole download
  std::string ca_file;               ///< CA bundle instead of the system's (tests)
  std::vector<std::string> resolve;  ///< "HOST:PORT:ADDRESS" name pins (tests)
  std::string user_agent = "flowtop";
  /// Set (from a signal handler) to stop: the current transfer is abandoned and its temporary
  /// files removed. May be null.
  const std::atomic<bool>* stop = nullptr;
};

/// What an update did. Plain value.
struct UpdateSummary {
  std::vector<std::string> installed;   ///< file names newly installed
  std::vector<std::string> up_to_date;  ///< file names the server said are unchanged (HTTP 304)
  std::vector<std::string> failed;      ///< "name: why" for each database not updated
  bool dbip = false;         ///< a DB-IP database is installed or up to date (attribution)
  bool interrupted = false;  ///< stopped by `UpdateOptions::stop`
  std::string fatal;         ///< nothing was tried: the directory cannot be created or written

  /// 0 when every database was installed or is up to date, else 1.
  [[nodiscard]] int exit_status() const {
    return failed.empty() && !interrupted && fatal.empty() ? 0 : 1;
  }
};

/// Fetches every source of `conf` (which must have no errors and be passed through
/// resolve_maxmind()) into `options.dir`. Sources installing the same file are alternatives,
/// tried in order until one works. Each download is unpacked (.gz with zlib, .tar.gz with
/// libarchive) into a temporary file in the directory, validated with the reader (it opens, its
/// type is the kind its name promises, a lookup finds a well-known address) and renamed over the
/// old file (mode 0644); on any failure the old file stays and every temporary file is removed.
/// Progress and results go to `out`, failures to `err` (one line each, sanitised). Main thread.
UpdateSummary update_databases(const GeoipConf& conf, const UpdateOptions& options,
                               std::ostream& out, std::ostream& err);

/// The attribution DB-IP's licence (CC BY 4.0) asks for.
inline constexpr const char* kDbipAttribution =
    "IP Geolocation by DB-IP (https://db-ip.com), licensed under CC BY 4.0";

}  // namespace flowtop::geoip
