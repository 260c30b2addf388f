#include <fmt/format.h>

#include <cstring>
#include <string_view>
#include <unordered_map>

#include "flowtop/core/ends.hpp"
#include "flowtop/view/cells.hpp"
#include "view/candidates.hpp"

namespace flowtop::view::detail {
namespace {

using core::FlowRecord;

// Writes the text a group key hashes as into `out` (reused: no allocation per flow).
void hash_key(Tab tab, const FlowRecord& rec, const core::Enrichment& e, std::string& out) {
  out.clear();
  switch (tab) {
    case Tab::Owners:
      if (e.process.ok()) {
        out.append(reinterpret_cast<const char*>(&e.process.value.pid), sizeof(std::int32_t));
        out += e.process.value.name;
      } else if (e.host.ok()) {
        out += '\x01';  // a device, never equal to a process
        out.append(reinterpret_cast<const char*>(e.host.value.mac.data()), e.host.value.mac.size());
      }
      return;
    case Tab::Hosts: {
      const core::IpAddr remote = core::ends_of(rec).remote.addr;
      out.append(reinterpret_cast<const char*>(remote.bytes.data()), remote.bytes.size());
      return;
    }
    case Tab::Countries: out += geo_code(e.remote_geo); return;
    case Tab::As: {
      const std::uint32_t asn = e.remote_geo.ok() ? e.remote_geo.value.asn : 0;
      out.append(reinterpret_cast<const char*>(&asn), sizeof asn);
      return;
    }
    case Tab::Flows: return;
  }
}

}  // namespace

GroupRow make_group(Tab tab, const FlowRecord& rec, const core::Enrichment& e, bool dns) {
  GroupRow g;
  switch (tab) {
    case Tab::Owners:
      if (e.process.ok()) {
        g.key.pid = e.process.value.pid;
        g.key.name = e.process.value.name;
        g.label = e.process.value.netns.empty()
                      ? e.process.value.name
                      : e.process.value.name + "@" + e.process.value.netns;
        g.detail = e.process.value.user;
      } else if (e.host.ok()) {
        // A LAN device: its MAC is the key, its lease or DNS name (else address) the label.
        g.key.name = "\x01" + core::mac_text(e.host.value.mac);
        const core::IpAddr inside = core::ends_of(rec).inside.addr;
        g.label = !e.host.value.name.empty() ? e.host.value.name
                                             : address_text(inside, e.inside_name, dns);
        g.detail = core::mac_text(e.host.value.mac);
      } else {
        g.label = "-";
      }
      break;
    case Tab::Hosts:
      g.key.addr = core::ends_of(rec).remote.addr;
      g.label = address_text(g.key.addr, e.remote_name, dns);
      g.detail = geo_code(e.remote_geo);
      break;
    case Tab::Countries:
      if (e.remote_geo.ok()) {
        const core::GeoInfo& geo = e.remote_geo.value;
        g.key.name = geo_code(e.remote_geo);
        g.detail = geo.kind == core::GeoInfo::Kind::Located ? geo.country_name
                                                            : core::geo_kind_label(geo.kind);
      }
      g.label = g.key.name.empty() ? "-" : g.key.name;
      break;
    case Tab::As:
      if (e.remote_geo.ok() && e.remote_geo.value.asn != 0) {
        g.key.asn = e.remote_geo.value.asn;
        g.label = fmt::format("AS{}", g.key.asn);
        g.detail = e.remote_geo.value.org;
      } else {
        g.label = "-";
      }
      break;
    case Tab::Flows: break;
  }
  return g;
}

namespace {

void add_flow(GroupRow& g, const FlowRecord& rec) {
  ++g.flows;
  if (!rec.has(FlowRecord::kHasCounters)) {
    return;
  }
  g.known_counters = true;
  // ↑ what the inside end sent, ↓ what it received.
  const core::Counters sent = core::sent_counters(rec);
  const core::Counters received = core::received_counters(rec);
  g.bytes_out += sent.bytes;
  g.bytes_in += received.bytes;
  g.packets_out += sent.packets;
  g.packets_in += received.packets;
  if (core::rates_known(rec)) {
    g.known_rates = true;
    g.rate_out += core::sent_rate(rec);
    g.rate_in += core::received_rate(rec);
  }
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
