#include "flowtop/enrich/leases.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_set>
#include <utility>

#include "flowtop/core/text.hpp"
#include "lease_records.hpp"

namespace flowtop::enrich {
namespace lease_detail {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string clean_name(std::string_view raw) {
  std::string_view n = raw;
  if (n.size() > kMaxLeaseNameBytes) {
    std::size_t cut = kMaxLeaseNameBytes;
    // Back off over continuation bytes (at most three: one UTF-8 sequence).
    for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(n[cut]) & 0xC0U) == 0x80U;
         ++i) {
      --cut;
    }
    n = n.substr(0, cut);
  }
  while (!n.empty() && n.back() == '.') {  // "host.lan." is a fully qualified "host.lan"
    n.remove_suffix(1);
  }
  if (n == "*") {
    return {};
  }
  return std::string(n);
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace lease_detail

namespace {

using lease_detail::clean_name;
using lease_detail::is_blank;
using lease_detail::LeaseRecord;

/// Splits text into lines (without '\n' and a trailing '\r'); `terminated` says whether the
/// line ended with '\n' (the last line of a file being written may not).
class Lines {
 public:
  explicit Lines(std::string_view text) : rest_(text) {}
  bool next(std::string_view& line, bool& terminated) {
    if (rest_.empty()) {
      return false;
    }
    const std::size_t nl = rest_.find('\n');
    terminated = nl != std::string_view::npos;
    line = rest_.substr(0, nl);
    rest_.remove_prefix(terminated ? nl + 1 : rest_.size());
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    return true;
  }

 private:
  std::string_view rest_;
};

/// The blank-separated fields of a line, at most `max` (the rest of the line is dropped).
std::vector<std::string_view> fields(std::string_view line, std::size_t max = 32) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (out.size() < max) {
    while (i < line.size() && is_blank(line[i])) {
      ++i;
    }
    if (i == line.size()) {
      break;
    }
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) {
      ++i;
    }
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

/// Keeps the last record per address, drops the inactive ones; file order of the kept ones.
std::vector<Lease> last_active(std::vector<LeaseRecord>& recs) {
  std::unordered_set<core::IpAddr, core::SeededIpHash> seen;
  std::vector<Lease> out;
  for (std::size_t i = recs.size(); i-- > 0;) {  // from the end: the last record wins
    if (seen.insert(recs[i].lease.addr).second && recs[i].active) {
      out.push_back(std::move(recs[i].lease));
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// ---- dnsmasq ----

std::vector<LeaseRecord> parse_dnsmasq(std::string_view text) {
  std::vector<LeaseRecord> recs;
  Lines lines(text);
  std::string_view line;
  bool terminated = false;
  while (lines.next(line, terminated)) {
    const auto f = fields(line, 6);
    // dnsmasq always writes five fields; a short last line is a file caught mid-write.
    if (f.size() < 4 || (!terminated && f.size() < 5) || !all_digits(f[0])) {
      continue;  // also the `duid ...` line before the IPv6 leases
    }
    const auto addr = core::IpAddr::parse(f[2]);
    if (!addr) {
      continue;
    }
    LeaseRecord r;
    r.lease.addr = *addr;
    r.lease.name = clean_name(f[3]);
    if (addr->is_v4()) {
      r.lease.mac = parse_mac(f[1]);  // IPv6 lines have the IAID there
    }
    recs.push_back(std::move(r));
  }
  return recs;
}

// ---- Kea ----

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t comma = line.find(',');
    out.push_back(core::trim(line.substr(0, comma)));
    if (comma == std::string_view::npos || out.size() >= 64) {
      return out;
    }
    line.remove_prefix(comma + 1);
  }
}

std::string kea_unescape(std::string_view s) {
  std::string out;
  for (std::size_t at = s.find("&#x2c"); at != std::string_view::npos; at = s.find("&#x2c")) {
    out.append(s.substr(0, at)).push_back(',');
    s.remove_prefix(at + 5);
  }
  out.append(s);
  return out;
}

std::vector<LeaseRecord> parse_kea(std::string_view text) {
  std::vector<LeaseRecord> recs;
  Lines lines(text);
  std::string_view line;
  bool terminated = false;
  constexpr std::size_t kNone = std::string_view::npos;
  std::size_t c_addr = kNone;
  std::size_t c_hw = kNone;
  std::size_t c_name = kNone;
  std::size_t c_state = kNone;
  std::size_t c_valid = kNone;
  std::size_t c_type = kNone;
  bool header = false;
  std::size_t columns = 0;
  while (lines.next(line, terminated)) {
    if (core::trim(line).empty()) {
      continue;
    }
    const auto f = split_csv(line);
    if (!header) {
      for (std::size_t i = 0; i < f.size(); ++i) {
        const std::string col = core::ascii_lower(f[i]);
        std::size_t* slot = col == "address"          ? &c_addr
                            : col == "hwaddr"         ? &c_hw
                            : col == "hostname"       ? &c_name
                            : col == "state"          ? &c_state
                            : col == "valid_lifetime" ? &c_valid
                            : col == "lease_type"     ? &c_type
                                                      : nullptr;
        if (slot != nullptr && *slot == kNone) {
          *slot = i;
        }
      }
      if (c_addr == kNone) {
        return recs;  // no header: not a Kea file
      }
      header = true;
      columns = f.size();
      continue;
    }
    const auto col = [&f](std::size_t i) { return i < f.size() ? f[i] : std::string_view(); };
    // Kea writes every column of its header: a last row with fewer is cut short.
    if (c_addr >= f.size() || (!terminated && f.size() < columns)) {
      continue;
    }
    const auto addr = core::IpAddr::parse(col(c_addr));
    if (!addr || col(c_type) == "2") {
      continue;  // an IPv6 prefix delegation, not a host
    }
    LeaseRecord r;
    r.lease.addr = *addr;
    r.lease.name = clean_name(kea_unescape(col(c_name)));
    r.lease.mac = parse_mac(col(c_hw));
    const std::string_view state = col(c_state);
    r.active = (state.empty() || state == "0") && col(c_valid) != "0";
    recs.push_back(std::move(r));
  }
  return recs;
}

// ---- odhcpd ----

/// `ADDR/LEN` of a host (/32, /128) → the address.
std::optional<core::IpAddr> host_prefix(std::string_view s) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  const auto addr = core::IpAddr::parse(s.substr(0, slash));
  const std::string_view len = s.substr(slash + 1);
  if (!addr || len != (addr->is_v4() ? "32" : "128")) {
    return std::nullopt;
  }
  return addr;
}

/// `# IFACE DUID IAID NAME VALID ASSIGNED LEN ADDR/LEN...`: the leases it holds.
void parse_odhcpd_state(const std::vector<std::string_view>& f, std::vector<LeaseRecord>& recs) {
  if (f.size() < 9 || f[0] != "#" || !to_int(f[5]) || !all_digits(f[7])) {
    return;  // a comment
  }
  const std::string_view raw = f[4];
  const std::string name =
      raw == "-" || raw.starts_with("broken\\x20") ? std::string() : clean_name(raw);
  for (std::size_t i = 8; i < f.size(); ++i) {
    if (const auto addr = host_prefix(f[i])) {
      LeaseRecord r;
      r.lease.addr = *addr;
      r.lease.name = name;
      recs.push_back(std::move(r));
    }
  }
}

std::vector<LeaseRecord> parse_odhcpd(std::string_view text) {
  std::vector<LeaseRecord> recs;
  Lines lines(text);
  std::string_view line;
  bool terminated = false;
  while (lines.next(line, terminated)) {
    if (core::trim(line).starts_with('#')) {
      parse_odhcpd_state(fields(line, 64), recs);
      continue;
    }
    const auto f = fields(line.substr(0, line.find('#')), 64);  // a hosts line's own comment
    const auto addr = f.size() >= 2 ? core::IpAddr::parse(f[0]) : std::nullopt;
    if (!addr) {
      continue;
    }
    LeaseRecord r;
    r.lease.addr = *addr;
    r.lease.name = clean_name(f.back());  // odhcpd writes `ADDR FQDN NAME`: the bare name
    recs.push_back(std::move(r));
  }
  return recs;
}

}  // namespace

std::optional<MacAddr> parse_mac(std::string_view text) {
  MacAddr mac{};
  std::size_t pos = 0;
  char sep = 0;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (i > 0) {
      if (pos >= text.size() || (text[pos] != ':' && text[pos] != '-') ||
          (sep != 0 && text[pos] != sep)) {
        return std::nullopt;
      }
      sep = text[pos++];
    }
    unsigned value = 0;
    std::size_t digits = 0;
    for (; pos < text.size() && digits < 2; ++pos, ++digits) {
      const char c = core::ascii_lower(text[pos]);
      const bool dec = c >= '0' && c <= '9';
      if (!dec && (c < 'a' || c > 'f')) {
        break;
      }
      value = value * 16 + static_cast<unsigned>(dec ? c - '0' : c - 'a' + 10);
    }
    if (digits == 0) {
      return std::nullopt;
    }
    mac[i] = static_cast<std::uint8_t>(value);
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  return mac;
}

std::vector<Lease> parse_leases(std::string_view text, LeaseFormat format) {
  std::vector<LeaseRecord> recs;
  switch (format) {
    case LeaseFormat::Dnsmasq: recs = parse_dnsmasq(text); break;
    case LeaseFormat::IscDhcpd: recs = lease_detail::parse_isc_records(text); break;
    case LeaseFormat::Kea: recs = parse_kea(text); break;
    case LeaseFormat::Odhcpd: recs = parse_odhcpd(text); break;
  }
  return last_active(recs);
}

std::optional<LeaseFormat> lease_format_of_path(std::string_view path) {
  const std::string name = core::ascii_lower(lease_detail::base_name(path));
  if (name.ends_with(".csv")) {
    return LeaseFormat::Kea;
  }
  if (name.find("odhcpd") != std::string::npos) {
    return LeaseFormat::Odhcpd;
  }
  if (name.starts_with("dhcpd") && name.ends_with(".leases")) {
    return LeaseFormat::IscDhcpd;
  }
  if ((name.starts_with("dnsmasq") && name.ends_with(".leases")) || name == "dhcp.leases") {
    return LeaseFormat::Dnsmasq;
  }
  return std::nullopt;
}

LeaseFormat sniff_lease_format(std::string_view text) {
  Lines lines(text);
  std::string_view line;
  bool terminated = false;
  for (int n = 0; n < 64 && lines.next(line, terminated); ++n) {
    const auto f = fields(line, 16);
    if (f.empty()) {
      continue;
    }
    if (f[0].starts_with('#')) {
      std::vector<LeaseRecord> recs;
      parse_odhcpd_state(f, recs);
      if (!recs.empty()) {
        return LeaseFormat::Odhcpd;
      }
      continue;  // a comment
    }
    const std::string_view w = f[0];
    if (w == "lease" || w == "ia-na" || w == "ia-ta" || w == "ia-pd" || w == "server-duid" ||
        w == "authoring-byte-order" || w == "failover" || w == "host") {
      return LeaseFormat::IscDhcpd;
    }
    if (core::istarts_with(core::trim(line), "address,")) {
      return LeaseFormat::Kea;
    }
    if (core::IpAddr::parse(w)) {
      return LeaseFormat::Odhcpd;  // hosts-style
    }
    if (all_digits(w) || w == "duid") {
      return LeaseFormat::Dnsmasq;
    }
  }
  return LeaseFormat::Dnsmasq;
}

}  // namespace flowtop::enrich
