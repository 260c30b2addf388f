#include "flowtop/geoip/geoip_conf.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "update_maxmind.hpp"
#include "update_text.hpp"

namespace flowtop::geoip {
namespace {

using detail::ascii_lower;
using detail::for_each_line;
using detail::sanitize_text;
using detail::split_words;
using detail::strip_comment;
using detail::valid_edition;

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/// %XX decoding; nullopt on a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return std::nullopt;
    }
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      return std::nullopt;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

/// The installed name from a file name stem with its placeholders removed:
/// "dbip-city-lite-{YYYY}-{MM}" → "dbip-city-lite".
std::string clean_stem(std::string_view stem) {
  std::string s(stem);
  for (const std::string_view ph : {"{YYYY}", "{MM}"}) {
    for (std::size_t at = s.find(ph); at != std::string::npos; at = s.find(ph)) {
      s.erase(at, ph.size());
    }
  }
  // Separators left next to each other or at an end by the removal.
  std::string out;
  for (const char c : s) {
    const bool sep = c == '-' || c == '_' || c == '.';
    if (sep && (out.empty() || out.back() == '-' || out.back() == '_' || out.back() == '.')) {
      continue;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '_' || out.back() == '.')) {
    out.pop_back();
  }
  return out;
}

class Parser {
 public:
  Parser(GeoipConf& conf, std::string_view text) : conf_(conf), text_(text) {}

  void run() {
    for_each_line(text_, [this](int number, std::string_view line) {
      line_ = number;
      parse_line(line);
    });
    if (account_id_.empty() != license_key_.empty()) {
      const bool has_id = !account_id_.empty();
      error_at(has_id ? account_line_ : key_line_, has_id ? "AccountID without a LicenseKey line"
                                                          : "LicenseKey without an AccountID line");
    } else if (!account_id_.empty()) {
      conf_.account = MaxMindAccount{account_id_, license_key_,
                                     fmt::format("{}:{}", conf_.path, account_line_)};
    }
  }

 private:
  void error_at(int line, std::string_view reason) {
    conf_.errors.push_back(fmt::format("{}:{}: {}", conf_.path, line, reason));
  }
  void error(std::string_view reason) { error_at(line_, reason); }

  void parse_line(std::string_view raw) {
    const std::vector<std::string> words = split_words(strip_comment(raw));
    if (words.empty()) {
      return;
    }
    const std::string key = ascii_lower(words[0]);
    const std::vector<std::string> args(words.begin() + 1, words.end());
    if (key == "accountid" || key == "userid") {
      parse_account_id(args);
    } else if (key == "licensekey") {
      parse_license_key(args);
    } else if (key == "maxmind" || key == "editionids" || key == "productids") {
      parse_maxmind(args);
    } else if (key == "mirror") {
      parse_mirror(args);
    } else if (words[0].find("://") != std::string::npos) {
      if (!args.empty()) {
        error(fmt::format("one URL per line (unexpected '{}')", sanitize_text(args[0], 60)));
        return;
      }
      add_location(words[0]);
    } else {
      error(fmt::format(
          "unknown keyword '{}' (expected a URL, a file:// path, mirror, maxmind, AccountID or "
          "LicenseKey)",
          sanitize_text(words[0], 60)));
    }
  }

  void parse_account_id(const std::vector<std::string>& args) {
    if (args.size() != 1) {
      error("AccountID takes one number");
      return;
    }
    const std::string& id = args[0];
    if (id.empty() || id.size() > 20 || id.find_first_not_of("0123456789") != std::string::npos) {
      error(fmt::format("AccountID '{}' is not a number", sanitize_text(id, 40)));
      return;
    }
    account_id_ = id;
    account_line_ = line_;
  }

  void parse_license_key(const std::vector<std::string>& args) {
    if (args.size() != 1) {
      error("LicenseKey takes one key");
      return;
    }
    for (const char c : args[0]) {
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        error("LicenseKey holds characters that are not printable ASCII");
        return;
      }
    }
    if (args[0].size() > 128) {
      error("LicenseKey is too long");
      return;
    }
    license_key_ = args[0];
    key_line_ = line_;
  }

  void parse_maxmind(const std::vector<std::string>& args) {
    if (args.empty()) {
      Source s;
      s.kind = Source::Kind::MaxMind;
      s.packaging = Packaging::TarGz;
      s.auth = true;
      s.line = line_;
      conf_.sources.push_back(std::move(s));  // editions resolved by resolve_maxmind()
      return;
    }
    for (const std::string& edition : args) {
      if (!valid_edition(edition)) {
        error(fmt::format("'{}' is not a MaxMind edition id (like GeoLite2-City)",
                          sanitize_text(edition, 60)));
        return;
      }
    }
    for (const std::string& edition : args) {
      conf_.sources.push_back(detail::maxmind_source(edition, line_));
    }
  }

  void parse_mirror(const std::vector<std::string>& args) {
    if (args.size() != 1) {
      error("mirror takes one base URL (mirror https://example.org/geoip)");
      return;
    }
    std::string base = args[0];
    if (!core::istarts_with(base, "http://") && !core::istarts_with(base, "https://") &&
        !core::istarts_with(base, "file://")) {
      error(fmt::format("mirror base '{}' is not an http://, https:// or file:// URL",
                        sanitize_text(base, 80)));
      return;
    }
    if (base.find_first_of("?#") != std::string::npos) {
      error("a mirror base URL cannot have a query or fragment");
      return;
    }
    while (!base.empty() && base.back() == '/') {
      base.pop_back();
    }
    for (const std::string_view name : {kDbipCityTemplate, kDbipAsnTemplate}) {
      if (!add_location(base + "/" + std::string(name))) {
        return;
      }
    }
  }

  /// A URL or file:// line. False (and an error) when it is not usable.
  bool add_location(const std::string& text) {
    Source s;
    s.line = line_;
    std::string path;  // the part whose last component names the file
    if (core::istarts_with(text, "file://")) {
      std::string rest = text.substr(7);
      if (core::istarts_with(rest, "localhost/")) {
        rest.erase(0, 9);
      }
      if (rest.empty() || rest[0] != '/') {
        error("a file:// URL needs an absolute path (file:///path/to/file.mmdb)");
        return false;
      }
      const auto decoded = percent_decode(rest);
      if (!decoded) {
        error(fmt::format("bad %-escape in '{}'", sanitize_text(text, 80)));
        return false;
      }
      s.kind = Source::Kind::File;
      s.location = *decoded;
      path = *decoded;
    } else if (core::istarts_with(text, "http://") || core::istarts_with(text, "https://")) {
      const std::size_t host = text.find("://") + 3;
      const std::size_t slash = text.find_first_of("/?#", host);
      if (slash == host || host == text.size()) {
        error(fmt::format("'{}' has no host name", sanitize_text(text, 80)));
        return false;
      }
      s.kind = Source::Kind::Url;
      s.location = text;
      const std::size_t query =
          slash == std::string::npos ? std::string::npos : text.find_first_of("?#", slash);
      path =
          slash == std::string::npos
              ? std::string{}
              : text.substr(slash, query == std::string::npos ? std::string::npos : query - slash);
      const auto decoded = percent_decode(path);
      if (!decoded) {
        error(fmt::format("bad %-escape in '{}'", sanitize_text(text, 80)));
        return false;
      }
      path = *decoded;
    } else {
      const std::size_t colon = text.find("://");
      error(fmt::format("unsupported URL scheme '{}' (use https://, http:// or file://)",
                        sanitize_text(text.substr(0, colon), 20)));
      return false;
    }
    if (!check_placeholders(s.location)) {
      return false;
    }
    s.dated = s.location.find("{YYYY}") != std::string::npos ||
              s.location.find("{MM}") != std::string::npos;
    const std::string name = path.substr(path.find_last_of('/') + 1);
    std::string stem;
    if (core::iends_with(name, ".mmdb.gz")) {
      s.packaging = Packaging::Gzip;
      stem = name.substr(0, name.size() - 8);
    } else if (core::iends_with(name, ".tar.gz")) {
      s.packaging = Packaging::TarGz;
      stem = name.substr(0, name.size() - 7);
    } else if (core::iends_with(name, ".tgz")) {
      s.packaging = Packaging::TarGz;
      stem = name.substr(0, name.size() - 4);
    } else if (core::iends_with(name, ".mmdb")) {
      s.packaging = Packaging::Mmdb;
      stem = name.substr(0, name.size() - 5);
    } else {
      error(fmt::format("'{}' is not a .mmdb, .mmdb.gz or .tar.gz file",
                        sanitize_text(name.empty() ? text : name, 80)));
      return false;
    }
    stem = clean_stem(stem);
    if (!detail::is_safe_file_name(stem + ".mmdb")) {
      error(fmt::format("cannot make a safe file name from '{}' (use letters, digits, . _ -)",
                        sanitize_text(name, 80)));
      return false;
    }
    s.target = stem + ".mmdb";
    s.expected = kind_from_name(stem);
    s.dbip = core::istarts_with(stem, "dbip-");
    conf_.sources.push_back(std::move(s));
    return true;
  }

  bool check_placeholders(std::string_view location) {
    for (std::size_t at = location.find('{'); at != std::string_view::npos;
         at = location.find('{', at + 1)) {
      const std::string_view rest = location.substr(at);
      if (rest.starts_with("{YYYY}") || rest.starts_with("{MM}")) {
        continue;
      }
      const std::size_t close = rest.find('}');
      error(fmt::format("unknown placeholder '{}' (only {{YYYY}} and {{MM}})",
                        sanitize_text(rest.substr(0, close == std::string_view::npos
                                                         ? std::min<std::size_t>(rest.size(), 12)
                                                         : close + 1),
                                      30)));
      return false;
    }
    return true;
  }

  GeoipConf& conf_;
  std::string_view text_;
  int line_ = 0;
  std::string account_id_;
  std::string license_key_;
  int account_line_ = 0;
  int key_line_ = 0;
};

}  // namespace

YearMonth current_month_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return YearMonth{tm.tm_year + 1900, tm.tm_mon + 1};
}

YearMonth previous_month(YearMonth ym) {
  return ym.month <= 1 ? YearMonth{ym.year - 1, 12} : YearMonth{ym.year, ym.month - 1};
}

std::string to_string(YearMonth ym) {
  return fmt::format("{:04}-{:02}", ym.year, ym.month);
}

std::string expand_placeholders(std::string_view text, YearMonth ym) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i).starts_with("{YYYY}")) {
      out += fmt::format("{:04}", ym.year);
      i += 6;
    } else if (text.substr(i).starts_with("{MM}")) {
      out += fmt::format("{:02}", ym.month);
      i += 4;
    } else {
      out += text[i++];
    }
  }
  return out;
}

DbKind kind_from_name(std::string_view name) {
  const std::string lower = ascii_lower(name);
  if (lower.find("city") != std::string::npos) {
    return DbKind::City;
  }
  if (lower.find("country") != std::string::npos) {
    return DbKind::Country;
  }
  if (lower.find("asn") != std::string::npos) {
    return DbKind::Asn;
  }
  return DbKind::Unknown;
}

GeoipConf parse_geoip_conf(std::string_view text, const std::string& path) {
  GeoipConf conf;
  conf.path = path;
  Parser(conf, text).run();
  return conf;
}

GeoipConf read_geoip_conf(const std::string& path) {
  std::string why;
  const auto text = detail::read_small_file(path, why);
  if (!text) {
    GeoipConf conf;
    conf.path = path;
    conf.errors.push_back(fmt::format("{}: cannot read: {}", path, why));
    return conf;
  }
  return parse_geoip_conf(*text, path);
}

}  // namespace flowtop::geoip
