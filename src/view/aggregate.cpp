#include <fmt/format.h>

#include <cstring>
#include <string_view>
#include <unordered_map>

#include "flowtop/view/cells.hpp"
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
    case Tab::Countries: out += geo_code(e.dst_geo); return;
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
      g.label = address_text(rec.key.orig.dst, e.dst_name, dns);
      g.detail = geo_code(e.dst_geo);
      break;
    case Tab::Countries:
      if (e.dst_geo.ok()) {
        const core::GeoInfo& geo = e.dst_geo.value;
        g.key.name = geo_code(e.dst_geo);
        g.detail = geo.kind == core::GeoInfo::Kind::Located ? geo.country_name
                                                            : core::geo_kind_label(geo.kind);
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

}  // namespace flowtop::view::detail
