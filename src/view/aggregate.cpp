#include <fmt/format.h>

#include <cstring>
#include <string_view>
#include <unordered_map>

#include "view/candidates.hpp"

namespace flowtop::view::detail {
namespace {

using core::FlowRecord;

// Writes the text a group key hashes as into `out` (reused: no allocation per flow).
void hash_key(Tab tab, const FlowRecord& rec, const core::Enrichment& e, std::string& out) {
  out.clear();
  switch (tab) {
    case Tab::Processes:
      if (e.process.ok()) {
        out.append(reinterpret_cast<const char*>(&e.process.value.pid), sizeof(std::int32_t));
        out += e.process.value.name;
      }
      return;
    case Tab::Hosts:
      out.append(reinterpret_cast<const char*>(rec.key.orig.dst.bytes.data()),
                 rec.key.orig.dst.bytes.size());
      return;
    case Tab::Countries:
      if (e.dst_geo.ok()) {
        const core::GeoInfo& g = e.dst_geo.value;
        out += g.kind == core::GeoInfo::Kind::Located ? std::string_view(g.country)
                                                      : core::geo_kind_label(g.kind);
      }
      return;
    case Tab::As: {
      const std::uint32_t asn = e.dst_geo.ok() ? e.dst_geo.value.asn : 0;
      out.append(reinterpret_cast<const char*>(&asn), sizeof asn);
      return;
    }
    case Tab::Flows: return;
  }
}

GroupRow make_group(Tab tab, const FlowRecord& rec, const core::Enrichment& e, bool dns) {
  GroupRow g;
  switch (tab) {
    case Tab::Processes:
      if (e.process.ok()) {
        g.key.pid = e.process.value.pid;
        g.key.name = e.process.value.name;
        g.label = e.process.value.name;
        g.detail = e.process.value.user;
      } else {
        g.label = "-";
      }
      break;
    case Tab::Hosts:
      g.key.addr = rec.key.orig.dst;
      g.label = dns && e.dst_name.ok() && !e.dst_name.value.empty() ? e.dst_name.value
                                                                    : rec.key.orig.dst.to_string();
      if (e.dst_geo.ok()) {
        const core::GeoInfo& geo = e.dst_geo.value;
        g.detail =
            geo.kind == core::GeoInfo::Kind::Located ? geo.country : core::geo_kind_label(geo.kind);
      }
      break;
    case Tab::Countries:
      if (e.dst_geo.ok()) {
        const core::GeoInfo& geo = e.dst_geo.value;
        g.key.name =
            geo.kind == core::GeoInfo::Kind::Located ? geo.country : core::geo_kind_label(geo.kind);
        g.detail = geo.country_name;
      }
      g.label = g.key.name.empty() ? "-" : g.key.name;
      break;
    case Tab::As:
      if (e.dst_geo.ok() && e.dst_geo.value.asn != 0) {
        g.key.asn = e.dst_geo.value.asn;
        g.label = fmt::format("AS{}", g.key.asn);
        g.detail = e.dst_geo.value.org;
      } else {
        g.label = "-";
      }
      break;
    case Tab::Flows: break;
  }
  return g;
}

void add_flow(GroupRow& g, const FlowRecord& rec) {
  ++g.flows;
  if (!rec.has(FlowRecord::kHasCounters)) {
    return;
  }
  g.known_counters = true;
  g.bytes_out += rec.orig_ctr.bytes;
  g.bytes_in += rec.reply_ctr.bytes;
  g.packets_out += rec.orig_ctr.packets;
  g.packets_in += rec.reply_ctr.packets;
  const core::Rates r = core::rates_of(rec);
  g.rate_out += r.orig_bytes;
  g.rate_in += r.reply_bytes;
}

bool known_text(std::string_view s) {
  return !s.empty() && s != "-";
}

}  // namespace

void Aggregator::add(const FlowRecord& rec, const core::Enrichment& e) {
  hash_key(tab_, rec, e, buf_);
  auto it = index_.find(buf_);
  if (it == index_.end()) {
    it = index_.emplace(buf_, groups_.size()).first;
    groups_.push_back(make_group(tab_, rec, e, dns_));
  }
  add_flow(groups_[it->second], rec);
}

std::string group_id(const GroupKey& key) {
  std::string id;
  id.reserve(sizeof key.pid + sizeof key.asn + key.addr.bytes.size() + key.name.size());
  id.append(reinterpret_cast<const char*>(&key.pid), sizeof key.pid);
  id.append(reinterpret_cast<const char*>(&key.asn), sizeof key.asn);
  id.append(reinterpret_cast<const char*>(key.addr.bytes.data()), key.addr.bytes.size());
  id += key.name;
  return id;
}

bool GroupLess::operator()(const GroupRow& a, const GroupRow& b) const {
  const bool d = sort_.descending;
  int c = 0;
  switch (sort_.column) {
    case Column::Process:
    case Column::Address:
    case Column::Country:
      c = ordered(known_text(a.label), std::string_view(a.label), known_text(b.label),
                  std::string_view(b.label), d);
      break;
    case Column::Pid: c = ordered(a.key.pid != 0, a.key.pid, b.key.pid != 0, b.key.pid, d); break;
    case Column::Asn: c = ordered(a.key.asn != 0, a.key.asn, b.key.asn != 0, b.key.asn, d); break;
    case Column::User:
    case Column::Geo:
    case Column::CountryName:
    case Column::Org:
      c = ordered(known_text(a.detail), std::string_view(a.detail), known_text(b.detail),
                  std::string_view(b.detail), d);
      break;
    case Column::Flows: c = ordered(true, a.flows, true, b.flows, d); break;
    case Column::BytesOut:
      c = ordered(a.known_counters, a.bytes_out, b.known_counters, b.bytes_out, d);
      break;
    case Column::BytesIn:
      c = ordered(a.known_counters, a.bytes_in, b.known_counters, b.bytes_in, d);
      break;
    case Column::RateOut:
      c = ordered(a.known_counters, a.rate_out, b.known_counters, b.rate_out, d);
      break;
    case Column::RateIn:
      c = ordered(a.known_counters, a.rate_in, b.known_counters, b.rate_in, d);
      break;
    case Column::PacketsOut:
      c = ordered(a.known_counters, a.packets_out, b.known_counters, b.packets_out, d);
      break;
    case Column::PacketsIn:
      c = ordered(a.known_counters, a.packets_in, b.known_counters, b.packets_in, d);
      break;
    default: break;
  }
  if (c != 0) {
    return c < 0;
  }
  // Ties: a fixed order, so equal rows never swap places between frames.
  if (a.label != b.label) {
    return a.label < b.label;
  }
  if (a.key.pid != b.key.pid) {
    return a.key.pid < b.key.pid;
  }
  if (a.key.asn != b.key.asn) {
    return a.key.asn < b.key.asn;
  }
  if (a.key.addr != b.key.addr) {
    return a.key.addr < b.key.addr;
  }
  return a.key.name < b.key.name;
}

}  // namespace flowtop::view::detail
