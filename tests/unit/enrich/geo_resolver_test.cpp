#include "flowtop/enrich/geo_resolver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "flowtop/rcu/rcu.hpp"

namespace {

using flowtop::core::GeoInfo;
using flowtop::core::IpAddr;
using flowtop::core::Lookup;
using flowtop::enrich::GeoResolver;
using flowtop::enrich::GeoResolverOptions;
using flowtop::enrich::GeoSource;
using State = Lookup<GeoInfo>::State;
using namespace std::chrono_literals;

const flowtop::rcu::Thread kRcu;

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

struct Counters {
  std::atomic<int> opens{0};
  std::atomic<int> lookups{0};
  std::atomic<std::thread::id> lookup_thread{};
};

class FakeSource final : public GeoSource {
 public:
  explicit FakeSource(std::shared_ptr<Counters> c) : c_(std::move(c)) {}
  [[nodiscard]] std::optional<GeoInfo> lookup(const IpAddr& addr) const override {
    c_->lookups.fetch_add(1);
    c_->lookup_thread.store(std::this_thread::get_id());
    if (addr == *IpAddr::parse("203.0.113.7")) {
      GeoInfo g;
      g.country = "NL";
      g.country_name = "Netherlands";
      g.city = "Amsterdam";
      g.asn = 64500;
      g.org = "Example AS";
      return g;
    }
    return std::nullopt;
  }
  [[nodiscard]] std::vector<std::string> notes() const override {
    return {"GeoLite2-City.mmdb is corrupt"};
  }
  [[nodiscard]] bool uses_dbip() const override { return true; }

 private:
  std::shared_ptr<Counters> c_;
};

flowtop::enrich::GeoOpener opener(const std::shared_ptr<Counters>& c) {
  return [c]() -> std::unique_ptr<GeoSource> {
    c->opens.fetch_add(1);
    return std::make_unique<FakeSource>(c);
  };
}

Lookup<GeoInfo> settle(GeoResolver& r, const IpAddr& a) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    auto l = r.lookup_or_request(a);
    if (l.state != State::Pending || std::chrono::steady_clock::now() > until) {
      return l;
    }
    std::this_thread::sleep_for(1ms);
  }
}

bool wait_for(const std::function<bool()>& pred) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(GeoResolver, LooksUpOnTheWorkerAndCaches) {
  auto c = std::make_shared<Counters>();
  GeoResolver r(opener(c));
  EXPECT_EQ(r.lookup(ip("203.0.113.7")).state, State::Pending);
  const auto l = settle(r, ip("203.0.113.7"));
  ASSERT_EQ(l.state, State::Ok);
  EXPECT_EQ(l.value.country, "NL");
  EXPECT_EQ(l.value.city, "Amsterdam");
  EXPECT_EQ(l.value.asn, 64500U);
  EXPECT_NE(c->lookup_thread.load(), std::this_thread::get_id()) << "never on the caller";
  for (int i = 0; i < 100; ++i) {
    (void)r.lookup_or_request(ip("203.0.113.7"));
  }
  EXPECT_EQ(c->lookups.load(), 1);
  EXPECT_EQ(r.lookups(), 1U);
}

TEST(GeoResolver, UnknownAddressIsFailed) {
  auto c = std::make_shared<Counters>();
  GeoResolver r(opener(c));
  EXPECT_EQ(settle(r, ip("2001:db8::1")).state, State::Failed);
}

TEST(GeoResolver, OpensAtStartAndPublishesNotes) {
  auto c = std::make_shared<Counters>();
  GeoResolver r(opener(c));
  ASSERT_TRUE(wait_for([&] { return r.opened(); }));
  EXPECT_EQ(c->opens.load(), 1);
  EXPECT_EQ(r.notes(), (std::vector<std::string>{"GeoLite2-City.mmdb is corrupt"}));
  EXPECT_TRUE(r.uses_dbip());
}

TEST(GeoResolver, TurnedOffAtStartOpensNothingUntilAsked) {
  auto c = std::make_shared<Counters>();
  GeoResolverOptions o;
  o.open_at_start = false;  // -G
  GeoResolver r(opener(c), o);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(r.opened());
  EXPECT_EQ(c->opens.load(), 0);
  EXPECT_TRUE(r.notes().empty());
  r.open();  // the `g` key
  ASSERT_TRUE(wait_for([&] { return r.opened(); }));
  EXPECT_EQ(c->opens.load(), 1);
  EXPECT_EQ(settle(r, ip("203.0.113.7")).value.country, "NL");
  EXPECT_EQ(c->opens.load(), 1);
}

TEST(GeoResolver, ASourceThatCannotOpenLeavesANoteAndFailedLookups) {
  GeoResolver r([]() -> std::unique_ptr<GeoSource> {
    throw std::runtime_error("/var/lib/flowtop/x.mmdb: truncated or corrupt");
  });
  EXPECT_EQ(settle(r, ip("203.0.113.7")).state, State::Failed);
  EXPECT_EQ(r.notes(),
            (std::vector<std::string>{"GeoIP: /var/lib/flowtop/x.mmdb: truncated or corrupt"}));
  GeoResolver none([]() -> std::unique_ptr<GeoSource> { return nullptr; });
  EXPECT_EQ(settle(none, ip("203.0.113.7")).state, State::Failed);
}

TEST(GeoResolver, ExpiredEntriesAreLookedUpAgain) {
  auto c = std::make_shared<Counters>();
  flowtop::core::FakeClock clock(0);
  GeoResolverOptions o;
  o.ttl_ns = 1000;
  o.clock = &clock;
  GeoResolver r(opener(c), o);
  ASSERT_EQ(settle(r, ip("203.0.113.7")).state, State::Ok);
  clock.set(999);
  EXPECT_EQ(r.lookup_or_request(ip("203.0.113.7")).state, State::Ok);
  clock.set(1000);
  EXPECT_EQ(r.lookup(ip("203.0.113.7")).state, State::Pending);
  ASSERT_EQ(settle(r, ip("203.0.113.7")).state, State::Ok);
  EXPECT_EQ(c->lookups.load(), 2);
}

}  // namespace
