#include "flowtop/core/hash_seed.hpp"
#include "flowtop/enrich/enrich_cache.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "flowtop/rcu/rcu.hpp"

namespace {

using flowtop::core::IpAddr;
using flowtop::core::Lookup;
using flowtop::enrich::EnrichCache;
using flowtop::core::SeededIpHash;
using State = Lookup<std::string>::State;

constexpr std::int64_t kSec = 1'000'000'000;

// The test thread reads and writes the caches: it must be an RCU reader.
const flowtop::rcu::Thread kRcu;

using flowtop::core::FakeClock;

using Cache = EnrichCache<IpAddr, std::string, SeededIpHash>;

Cache::Options options(const FakeClock& clock, std::size_t max_entries = 1000) {
  Cache::Options o;
  o.clock = &clock;
  o.max_entries = max_entries;
  o.sweep_interval_ns = 60 * kSec;
  return o;
}

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

TEST(EnrichCache, AbsentKeyReadsAsNothing) {
  FakeClock clock(0);
  const Cache cache(options(clock));
  EXPECT_FALSE(cache.get(ip("192.0.2.1")).has_value());
  EXPECT_EQ(cache.size(), 0U);
}

TEST(EnrichCache, BeginPublishesPendingOnceAndDeduplicates) {
  FakeClock clock(0);
  Cache cache(options(clock));
  EXPECT_TRUE(cache.begin(ip("192.0.2.1"), 30 * kSec));
  EXPECT_FALSE(cache.begin(ip("192.0.2.1"), 30 * kSec)) << "a second lookup of an in-flight key";
  const auto got = cache.get(ip("192.0.2.1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, State::Pending);
  EXPECT_TRUE(cache.begin(ip("192.0.2.2"), 30 * kSec)) << "another key is independent";
  EXPECT_EQ(cache.size(), 2U);
}

TEST(EnrichCache, PutPublishesResultsThatReplacePending) {
  FakeClock clock(0);
  Cache cache(options(clock));
  ASSERT_TRUE(cache.begin(ip("2001:db8::1"), 30 * kSec));
  cache.put(ip("2001:db8::1"), Lookup<std::string>::ready("host.example"), 600 * kSec);
  cache.put(ip("2001:db8::2"), Lookup<std::string>::failed(), 300 * kSec);
  auto ok = cache.get(ip("2001:db8::1"));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->state, State::Ok);
  EXPECT_EQ(ok->value, "host.example");
  auto failed = cache.get(ip("2001:db8::2"));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->state, State::Failed);
  // A known result is not looked up again while it is live.
  EXPECT_FALSE(cache.begin(ip("2001:db8::1"), 30 * kSec));
  EXPECT_FALSE(cache.begin(ip("2001:db8::2"), 30 * kSec));
  EXPECT_EQ(cache.size(), 2U);
}

TEST(EnrichCache, ResultsExpireAfterTheirTtl) {
  FakeClock clock(0);
  Cache cache(options(clock));
  cache.put(ip("198.51.100.7"), Lookup<std::string>::ready("seven"), 600 * kSec);
  clock.advance(600 * kSec - 1);
  ASSERT_TRUE(cache.get(ip("198.51.100.7")).has_value());
  EXPECT_EQ(cache.get(ip("198.51.100.7"))->value, "seven");
  clock.advance(1);
  EXPECT_FALSE(cache.get(ip("198.51.100.7")).has_value()) << "expired entries read as absent";
  // ...and may be looked up again.
  EXPECT_TRUE(cache.begin(ip("198.51.100.7"), 30 * kSec));
  EXPECT_EQ(cache.get(ip("198.51.100.7"))->state, State::Pending);
}

TEST(EnrichCache, PendingExpiresSoAStuckLookupIsRetried) {
  FakeClock clock(0);
  Cache cache(options(clock));
  ASSERT_TRUE(cache.begin(ip("203.0.113.9"), 30 * kSec));
  clock.advance(29 * kSec);
  EXPECT_FALSE(cache.begin(ip("203.0.113.9"), 30 * kSec));
  clock.advance(1 * kSec);
  EXPECT_TRUE(cache.begin(ip("203.0.113.9"), 30 * kSec));
}

TEST(EnrichCache, AbandonRemovesOnlyPendingEntries) {
  FakeClock clock(0);
  Cache cache(options(clock));
  ASSERT_TRUE(cache.begin(ip("192.0.2.1"), 30 * kSec));
  cache.put(ip("192.0.2.2"), Lookup<std::string>::ready("two"), 600 * kSec);
  EXPECT_TRUE(cache.abandon(ip("192.0.2.1")));
  EXPECT_FALSE(cache.get(ip("192.0.2.1")).has_value());
  EXPECT_FALSE(cache.abandon(ip("192.0.2.2"))) << "a result is not abandoned";
  EXPECT_EQ(cache.get(ip("192.0.2.2"))->value, "two");
  EXPECT_FALSE(cache.abandon(ip("192.0.2.3")));
  EXPECT_EQ(cache.size(), 1U);
}

TEST(EnrichCache, SweepRemovesExpiredEntriesOnly) {
  FakeClock clock(0);
  Cache cache(options(clock));
  for (int i = 0; i < 100; ++i) {
    const IpAddr a = IpAddr::from_v4_be(htonl(0x0a000000U + static_cast<std::uint32_t>(i)));
    cache.put(a, Lookup<std::string>::ready(std::to_string(i)), (i % 2 == 0 ? 10 : 1000) * kSec);
  }
  clock.advance(10 * kSec);
  EXPECT_EQ(cache.sweep(), 50U);
  EXPECT_EQ(cache.size(), 50U);
  EXPECT_EQ(cache.get(IpAddr::from_v4_be(htonl(0x0a000001U)))->value, "1");
}

TEST(EnrichCache, MaybeSweepRunsOncePerInterval) {
  FakeClock clock(0);
  Cache cache(options(clock));
  cache.put(ip("192.0.2.1"), Lookup<std::string>::ready("a"), 1 * kSec);
  clock.advance(2 * kSec);
  EXPECT_EQ(cache.maybe_sweep(), 0U) << "the interval (60 s) has not passed";
  EXPECT_EQ(cache.size(), 1U);
  clock.advance(60 * kSec);
  EXPECT_EQ(cache.maybe_sweep(), 1U);
  EXPECT_EQ(cache.size(), 0U);
}

TEST(EnrichCache, FullCacheRefusesNewKeysUntilEntriesExpire) {
  FakeClock clock(0);
  Cache cache(options(clock, 3));
  EXPECT_TRUE(cache.begin(ip("192.0.2.1"), 30 * kSec));
  EXPECT_TRUE(cache.begin(ip("192.0.2.2"), 30 * kSec));
  cache.put(ip("192.0.2.3"), Lookup<std::string>::ready("c"), 5 * kSec);
  EXPECT_FALSE(cache.begin(ip("192.0.2.4"), 30 * kSec));
  EXPECT_EQ(cache.refused(), 1U);
  EXPECT_FALSE(cache.get(ip("192.0.2.4")).has_value());
  clock.advance(6 * kSec);  // the third entry expired (and a full sweep is allowed again)
  EXPECT_TRUE(cache.begin(ip("192.0.2.4"), 30 * kSec));
  EXPECT_EQ(cache.size(), 3U);
}

TEST(EnrichCache, ACopyOutlivesTheEntryItCameFrom) {
  FakeClock clock(0);
  Cache cache(options(clock));
  cache.put(ip("192.0.2.1"), Lookup<std::string>::ready(std::string(100, 'a')), 600 * kSec);
  const auto before = cache.get(ip("192.0.2.1"));
  cache.put(ip("192.0.2.1"), Lookup<std::string>::ready("b"), 600 * kSec);  // old entry retired
  EXPECT_EQ(before->value, std::string(100, 'a'));
  EXPECT_EQ(cache.get(ip("192.0.2.1"))->value, "b");
  EXPECT_EQ(cache.size(), 1U);
}

TEST(EnrichCache, ConcurrentWritersOnDistinctKeys) {
  FakeClock clock(0);
  Cache cache(options(clock, 100000));
  std::vector<std::thread> writers;
  writers.reserve(4);
  std::atomic<int> begun{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      const flowtop::rcu::Thread rcu;
      for (int i = 0; i < 2000; ++i) {
        // Every thread races for the same 2000 keys: exactly one wins each begin().
        const IpAddr a = IpAddr::from_v4_be(htonl(0xc6336400U + static_cast<std::uint32_t>(i)));
        if (cache.begin(a, 30 * kSec)) {
          begun.fetch_add(1);
          cache.put(a, Lookup<std::string>::ready(std::to_string(t)), 600 * kSec);
        }
      }
    });
  }
  for (auto& w : writers) {
    w.join();
  }
  EXPECT_EQ(begun.load(), 2000);
  EXPECT_EQ(cache.size(), 2000U);
  for (int i = 0; i < 2000; ++i) {
    const auto got =
        cache.get(IpAddr::from_v4_be(htonl(0xc6336400U + static_cast<std::uint32_t>(i))));
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->state, State::Ok);
  }
}

TEST(EnrichCache, DestroyedWithEntriesAndRetiredNodes) {
  FakeClock clock(0);
  auto cache = std::make_unique<Cache>(options(clock));
  for (int i = 0; i < 500; ++i) {
    const IpAddr a = IpAddr::from_v4_be(htonl(0x0a000000U + static_cast<std::uint32_t>(i % 50)));
    cache->put(a, Lookup<std::string>::ready(std::string(64, 'x')), 600 * kSec);
  }
  EXPECT_EQ(cache->size(), 50U);
  cache.reset();  // ASan: nothing leaks, nothing is freed twice
}

TEST(SeededIpHash, SpreadsNeighbouringAddresses) {
  const SeededIpHash h;
  std::vector<std::size_t> low_bits(16, 0);
  for (std::uint32_t i = 0; i < 1600; ++i) {
    ++low_bits[h(IpAddr::from_v4_be(htonl(0x0a000000U + i))) & 15];
  }
  for (const std::size_t n : low_bits) {
    EXPECT_GT(n, 50U);
    EXPECT_LT(n, 150U);
  }
  EXPECT_NE(h(*IpAddr::parse("10.0.0.1")), h(*IpAddr::parse("::a00:1")));
}

}  // namespace
