#include "flowtop/view/totals.hpp"

#include <gtest/gtest.h>

#include <string>

#include "flowtop/view/rows.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::view {
namespace {

using test::FlowSpec;
using test::kSecond;

// A world whose snapshots move on in steady and wall time, one interval (1 s) per step.
struct Clocked {
  test::FakeWorld world;
  std::int64_t step = 0;
  std::uint64_t enobufs = 0;

  Snapshot next() {
    Snapshot s = world.snapshot();
    s.steady_ns =
        5 * static_cast<std::int64_t>(kSecond) + step * static_cast<std::int64_t>(kSecond);
    s.realtime_ns = test::kNowNs + step * static_cast<std::int64_t>(kSecond);
    s.status.enobufs = enobufs;
    ++step;
    return s;
  }
};

core::Enrichment owned_by(std::int32_t pid, std::string name, std::string cc = "US",
                          std::uint32_t asn = 15133) {
  core::Enrichment e;
  e.process = test::process(pid, std::move(name));
  e.host = core::Lookup<core::HostOwner>::disabled();
  e.inside_name = core::Lookup<std::string>::failed();
  e.remote_name = core::Lookup<std::string>::failed();
  e.remote_geo = core::Lookup<core::GeoInfo>::ready(test::geo(cc, "", "", asn, "Org"));
  return e;
}

GroupKey owner_key(std::int32_t pid, std::string name) {
  GroupKey k;
  k.pid = pid;
  k.name = std::move(name);
  return k;
}

GroupKey host_key(const std::string& addr) {
  GroupKey k;
  k.addr = *core::IpAddr::parse(addr);
  return k;
}

// A flow that started `age_s` before the clock's current step (the fixture's ages count from
// kNowNs).
core::FlowRecord flow_at(Clocked& c, FlowSpec s) {
  core::FlowRecord r = test::make_flow(s);
  r.start_ns += static_cast<std::uint64_t>(c.step) * kSecond;
  return r;
}

const Selection kDefault{};

TEST(Ledger, AFlowThatLivedBetweenTwoSnapshotsCountsWhole) {
  Clocked c;
  c.world.enrichment[1] = owned_by(4242, "curl");
  c.world.enrichment[2] = owned_by(7, "wget");
  c.world.flows = {flow_at(c, {.bytes_out = 1000, .bytes_in = 50'000, .id = 1})};
  Ledger ledger;
  auto t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->out, 0U) << "what flowed before the totals started is not counted";
  // Flow 1 moves on; flow 2 starts and ends before the next snapshot (its lingering record).
  c.world.flows[0].orig_ctr.bytes = 1500;
  c.world.flows[0].reply_ctr.bytes = 90'000;
  core::FlowRecord ended = flow_at(c, {.dst = "198.51.100.9",
                                       .sport = 41000,
                                       .bytes_out = 600,
                                       .bytes_in = 100'420,
                                       .age_s = 0,
                                       .id = 2});
  ended.life |= core::FlowRecord::kEnded;
  c.world.flows.push_back(ended);
  t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->out, 500U + 600U);
  EXPECT_EQ(t->in, 40'000U + 100'420U);
  const GroupTotal* curl = t->find(Tab::Owners, owner_key(4242, "curl"));
  const GroupTotal* wget = t->find(Tab::Owners, owner_key(7, "wget"));
  ASSERT_NE(curl, nullptr);
  ASSERT_NE(wget, nullptr);
  EXPECT_EQ(curl->out, 500U);
  EXPECT_EQ(curl->in, 40'000U);
  EXPECT_EQ(wget->out, 600U);
  EXPECT_EQ(wget->in, 100'420U);
  const GroupTotal* host = t->find(Tab::Hosts, host_key("198.51.100.9"));
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->in, 100'420U);
  // The lingering record again: nothing more.
  t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->find(Tab::Owners, owner_key(7, "wget"))->in, 100'420U);
  EXPECT_EQ(t->in, 140'420U);
}

TEST(Ledger, TotalsOutliveFlowsAndShowAsRowsWithoutFlows) {
  Clocked c;
  c.world.enrichment[1] = owned_by(4242, "curl");
  c.world.enrichment[2] = owned_by(7, "wget", "DE", 3320);
  c.world.flows = {flow_at(c, {.id = 1})};
  Ledger ledger;
  ledger.account(c.next(), kDefault, true, {});
  c.world.flows.push_back(
      flow_at(c, {.dst = "198.51.100.9", .bytes_out = 10, .bytes_in = 2000, .age_s = 0, .id = 2}));
  ledger.account(c.next(), kDefault, true, {});
  c.world.flows.pop_back();  // flow 2 has gone from the table
  Snapshot snap = c.next();
  snap.totals = ledger.account(snap, kDefault, true, {});
  ViewState state = default_view_state();
  state.tab = Tab::Owners;
  const Prepared p = prepare(snap, state);
  const auto it = std::find_if(p.groups.begin(), p.groups.end(),
                               [](const GroupRow& g) { return g.label == "wget"; });
  ASSERT_NE(it, p.groups.end()) << "a group whose flows have gone keeps its totals";
  EXPECT_EQ(it->flows, 0U);
  EXPECT_TRUE(it->known_totals);
  EXPECT_EQ(it->total_out, 10U);
  EXPECT_EQ(it->total_in, 2000U);
  // The TOTAL columns on every aggregate tab.
  for (const Tab tab : {Tab::Owners, Tab::Hosts, Tab::Countries, Tab::As}) {
    EXPECT_TRUE(has_column(tab, Column::TotalOut)) << tab_name(tab);
    EXPECT_TRUE(has_column(tab, Column::TotalIn)) << tab_name(tab);
  }
  EXPECT_FALSE(has_column(Tab::Flows, Column::TotalIn));
  state.tab = Tab::Countries;
  const Prepared countries = prepare(snap, state);
  const auto de = std::find_if(countries.groups.begin(), countries.groups.end(),
                               [](const GroupRow& g) { return g.label == "DE"; });
  ASSERT_NE(de, countries.groups.end());
  EXPECT_EQ(de->total_in, 2000U);
  // With a filter, only groups of matching flows are rows (their totals stay whole).
  state.tab = Tab::Owners;
  state.filter = std::get<Filter>(compile_filter("proc=curl"));
  const Prepared filtered = prepare(snap, state);
  ASSERT_EQ(filtered.groups.size(), 1U);
  EXPECT_EQ(filtered.groups[0].label, "curl");
}

TEST(Ledger, AnOlderFlowFirstSeenLaterCountsFromItsFirstSight) {
  Clocked c;
  Ledger ledger;
  c.world.enrichment[1] = owned_by(1, "a");
  ledger.account(c.next(), kDefault, true, {});
  // Started an hour before the totals: its 53,000 bytes so far are not the session's.
  c.world.flows = {flow_at(c, {.age_s = 3600, .id = 1})};
  auto t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 0U);
  c.world.flows[0].reply_ctr.bytes += 7000;
  t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 7000U);
}

TEST(Ledger, FlowsTheSelectionHidesAreNotCounted) {
  Clocked c;
  c.world.flows = {flow_at(c, {.src = "127.0.0.1", .dst = "127.0.0.1", .age_s = 0, .id = 1})};
  c.world.enrichment[1] = owned_by(1, "a");
  Ledger ledger;
  ledger.account(c.next(), kDefault, true, {});
  c.world.flows[0].reply_ctr.bytes += 9999;
  auto t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 0U);
  Selection loopback;
  loopback.loopback = true;
  c.world.flows[0].reply_ctr.bytes += 1;
  t = ledger.account(c.next(), loopback, true, {});
  EXPECT_EQ(t->in, 1U) << "from the moment it is shown";
}

TEST(Ledger, BytesWaitForAPendingOwnerThenCountUnderIt) {
  Clocked c;
  Ledger ledger;
  ledger.account(c.next(), kDefault, true, {});
  c.world.flows = {flow_at(c, {.bytes_out = 100, .bytes_in = 200, .age_s = 0, .id = 1})};
  core::Enrichment pending = owned_by(4242, "curl");
  pending.process = {};  // still being looked up
  c.world.enrichment[1] = pending;
  auto t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 0U);
  c.world.enrichment[1] = owned_by(4242, "curl");
  c.world.flows[0].reply_ctr.bytes = 300;
  t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 300U);
  EXPECT_EQ(t->find(Tab::Owners, owner_key(4242, "curl"))->in, 300U);
  EXPECT_EQ(t->find(Tab::Owners, GroupKey{}), nullptr) << "nothing went to the '-' group";
}

TEST(Ledger, APendingOwnerWaitsAFewSnapshotsAtMost) {
  Clocked c;
  Ledger ledger;
  ledger.account(c.next(), kDefault, true, {});
  c.world.flows = {flow_at(c, {.bytes_out = 0, .bytes_in = 200, .age_s = 0, .id = 1})};
  core::Enrichment pending = owned_by(4242, "curl");
  pending.process = {};
  c.world.enrichment[1] = pending;
  std::shared_ptr<const Totals> t;
  for (int i = 0; i <= Ledger::kMaxDefers; ++i) {
    t = ledger.account(c.next(), kDefault, true, {});
  }
  EXPECT_EQ(t->in, 200U);
}

TEST(Ledger, ResetStartsAgainFromZero) {
  Clocked c;
  c.world.enrichment[1] = owned_by(4242, "curl");
  c.world.flows = {flow_at(c, {.age_s = 0, .id = 1})};
  Ledger ledger;
  ledger.account(c.next(), kDefault, true, {});
  c.world.flows[0].reply_ctr.bytes += 1000;
  auto t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 1000U);
  ledger.reset();
  t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 0U);
  EXPECT_EQ(t->find(Tab::Owners, owner_key(4242, "curl")), nullptr);
  EXPECT_EQ(t->since_realtime_ns, test::kNowNs + 2 * static_cast<std::int64_t>(kSecond));
  c.world.flows[0].reply_ctr.bytes += 5;
  t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(t->in, 5U) << "live flows count from their counters at the reset";
}

TEST(Ledger, GroupsBeyondTheCapForgetTheLeastRecentlyActive) {
  Clocked c;
  Ledger ledger(10);
  ledger.account(c.next(), kDefault, true, {});
  std::uint64_t all = 0;
  // 15 hosts, one new flow each per snapshot: host i is last active at step i.
  for (std::uint32_t i = 0; i < 15; ++i) {
    const std::string dst = "198.51.100." + std::to_string(i + 1);
    c.world.flows.push_back(flow_at(c, {.dst = dst, .bytes_in = 100 + i, .age_s = 0, .id = i + 1}));
    c.world.enrichment[i + 1] = owned_by(static_cast<std::int32_t>(i + 1), "p");
    all += 100 + i;
    ledger.account(c.next(), kDefault, true, {});
  }
  auto t = ledger.account(c.next(), kDefault, true, {});
  const auto& hosts = (*t->groups)[static_cast<std::size_t>(Tab::Hosts)];
  EXPECT_LE(hosts.size(), 10U);
  EXPECT_NE(t->find(Tab::Hosts, host_key("198.51.100.15")), nullptr) << "the newest stays";
  EXPECT_EQ(t->find(Tab::Hosts, host_key("198.51.100.1")), nullptr) << "the oldest went";
  EXPECT_GT(t->evicted, 0U);
  EXPECT_EQ(t->in, all) << "the session keeps every byte";
}

TEST(Ledger, MemoryStaysBoundedAfterManyShortFlows) {
  Clocked c;
  Ledger ledger(500);
  ledger.account(c.next(), kDefault, true, {});
  std::uint64_t all = 0;
  std::uint32_t id = 0;
  std::shared_ptr<const Totals> t;
  // 100,000 short flows, each to its own host and owner, 500 of them ended in each snapshot
  // (their lingering records), gone by the next.
  for (int step = 0; step < 200; ++step) {
    c.world.flows.clear();
    c.world.enrichment.clear();
    for (int i = 0; i < 500; ++i) {
      ++id;
      const std::string dst =
          "198.51." + std::to_string(id / 250 % 250) + "." + std::to_string(id % 250 + 1);
      core::FlowRecord r = flow_at(c, {.dst = "203.0." + std::to_string(id / 60000) + ".1",
                                       .sport = static_cast<std::uint16_t>(1024 + id % 60000),
                                       .bytes_in = 1000,
                                       .age_s = 0,
                                       .id = id});
      r.key.orig.dst = *core::IpAddr::parse(dst);
      r.reply.src = r.key.orig.dst;
      r.life |= core::FlowRecord::kEnded;
      c.world.flows.push_back(r);
      c.world.enrichment[id] = owned_by(static_cast<std::int32_t>(id), "short");
      all += 1000;
    }
    t = ledger.account(c.next(), kDefault, true, {});
  }
  EXPECT_EQ(t->in, all) << "every byte counted";
  for (const Tab tab : {Tab::Owners, Tab::Hosts}) {
    EXPECT_LE((*t->groups)[static_cast<std::size_t>(tab)].size(), 500U) << tab_name(tab);
  }
  EXPECT_LE(ledger.flows_remembered(), 500U) << "only the flows of the last snapshot";
  c.world.flows.clear();
  ledger.account(c.next(), kDefault, true, {});
  EXPECT_EQ(ledger.flows_remembered(), 0U);
}

TEST(Ledger, HistoryHasTheSessionRatesOfEachInterval) {
  Clocked c;
  c.world.enrichment[1] = owned_by(4242, "curl");
  c.world.flows = {flow_at(c, {.bytes_out = 0, .bytes_in = 0, .age_s = 0, .id = 1})};
  Ledger ledger;
  auto t = ledger.account(c.next(), kDefault, true, {});
  EXPECT_TRUE(t->history.empty());
  for (std::uint64_t i = 1; i <= 70; ++i) {
    c.world.flows[0].reply_ctr.bytes += i * 10;
    c.world.flows[0].orig_ctr.bytes += 1;
    t = ledger.account(c.next(), kDefault, true, {});
  }
  ASSERT_EQ(t->history.size(), kHistory) << "a fixed ring";
  EXPECT_DOUBLE_EQ(t->history.in(kHistory - 1), 700.0) << "bytes per second of the last step";
  EXPECT_DOUBLE_EQ(t->history.in(0), 110.0) << "the oldest kept: step 11";
  EXPECT_DOUBLE_EQ(t->history.out(0), 1.0);
}

TEST(Ledger, TheFocusedFlowAndGroupHaveTheirOwnHistory) {
  Clocked c;
  c.world.enrichment[1] = owned_by(4242, "curl");
  c.world.flows = {flow_at(c, {.rate_out = 10, .rate_in = 20, .age_s = 0, .id = 1})};
  Ledger ledger;
  Focus flow{Tab::Flows, c.world.flows[0].key, std::nullopt};
  ledger.account(c.next(), kDefault, true, flow);
  auto t = ledger.account(c.next(), kDefault, true, flow);
  ASSERT_EQ(t->focus_history.size(), 1U);
  EXPECT_DOUBLE_EQ(t->focus_history.in(0), 20.0);
  // Another focus starts an empty history: the group's bytes per second.
  Focus group{Tab::Owners, std::nullopt, owner_key(4242, "curl")};
  c.world.flows[0].reply_ctr.bytes += 3000;
  t = ledger.account(c.next(), kDefault, true, group);
  ASSERT_EQ(t->focus_history.size(), 1U);
  EXPECT_DOUBLE_EQ(t->focus_history.in(0), 3000.0);
  EXPECT_EQ(t->focus, group);
}

TEST(Ledger, LostEventsMarkTheTotalsUntilAReset) {
  Clocked c;
  Ledger ledger;
  EXPECT_FALSE(ledger.account(c.next(), kDefault, true, {})->lossy);
  c.enobufs = 2;
  EXPECT_TRUE(ledger.account(c.next(), kDefault, true, {})->lossy);
  ledger.reset();
  EXPECT_FALSE(ledger.account(c.next(), kDefault, true, {})->lossy);
}

TEST(RateHistory, KeepsTheLastEntriesOldestFirst) {
  RateHistory h;
  for (int i = 0; i < 65; ++i) {
    h.push(i, -i);
  }
  ASSERT_EQ(h.size(), kHistory);
  EXPECT_EQ(h.series_out().front(), 5.0);
  EXPECT_EQ(h.series_out().back(), 64.0);
  EXPECT_EQ(h.series_in().back(), -64.0);
  h.clear();
  EXPECT_TRUE(h.empty());
}

}  // namespace
}  // namespace flowtop::view
