#include "render/cells.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "flowtop/render/format.hpp"

namespace flowtop::render::detail {
namespace {

using core::FlowRecord;
using view::Column;

template <class T>
std::string lookup_text(const core::Lookup<T>& l, const std::string& ok_text) {
  switch (l.state) {
    case core::Lookup<T>::State::Ok: return ok_text;
    case core::Lookup<T>::State::Pending: return "";  // being looked up: blank, not a guess
    case core::Lookup<T>::State::Failed:
    case core::Lookup<T>::State::Disabled: return "-";
  }
  return "-";
}

std::string short_kind(core::GeoInfo::Kind kind) {
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

// "US", "US Norwell", "US Norwell AS15133 Edgecast" as the width allows; "private" / "lan".
std::string geo_text(const core::Lookup<core::GeoInfo>& g, std::size_t width, bool geoip) {
  if (!geoip) {
    return "";
  }
  if (!g.ok()) {
    return lookup_text(g, "");
  }
  const core::GeoInfo& v = g.value;
  if (v.kind != core::GeoInfo::Kind::Located) {
    const std::string label = core::geo_kind_label(v.kind);
    return label.size() <= width ? label : short_kind(v.kind);
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

std::string port_cell(const view::FlowRow& row) {
  const FlowRecord& rec = row.rec;
  if (core::proto_is_icmp(rec.key.proto)) {
    return fmt::format("{}/{}", rec.key.icmp_type, rec.key.icmp_code);  // type/code, no fake port
  }
  if (!rec.has(FlowRecord::kHasPorts)) {
    return "";
  }
  return row.enrich.service.empty() ? std::to_string(rec.key.orig.dport) : row.enrich.service;
}

std::string age_cell(const FlowRecord& rec, std::int64_t realtime_ns) {
  if (!rec.has(FlowRecord::kHasTimestamp)) {
    return "-";
  }
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(realtime_ns, 0));
  return format_age(now > rec.start_ns ? (now - rec.start_ns) / 1'000'000'000 : 0);
}

}  // namespace

std::string proto_cell(const core::FlowKey& key) {
  const char fam = key.family == core::Family::V4 ? '4' : '6';
  std::string name(core::proto_name(key.proto));
  if (name == "icmpv6") {
    name = "icmp";
  } else if (name == "udplite") {
    name = "udpl";
  } else if (name == "unknown") {
    name = core::proto_label(key.proto);
    if (std::isdigit(static_cast<unsigned char>(name[0])) != 0) {
      return fmt::format("p{}-{}", key.proto, fam);
    }
  }
  return name + fam;
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

std::string source_text(const view::FlowRow& row, bool dns) {
  const FlowRecord& rec = row.rec;
  const std::string ep =
      endpoint(rec.key.orig.src, rec.key.orig.sport, rec.has(FlowRecord::kHasPorts));
  if (dns && row.enrich.src_name.ok() && !row.enrich.src_name.value.empty()) {
    return fmt::format("from {} ({})", row.enrich.src_name.value, ep);
  }
  return "from " + ep;
}

std::string flow_cell(const view::FlowRow& row, Column column, std::size_t width,
                      const view::ViewState& state, std::int64_t realtime_ns) {
  const FlowRecord& rec = row.rec;
  const core::Enrichment& e = row.enrich;
  const bool ctr = rec.has(FlowRecord::kHasCounters);
  switch (column) {
    case Column::Process: return lookup_text(e.process, e.process.value.name);
    case Column::Pid: return lookup_text(e.process, std::to_string(e.process.value.pid));
    case Column::Proto: return proto_cell(rec.key);
    case Column::State:
      return rec.has(FlowRecord::kHasState)
                 ? std::string(core::state_name(rec.key.proto, rec.state))
                 : "";
    case Column::Age: return age_cell(rec, realtime_ns);
    case Column::Address: return address_text(rec.key.orig.dst, e.dst_name, state.dns);
    case Column::Port: return port_cell(row);
    case Column::Geo: return geo_text(e.dst_geo, width, state.geoip);
    case Column::BytesOut: return bytes_cell(ctr, rec.orig_ctr.bytes);
    case Column::BytesIn: return bytes_cell(ctr, rec.reply_ctr.bytes);
    case Column::RateOut: return rate_cell(ctr, row.rates.orig_bytes, state.bits);
    case Column::RateIn: return rate_cell(ctr, row.rates.reply_bytes, state.bits);
    case Column::PacketsOut: return packets_cell(ctr, rec.orig_ctr.packets);
    case Column::PacketsIn: return packets_cell(ctr, rec.reply_ctr.packets);
    default: return "";
  }
}

std::string group_cell(const view::GroupRow& row, Column column, const view::ViewState& state) {
  const auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  const bool ctr = row.known_counters;
  switch (column) {
    case Column::Process:
    case Column::Address:
    case Column::Country:
    case Column::Asn: return or_dash(row.label);
    case Column::Pid: return row.key.pid != 0 ? std::to_string(row.key.pid) : "-";
    case Column::User:
    case Column::Geo:
    case Column::CountryName:
    case Column::Org: return or_dash(row.detail);
    case Column::Flows: return count_cell(row.flows);
    case Column::BytesOut: return bytes_cell(ctr, row.bytes_out);
    case Column::BytesIn: return bytes_cell(ctr, row.bytes_in);
    case Column::RateOut: return rate_cell(ctr, row.rate_out, state.bits);
    case Column::RateIn: return rate_cell(ctr, row.rate_in, state.bits);
    case Column::PacketsOut: return packets_cell(ctr, row.packets_out);
    case Column::PacketsIn: return packets_cell(ctr, row.packets_in);
    default: return "";
  }
}

}  // namespace flowtop::render::detail
