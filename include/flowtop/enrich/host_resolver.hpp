#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::enrich {

/// A blocking reverse lookup: the name of an address, or nullopt when it has none (or the lookup
/// failed). Called on a resolver worker only.
using ResolveFn = std::function<std::optional<std::string>(const core::IpAddr&)>;

/// getnameinfo(NI_NAMEREQD): the system's hosts file, nsswitch and resolv.conf apply. May block
/// for as long as the resolver's timeouts (10 s per call with glibc's defaults and a silent
/// server).
std::optional<std::string> system_reverse_lookup(const core::IpAddr& addr);

struct HostResolverOptions {
  unsigned workers = 8;             ///< at most this many lookups in flight (clamped to 1..8)
  std::size_t queue_limit = 4096;   ///< a full queue drops the request and counts it
  std::size_t max_entries = 65536;  ///< cache bound
  std::int64_t positive_ttl_ns = 600'000'000'000;  ///< names: 10 min
  std::int64_t negative_ttl_ns = 300'000'000'000;  ///< no name / failure: 5 min
  /// How long a queued or running lookup counts as in flight (beyond it, a new request may start
  /// another). Longer than glibc's worst case with two silent servers (~20 s).
  std::int64_t pending_ttl_ns = 60'000'000'000;
  const core::Clock* clock = nullptr;  ///< nullptr = core::system_clock()
  ResolveFn resolve;                   ///< empty = system_reverse_lookup
};

struct HostResolverStats {
  std::uint64_t queued = 0;   ///< lookups queued
  std::uint64_t done = 0;     ///< lookups that found a name
  std::uint64_t failed = 0;   ///< lookups that found none
  std::uint64_t dropped = 0;  ///< requests refused: queue or cache full
};

/// Reverse DNS on a pool of worker threads with a bounded, de-duplicating queue and an RCU cache
/// (positive and negative TTLs). request() and lookup() never block. Loopback and unspecified
/// addresses are never looked up.
///
/// Shutdown: the destructor never waits for a lookup. Idle workers leave at once and are joined; a
/// worker in a blocking lookup cannot be cancelled: it is detached, never joined. Everything such a
/// worker touches (queue, resolve function, the stop flag) lives in state it co-owns (shared_ptr),
/// and it writes to the cache only under a mutex after checking that the resolver still exists.
///
/// Thread-safety: request()/lookup()/stats() from any RCU-registered thread.
class HostResolver {
 public:
  explicit HostResolver(HostResolverOptions opts = {});
  ~HostResolver();
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  /// Queues a lookup of `addr` unless one is cached or in flight. Never blocks.
  void request(const core::IpAddr& addr);
  /// What is known now: Ok(name), Failed (no name, or never looked up: loopback), or Pending
  /// (queued, in flight, or not requested yet). Never blocks; does not request.
  [[nodiscard]] core::Lookup<std::string> lookup(const core::IpAddr& addr) const;
  /// lookup(), and request() when nothing live is cached (first sight, or the entry expired).
  core::Lookup<std::string> lookup_or_request(const core::IpAddr& addr);

  [[nodiscard]] HostResolverStats stats() const;
  /// Lookups running right now (tests, --stats).
  [[nodiscard]] unsigned in_flight() const;

  /// Loopback and unspecified addresses are never looked up.
  static bool skipped(const core::IpAddr& addr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::enrich
