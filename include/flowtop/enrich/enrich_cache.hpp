#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/function_ref.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::enrich {

/// splitmix64's finaliser: spreads every input bit over the whole word (the RCU hash table orders
/// nodes by the bit-reversed hash, so low-entropy hashes would crowd a few buckets).
constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

namespace detail {

/// The type-erased core of EnrichCache: a liburcu cds_lfht of immutable entries (the C types stay
/// in src/enrich/rcu_map.cpp). Readers: any RCU-registered thread, lock-free. Writers: any
/// RCU-registered thread; several may write at once (cds_lfht's add_unique/replace/del are safe
/// against each other). A published entry is never modified: a change publishes a new entry
/// (cds_lfht_replace) and frees the old one with call_rcu after a grace period.
class RcuMap {
 public:
  struct Entry {
    Entry() = default;
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    virtual ~Entry() = default;
    /// True when this entry's key equals `*key` (a pointer to the map's key type).
    [[nodiscard]] virtual bool matches(const void* key) const = 0;
    std::int64_t expires_ns = 0;
  };

  explicit RcuMap(std::size_t initial_buckets);
  /// Frees every entry (no reader or writer may remain; the thread need not be RCU-registered).
  ~RcuMap();
  RcuMap(const RcuMap&) = delete;
  RcuMap& operator=(const RcuMap&) = delete;

  /// Reader: calls `fn` with the entry for `key` inside a read-side critical section; false when
  /// there is none. `fn` must not keep a reference.
  bool read(std::size_t hash, const void* key, core::FunctionRef<void(const Entry&)> fn) const;
  /// Writer: publishes `fresh` for `key` if `may_replace(current)` holds (current = nullptr when
  /// the key is absent); `fresh` is destroyed otherwise. True when published.
  bool publish(std::size_t hash, const void* key, std::unique_ptr<Entry> fresh,
               core::FunctionRef<bool(const Entry* current)> may_replace);
  /// Writer: removes the entry for `key` if `pred(entry)` holds.
  bool erase(std::size_t hash, const void* key, core::FunctionRef<bool(const Entry&)> pred);
  /// Writer: removes every entry for which `pred` holds; returns how many.
  std::size_t erase_if(core::FunctionRef<bool(const Entry&)> pred);
  [[nodiscard]] std::size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace detail

/// A cache of asynchronous lookup results (reverse DNS names, GeoIP data, socket owners) keyed by
/// K: an RCU hash map of immutable entries, each Pending, Ok or Failed with an expiry time.
///  - Pending de-duplicates in-flight lookups: begin() publishes it and tells the one caller that
///    won to queue the lookup; everyone else sees Pending until put() publishes the result.
///  - Expired entries read as absent and are swept by writers (sweep/maybe_sweep).
///  - At most `max_entries`: when full, begin() sweeps (at most once a second) and otherwise
///    refuses the key (counted in refused()).
/// Readers (get) copy the value out under RCU; any RCU-registered thread. Writers (begin, put,
/// abandon, sweep): any RCU-registered thread, concurrently. The clock is injectable for tests.
template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<K>>
class EnrichCache {
 public:
  struct Options {
    std::size_t max_entries = 65536;
    std::size_t initial_buckets = 256;
    std::int64_t sweep_interval_ns = 60'000'000'000;
    const core::Clock* clock = nullptr;  ///< its steady_ns(); nullptr = core::system_clock()
  };

  EnrichCache() : EnrichCache(Options{}) {}
  explicit EnrichCache(Options opts)
      : opts_(std::move(opts)),
        map_(opts_.initial_buckets),
        clock_(opts_.clock != nullptr ? *opts_.clock : core::system_clock()),
        next_sweep_(clock_.steady_ns() + opts_.sweep_interval_ns) {}

  /// The live entry for `key` (Pending, Ok or Failed), or nullopt when absent or expired.
  [[nodiscard]] std::optional<core::Lookup<V>> get(const K& key) const {
    std::optional<core::Lookup<V>> out;
    const std::int64_t now = clock_.steady_ns();
    map_.read(hash(key), &key, [&](const detail::RcuMap::Entry& e) {
      if (e.expires_ns > now) {
        out = static_cast<const Item&>(e).result;
      }
    });
    return out;
  }

  /// Publishes a Pending entry valid for `pending_ttl_ns` unless a live entry exists. True when
  /// this caller should now run (or queue) the lookup; false when one is pending or known, or
  /// when the cache is full.
  bool begin(const K& key, std::int64_t pending_ttl_ns) {
    const std::int64_t now = clock_.steady_ns();
    if (map_.size() >= opts_.max_entries && !make_room(now)) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    auto fresh = std::make_unique<Item>(key, core::Lookup<V>{}, now + pending_ttl_ns);
    return map_.publish(hash(key), &key, std::move(fresh), [now](const detail::RcuMap::Entry* cur) {
      return cur == nullptr || cur->expires_ns <= now;
    });
  }

  /// Publishes a result (Ok or Failed) for `key`, valid for `ttl_ns`; replaces any entry.
  void put(const K& key, core::Lookup<V> result, std::int64_t ttl_ns) {
    auto fresh = std::make_unique<Item>(key, std::move(result), clock_.steady_ns() + ttl_ns);
    map_.publish(hash(key), &key, std::move(fresh),
                 [](const detail::RcuMap::Entry*) { return true; });
  }

  /// Removes the entry for `key` if it is still Pending (its lookup was never queued).
  bool abandon(const K& key) {
    return map_.erase(hash(key), &key, [](const detail::RcuMap::Entry& e) {
      return static_cast<const Item&>(e).result.state == core::Lookup<V>::State::Pending;
    });
  }

  /// Removes every expired entry; returns how many.
  std::size_t sweep() {
    const std::int64_t now = clock_.steady_ns();
    return map_.erase_if([now](const detail::RcuMap::Entry& e) { return e.expires_ns <= now; });
  }

  /// sweep() when `sweep_interval_ns` has passed since the last one; else 0.
  std::size_t maybe_sweep() {
    const std::int64_t now = clock_.steady_ns();
    std::int64_t due = next_sweep_.load(std::memory_order_relaxed);
    if (now < due || !next_sweep_.compare_exchange_strong(due, now + opts_.sweep_interval_ns,
                                                          std::memory_order_relaxed)) {
      return 0;
    }
    return sweep();
  }

  [[nodiscard]] std::size_t size() const { return map_.size(); }
  [[nodiscard]] std::int64_t now() const { return clock_.steady_ns(); }
  /// begin() calls refused because the cache was full of live entries.
  [[nodiscard]] std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  struct Item final : detail::RcuMap::Entry {
    Item(K k, core::Lookup<V> r, std::int64_t expires) : key(std::move(k)), result(std::move(r)) {
      expires_ns = expires;
    }
    [[nodiscard]] bool matches(const void* other) const override {
      return Eq{}(key, *static_cast<const K*>(other));
    }
    K key;
    core::Lookup<V> result;
  };

  static std::size_t hash(const K& key) { return Hash{}(key); }

  // Full: sweep expired entries, at most once a second. True when there is room now.
  bool make_room(std::int64_t now) {
    std::int64_t due = next_full_sweep_.load(std::memory_order_relaxed);
    if (now >= due && next_full_sweep_.compare_exchange_strong(due, now + 1'000'000'000,
                                                               std::memory_order_relaxed)) {
      sweep();
    }
    return map_.size() < opts_.max_entries;
  }

  const Options opts_;
  detail::RcuMap map_;
  const core::Clock& clock_;
  std::atomic<std::int64_t> next_sweep_;
  std::atomic<std::int64_t> next_full_sweep_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace flowtop::enrich
