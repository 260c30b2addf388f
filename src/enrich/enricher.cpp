#include "flowtop/enrich/enricher.hpp"

#include <atomic>
#include <utility>

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

  const EnricherConfig config;
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
  impl_->owners.request(rec);
  if (dns()) {
    impl_->hosts.request(rec.key.orig.src);
    impl_->hosts.request(rec.key.orig.dst);
  }
  if (geoip()) {
    for (const core::IpAddr& a : {rec.key.orig.src, rec.key.orig.dst}) {
      if (!geoip::reserved_kind(a)) {
        impl_->geo.request(a);
      }
    }
  }
}

core::Enrichment Enricher::lookup(const core::FlowRecord& rec, core::EnrichNeeds needs) const {
  core::Enrichment e;
  if ((needs & core::kNeedProcess) != 0) {
    e.process = impl_->owners.lookup_or_request(rec);
  }
  const bool dns_on = dns();
  if ((needs & core::kNeedSrcName) != 0) {
    e.src_name = dns_on ? impl_->hosts.lookup_or_request(rec.key.orig.src)
                        : core::Lookup<std::string>::disabled();
  }
  if ((needs & core::kNeedDstName) != 0) {
    e.dst_name = dns_on ? impl_->hosts.lookup_or_request(rec.key.orig.dst)
                        : core::Lookup<std::string>::disabled();
  }
  const bool geo_on = geoip();
  if ((needs & core::kNeedSrcGeo) != 0) {
    e.src_geo = geo_on ? impl_->geo_of(rec.key.orig.src) : core::Lookup<core::GeoInfo>::disabled();
  }
  if ((needs & core::kNeedDstGeo) != 0) {
    e.dst_geo = geo_on ? impl_->geo_of(rec.key.orig.dst) : core::Lookup<core::GeoInfo>::disabled();
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
