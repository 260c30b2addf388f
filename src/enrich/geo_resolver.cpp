#include "flowtop/enrich/geo_resolver.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/hash_seed.hpp"
#include "flowtop/enrich/enrich_cache.hpp"
#include "flowtop/enrich/work_queue.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/sys/privileges.hpp"

namespace flowtop::enrich {
namespace {

using Cache = EnrichCache<core::IpAddr, core::GeoInfo, core::SeededIpHash>;
// A request that only asks the worker to open the source (an address no one looks up).
const core::IpAddr kOpenOnly{};

}  // namespace

struct GeoResolver::Impl {
  Impl(GeoOpener o, GeoResolverOptions op)
      : open(std::move(o)),
        opts(op),
        cache(Cache::Options{opts.max_entries, 256, 60'000'000'000, opts.clock}),
        queue(opts.queue_limit) {}

  GeoOpener open;
  GeoResolverOptions opts;
  Cache cache;
  WorkQueue<core::IpAddr, core::SeededIpHash> queue;
  mutable std::mutex notes_mu;
  std::vector<std::string> notes;  // guarded by notes_mu
  std::atomic<bool> opened{false};
  std::atomic<bool> dbip{false};
  std::atomic<std::uint64_t> lookups{0};
  std::thread worker;

  void run() {
    sys::enter_worker_thread("ft-geoip");  // parses downloaded databases: no capabilities
    const rcu::Thread rcu;
    std::unique_ptr<GeoSource> source;
    const auto ensure_open = [&] {
      if (opened.load(std::memory_order_relaxed)) {
        return;
      }
      try {
        source = open ? open() : nullptr;
      } catch (const std::exception& e) {
        source.reset();
        const std::lock_guard lock(notes_mu);
        notes.push_back(std::string("GeoIP: ") + e.what());
      }
      if (source) {
        dbip.store(source->uses_dbip(), std::memory_order_relaxed);
        auto lines = source->notes();
        const std::lock_guard lock(notes_mu);
        notes.insert(notes.end(), lines.begin(), lines.end());
      }
      opened.store(true, std::memory_order_release);
    };
    if (opts.open_at_start) {
      ensure_open();
    }
    while (auto addr = queue.pop()) {
      ensure_open();
      if (*addr == kOpenOnly) {
        continue;
      }
      std::optional<core::GeoInfo> info;
      if (source) {
        try {
          info = source->lookup(*addr);
        } catch (const std::exception&) {
          info.reset();  // a failed lookup is data
        }
      }
      lookups.fetch_add(1, std::memory_order_relaxed);
      cache.put(*addr,
                info ? core::Lookup<core::GeoInfo>::ready(std::move(*info))
                     : core::Lookup<core::GeoInfo>::failed(),
                opts.ttl_ns);
      cache.maybe_sweep();
    }
  }
};

GeoResolver::GeoResolver(GeoOpener open, GeoResolverOptions opts)
    : impl_(std::make_unique<Impl>(std::move(open), opts)) {
  impl_->worker = std::thread([impl = impl_.get()] { impl->run(); });
}

GeoResolver::~GeoResolver() {
  impl_->queue.close();
  impl_->worker.join();
}

void GeoResolver::open() {
  if (!opened()) {
    impl_->queue.push(kOpenOnly);
  }
}

void GeoResolver::request(const core::IpAddr& addr) {
  if (addr == kOpenOnly) {
    return;  // the unspecified address: nothing to look up
  }
  if (impl_->cache.get(addr).has_value() || !impl_->cache.begin(addr, 60'000'000'000)) {
    return;
  }
  using Push = WorkQueue<core::IpAddr, core::SeededIpHash>::Push;
  const Push pushed = impl_->queue.push(addr);
  if (pushed == Push::Full || pushed == Push::Closed) {
    impl_->cache.abandon(addr);
  }
}

core::Lookup<core::GeoInfo> GeoResolver::lookup(const core::IpAddr& addr) const {
  if (addr == kOpenOnly) {
    return core::Lookup<core::GeoInfo>::failed();
  }
  if (auto hit = impl_->cache.get(addr)) {
    return std::move(*hit);
  }
  return {};
}

core::Lookup<core::GeoInfo> GeoResolver::lookup_or_request(const core::IpAddr& addr) {
  auto out = lookup(addr);
  if (out.state == core::Lookup<core::GeoInfo>::State::Pending) {
    request(addr);
  }
  return out;
}

std::vector<std::string> GeoResolver::notes() const {
  const std::lock_guard lock(impl_->notes_mu);
  return impl_->notes;
}

bool GeoResolver::uses_dbip() const {
  return opened() && impl_->dbip.load(std::memory_order_relaxed);
}

bool GeoResolver::opened() const {
  return impl_->opened.load(std::memory_order_acquire);
}

std::uint64_t GeoResolver::lookups() const {
  return impl_->lookups.load(std::memory_order_relaxed);
}

std::uint64_t GeoResolver::dropped() const {
  return impl_->queue.dropped() + impl_->cache.refused();
}

}  // namespace flowtop::enrich
