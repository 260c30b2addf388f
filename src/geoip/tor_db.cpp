#include "tor_db.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

#include "flowtop/core/text.hpp"
#include "flowtop/sys/bounded_file.hpp"

namespace flowtop::geoip {
namespace {

constexpr int kMaxReportedLines = 3;  // per file; then one summary line

std::optional<std::uint32_t> parse_v4(std::string_view s) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::array<std::uint8_t, 16>> parse_v6(std::string_view s) {
  char buf[INET6_ADDRSTRLEN];
  if (s.empty() || s.size() >= sizeof buf) {
    return std::nullopt;
  }
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  std::array<std::uint8_t, 16> out{};
  if (inet_pton(AF_INET6, buf, out.data()) != 1) {
    return std::nullopt;
  }
  return out;
}

bool valid_cc(std::string_view s) {
  return s.size() == 2 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
         });
}

}  // namespace

void TorGeoDb::load_file(const std::string& path, bool v6, TorGeoDb& db,
                         std::vector<std::string>& warnings) {
  const sys::FileText file = sys::read_bounded_file(path, kMaxFileBytes);
  if (!file.text) {
    if (file.error != ENOENT) {
      warnings.push_back(fmt::format("{}: cannot open ({})", path, file.why));
    }
    return;
  }
  parse_text(*file.text, path, v6, db, warnings);
}

void TorGeoDb::parse_text(std::string_view text_all, const std::string& path, bool v6, TorGeoDb& db,
                          std::vector<std::string>& warnings) {
  int bad = 0;
  int line_no = 0;
  auto report = [&](std::string_view why) {
    if (++bad <= kMaxReportedLines) {
      warnings.push_back(fmt::format("{}:{}: {}", path, line_no, why));
    }
  };
  while (!text_all.empty()) {
    const auto nl = text_all.find('\n');
    const std::string_view line = text_all.substr(0, nl);
    text_all.remove_prefix(nl == std::string_view::npos ? text_all.size() : nl + 1);
    ++line_no;
    const std::string_view text = core::trim(line);
    if (text.empty() || text.front() == '#') {
      continue;
    }
    const auto c1 = text.find(',');
    const auto c2 = c1 == std::string_view::npos ? std::string_view::npos : text.find(',', c1 + 1);
    if (c2 == std::string_view::npos) {
      report("expected LOW,HIGH,CC");
      continue;
    }
    const std::string_view low = core::trim(text.substr(0, c1));
    const std::string_view high = core::trim(text.substr(c1 + 1, c2 - c1 - 1));
    const std::string_view cc = core::trim(text.substr(c2 + 1));
    if (cc == "??") {  // unknown country: nothing to say about these addresses
      continue;
    }
    if (!valid_cc(cc)) {
      report("country code is not two letters");
      continue;
    }
    const CountryCode code{static_cast<char>(cc[0] & ~0x20), static_cast<char>(cc[1] & ~0x20)};
    if (v6) {
      const auto lo = parse_v6(low);
      const auto hi = parse_v6(high);
      if (!lo || !hi || *hi < *lo) {
        report("bad IPv6 range");
        continue;
      }
      db.v6_.push_back({*lo, *hi, code});
    } else {
      const auto lo = parse_v4(low);
      const auto hi = parse_v4(high);
      if (!lo || !hi || *hi < *lo) {
        report("bad IPv4 range (expected integers)");
        continue;
      }
      db.v4_.push_back({*lo, *hi, code});
    }
  }
  if (bad > kMaxReportedLines) {
    warnings.push_back(fmt::format("{}: {} more bad lines skipped", path, bad - kMaxReportedLines));
  }
}

TorGeoDb TorGeoDb::parse(std::string_view v4_text, std::string_view v6_text,
                         std::vector<std::string>& warnings) {
  TorGeoDb db;
  parse_text(v4_text, "geoip", false, db, warnings);
  parse_text(v6_text, "geoip6", true, db, warnings);
  db.sort_ranges();
  return db;
}

TorGeoDb TorGeoDb::load(const std::string& dir, std::vector<std::string>& warnings) {
  TorGeoDb db;
  load_file(dir + "/geoip", false, db, warnings);
  load_file(dir + "/geoip6", true, db, warnings);
  db.sort_ranges();
  return db;
}

void TorGeoDb::sort_ranges() {
  auto& db = *this;
  std::sort(db.v4_.begin(), db.v4_.end(),
            [](const V4Range& a, const V4Range& b) { return a.low < b.low; });
  std::sort(db.v6_.begin(), db.v6_.end(),
            [](const V6Range& a, const V6Range& b) { return a.low < b.low; });
}

std::string TorGeoDb::lookup(const core::IpAddr& addr) const {
  // The last range starting at or below the address is the only one that can hold it.
  if (addr.is_v4()) {
    const std::uint32_t host = ntohl(addr.v4_be());
    auto it = std::upper_bound(v4_.begin(), v4_.end(), host,
                               [](std::uint32_t a, const V4Range& r) { return a < r.low; });
    if (it == v4_.begin() || host > std::prev(it)->high) {
      return {};
    }
    return {std::prev(it)->cc.begin(), std::prev(it)->cc.end()};
  }
  auto it = std::upper_bound(v6_.begin(), v6_.end(), addr.bytes,
                             [](const auto& a, const V6Range& r) { return a < r.low; });
  if (it == v6_.begin() || addr.bytes > std::prev(it)->high) {
    return {};
  }
  return {std::prev(it)->cc.begin(), std::prev(it)->cc.end()};
}

}  // namespace flowtop::geoip
