#include "flowtop/view/cells.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/text.hpp"
#include "flowtop/view/rows.hpp"

namespace flowtop::view {
namespace {

using core::FlowRecord;

}  // namespace

std::string bytes_cell(bool known, std::uint64_t bytes) {
  if (!known) {
    return "-";
  }
  return bytes == 0 ? std::string() : core::format_bytes(bytes);
}

std::string rate_cell(bool known, double bytes_per_s, bool bits) {
  if (!known) {
    return "-";
  }
  std::string s = core::format_rate(bytes_per_s, bits);
  return s.starts_with("0 ") ? std::string() : s;  // rounds to nothing: blank, as a zero
}

std::string packets_cell(bool known, std::uint64_t packets) {
  if (!known) {
    return "-";
  }
  if (packets == 0) {
    return {};
  }
  return packets < 10000 ? std::to_string(packets) : core::format_count_short(packets);
}

std::string count_cell(std::uint64_t n) {
  return n < 100'000 ? core::format_count(n) : core::format_count_short(n);
}

std::string proto_cell(const core::FlowKey& key) {
  const char fam = key.family == core::Family::V4 ? '4' : '6';
  std::string name(core::proto_name(key.proto));
  if (name == "icmpv6") {
    name = "icmp";
  } else if (name == "udplite") {
    name = "udpl";
  } else if (name == "unknown") {
    name = core::proto_label(key.proto);
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
      return fmt::format("p{}-{}", key.proto, fam);
    }
  }
  return name + fam;
}

std::string state_cell(const FlowRecord& rec) {
  if (rec.ended()) {
    return "ENDED";
  }
  // Packets of an offloaded flow bypass conntrack: its counters and state are stale; say so
  // where the state would be (what `conntrack -L` prints as [OFFLOAD]).
  if ((rec.status & core::kStatusHwOffload) != 0) {
    return "HW-OFFLOAD";
  }
  if ((rec.status & core::kStatusOffload) != 0) {
    return "OFFLOAD";
  }
  return rec.has(FlowRecord::kHasState) ? std::string(core::state_name(rec.key.proto, rec.state))
                                        : std::string();
}

std::uint64_t age_seconds(const FlowRecord& rec, std::int64_t realtime_ns) {
  // In unsigned arithmetic: a start after the frame (clocks disagree) or a wild value is age 0.
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(realtime_ns, 0));
  if (const auto lived = core::duration_ns(rec)) {
    return *lived / 1'000'000'000;  // an ended flow's age stops at its end: its duration
  }
  return now > rec.start_ns ? (now - rec.start_ns) / 1'000'000'000 : 0;
}

std::string age_cell(const FlowRecord& rec, std::int64_t realtime_ns) {
  if (!rec.has(FlowRecord::kHasTimestamp)) {
    return "-";
  }
  return core::format_age(age_seconds(rec, realtime_ns));
}

std::string port_cell(const FlowRow& row) {
  const FlowRecord& rec = row.rec;
  if (core::proto_is_icmp(rec.key.proto)) {
    return fmt::format("{}/{}", rec.key.icmp_type, rec.key.icmp_code);  // type/code, no fake port
  }
  if (!rec.has(FlowRecord::kHasPorts)) {
    return "";
  }
  // The responder's own port: after a DNAT, the internal server's.
  return row.enrich.service.empty() ? std::to_string(rec.reply.sport) : row.enrich.service;
}

std::string address_text(const core::IpAddr& addr, const core::Lookup<std::string>& name,
                         bool dns) {
  return dns && name.ok() && !name.value.empty() ? name.value : addr.to_string();
}

std::string endpoint(const core::IpAddr& addr, std::uint16_t port, bool ports) {
  if (!ports) {
    return addr.to_string();
  }
  return addr.is_v4() ? fmt::format("{}:{}", addr.to_string(), port)
                      : fmt::format("[{}]:{}", addr.to_string(), port);
}

std::string flow_text(const core::FlowKey& key, bool ascii) {
  const bool ports = core::proto_has_ports(key.proto);
  std::string out = fmt::format("{} {} {} {}", core::proto_label(key.proto),
                                endpoint(key.orig.src, key.orig.sport, ports), ascii ? "->" : "→",
                                endpoint(key.orig.dst, key.orig.dport, ports));
  if (core::proto_is_icmp(key.proto)) {
    out += fmt::format(" type {} code {} id {}", key.icmp_type, key.icmp_code, key.orig.sport);
  }
  if (key.zone != 0) {
    out += fmt::format(" zone {}", key.zone);
  }
  return out;
}

std::string delete_outcome_text(const core::FlowKey& key, int error, bool ascii) {
  if (error == 0) {
    return "deleted " + flow_text(key, ascii);
  }
  if (error == ENOENT) {
    return "already gone: " + flow_text(key, ascii);
  }
  if (error == EPERM || error == EACCES) {
    return fmt::format("cannot delete {}: {} (needs CAP_NET_ADMIN)", flow_text(key, ascii),
                       std::generic_category().message(error));
  }
  return fmt::format("cannot delete {}: {}", flow_text(key, ascii),
                     std::generic_category().message(error));
}

std::string source_text(const FlowRow& row, bool dns, bool ascii) {
  const char* sep = ascii ? " | " : " · ";
  const FlowRecord& rec = row.rec;
  const bool ports = rec.has(FlowRecord::kHasPorts) && !core::proto_is_icmp(rec.key.proto);
  const core::Ends ends = core::ends_of(rec);
  const std::string ep = endpoint(ends.inside.addr, ends.inside.port, ports);
  const char* what = ends.direction == core::Direction::Forward ? "inside" : "local";
  std::string out = dns && row.enrich.inside_name.ok() && !row.enrich.inside_name.value.empty()
                        ? fmt::format("{} {} ({})", what, row.enrich.inside_name.value, ep)
                        : fmt::format("{} {}", what, ep);
  const core::Nat nat = core::nat_of(rec);
  if (nat.dnat) {  // where the flow was sent before the translation
    out +=
        fmt::format("{}DNAT from {}", sep, endpoint(rec.key.orig.dst, rec.key.orig.dport, ports));
  }
  if (nat.snat) {
    out += fmt::format("{}SNAT to {}", sep, endpoint(nat.snat_to.addr, nat.snat_to.port, ports));
  }
  return out;
}

std::optional<std::string> owner_text(const FlowRow& row, bool dns) {
  const core::Enrichment& e = row.enrich;
  if (e.process.ok()) {
    return e.process.value.netns.empty() ? e.process.value.name
                                         : e.process.value.name + "@" + e.process.value.netns;
  }
  if (e.host.ok()) {
    if (!e.host.value.name.empty()) {
      return e.host.value.name;
    }
    const core::Ends ends = core::ends_of(row.rec);
    return address_text(ends.inside.addr, e.inside_name, dns);
  }
  using State = core::Lookup<core::ProcessInfo>::State;
  if (e.process.state == State::Pending) {
    return std::string();
  }
  return std::nullopt;
}

std::string_view dir_mark(core::Direction d, bool ascii) {
  switch (d) {
    case core::Direction::Out: return ascii ? ">" : "→";
    case core::Direction::In: return ascii ? "<" : "←";
    case core::Direction::Local: return ascii ? "=" : "↔";
    case core::Direction::Forward: return ascii ? "~" : "⇄";
  }
  return "";
}

std::string_view dir_word(core::Direction d) {
  switch (d) {
    case core::Direction::Out: return "out";
    case core::Direction::In: return "in";
    case core::Direction::Local: return "local";
    case core::Direction::Forward: return "fwd";
  }
  return "";
}

std::string nat_text(const FlowRecord& rec, std::size_t width) {
  const core::Nat nat = core::nat_of(rec);
  if (!nat.any()) {
    return {};
  }
  const std::string_view mark = nat.snat && nat.dnat ? "S+DNAT" : nat.snat ? "SNAT" : "DNAT";
  if (width <= 8) {
    return std::string(mark);
  }
  const bool ports = rec.has(FlowRecord::kHasPorts) && !core::proto_is_icmp(rec.key.proto);
  const core::Endpoint& to = nat.dnat ? nat.dnat_to : nat.snat_to;
  std::string full = fmt::format("{} {}", mark, endpoint(to.addr, to.port, ports));
  // The mark alone rather than a cut address.
  return core::display_width(full) <= width ? full : std::string(mark);
}

std::string_view geo_kind_short(core::GeoInfo::Kind kind) {
  switch (kind) {
    case core::GeoInfo::Kind::Located: return "";
    case core::GeoInfo::Kind::Private: return "lan";
    case core::GeoInfo::Kind::Loopback: return "lo";
    case core::GeoInfo::Kind::LinkLocal: return "ll";
    case core::GeoInfo::Kind::Multicast: return "mc";
    case core::GeoInfo::Kind::Reserved: return "res";
  }
  return "";
}

std::string_view geo_code(const core::Lookup<core::GeoInfo>& geo) {
  if (!geo.ok()) {
    return {};
  }
  return geo.value.kind == core::GeoInfo::Kind::Located ? std::string_view(geo.value.country)
                                                        : geo_kind_short(geo.value.kind);
}

std::string geo_cell(const core::Lookup<core::GeoInfo>& geo, std::size_t width, bool geoip) {
  using State = core::Lookup<core::GeoInfo>::State;
  if (!geoip || geo.state == State::Pending || geo.state == State::Disabled) {
    return "";  // off, or being looked up: blank, not a guess
  }
  if (geo.state == State::Failed) {
    return "-";
  }
  const core::GeoInfo& v = geo.value;
  if (v.kind != core::GeoInfo::Kind::Located) {
    return std::string(geo_kind_short(v.kind));
  }
  std::string text = v.country.empty() ? "-" : v.country;
  if (width >= 10 && !v.city.empty()) {
    text += " " + v.city;
  }
  if (width >= 20 && v.asn != 0) {
    text += fmt::format(" AS{}", v.asn);
    if (!v.org.empty()) {
      text += " " + v.org;
    }
  }
  return text;
}

}  // namespace flowtop::view
