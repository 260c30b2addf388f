#include "flowtop/enrich/enricher.hpp"

#include <atomic>
#include <unordered_map>
#include <utility>

#include "enrich/lease_names.hpp"
#include "flowtop/core/ends.hpp"
#include "flowtop/core/hash_seed.hpp"
#include "flowtop/enrich/geo_resolver.hpp"
#include "flowtop/enrich/host_resolver.hpp"
#include "flowtop/enrich/owner_resolver.hpp"
#include "flowtop/enrich/service_names.hpp"
#include "flowtop/geoip/database.hpp"

namespace flowtop::enrich {
namespace {

/// geoip::GeoDatabases as the geo worker's source.
class DatabasesSource final : public GeoSource {
 public:
  DatabasesSource(const std::vector<std::string>& dirs, const std::string& tor_dir)
      : dbs_(dirs, tor_dir) {}

  [[nodiscard]] std::optional<core::GeoInfo> lookup(const core::IpAddr& addr) const override {
    return dbs_.lookup(addr);
  }

  [[nodiscard]] std::vector<std::string> notes() const override { return dbs_.warnings(); }
  [[nodiscard]] bool uses_dbip() const override { return dbs_.uses_dbip(); }

 private:
  geoip::GeoDatabases dbs_;
};

HostResolverOptions host_options(const EnricherConfig& c) {
  HostResolverOptions o;
  o.workers = c.dns_workers;
  o.queue_limit = c.queue_limit;
  return o;
}

OwnerResolverOptions owner_options(const EnricherConfig& c) {
  OwnerResolverOptions o;
  o.queue_limit = c.queue_limit;
  o.netns = c.netns_sockets;
  return o;
}

GeoResolverOptions geo_options(const EnricherConfig& c) {
  GeoResolverOptions o;
  o.queue_limit = c.queue_limit;
  o.open_at_start = c.geoip;  // -G: the databases are not even opened
  return o;
}

}  // namespace

struct Enricher::Impl {
  explicit Impl(EnricherConfig c)
      : config(std::move(c)),
        leases(config.lease_files, config.usual_lease_files),
        services(config.tcp_conf, config.udp_conf),
        dns(config.dns),
        geoip(config.geoip),
        hosts(host_options(config)),
        owners(owner_options(config)),
        geo(
            [dirs = config.geoip_dirs, tor = config.tor_dir]() -> std::unique_ptr<GeoSource> {
              return std::make_unique<DatabasesSource>(dirs, tor);
            },
            geo_options(config)) {}

  core::Lookup<core::GeoInfo> geo_of(const core::IpAddr& addr) {
    if (const auto kind = geoip::reserved_kind(addr)) {
      core::GeoInfo info;
      info.kind = *kind;
      return core::Lookup<core::GeoInfo>::ready(std::move(info));
    }
    return geo.lookup_or_request(addr);
  }

  /// host_of() through a per-thread cache that lives until the neighbour table or a lease file
  /// changes: the snapshot thread asks for every forwarded flow at every snapshot, and the
  /// answer (a lease name matched under a lock) is the same for each flow of a device until
  /// then. Only devices are kept: an address that is no neighbour (most inside ends of a big
  /// table's forwarded flows: 100k distinct ones would fill the map for nothing) costs one
  /// neighbour_mac() call each time, which is one hash lookup.
  core::Lookup<core::HostOwner> cached_host_of(const core::IpAddr& addr) const {
    if (!config.neighbour_generation) {
      return host_of(addr);
    }
    struct Cache {
      const Impl* owner = nullptr;
      std::uint64_t neighbours = 0, leases = 0;
      std::unordered_map<core::IpAddr, core::Lookup<core::HostOwner>, core::SeededIpHash> map;
    };
    constexpr std::size_t kMaxEntries = 65536;  // LAN devices behind forwarded flows
    thread_local Cache cache;
    const std::uint64_t neighbours = config.neighbour_generation();
    const std::uint64_t lease_gen = leases.generation();
    if (cache.owner != this || cache.neighbours != neighbours || cache.leases != lease_gen ||
        cache.map.size() >= kMaxEntries) {
      cache.map.clear();
      cache.owner = this;
      cache.neighbours = neighbours;
      cache.leases = lease_gen;
    }
    const auto it = cache.map.find(addr);
    if (it != cache.map.end()) {
      return it->second;
    }
    const std::optional<core::MacAddr> mac = neighbour(addr);
    if (!mac) {
      return core::Lookup<core::HostOwner>::failed();
    }
    return cache.map.emplace(addr, device(addr, *mac)).first->second;
  }

  [[nodiscard]] std::optional<core::MacAddr> neighbour(const core::IpAddr& addr) const {
    if (config.neighbour_mac) {
      return config.neighbour_mac(addr);
    }
    return std::nullopt;
  }

  // The LAN device `mac` at `addr`, with its lease name.
  [[nodiscard]] core::Lookup<core::HostOwner> device(const core::IpAddr& addr,
                                                     const core::MacAddr& mac) const {
    core::HostOwner h;
    h.mac = mac;
    h.name = leases.name_of(addr, h.mac);
    return core::Lookup<core::HostOwner>::ready(std::move(h));
  }

  core::Lookup<core::HostOwner> host_of(const core::IpAddr& addr) const {
    const std::optional<core::MacAddr> mac = neighbour(addr);
    if (!mac) {
      return core::Lookup<core::HostOwner>::failed();
    }
    return device(addr, *mac);
  }

  const EnricherConfig config;
  LeaseNames leases;
  const ServiceNames services;
  std::atomic<bool> dns;
  std::atomic<bool> geoip;
  HostResolver hosts;
  OwnerResolver owners;
  GeoResolver geo;
};

Enricher::Enricher(EnricherConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Enricher::~Enricher() = default;

void Enricher::on_new(const core::FlowRecord& rec) {
  const core::Ends ends = core::ends_of(rec);
  impl_->owners.request(rec, ends.direction == core::Direction::Forward);
  if (dns()) {
    impl_->hosts.request(ends.inside.addr);
    impl_->hosts.request(ends.remote.addr);
  }
  if (geoip()) {
    for (const core::IpAddr& a : {ends.inside.addr, ends.remote.addr}) {
      if (!geoip::reserved_kind(a)) {
        impl_->geo.request(a);
      }
    }
  }
}

core::Enrichment Enricher::lookup(const core::FlowRecord& rec, core::EnrichNeeds needs) const {
  core::Enrichment e;
  const core::Ends ends = core::ends_of(rec);
  e.host = core::Lookup<core::HostOwner>::disabled();
  if ((needs & core::kNeedProcess) != 0) {
    if (ends.direction == core::Direction::Forward) {
      // No local socket; perhaps one in a container here, else a LAN device.
      e.process = impl_->owners.lookup_or_request(rec, true);
      e.host = impl_->cached_host_of(ends.inside.addr);
    } else {
      e.process = impl_->owners.lookup_or_request(rec);
    }
  }
  const bool dns_on = dns();
  if ((needs & core::kNeedInsideName) != 0) {
    e.inside_name = dns_on ? impl_->hosts.lookup_or_request(ends.inside.addr)
                           : core::Lookup<std::string>::disabled();
  }
  if ((needs & core::kNeedRemoteName) != 0) {
    e.remote_name = dns_on ? impl_->hosts.lookup_or_request(ends.remote.addr)
                           : core::Lookup<std::string>::disabled();
  }
  const bool geo_on = geoip();
  if ((needs & core::kNeedInsideGeo) != 0) {
    e.inside_geo =
        geo_on ? impl_->geo_of(ends.inside.addr) : core::Lookup<core::GeoInfo>::disabled();
  }
  if ((needs & core::kNeedRemoteGeo) != 0) {
    e.remote_geo =
        geo_on ? impl_->geo_of(ends.remote.addr) : core::Lookup<core::GeoInfo>::disabled();
  }
  if ((needs & core::kNeedService) != 0) {
    e.service = std::string(impl_->services.service(rec));
  }
  return e;
}

void Enricher::set_dns(bool on) {
  impl_->dns.store(on, std::memory_order_relaxed);
}

void Enricher::set_geoip(bool on) {
  impl_->geoip.store(on, std::memory_order_relaxed);
  if (on) {
    impl_->geo.open();
  }
}

bool Enricher::dns() const {
  return impl_->dns.load(std::memory_order_relaxed);
}

bool Enricher::geoip() const {
  return impl_->geoip.load(std::memory_order_relaxed);
}

std::vector<std::string> Enricher::health() const {
  std::vector<std::string> out = impl_->services.errors();
  if (geoip()) {
    const auto notes = impl_->geo.notes();
    out.insert(out.end(), notes.begin(), notes.end());
  }
  return out;
}

bool Enricher::dbip() const {
  return geoip() && impl_->geo.uses_dbip();
}

EnrichStats Enricher::stats() const {
  EnrichStats s;
  const HostResolverStats h = impl_->hosts.stats();
  s.dns_queued = h.queued;
  s.dns_done = h.done;
  s.dns_failed = h.failed;
  s.dns_dropped = h.dropped;
  const OwnerResolverStats o = impl_->owners.stats();
  s.owner_lookups = o.lookups;
  s.owner_found = o.found;
  s.owner_dropped = o.dropped;
  s.proc_scans = o.proc_scans;
  s.geo_lookups = impl_->geo.lookups();
  return s;
}

}  // namespace flowtop::enrich
