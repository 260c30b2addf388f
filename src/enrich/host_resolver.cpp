#include "flowtop/enrich/host_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "flowtop/core/hash_seed.hpp"
#include "flowtop/enrich/enrich_cache.hpp"
#include "flowtop/enrich/work_queue.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/sys/privileges.hpp"

namespace flowtop::enrich {
namespace {

using Cache = EnrichCache<core::IpAddr, std::string, core::SeededIpHash>;
constexpr unsigned kMaxWorkers = 8;

}  // namespace

std::optional<std::string> system_reverse_lookup(const core::IpAddr& addr) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (addr.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = addr.v4_be();
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, addr.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  std::array<char, NI_MAXHOST> host{};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host.data(), host.size(), nullptr, 0,
                  NI_NAMEREQD) != 0) {
    return std::nullopt;
  }
  std::string name(host.data());
  if (name.empty()) {
    return std::nullopt;
  }
  return name;
}

namespace {

// Everything a worker touches. Co-owned by the resolver and every worker, so a detached worker
// that returns from a lookup after the resolver is gone still finds it alive.
struct Shared {
  explicit Shared(const HostResolverOptions& o) : queue(o.queue_limit), resolve(o.resolve) {
    if (!resolve) {
      resolve = &system_reverse_lookup;
    }
  }

  WorkQueue<core::IpAddr, core::SeededIpHash> queue;
  ResolveFn resolve;
  std::int64_t positive_ttl_ns = 0;
  std::int64_t negative_ttl_ns = 0;

  std::mutex mu;
  Cache* cache =
      nullptr;  // guarded by mu for workers; nullptr once the resolver is being destroyed
  std::array<bool, kMaxWorkers> finished{};  // guarded by mu: left its loop
  std::array<bool, kMaxWorkers> busy{};      // guarded by mu: in a lookup
  std::condition_variable settled;           // a worker finished or started a lookup

  std::atomic<unsigned> in_flight{0};
  std::atomic<std::uint64_t> queued{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failed{0};
};

void worker_main(std::shared_ptr<Shared> keep, unsigned index);

}  // namespace

struct HostResolver::Impl {
  HostResolverOptions opts;
  std::unique_ptr<Cache> cache;
  std::shared_ptr<Shared> shared;
  std::vector<std::thread> threads;
};

HostResolver::HostResolver(HostResolverOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(opts);
  const HostResolverOptions& o = impl_->opts;
  Cache::Options co;
  co.max_entries = o.max_entries;
  co.clock = o.clock;
  impl_->cache = std::make_unique<Cache>(co);
  impl_->shared = std::make_shared<Shared>(o);
  Shared& s = *impl_->shared;
  s.positive_ttl_ns = o.positive_ttl_ns;
  s.negative_ttl_ns = o.negative_ttl_ns;
  s.cache = impl_->cache.get();
  const unsigned n = std::clamp(o.workers, 1U, kMaxWorkers);
  for (unsigned i = 0; i < n; ++i) {
    impl_->threads.emplace_back(worker_main, impl_->shared, i);
  }
}

HostResolver::~HostResolver() {
  Shared& s = *impl_->shared;
  {
    const std::lock_guard lock(s.mu);
    s.cache = nullptr;  // from here on no worker touches the cache
  }
  s.queue.close();  // idle workers wake up and leave; nothing queued is looked up any more
  // Every worker either leaves its loop at once or is in a lookup, which may hang for seconds: wait
  // until each one is one or the other (no timed wait), then join the first kind, detach the
  // second.
  std::array<bool, kMaxWorkers> finished{};
  {
    std::unique_lock lock(s.mu);
    const std::size_t n = impl_->threads.size();
    s.settled.wait(lock, [&s, n] {
      for (std::size_t i = 0; i < n; ++i) {
        if (!s.finished[i] && !s.busy[i]) {
          return false;
        }
      }
      return true;
    });
    finished = s.finished;
  }
  for (std::size_t i = 0; i < impl_->threads.size(); ++i) {
    if (finished[i]) {
      impl_->threads[i].join();  // it has left its loop: returns at once
    } else {
      impl_->threads[i].detach();  // stuck in a lookup: it exits when the lookup returns
    }
  }
}

namespace {

// `keep` holds the state alive for as long as this thread runs, whatever the resolver does.
void worker_main(std::shared_ptr<Shared> keep, unsigned index) {  // NOLINT(performance-*)
  Shared& s = *keep;
  // Reads names that strangers' DNS servers chose: no capabilities.
  sys::enter_worker_thread("ft-dns");
  {
    const rcu::Thread rcu;
    while (auto addr = s.queue.pop()) {
      {
        const std::lock_guard lock(s.mu);
        if (s.cache == nullptr) {
          break;  // the resolver is going: leave the lookup undone
        }
        s.busy[index] = true;
      }
      s.settled.notify_all();
      s.in_flight.fetch_add(1, std::memory_order_relaxed);
      std::optional<std::string> name;
      try {
        name = s.resolve(*addr);
      } catch (...) {  // a lookup failure is data
        name.reset();
      }
      s.in_flight.fetch_sub(1, std::memory_order_relaxed);
      const std::lock_guard lock(s.mu);
      s.busy[index] = false;
      if (s.cache == nullptr) {
        break;  // the resolver is gone
      }
      // Counted before publishing: whoever sees the result also sees it counted.
      if (name) {
        s.done.fetch_add(1, std::memory_order_relaxed);
        s.cache->put(*addr, core::Lookup<std::string>::ready(std::move(*name)), s.positive_ttl_ns);
      } else {
        s.failed.fetch_add(1, std::memory_order_relaxed);
        s.cache->put(*addr, core::Lookup<std::string>::failed(), s.negative_ttl_ns);
      }
      s.cache->maybe_sweep();
    }
  }
  {
    const std::lock_guard lock(s.mu);
    s.finished[index] = true;
  }
  s.settled.notify_all();
}

}  // namespace

bool HostResolver::skipped(const core::IpAddr& addr) {
  return addr.is_loopback() || addr == core::IpAddr{} || addr == core::IpAddr::from_v4_be(0);
}

void HostResolver::request(const core::IpAddr& addr) {
  if (skipped(addr) || impl_->cache->get(addr).has_value() ||
      !impl_->cache->begin(addr, impl_->opts.pending_ttl_ns)) {
    return;
  }
  using Push = WorkQueue<core::IpAddr, core::SeededIpHash>::Push;
  switch (impl_->shared->queue.push(addr)) {
    case Push::Queued: impl_->shared->queued.fetch_add(1, std::memory_order_relaxed); break;
    case Push::Duplicate: break;
    case Push::Full:
    case Push::Closed:
      impl_->cache->abandon(addr);  // not in flight after all: a later request may retry
      break;
  }
}

core::Lookup<std::string> HostResolver::lookup(const core::IpAddr& addr) const {
  if (skipped(addr)) {
    return core::Lookup<std::string>::failed();
  }
  if (auto hit = impl_->cache->get(addr)) {
    return std::move(*hit);
  }
  return {};
}

core::Lookup<std::string> HostResolver::lookup_or_request(const core::IpAddr& addr) {
  auto out = lookup(addr);
  if (out.state == core::Lookup<std::string>::State::Pending && !skipped(addr)) {
    request(addr);
  }
  return out;
}

HostResolverStats HostResolver::stats() const {
  const Shared& s = *impl_->shared;
  HostResolverStats out;
  out.queued = s.queued.load(std::memory_order_relaxed);
  out.done = s.done.load(std::memory_order_relaxed);
  out.failed = s.failed.load(std::memory_order_relaxed);
  out.dropped = s.queue.dropped() + impl_->cache->refused();
  return out;
}

unsigned HostResolver::in_flight() const {
  return impl_->shared->in_flight.load(std::memory_order_relaxed);
}

}  // namespace flowtop::enrich
