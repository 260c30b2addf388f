#include "update_maxmind.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "flowtop/sys/test_hooks.hpp"
#include "update_text.hpp"

namespace flowtop::geoip {

namespace detail {

bool valid_edition(std::string_view edition) {
  if (edition.empty() || edition.size() > 64) {
    return false;
  }
  return std::ranges::all_of(edition, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Source maxmind_source(const std::string& edition, int line) {
  Source s;
  s.kind = Source::Kind::MaxMind;
  s.location = std::string(kMaxMindUrlTemplate);
  s.location.replace(s.location.find("{EDITION}"), 9, edition);
  s.target = edition + ".mmdb";
  s.expected = kind_from_name(edition);
  s.packaging = Packaging::TarGz;
  s.auth = true;
  s.edition = edition;
  s.line = line;
  return s;
}

bool is_placeholder_account(const MaxMindAccount& account) {
  return account.account_id.find_first_not_of('0') == std::string::npos ||
         account.license_key.find_first_not_of('0') == std::string::npos;
}

}  // namespace detail

using detail::ascii_lower;
using detail::is_placeholder_account;
using detail::split_words;
using detail::strip_comment;
using detail::valid_edition;

GeoipUpdateConf parse_geoipupdate_conf(std::string_view text, const std::string& path) {
  GeoipUpdateConf out;
  std::string id;
  std::string key;
  detail::for_each_line(text, [&](int, std::string_view line) {
    const std::vector<std::string> words = split_words(strip_comment(line));
    if (words.size() < 2) {
      return;
    }
    const std::string k = ascii_lower(words[0]);
    if ((k == "accountid" || k == "userid") &&
        words[1].find_first_not_of("0123456789") == std::string::npos) {
      id = words[1];
    } else if (k == "licensekey") {
      key = words[1];
    } else if (k == "editionids" || k == "productids") {
      out.editions.clear();
      for (std::size_t i = 1; i < words.size(); ++i) {
        if (valid_edition(words[i])) {
          out.editions.push_back(words[i]);
        }
      }
    }
  });
  if (!id.empty() && !key.empty()) {
    MaxMindAccount account{id, key, path};
    if (!is_placeholder_account(account)) {
      out.account = std::move(account);
    }
  }
  return out;
}

std::string geoipupdate_conf_path() {
  return sys::test_hook("FLOWTOP_GEOIPUPDATE_CONF").value_or("/etc/GeoIP.conf");
}

void resolve_maxmind(GeoipConf& conf, const std::string& geoipupdate_conf) {
  bool any = false;
  for (const Source& s : conf.sources) {
    any = any || s.kind == Source::Kind::MaxMind;
  }
  if (!any) {
    return;
  }
  GeoipUpdateConf system;
  std::string why;
  if (const auto text = detail::read_small_file(geoipupdate_conf, why)) {
    system = parse_geoipupdate_conf(*text, geoipupdate_conf);
  }
  if (conf.account && is_placeholder_account(*conf.account)) {
    conf.account.reset();
  }
  if (!conf.account) {
    conf.account = system.account;
  }
  std::vector<std::string> editions = system.editions;
  if (editions.empty()) {
    editions = split_words(kDefaultEditions);
  }
  std::vector<Source> out;
  int last_error_line = 0;
  for (Source& s : conf.sources) {
    if (s.kind != Source::Kind::MaxMind) {
      out.push_back(std::move(s));
      continue;
    }
    if (!conf.account) {
      if (s.line != last_error_line) {
        conf.errors.push_back(fmt::format(
            "{}:{}: maxmind needs a MaxMind account: add 'AccountID N' and 'LicenseKey KEY' "
            "lines to geoip.conf or to {} (free GeoLite2 account at maxmind.com)",
            conf.path, s.line, geoipupdate_conf));
        last_error_line = s.line;
      }
      continue;
    }
    if (!s.edition.empty()) {
      out.push_back(std::move(s));
      continue;
    }
    for (const std::string& edition : editions) {
      out.push_back(detail::maxmind_source(edition, s.line));
    }
  }
  conf.sources = std::move(out);
}

}  // namespace flowtop::geoip
