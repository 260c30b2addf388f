// One writer and several readers on an EnrichCache (run under TSan in CI). Every value carries a
// checksum over its fields: a reader that saw a torn or freed entry would find it wrong.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "flowtop/enrich/enrich_cache.hpp"
#include "flowtop/rcu/rcu.hpp"

namespace {

using flowtop::core::Lookup;
using flowtop::enrich::EnrichCache;
namespace rcu = flowtop::rcu;

struct Payload {
  std::uint64_t seq = 0;
  std::array<std::uint64_t, 6> words{};
  std::string text;
  std::uint64_t checksum = 0;

  static std::uint64_t sum(const Payload& p) {
    std::uint64_t h = flowtop::enrich::mix64(p.seq);
    for (const std::uint64_t w : p.words) {
      h = flowtop::enrich::mix64(h ^ w);
    }
    for (const char c : p.text) {
      h = flowtop::enrich::mix64(h ^ static_cast<unsigned char>(c));
    }
    return h;
  }
  static Payload make(std::uint64_t seq) {
    Payload p;
    p.seq = seq;
    for (std::size_t i = 0; i < p.words.size(); ++i) {
      p.words[i] = flowtop::enrich::mix64(seq * 7 + i);
    }
    p.text = "entry-" + std::to_string(seq) + std::string(seq % 48, 'x');  // heap, varying size
    p.checksum = sum(p);
    return p;
  }
};

struct KeyHash {
  std::size_t operator()(std::uint32_t k) const { return flowtop::enrich::mix64(k); }
};

using Cache = EnrichCache<std::uint32_t, Payload, KeyHash>;
constexpr std::uint32_t kKeys = 512;

TEST(EnrichCacheStress, OneWriterManyReadersNeverSeeTornEntries) {
  flowtop::core::FakeClock clock(0);
  Cache::Options opts;
  opts.max_entries = std::size_t{kKeys} * 2;
  opts.initial_buckets = 8;  // force resizes while readers run
  opts.sweep_interval_ns = 1000;
  opts.clock = &clock;
  Cache cache(opts);

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> ok_reads{0};
  std::atomic<std::uint64_t> bad_reads{0};
  std::vector<std::thread> readers;
  readers.reserve(3);
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      const rcu::Thread rcu;
      std::uint32_t k = static_cast<std::uint32_t>(r) * 97;
      while (!done.load(std::memory_order_relaxed)) {
        k = (k * 1103515245U + 12345U) % kKeys;
        const auto got = cache.get(k);
        if (got && got->ok()) {
          if (Payload::sum(got->value) != got->value.checksum) {
            bad_reads.fetch_add(1);
          }
          ok_reads.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }

  {
    const rcu::Thread rcu;
    std::uint64_t seq = 1;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (std::chrono::steady_clock::now() < until) {
      for (std::uint32_t k = 0; k < kKeys; k += 3) {
        switch (seq % 5) {
          case 0:
            if (cache.begin(k, 50)) {
              cache.abandon(k);
            }
            break;
          case 1: cache.put(k, Lookup<Payload>::failed(), 100); break;
          default:
            cache.put(k, Lookup<Payload>::ready(Payload::make(seq)),
                      static_cast<std::int64_t>(seq % 400));
        }
        ++seq;
      }
      clock.advance(37);
      cache.maybe_sweep();
    }
    done.store(true);
  }
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_EQ(bad_reads.load(), 0U);
  EXPECT_GT(ok_reads.load(), 1000U) << "readers saw too few entries to prove anything";
  EXPECT_LE(cache.size(), static_cast<std::size_t>(kKeys));
}

}  // namespace
