#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::geoip {

/// Which kind of data a database holds, as told by its metadata (database_type).
enum class DbKind { City, Country, Asn, Unknown };

/// One opened MaxMind DB file (GeoLite2/GeoIP2 or DB-IP Lite; libmaxminddb). Thread-safe for
/// lookups after construction (libmaxminddb's lookups are read-only on an mmap).
class Database {
 public:
  /// Opens and validates `path`. Throws std::runtime_error naming the file and what is wrong
  /// (missing, corrupt, truncated, unknown type).
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  [[nodiscard]] DbKind kind() const;
  [[nodiscard]] const std::string& path() const;
  [[nodiscard]] const std::string& type() const;  ///< metadata database_type, e.g. "GeoLite2-City"
  [[nodiscard]] bool is_dbip() const;  ///< DB-IP (needs attribution "IP Geolocation by DB-IP")
  [[nodiscard]] std::uint64_t build_epoch() const;  ///< metadata build_epoch (seconds since 1970)
  /// Fills the fields this database knows (country/city or asn/org) into `out`. False when the
  /// address is not in the database.
  bool lookup(const core::IpAddr& addr, core::GeoInfo& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Non-located kinds (private, loopback, ...) are decided here, before any database. nullopt for a
/// public address.
std::optional<core::GeoInfo::Kind> reserved_kind(const core::IpAddr& addr);

/// Every GeoIP source flowtop found: MaxMind DBs from the search path, or the tor-geoipdb fallback.
/// Lookups are thread-safe.
class GeoDatabases {
 public:
  /// Searches `dirs` in order (--geoip-dir, /var/lib/flowtop, /usr/share/GeoIP,
  /// /var/lib/GeoIP) for *.mmdb (each directory's files in name order); for each kind the first
  /// valid file wins, and a City database beats a Country one. When no City or Country database
  /// is found and tor_dir has geoip/geoip6 files, they are the country-only fallback. Never
  /// throws: problems are reported by warnings().
  GeoDatabases(const std::vector<std::string>& dirs, const std::string& tor_dir = "/usr/share/tor");
  ~GeoDatabases();

  /// Reserved ranges → that kind; otherwise the merged City/Country + ASN data, or nullopt when no
  /// source knows the address.
  [[nodiscard]] std::optional<core::GeoInfo> lookup(const core::IpAddr& addr) const;
  [[nodiscard]] bool any() const;        ///< at least one source is open
  [[nodiscard]] bool uses_dbip() const;  ///< attribution needed
  /// "GeoLite2-City + GeoLite2-ASN", "tor-geoipdb (countries only)"; "" when none is open.
  [[nodiscard]] std::string source_label() const;
  /// "…/GeoLite2-City.mmdb: truncated or corrupt (…)", "no GeoIP database found: run 'flowtop -u'"
  [[nodiscard]] const std::vector<std::string>& warnings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The default search path with `geoip_dir` (if not empty) first.
std::vector<std::string> default_dirs(const std::string& geoip_dir);

/// What is wrong with a --geoip-dir that is not a readable directory ("--geoip-dir /x: no such
/// directory"), for the health lines beside the databases' warnings; "" when it is one (or empty).
std::string geoip_dir_problem(const std::string& geoip_dir);

}  // namespace flowtop::geoip
