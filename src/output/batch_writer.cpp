#include "flowtop/output/batch_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <string_view>

#include "flowtop/render/format.hpp"

namespace flowtop::output {
namespace {

enum Col : std::size_t {
  kProcess,
  kPid,
  kProto,
  kState,
  kTime,
  kAddress,
  kPort,
  kGeo,
  kBytesOut,
  kRateOut,
  kBytesIn,
  kRateIn,
  kColumnCount,
};

struct Column {
  std::string_view name;
  bool right;             // right-aligned (numbers)
  std::size_t min_width;  // keeps frames aligned with each other; rates widen further with -b
};

constexpr std::array<Column, kColumnCount> kColumns{{
    {"PROCESS", false, 7},
    {"PID", true, 3},
    {"PROTO", false, 5},
    {"STATE", false, 11},
    {"TIME", true, 4},
    {"ADDRESS", false, 7},
    {"PORT", false, 5},
    {"GEO", false, 3},
    {"BYTES-OUT", true, 8},
    {"RATE-OUT", true, 10},
    {"BYTES-IN", true, 8},
    {"RATE-IN", true, 10},
}};
constexpr std::size_t kBitRateWidth = 12;  // "999.9 kbit/s"
// ADDRESS shrinks first, down to an IPv4 address's width; then columns drop in this order.
constexpr std::size_t kMinAddress = 15;
constexpr std::array kDropOrder{kGeo,    kPid,     kProcess, kState,    kTime,
                                kRateIn, kRateOut, kBytesIn, kBytesOut, kPort};

using Row = std::array<std::string, kColumnCount>;

struct Layout {
  std::array<std::size_t, kColumnCount> width{};
  std::array<bool, kColumnCount> visible{};
};

// Columns a text occupies: code points (text is sanitised UTF-8; wide characters count as one).
std::size_t text_width(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

// The first `width` columns of `s`, the last one a '~' when something was cut.
std::string cut(std::string_view s, std::size_t width) {
  if (text_width(s) <= width) {
    return std::string(s);
  }
  if (width == 0) {
    return {};
  }
  std::size_t cols = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0U) != 0x80U && ++cols == width) {
      break;  // i starts the code point that becomes the '~'
    }
  }
  return std::string(s.substr(0, i)) + '~';
}

std::string pad(std::string_view text, std::size_t width, bool right) {
  std::string s = cut(text, width);
  const std::string fill(width - text_width(s), ' ');
  return right ? fill + s : s + fill;
}

void rtrim(std::string& s) {
  s.erase(s.find_last_not_of(' ') + 1);
}

// "tcp4", "udp6", "icmp6", "udplite4"; generic protocols by number: "p47-4".
std::string proto_label(const core::FlowKey& key) {
  const char fam = key.family == core::Family::V4 ? '4' : '6';
  std::string_view name = core::proto_name(key.proto);
  if (name == "unknown") {
    const std::string label = core::proto_label(key.proto);
    return std::isdigit(static_cast<unsigned char>(label[0])) != 0
               ? fmt::format("p{}-{}", key.proto, fam)
               : fmt::format("{}{}", label, fam);
  }
  if (name == "icmpv6") {
    name = "icmp";
  }
  return fmt::format("{}{}", name, fam);
}

std::string port_text(const core::FlowRecord& rec) {
  const core::FlowKey& key = rec.key;
  if (core::proto_is_icmp(key.proto)) {
    return fmt::format("{}/{}", key.icmp_type, key.icmp_code);
  }
  return rec.has(core::FlowRecord::kHasPorts) ? std::to_string(key.orig.dport) : std::string();
}

// Zero is blank, unknown is "-" (SPEC: never a misleading 0).
std::string bytes_text(bool known, std::uint64_t bytes) {
  if (!known) {
    return "-";
  }
  return bytes == 0 ? std::string() : render::format_bytes(bytes);
}

std::string rate_text(bool known, double bytes_per_s, bool bits) {
  if (!known) {
    return "-";
  }
  std::string s = render::format_rate(bytes_per_s, bits);
  return s.starts_with("0 ") ? std::string() : s;  // rounds to nothing
}

std::string age_text(const core::FlowRecord& rec, std::int64_t realtime_ns) {
  if (!rec.has(core::FlowRecord::kHasTimestamp)) {
    return "-";
  }
  // In unsigned arithmetic: a start after the frame (clocks disagree) or a wild value is age 0.
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(realtime_ns, 0));
  return render::format_age(now > rec.start_ns ? (now - rec.start_ns) / 1'000'000'000 : 0);
}

std::string geo_text(const core::Lookup<core::GeoInfo>& geo) {
  if (!geo.ok()) {
    return "-";
  }
  if (geo.value.kind != core::GeoInfo::Kind::Located) {
    return core::geo_kind_label(geo.value.kind);
  }
  return geo.value.country.empty() ? "-" : render::sanitize(geo.value.country);
}

Row flow_row(const core::FlowRecord& rec, const core::Enrichment* enr, std::int64_t realtime_ns,
             bool bits) {
  const bool counters = rec.has(core::FlowRecord::kHasCounters);
  const core::Rates rates = core::rates_of(rec);
  Row row;
  row[kProcess] = "-";
  row[kPid] = "-";
  row[kProto] = proto_label(rec.key);
  row[kState] = rec.has(core::FlowRecord::kHasState)
                    ? std::string(core::state_name(rec.key.proto, rec.state))
                    : std::string();
  row[kTime] = age_text(rec, realtime_ns);
  row[kAddress] = render::sanitize(rec.key.orig.dst.to_string());
  row[kPort] = port_text(rec);
  row[kGeo] = "-";
  if (enr != nullptr) {
    if (enr->process.ok()) {
      row[kProcess] = render::sanitize(enr->process.value.name);
      row[kPid] = std::to_string(enr->process.value.pid);
    }
    if (enr->dst_name.ok() && !enr->dst_name.value.empty()) {
      row[kAddress] = render::sanitize(enr->dst_name.value);
    }
    if (!enr->service.empty()) {
      row[kPort] = render::sanitize(enr->service);
    }
    row[kGeo] = geo_text(enr->dst_geo);
  }
  row[kBytesOut] = bytes_text(counters, rec.orig_ctr.bytes);
  row[kRateOut] = rate_text(counters, rates.orig_bytes, bits);
  row[kBytesIn] = bytes_text(counters, rec.reply_ctr.bytes);
  row[kRateIn] = rate_text(counters, rates.reply_bytes, bits);
  return row;
}

// "from 10.0.0.2:51234", "from [2001:db8::2]:443", "from 10.0.0.2" (no ports).
std::string source_text(const core::FlowRecord& rec) {
  const core::FlowKey& key = rec.key;
  const std::string addr = key.orig.src.to_string();
  if (!rec.has(core::FlowRecord::kHasPorts)) {
    return "from " + addr;
  }
  return key.family == core::Family::V6 ? fmt::format("from [{}]:{}", addr, key.orig.sport)
                                        : fmt::format("from {}:{}", addr, key.orig.sport);
}

Layout natural_layout(const std::vector<Row>& rows, bool bits) {
  Layout l;
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    l.visible[c] = true;
    l.width[c] = std::max(text_width(kColumns[c].name), kColumns[c].min_width);
  }
  if (bits) {
    l.width[kRateOut] = std::max(l.width[kRateOut], kBitRateWidth);
    l.width[kRateIn] = std::max(l.width[kRateIn], kBitRateWidth);
  }
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < kColumnCount; ++c) {
      l.width[c] = std::max(l.width[c], text_width(row[c]));
    }
  }
  return l;
}

// Width left for ADDRESS once the other visible columns and the separators are placed.
std::size_t address_room(const Layout& l, std::size_t width) {
  std::size_t used = 0;
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    if (l.visible[c] && c != kAddress) {
      used += l.width[c] + 1;  // the column and its separator
    }
  }
  return width > used ? width - used : 0;
}

// Numbers are never cut: ADDRESS shrinks first, then whole columns drop, least important first.
Layout fit(const std::vector<Row>& rows, std::size_t width, bool bits) {
  Layout l = natural_layout(rows, bits);
  const std::size_t natural = l.width[kAddress];
  const std::size_t enough = std::min(natural, kMinAddress);
  for (std::size_t dropped = 0;; ++dropped) {
    const std::size_t room = address_room(l, width);
    if (room >= enough || dropped == kDropOrder.size()) {
      l.width[kAddress] = std::max(std::min(natural, room), kColumns[kAddress].min_width);
      return l;
    }
    l.visible[kDropOrder[dropped]] = false;
  }
}

std::string render_row(const Row& row, const Layout& l) {
  std::string line;
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    if (!l.visible[c]) {
      continue;
    }
    if (!line.empty()) {
      line += ' ';
    }
    line += pad(row[c], l.width[c], kColumns[c].right);
  }
  rtrim(line);
  return line;
}

// The source row: under ADDRESS, as wide as what is left of the line.
std::string render_source(const core::FlowRecord& rec, const Layout& l, std::size_t width) {
  std::size_t indent = 0;
  for (std::size_t c = 0; c < kAddress; ++c) {
    indent += l.visible[c] ? l.width[c] + 1 : 0;
  }
  const std::size_t room = width > indent ? width - indent : 0;
  return std::string(indent, ' ') + cut(source_text(rec), std::max<std::size_t>(room, 1));
}

std::string title_line(const FrameStatus& status) {
  const auto secs = static_cast<std::time_t>(status.realtime_ns / 1'000'000'000);
  std::tm local{};
  localtime_r(&secs, &local);
  const std::string name = status.version.empty() ? "flowtop" : "flowtop " + status.version;
  return fmt::format("{} - {:02}:{:02}:{:02} - frame {}", name, local.tm_hour, local.tm_min,
                     local.tm_sec, status.frame);
}

std::string status_line(std::size_t shown, const FrameStatus& status) {
  const view::HiddenCounts& h = status.counts;
  std::string line =
      fmt::format("Flows: {} shown, {} tracked, {} hidden", shown, status.tracked, h.hidden());
  std::string reasons;
  const auto reason = [&](std::string_view name, std::uint64_t n) {
    if (n != 0) {
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", name, n);
    }
  };
  reason("loopback", h.loopback);
  reason("DNS", h.dns);
  reason("protocol", h.protocol);
  reason("family", h.family);
  return reasons.empty() ? line : fmt::format("{} ({})", line, reasons);
}

std::string empty_line(const FrameStatus& status, const view::Selection& sel) {
  if (status.tracked == 0) {
    return "conntrack is not tracking in this namespace: try --track";
  }
  return fmt::format("no flows match {} ({} hidden)", view::describe(sel), status.counts.hidden());
}

Row header_row() {
  Row row;
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    row[c] = kColumns[c].name;
  }
  return row;
}

}  // namespace

std::string batch_frame(const std::vector<const core::FlowRecord*>& shown,
                        const FrameStatus& status, const BatchOptions& opts,
                        const std::vector<core::Enrichment>* enrichment) {
  std::string out = title_line(status) + '\n';
  out += status_line(shown.size(), status) + '\n';
  for (const std::string& health : status.health) {
    out += render::sanitize(health) + '\n';
  }
  if (shown.empty()) {
    return out + empty_line(status, opts.selection) + "\n\n";
  }
  std::vector<Row> rows;
  rows.reserve(shown.size());
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const core::Enrichment* enr = enrichment != nullptr ? &(*enrichment)[i] : nullptr;
    rows.push_back(flow_row(*shown[i], enr, status.realtime_ns, opts.bits));
  }
  const Layout layout = fit(rows, opts.width, opts.bits);
  out += render_row(header_row(), layout) + '\n';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += render_row(rows[i], layout) + '\n';
    if (opts.show_src) {
      out += render_source(*shown[i], layout, opts.width) + '\n';
    }
  }
  return out + '\n';
}

}  // namespace flowtop::output
