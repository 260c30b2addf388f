#include "flowtop/enrich/host_resolver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "flowtop/rcu/rcu.hpp"

namespace {

using flowtop::core::IpAddr;
using flowtop::core::Lookup;
using flowtop::enrich::HostResolver;
using flowtop::enrich::HostResolverOptions;
using State = Lookup<std::string>::State;
using namespace std::chrono_literals;

constexpr std::int64_t kMin = 60'000'000'000;

const flowtop::rcu::Thread kRcu;

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

IpAddr nth(std::uint32_t i) {  // 198.51.100.0 + i
  return IpAddr::from_v4_be(__builtin_bswap32(0xc6336400U + i));
}

/// A resolver that answers from a table and can be made to hang (like getnameinfo against a
/// nameserver that never answers: 10 s). Shared with the workers, so it outlives a detached one.
struct FakeDns {
  std::mutex mu;
  std::condition_variable cv;
  bool blocked = false;
  std::map<IpAddr, std::string> names;
  std::map<IpAddr, int> calls;
  int concurrent = 0;
  int max_concurrent = 0;
  int returned = 0;

  [[nodiscard]] static flowtop::enrich::ResolveFn fn(const std::shared_ptr<FakeDns>& self) {
    return [self](const IpAddr& a) -> std::optional<std::string> {
      std::unique_lock lock(self->mu);
      ++self->calls[a];
      ++self->concurrent;
      self->max_concurrent = std::max(self->max_concurrent, self->concurrent);
      self->cv.notify_all();
      // Hangs until released, as getnameinfo against a nameserver that never answers (10 s with
      // glibc's defaults; here for as long as the test needs: a test whose code waits on a stuck
      // lookup never passes).
      self->cv.wait(lock, [&] { return !self->blocked; });
      --self->concurrent;
      ++self->returned;
      self->cv.notify_all();
      if (a == *IpAddr::parse("192.0.2.66")) {
        throw std::runtime_error("resolver exploded");
      }
      const auto it = self->names.find(a);
      if (it == self->names.end()) {
        return std::nullopt;
      }
      return it->second;
    };
  }
  void set_blocked(bool b) {
    {
      const std::lock_guard lock(mu);
      blocked = b;
    }
    cv.notify_all();
  }
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return pred(*this); });
  }
  int calls_of(const IpAddr& a) {
    const std::lock_guard lock(mu);
    return calls.contains(a) ? calls[a] : 0;
  }
  int total_calls() {
    const std::lock_guard lock(mu);
    int n = 0;
    for (const auto& [a, c] : calls) {
      n += c;
    }
    return n;
  }
};

Lookup<std::string> wait_settled(HostResolver& r, const IpAddr& a) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    auto l = r.lookup(a);
    if (l.state != State::Pending || std::chrono::steady_clock::now() > until) {
      return l;
    }
    std::this_thread::sleep_for(1ms);
  }
}

using flowtop::core::FakeClock;

// Runs `fn` on another thread and says whether it returned within `limit` (a bound far above any
// real run: the question is whether it returns at all while the DNS fake stays stuck). If it did
// not, the thread is left to finish once the test unblocks the fake.
template <class F>
bool returns_while_stuck(F fn, std::chrono::seconds limit = 30s) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> ready = done->get_future();
  std::thread([fn = std::move(fn), done]() mutable {
    const flowtop::rcu::Thread rcu;
    fn();
    done->set_value();
  }).detach();
  return ready.wait_for(limit) == std::future_status::ready;
}

// Every worker has exited, detached or not: the fake's only other owner was the workers' shared
// state (its resolve function), freed by the last of them.
bool workers_gone(const std::shared_ptr<FakeDns>& dns) {
  for (int i = 0; i < 30'000 && dns.use_count() > 1; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  return dns.use_count() == 1;
}

TEST(HostResolver, NumericAtOnceThenTheName) {
  auto dns = std::make_shared<FakeDns>();
  dns->names[ip("192.0.2.10")] = "ten.example";
  dns->set_blocked(true);
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  HostResolver r(o);
  // Not requested yet: Pending, and nothing was asked.
  EXPECT_EQ(r.lookup(ip("192.0.2.10")).state, State::Pending);
  EXPECT_EQ(r.lookup_or_request(ip("192.0.2.10")).state, State::Pending)
      << "the caller shows the numeric address while the lookup runs";
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.concurrent == 1; }));
  EXPECT_EQ(r.lookup(ip("192.0.2.10")).state, State::Pending);
  dns->set_blocked(false);
  const auto l = wait_settled(r, ip("192.0.2.10"));
  EXPECT_EQ(l.state, State::Ok);
  EXPECT_EQ(l.value, "ten.example");
  EXPECT_EQ(r.stats().queued, 1U);
  EXPECT_EQ(r.stats().done, 1U);
}

TEST(HostResolver, InFlightLookupsAreDeduplicated) {
  auto dns = std::make_shared<FakeDns>();
  dns->names[ip("2001:db8::5")] = "five.example";
  dns->set_blocked(true);
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  HostResolver r(o);
  std::vector<std::thread> askers;
  askers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    askers.emplace_back([&] {
      const flowtop::rcu::Thread rcu;
      for (int i = 0; i < 100; ++i) {
        r.request(ip("2001:db8::5"));
        (void)r.lookup_or_request(ip("2001:db8::5"));
      }
    });
  }
  for (auto& t : askers) {
    t.join();
  }
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.concurrent == 1; }));
  EXPECT_EQ(r.stats().queued, 1U) << "400 requests, one lookup queued";
  dns->set_blocked(false);
  EXPECT_EQ(wait_settled(r, ip("2001:db8::5")).value, "five.example");
  r.request(ip("2001:db8::5"));  // cached: not looked up again
  EXPECT_EQ(r.stats().queued, 1U);
  EXPECT_EQ(dns->calls_of(ip("2001:db8::5")), 1);
}

TEST(HostResolver, AtMostEightLookupsInFlight) {
  auto dns = std::make_shared<FakeDns>();
  dns->set_blocked(true);
  HostResolverOptions o;
  o.workers = 16;  // clamped to 8
  o.resolve = FakeDns::fn(dns);
  HostResolver r(o);
  for (std::uint32_t i = 0; i < 20; ++i) {
    r.request(nth(i));
  }
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.concurrent == 8; }));
  EXPECT_EQ(r.in_flight(), 8U);
  EXPECT_EQ(r.stats().queued, 20U) << "the other twelve wait in the queue";
  dns->set_blocked(false);
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.returned == 20; }));
  for (std::uint32_t i = 0; i < 20; ++i) {
    EXPECT_EQ(wait_settled(r, nth(i)).state, State::Failed);  // no names in the table
  }
  const std::lock_guard lock(dns->mu);
  EXPECT_EQ(dns->max_concurrent, 8);
}

TEST(HostResolver, LoopbackAndUnspecifiedAreNeverLookedUp) {
  auto dns = std::make_shared<FakeDns>();
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  HostResolver r(o);
  for (const char* a : {"127.0.0.1", "127.9.8.7", "::1", "0.0.0.0", "::"}) {
    EXPECT_EQ(r.lookup_or_request(ip(a)).state, State::Failed) << a;
    r.request(ip(a));
  }
  EXPECT_EQ(r.stats().queued, 0U) << "nothing was queued, so nothing can be looked up";
  EXPECT_EQ(dns->total_calls(), 0);
}

TEST(HostResolver, NamesAreCachedForTenMinutes) {
  auto dns = std::make_shared<FakeDns>();
  dns->names[ip("192.0.2.20")] = "twenty.example";
  FakeClock clock(0);
  HostResolverOptions o;  // default TTLs
  o.resolve = FakeDns::fn(dns);
  o.clock = &clock;
  HostResolver r(o);
  r.request(ip("192.0.2.20"));
  ASSERT_EQ(wait_settled(r, ip("192.0.2.20")).value, "twenty.example");
  clock.set(10 * kMin - 1);
  EXPECT_EQ(r.lookup_or_request(ip("192.0.2.20")).value, "twenty.example");
  EXPECT_EQ(r.stats().queued, 1U) << "still cached just before 10 minutes";
  clock.set(10 * kMin);
  EXPECT_EQ(r.lookup_or_request(ip("192.0.2.20")).state, State::Pending) << "expired: asked again";
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.returned == 2; }));
  EXPECT_EQ(wait_settled(r, ip("192.0.2.20")).value, "twenty.example");
}

TEST(HostResolver, FailuresAreCachedForFiveMinutes) {
  auto dns = std::make_shared<FakeDns>();
  FakeClock clock(0);
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  o.clock = &clock;
  HostResolver r(o);
  r.request(ip("192.0.2.30"));
  ASSERT_EQ(wait_settled(r, ip("192.0.2.30")).state, State::Failed);
  clock.set(5 * kMin - 1);
  EXPECT_EQ(r.lookup_or_request(ip("192.0.2.30")).state, State::Failed);
  EXPECT_EQ(r.stats().queued, 1U) << "still cached just before 5 minutes";
  clock.set(5 * kMin);
  EXPECT_EQ(r.lookup_or_request(ip("192.0.2.30")).state, State::Pending);
  EXPECT_EQ(wait_settled(r, ip("192.0.2.30")).state, State::Failed);
  EXPECT_EQ(dns->calls_of(ip("192.0.2.30")), 2);
  EXPECT_EQ(r.stats().failed, 2U);
}

TEST(HostResolver, FullQueueDropsCountsAndLetsALaterRequestRetry) {
  auto dns = std::make_shared<FakeDns>();
  dns->names[nth(9)] = "nine.example";
  dns->set_blocked(true);
  HostResolverOptions o;
  o.workers = 1;
  o.queue_limit = 2;
  o.resolve = FakeDns::fn(dns);
  HostResolver r(o);
  r.request(nth(0));
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.concurrent == 1; }));
  // The only worker stays stuck: requests that waited for room would never return.
  ASSERT_TRUE(returns_while_stuck([&] {
    for (std::uint32_t i = 1; i < 10; ++i) {
      r.request(nth(i));  // 1 and 2 are queued; 3..9 dropped
    }
  })) << "a full queue blocked a request";
  EXPECT_EQ(r.stats().dropped, 7U);
  EXPECT_EQ(r.lookup(nth(9)).state, State::Pending) << "dropped: still shown numerically";
  dns->set_blocked(false);
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.returned == 3; }));
  // The dropped address was not left marked in flight: a new request looks it up.
  r.request(nth(9));
  EXPECT_EQ(wait_settled(r, nth(9)).value, "nine.example");
}

TEST(HostResolver, AThrowingResolverIsAFailedLookup) {
  auto dns = std::make_shared<FakeDns>();
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  HostResolver r(o);
  r.request(ip("192.0.2.66"));
  EXPECT_EQ(wait_settled(r, ip("192.0.2.66")).state, State::Failed);
}

TEST(HostResolver, RequestsNeverBlockWhileEveryWorkerIsStuck) {
  auto dns = std::make_shared<FakeDns>();
  dns->set_blocked(true);
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  auto r = std::make_unique<HostResolver>(o);
  for (std::uint32_t i = 0; i < 8; ++i) {
    r->request(nth(i));
  }
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.concurrent == 8; }));
  HostResolver& resolver = *r;
  EXPECT_TRUE(returns_while_stuck([&] {
    for (std::uint32_t i = 0; i < 2000; ++i) {
      (void)resolver.lookup_or_request(nth(i % 300));
    }
  })) << "a lookup waited for a stuck worker";
  r.reset();
  dns->set_blocked(false);
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.returned == 8; }));
}

TEST(HostResolver, ShutdownNeverWaitsForAStuckWorker) {
  auto dns = std::make_shared<FakeDns>();
  dns->set_blocked(true);  // every lookup hangs until the end of the test
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  auto r = std::make_unique<HostResolver>(o);
  o.resolve = {};  // the workers' state holds the only other reference to the fake
  for (std::uint32_t i = 0; i < 12; ++i) {
    r->request(nth(i));
  }
  ASSERT_TRUE(dns->wait([](FakeDns& d) { return d.concurrent == 8; }));
  // Eight workers are stuck and stay stuck: a destructor that joined one would never return.
  EXPECT_TRUE(returns_while_stuck([&r] { r.reset(); })) << "the destructor waited for a lookup";
  // The detached workers come back later and must touch nothing that was freed (ASan).
  dns->set_blocked(false);
  ASSERT_TRUE(workers_gone(dns)) << "a worker never exited";
  EXPECT_EQ(dns->total_calls(), 8) << "queued lookups are abandoned at shutdown";
}

TEST(HostResolver, ShutdownWhenIdleJoinsEveryWorker) {
  auto dns = std::make_shared<FakeDns>();
  HostResolverOptions o;
  o.resolve = FakeDns::fn(dns);
  {
    const HostResolver r(o);
    o.resolve = {};  // the workers' state holds the only other reference to the fake
  }
  EXPECT_EQ(dns.use_count(), 1) << "an idle worker was left running";
}

TEST(SystemReverseLookup, ReadsTheHostsFile) {
  // Only an address the hosts file names ("files" comes first in nsswitch): no query leaves the
  // machine.
  std::ifstream hosts("/etc/hosts");
  std::string line;
  bool named = false;
  while (std::getline(hosts, line)) {
    named = named || line.rfind("127.0.0.1", 0) == 0;
  }
  if (!named) {
    GTEST_SKIP() << "/etc/hosts does not name 127.0.0.1";
  }
  const auto name = flowtop::enrich::system_reverse_lookup(ip("127.0.0.1"));
  ASSERT_TRUE(name.has_value());
  EXPECT_FALSE(name->empty());
  EXPECT_NE(*name, "127.0.0.1") << "NI_NAMEREQD: a name, never the numeric form";
}

}  // namespace
