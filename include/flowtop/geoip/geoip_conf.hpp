#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flowtop/geoip/database.hpp"

namespace flowtop::geoip {

/// A year and month, the values of the {YYYY} and {MM} placeholders. Plain value; any thread.
struct YearMonth {
  int year = 1970;
  int month = 1;  ///< 1..12

  auto operator<=>(const YearMonth&) const = default;
};

/// This month in UTC (DB-IP names its monthly files by the UTC month).
YearMonth current_month_utc();
/// The month before `ym` (January → December of the year before).
YearMonth previous_month(YearMonth ym);
/// "2026-03".
std::string to_string(YearMonth ym);
/// Replaces every "{YYYY}" with the four-digit year and every "{MM}" with the two-digit month.
std::string expand_placeholders(std::string_view text, YearMonth ym);

/// How a downloaded file is packed.
enum class Packaging { Mmdb, Gzip, TarGz };

/// One place one database can be fetched from. A `mirror` or `maxmind` line gives several.
/// Plain value; main thread.
struct Source {
  enum class Kind { Url, File, MaxMind };
  Kind kind = Kind::Url;
  /// http(s) URL or local path (file:// already removed and percent-decoded); may hold {YYYY}/{MM}.
  std::string location;
  /// The file installed in the GeoIP directory ("dbip-city-lite.mmdb", "GeoLite2-City.mmdb").
  /// Sources with the same target are alternatives, tried in file order until one succeeds. For a
  /// .tar.gz the installed name is the archive's .mmdb member; `target` is then the name guessed
  /// from the URL and only groups alternatives.
  std::string target;
  DbKind expected = DbKind::Unknown;  ///< the kind the name promises; Unknown: any known kind
  Packaging packaging = Packaging::Mmdb;
  bool dated = false;   ///< holds {YYYY}/{MM}: this month, else the previous one
  bool auth = false;    ///< MaxMind: HTTP basic authentication with the account id and key
  bool dbip = false;    ///< a DB-IP file name ("dbip-..."); the attribution follows the data
  std::string edition;  ///< MaxMind edition ("GeoLite2-City"); empty: EditionIDs or the defaults
  int line = 0;         ///< geoip.conf line number
};

/// A MaxMind account: the user name (account id) and password (licence key) of the downloads.
struct MaxMindAccount {
  std::string account_id;
  std::string license_key;
  std::string origin;  ///< where it was read: "geoip.conf:3" or "/etc/GeoIP.conf"
};

/// A parsed geoip.conf. Plain value; main thread.
struct GeoipConf {
  std::string path;
  std::vector<Source> sources;            ///< in file order
  std::optional<MaxMindAccount> account;  ///< AccountID + LicenseKey lines of geoip.conf
  std::vector<std::string> errors;        ///< "path:line: reason", one per bad line
};

/// The default DB-IP Lite file names (also what a `mirror` line fetches).
inline constexpr std::string_view kDbipCityTemplate = "dbip-city-lite-{YYYY}-{MM}.mmdb.gz";
inline constexpr std::string_view kDbipAsnTemplate = "dbip-asn-lite-{YYYY}-{MM}.mmdb.gz";
/// MaxMind's download permalink; {EDITION} is the edition id.
inline constexpr std::string_view kMaxMindUrlTemplate =
    "https://download.maxmind.com/geoip/databases/{EDITION}/download?suffix=tar.gz";
/// The editions a `maxmind` line without names fetches when GeoIP.conf names none.
inline constexpr std::string_view kDefaultEditions = "GeoLite2-City GeoLite2-ASN";

/// Parses geoip.conf text (the format is documented in conf/geoip.conf). Bad lines go to `errors`
/// as "path:line: reason"; the good ones are still parsed. Never throws.
GeoipConf parse_geoip_conf(std::string_view text, const std::string& path);
/// Reads and parses `path`; an unreadable file is one error "path: cannot read: why".
GeoipConf read_geoip_conf(const std::string& path);

/// geoipupdate's GeoIP.conf: AccountID, LicenseKey (or the old UserId) and EditionIDs (or the old
/// ProductIds); other settings are ignored.
struct GeoipUpdateConf {
  std::optional<MaxMindAccount> account;
  std::vector<std::string> editions;
};
/// Parses GeoIP.conf text; never throws.
GeoipUpdateConf parse_geoipupdate_conf(std::string_view text, const std::string& path);
/// geoipupdate's configuration path: $FLOWTOP_GEOIPUPDATE_CONF, else /etc/GeoIP.conf.
std::string geoipupdate_conf_path();

/// Completes the `maxmind` sources: takes the account from geoip.conf, else from the GeoIP.conf at
/// `geoipupdate_conf` (if readable); expands a `maxmind` line without editions into GeoIP.conf's
/// EditionIDs, else kDefaultEditions. Without an account every `maxmind` line is an error in
/// `conf.errors`.
void resolve_maxmind(GeoipConf& conf, const std::string& geoipupdate_conf);

/// The kind a file or edition name promises: "city", "country" or "asn" in it (any case); Unknown
/// when it says none of them.
DbKind kind_from_name(std::string_view name);

}  // namespace flowtop::geoip
