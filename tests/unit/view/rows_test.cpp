#include "flowtop/view/rows.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <variant>

#include "flowtop/core/ends.hpp"
#include "flowtop/view/command.hpp"
#include "flowtop/view/totals.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::view {
namespace {

using test::FakeWorld;
using test::kNowNs;

constexpr std::size_t kAll = 1'000'000;  // a window taller than any table here

ViewState with_sort(Tab tab, Column column, bool descending) {
  ViewState s = default_view_state();
  s.tab = tab;
  s.sort[static_cast<std::size_t>(tab)] = SortSpec{column, descending};
  return s;
}

// random_world() as a router sees it: flows from 10.1.0.0/24 are its own (out; some to one of its
// own addresses: local), flows to 10.1.1.0/24 come in to it from the Internet (in), 10.1.2.0/24 is
// a LAN it masquerades (forwarded, SNAT) and 10.1.3.0/24 a LAN with port forwards (forwarded,
// DNAT; some also SNAT). Forwarded flows have no process; most have a LAN device as owner.
FakeWorld routed_world(std::size_t n, unsigned seed = 42) {
  FakeWorld w = test::random_world(n, seed);
  core::NetFacts facts;
  facts.inside.push_back({*core::IpAddr::parse("10.1.2.0"), 96 + 23});
  const core::IpAddr wan = *core::IpAddr::parse("203.0.113.9");
  const core::IpAddr self = *core::IpAddr::parse("10.1.0.254");
  facts.local = {wan, self};
  for (core::FlowRecord& r : w.flows) {
    const std::uint8_t lan = r.key.orig.src.bytes[14];  // 10.1.<lan>.x
    core::Enrichment& e = w.enrichment[r.id];
    switch (lan) {
      case 0:
        facts.local.push_back(r.key.orig.src);
        if (r.id % 5 == 0) {  // to itself: the remote end's name and GeoIP are its own
          r.key.orig.dst = r.reply.src = self;
          e.remote_name = core::Lookup<std::string>::ready("router.lan");
          e.remote_geo = core::Lookup<core::GeoInfo>::ready(test::private_geo());
        }
        break;
      case 1:  // the Internet end opened it
        facts.local.push_back(r.key.orig.src);
        std::swap(r.key.orig.src, r.key.orig.dst);
        std::swap(r.key.orig.sport, r.key.orig.dport);
        std::swap(r.reply.src, r.reply.dst);
        std::swap(r.reply.sport, r.reply.dport);
        break;
      case 2:  // masqueraded
        r.reply.dst = wan;
        r.reply.dport = static_cast<std::uint16_t>(61000 + r.id % 1000);
        break;
      default: {  // port-forwarded: the Internet end opened it to the WAN address
        const core::IpAddr server = r.key.orig.src;
        const std::uint16_t port = r.key.orig.sport;
        r.key.orig.src = r.reply.dst = r.key.orig.dst;
        r.key.orig.sport = r.reply.dport = r.key.orig.dport;
        r.key.orig.dst = wan;
        r.key.orig.dport = static_cast<std::uint16_t>(2000 + r.id % 7);
        r.reply.src = server;
        r.reply.sport = port;
        if (r.id % 4 == 0) {  // hairpin: also SNAT
          r.reply.dst = wan;
        }
        break;
      }
    }
    if (lan >= 2) {
      e.process = core::Lookup<core::ProcessInfo>::failed();
      const unsigned dev = r.id % 9;
      if (dev < 6) {
        e.host = core::Lookup<core::HostOwner>::ready(
            {core::MacAddr{0xaa, 0xbb, 0xcc, 0, 0, static_cast<std::uint8_t>(dev)},
             dev % 2 == 0 ? "dev" + std::to_string(dev) : ""});
        if (dev == 3) {
          e.inside_name = core::Lookup<std::string>::ready("printer.lan");
        }
      } else if (dev < 8) {
        e.host = core::Lookup<core::HostOwner>::failed();
      }  // else pending
    } else {
      e.host = core::Lookup<core::HostOwner>::disabled();
    }
  }
  std::sort(facts.local.begin(), facts.local.end());
  facts.local.erase(std::unique(facts.local.begin(), facts.local.end()), facts.local.end());
  for (core::FlowRecord& r : w.flows) {
    r.flags = static_cast<std::uint8_t>((r.flags & ~core::FlowRecord::kEndsBits) |
                                        core::classify(r, facts));
  }
  return w;
}

// A sort key computed here, independently of the view code: a number or a text; nullopt when
// the row does not have the value.
using Key = std::optional<std::variant<double, std::string>>;

// Names first (as text), then addresses (by value): one text key that orders the same.
Key name_or_address(const core::Lookup<std::string>& name, const core::IpAddr& addr) {
  if (name.ok() && !name.value.empty()) {
    return Key("0" + name.value);
  }
  std::string bytes = "1";
  for (const auto b : addr.bytes) {
    bytes += static_cast<char>('A' + (b >> 4));
    bytes += static_cast<char>('A' + (b & 15));
  }
  return Key(bytes);
}

Key flow_key(const FlowRow& r, Column c) {
  const core::FlowRecord& rec = r.rec;
  const bool ctr = rec.has(core::FlowRecord::kHasCounters);
  const auto num = [](bool known, double v) { return known ? Key(v) : Key(); };
  // Which end is inside, from the record's addresses: the local (or LAN) end.
  const bool inside_responds = rec.has(core::FlowRecord::kInsideResponds);
  const core::IpAddr& inside = inside_responds ? rec.reply.src : rec.key.orig.src;
  const core::IpAddr& remote = inside_responds ? rec.key.orig.src : rec.reply.src;
  const core::Counters& sent = inside_responds ? rec.reply_ctr : rec.orig_ctr;
  const core::Counters& received = inside_responds ? rec.orig_ctr : rec.reply_ctr;
  switch (c) {
    case Column::Process:  // OWNER: the process, else the LAN device
      if (r.enrich.process.ok()) {
        return Key("0" + r.enrich.process.value.name);
      }
      if (r.enrich.host.ok()) {
        return r.enrich.host.value.name.empty() ? name_or_address(r.enrich.inside_name, inside)
                                                : Key("0" + r.enrich.host.value.name);
      }
      return Key();
    case Column::Pid: return num(r.enrich.process.ok(), r.enrich.process.value.pid);
    case Column::Proto: return Key(std::string(core::proto_name(rec.key.proto)));
    case Column::State:
      return rec.has(core::FlowRecord::kHasState)
                 ? Key(std::string(core::state_name(rec.key.proto, rec.state)))
                 : Key();
    case Column::Age:
      return num(rec.has(core::FlowRecord::kHasTimestamp),
                 static_cast<double>(kNowNs) - static_cast<double>(rec.start_ns));
    case Column::Dir: return Key(static_cast<double>((rec.flags >> 5) & 3));
    case Column::Port:  // the responder's port, after any DNAT
      return num(rec.has(core::FlowRecord::kHasPorts), rec.reply.sport);
    case Column::Nat: {
      const bool dnat = rec.reply.src != rec.key.orig.dst || rec.reply.sport != rec.key.orig.dport;
      const bool snat = rec.reply.dst != rec.key.orig.src || rec.reply.dport != rec.key.orig.sport;
      return num(dnat || snat, (dnat ? 2 : 0) + (snat ? 1 : 0));
    }
    case Column::Geo:
      if (!r.enrich.remote_geo.ok()) {
        return Key();
      }
      return Key(r.enrich.remote_geo.value.kind == core::GeoInfo::Kind::Located
                     ? r.enrich.remote_geo.value.country
                     : std::string(core::geo_kind_label(r.enrich.remote_geo.value.kind)));
    case Column::BytesOut: return num(ctr, static_cast<double>(sent.bytes));
    case Column::BytesIn: return num(ctr, static_cast<double>(received.bytes));
    case Column::PacketsOut: return num(ctr, static_cast<double>(sent.packets));
    case Column::PacketsIn: return num(ctr, static_cast<double>(received.packets));
    case Column::RateOut:
      return num(ctr, inside_responds ? r.rates.reply_bytes : r.rates.orig_bytes);
    case Column::RateIn:
      return num(ctr, inside_responds ? r.rates.orig_bytes : r.rates.reply_bytes);
    case Column::Address: return name_or_address(r.enrich.remote_name, remote);
    default: return Key();
  }
}

Key group_key(const GroupRow& g, Column c) {
  const auto text = [](const std::string& s) { return s.empty() || s == "-" ? Key() : Key(s); };
  const auto num = [&](double v) { return g.known_counters ? Key(v) : Key(); };
  switch (c) {
    case Column::Process:
    case Column::Address:
    case Column::Country: return text(g.label);
    case Column::User:
    case Column::Geo:
    case Column::CountryName:
    case Column::Org: return text(g.detail);
    case Column::Pid: return g.key.pid != 0 ? Key(double(g.key.pid)) : Key();
    case Column::Asn: return g.key.asn != 0 ? Key(double(g.key.asn)) : Key();
    case Column::Flows: return Key(double(g.flows));
    case Column::BytesOut: return num(double(g.bytes_out));
    case Column::BytesIn: return num(double(g.bytes_in));
    case Column::RateOut: return num(g.rate_out);
    case Column::RateIn: return num(g.rate_in);
    case Column::PacketsOut: return num(double(g.packets_out));
    case Column::PacketsIn: return num(double(g.packets_in));
    case Column::TotalOut: return g.known_totals ? Key(double(g.total_out)) : Key();
    case Column::TotalIn: return g.known_totals ? Key(double(g.total_in)) : Key();
    default: return Key();
  }
}

// Keys in table order are sorted the asked way, with unknown values last.
void expect_sorted(const std::vector<Key>& keys, bool descending, const std::string& what) {
  bool seen_unknown = false;
  std::size_t known = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i]) {
      seen_unknown = true;
      continue;
    }
    ++known;
    ASSERT_FALSE(seen_unknown) << what << ": a known value after an unknown one at row " << i;
    if (i > 0 && keys[i - 1]) {
      const bool ok = descending ? !(*keys[i - 1] < *keys[i]) : !(*keys[i] < *keys[i - 1]);
      ASSERT_TRUE(ok) << what << ": rows " << i - 1 << " and " << i << " are out of order";
    }
  }
  // The test would prove nothing on a column without values or with one value only.
  EXPECT_GT(known, 1U) << what;
}

TEST(BuildRows, SortsFlowsByEveryColumnBothWays) {
  const FakeWorld w = routed_world(400);
  // Every direction, every kind of translation, and LAN devices as owners are in it.
  std::set<int> dirs;
  std::set<int> nats;
  std::size_t devices = 0;
  for (const auto& rec : w.flows) {
    dirs.insert(static_cast<int>(rec.direction()));
    const core::Nat n = core::nat_of(rec);
    nats.insert((n.snat ? 1 : 0) + (n.dnat ? 2 : 0));
    devices += w.enrichment.at(rec.id).host.ok() ? 1 : 0;
  }
  ASSERT_EQ(dirs.size(), 4U);
  ASSERT_EQ(nats.size(), 4U);
  ASSERT_GT(devices, 20U);
  const Snapshot snap = w.snapshot();
  for (const Column c : columns_of(Tab::Flows)) {
    for (const bool desc : {false, true}) {
      const Rows rows = build_rows(snap, with_sort(Tab::Flows, c, desc), kAll);
      ASSERT_EQ(rows.flows.size(), rows.total);
      std::vector<Key> keys;
      for (const FlowRow& r : rows.flows) {
        keys.push_back(flow_key(r, c));
      }
      expect_sorted(keys, desc, std::string(column_name(c)) + (desc ? " desc" : " asc"));
    }
  }
}

TEST(BuildRows, SortsGroupsByEveryColumnBothWays) {
  FakeWorld w = routed_world(400);
  // Totals (TOTAL↑, TOTAL↓): what each flow moved between two snapshots, varied per flow.
  Ledger ledger;
  Snapshot first = w.snapshot();
  ledger.account(first, default_view_state().selection, true, {});
  for (std::size_t i = 0; i < w.flows.size(); ++i) {
    w.flows[i].orig_ctr.bytes += i * 7 % 1000;
    w.flows[i].reply_ctr.bytes += i * 13 % 5000;
  }
  Snapshot snap = w.snapshot();
  snap.steady_ns += 1'000'000'000;
  snap.totals = ledger.account(snap, default_view_state().selection, true, {});
  for (const Tab tab : {Tab::Owners, Tab::Hosts, Tab::Countries, Tab::As}) {
    for (const Column c : columns_of(tab)) {
      for (const bool desc : {false, true}) {
        const Rows rows = build_rows(snap, with_sort(tab, c, desc), kAll);
        ASSERT_EQ(rows.groups.size(), rows.total);
        std::vector<Key> keys;
        for (const GroupRow& g : rows.groups) {
          keys.push_back(group_key(g, c));
        }
        expect_sorted(keys, desc,
                      std::string(tab_name(tab)) + " " + std::string(column_name(c)) +
                          (desc ? " desc" : " asc"));
      }
    }
  }
}

std::vector<core::FlowKey> keys_of(const Rows& rows) {
  return visible_keys(rows);
}

TEST(BuildRows, AWindowHoldsTheSameRowsAsTheWholeSortedTable) {
  const FakeWorld w = test::random_world(300);
  const Snapshot snap = w.snapshot();
  for (const Column c : {Column::RateIn, Column::Address, Column::Process, Column::Age}) {
    ViewState s = with_sort(Tab::Flows, c, true);
    const Rows all = build_rows(snap, s, kAll);
    const std::vector<core::FlowKey> full = keys_of(all);
    for (const std::size_t target : {0UL, 5UL, 137UL, all.total - 1}) {
      ViewState moved = s;
      moved = apply(moved, Command{Command::Kind::SelectRow, static_cast<std::int64_t>(target)});
      const Rows window = build_rows(snap, moved, 7);
      ASSERT_EQ(window.selected, target);
      ASSERT_LE(window.first, target);
      ASSERT_LT(target, window.first + window.flows.size());
      const std::vector<core::FlowKey> got = keys_of(window);
      const std::vector<core::FlowKey> want(
          full.begin() + static_cast<std::ptrdiff_t>(window.first),
          full.begin() + static_cast<std::ptrdiff_t>(window.first + got.size()));
      EXPECT_EQ(got, want) << column_name(c) << " at " << target;
    }
  }
}

TEST(BuildRows, AggregatesSumTheShownFlows) {
  const FakeWorld w = routed_world(500);
  const Snapshot snap = w.snapshot();
  // The totals, computed here from the flows the selection shows.
  const Selection sel;
  std::uint64_t flows = 0, out = 0, in = 0, pout = 0, pin = 0;
  double rout = 0, rin = 0;
  for (const auto& rec : snap.flows) {
    if (classify(rec, sel) != Hidden::Shown) {
      continue;
    }
    ++flows;
    if (rec.has(core::FlowRecord::kHasCounters)) {  // ↑ sent and ↓ received by the inside end
      const bool flip = rec.has(core::FlowRecord::kInsideResponds);
      out += flip ? rec.reply_ctr.bytes : rec.orig_ctr.bytes;
      in += flip ? rec.orig_ctr.bytes : rec.reply_ctr.bytes;
      pout += flip ? rec.reply_ctr.packets : rec.orig_ctr.packets;
      pin += flip ? rec.orig_ctr.packets : rec.reply_ctr.packets;
      rout += flip ? rec.rate_reply_bytes : rec.rate_orig_bytes;
      rin += flip ? rec.rate_orig_bytes : rec.rate_reply_bytes;
    }
  }
  ASSERT_GT(flows, 100U);
  for (const Tab tab : {Tab::Owners, Tab::Hosts, Tab::Countries, Tab::As}) {
    ViewState s = default_view_state();
    s.tab = tab;
    const Rows rows = build_rows(snap, s, kAll);
    std::uint64_t f = 0, o = 0, i = 0, po = 0, pi = 0;
    double ro = 0, ri = 0;
    for (const GroupRow& g : rows.groups) {
      f += g.flows;
      o += g.bytes_out;
      i += g.bytes_in;
      po += g.packets_out;
      pi += g.packets_in;
      ro += g.rate_out;
      ri += g.rate_in;
    }
    EXPECT_EQ(f, flows) << tab_name(tab);
    EXPECT_EQ(rows.counts.shown, flows) << tab_name(tab);
    EXPECT_EQ(o, out) << tab_name(tab);
    EXPECT_EQ(i, in) << tab_name(tab);
    EXPECT_EQ(po, pout) << tab_name(tab);
    EXPECT_EQ(pi, pin) << tab_name(tab);
    EXPECT_NEAR(ro, rout, rout * 1e-9) << tab_name(tab);
    EXPECT_NEAR(ri, rin, rin * 1e-9) << tab_name(tab);
    EXPECT_GT(rows.groups.size(), 1U) << tab_name(tab);
    EXPECT_LT(rows.groups.size(), flows) << tab_name(tab);
  }
}

const GroupRow* find_group(const Rows& rows, const std::string& label) {
  for (const GroupRow& g : rows.groups) {
    if (g.label == label) {
      return &g;
    }
  }
  return nullptr;
}

TEST(BuildRows, ProcessesCountAndSumPerProcess) {
  const FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s.tab = Tab::Owners;
  const Rows rows = build_rows(w.snapshot(), s, kAll);
  ASSERT_EQ(rows.groups.size(), 4U);  // curl, firefox-esr, sshd, and "-" (the forwarded flow)
  const GroupRow* ff = find_group(rows, "firefox-esr");
  ASSERT_NE(ff, nullptr);
  EXPECT_EQ(ff->key.pid, 1201);
  EXPECT_EQ(ff->detail, "alice");
  EXPECT_EQ(ff->flows, 2U);
  EXPECT_EQ(ff->bytes_out, 25'003'000U);
  EXPECT_EQ(ff->bytes_in, 910'070'000U);
  EXPECT_DOUBLE_EQ(ff->rate_in, 2'400'000);
  const GroupRow* sshd = find_group(rows, "sshd");
  ASSERT_NE(sshd, nullptr);
  EXPECT_FALSE(sshd->known_counters);  // accounting was off: unknown, not 0
  const GroupRow* none = find_group(rows, "-");
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->key.pid, 0);
  EXPECT_EQ(none->flows, 1U);
  // Sorted by RATE↓, biggest first.
  EXPECT_EQ(rows.groups.front().label, "firefox-esr");
}

TEST(BuildRows, CountriesAndAsGroupByTheRemoteEnd) {
  const FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s.selection.udp = s.selection.icmp = true;
  s.tab = Tab::Countries;
  Rows rows = build_rows(w.snapshot(), s, kAll);
  const GroupRow* us = find_group(rows, "US");
  ASSERT_NE(us, nullptr);
  EXPECT_EQ(us->flows, 2U);  // curl and the ICMP flow
  EXPECT_EQ(us->detail, "United States");
  EXPECT_EQ(us->bytes_in, 53'084U);
  // Reserved ranges read the same everywhere: "lan" in COUNTRY as in GEO, named in NAME.
  const GroupRow* lan = find_group(rows, "lan");
  ASSERT_NE(lan, nullptr);
  EXPECT_EQ(lan->detail, "private");
  s.tab = Tab::As;
  rows = build_rows(w.snapshot(), s, kAll);
  const GroupRow* google = find_group(rows, "AS15169");
  ASSERT_NE(google, nullptr);
  EXPECT_EQ(google->flows, 2U);
  EXPECT_EQ(google->detail, "Google LLC");
  EXPECT_NE(find_group(rows, "-"), nullptr);  // sshd's private peer has no AS
  s.tab = Tab::Hosts;
  rows = build_rows(w.snapshot(), s, kAll);
  EXPECT_EQ(rows.groups.size(), 7U);
  EXPECT_NE(find_group(rows, "example.com"), nullptr);
  EXPECT_NE(find_group(rows, "198.51.100.200"), nullptr);  // no name: the address
}

TEST(BuildRows, CountsForTheStatusLine) {
  const FakeWorld w = test::sample_world();
  const Rows rows = build_rows(w.snapshot(), default_view_state(), kAll);
  EXPECT_EQ(rows.counts.tracked, 9U);
  EXPECT_EQ(rows.counts.shown, 5U);
  EXPECT_EQ(rows.counts.hidden.loopback, 1U);
  EXPECT_EQ(rows.counts.hidden.protocol, 3U);  // two UDP (one of them DNS) and one ICMP
  EXPECT_EQ(rows.counts.hidden_total(), 4U);
  EXPECT_EQ(rows.counts.tcp, 6U);
  EXPECT_EQ(rows.counts.udp, 2U);
  EXPECT_EQ(rows.counts.icmp, 1U);
  EXPECT_DOUBLE_EQ(rows.counts.rate_out, 125'120);
  EXPECT_DOUBLE_EQ(rows.counts.rate_in, 2'407'300);
  EXPECT_TRUE(rows.empty_reason.empty());
}

TEST(BuildRows, DnsFlowsAreHiddenForTheirOwnReason) {
  const FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s.selection.udp = true;
  const Rows rows = build_rows(w.snapshot(), s, kAll);
  EXPECT_EQ(rows.counts.hidden.dns, 1U);
  EXPECT_EQ(rows.counts.shown, 6U);
}

TEST(BuildRows, ActiveOnlyHidesIdleFlowsButNotUnknownOnes) {
  const FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s.active_only = true;
  const Rows rows = build_rows(w.snapshot(), s, kAll);
  EXPECT_EQ(rows.counts.inactive, 1U);  // flow 3: rates known to be 0
  EXPECT_EQ(rows.counts.shown, 4U);     // flow 6 (no counters) stays: unknown is shown
}

TEST(BuildRows, EmptyTableSaysWhy) {
  FakeWorld none;
  Snapshot snap = none.snapshot();
  EXPECT_EQ(build_rows(snap, default_view_state(), 10).empty_reason,
            "conntrack is not tracking in this namespace: try --track");
  snap.status.tracking = Tracking::Offered;  // the screen, where `t` turns tracking on
  EXPECT_EQ(build_rows(snap, default_view_state(), 10).empty_reason,
            "conntrack is not tracking in this namespace: press t to track it while flowtop runs "
            "(as --track)");
  snap.status.tracking = Tracking::Session;  // --track or `t`: tracking, nothing seen yet
  EXPECT_EQ(build_rows(snap, default_view_state(), 10).empty_reason,
            "no flows yet: flowtop makes conntrack track in this namespace while it runs");
  snap.status.collecting = true;
  EXPECT_EQ(build_rows(snap, default_view_state(), 10).empty_reason, "collecting…");

  const FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s.selection.tcp = false;
  s.selection.sctp = true;
  Rows rows = build_rows(w.snapshot(), s, 10);
  EXPECT_EQ(rows.total, 0U);
  EXPECT_FALSE(rows.selected);
  EXPECT_EQ(rows.empty_reason, "no flows match SCTP, IPv4+IPv6 (9 hidden)");
  s = default_view_state();
  s.filter = std::get<Filter>(compile_filter("proc=nobody"));
  rows = build_rows(w.snapshot(), s, 10);
  EXPECT_EQ(rows.counts.filtered, 5U);
  EXPECT_EQ(rows.empty_reason, "no flows match TCP, IPv4+IPv6, filter proc=nobody (9 hidden)");
}

TEST(BuildRows, EnrichesOnlyTheVisibleRowsUnlessItMustEnrichAll) {
  const FakeWorld w = test::sample_world();
  const Snapshot snap = w.snapshot();
  w.enrich_calls = 0;
  build_rows(snap, default_view_state(), 2);
  EXPECT_EQ(w.enrich_calls, 2U);
  w.enrich_calls = 0;
  build_rows(snap, with_sort(Tab::Flows, Column::Process, false), 2);
  EXPECT_EQ(w.enrich_calls, 5U + 2U);  // every shown flow once, the visible ones again
  w.enrich_calls = 0;
  ViewState s = default_view_state();
  s.filter = std::get<Filter>(compile_filter("curl"));
  build_rows(snap, s, 2);
  // Every flow the selection shows for its process, each of their 5 remote ends once for its
  // name, the one match again.
  EXPECT_EQ(w.enrich_calls, 5U + 5U + 1U);
  w.enrich_calls = 0;
  s.filter = std::get<Filter>(compile_filter("proto=tcp"));
  build_rows(snap, s, 2);
  EXPECT_EQ(w.enrich_calls, 2U);
}

TEST(BuildRows, HundredThousandFlowsEnrichOnlyTheWindow) {
  const FakeWorld w = test::random_world(100'000, 7, false);
  const Snapshot snap = w.snapshot();
  w.enrich_calls = 0;
  const Rows rows = build_rows(snap, default_view_state(), 40);
  EXPECT_EQ(w.enrich_calls, 40U);
  ASSERT_EQ(rows.flows.size(), 40U);
  EXPECT_EQ(rows.total, rows.counts.shown);
  // The first row is the biggest receiver of all.
  float top = 0;
  for (const auto& rec : snap.flows) {
    if (rec.has(core::FlowRecord::kHasCounters) && classify(rec, Selection{}) == Hidden::Shown) {
      top = std::max(top, rec.rate_reply_bytes);
    }
  }
  EXPECT_EQ(rows.flows.front().rec.rate_reply_bytes, top);
}

TEST(BuildRows, AggregatesLookUpEachRemoteEndOncePerPass) {
  // 10,000 flows to 50 hosts: the Countries tab needs the remote end's GeoIP only, looked up
  // once per host; the Owners tab needs each flow's owner.
  const FakeWorld w = test::random_world(10'000);
  const Snapshot snap = w.snapshot();
  std::set<core::IpAddr> hosts;
  std::size_t shown = 0;
  for (const auto& rec : snap.flows) {
    if (classify(rec, Selection{}) == Hidden::Shown) {
      hosts.insert(rec.key.orig.dst);
      ++shown;
    }
  }
  ASSERT_LE(hosts.size(), 50U);
  ViewState s = default_view_state();
  s.tab = Tab::Countries;
  w.enrich_calls = 0;
  const Rows countries = build_rows(snap, s, 20);
  EXPECT_EQ(w.enrich_calls, hosts.size());
  EXPECT_EQ(countries.counts.shown, shown);
  std::uint64_t flows = 0;
  for (const GroupRow& g : countries.groups) {
    flows += g.flows;
  }
  EXPECT_EQ(flows, shown) << "every shown flow is in a country group";
  s.tab = Tab::Owners;
  w.enrich_calls = 0;
  (void)build_rows(snap, s, 20);
  EXPECT_EQ(w.enrich_calls, shown);
}

// Builds, settles and returns the rows, as the UI loop does each frame.
Rows frame(const FakeWorld& w, ViewState& s, std::size_t visible) {
  Rows rows = build_rows(w.snapshot(), s, visible);
  settle(s, rows);
  return rows;
}

core::FlowRecord& flow_by_id(FakeWorld& w, std::uint32_t id) {
  return *std::find_if(w.flows.begin(), w.flows.end(), [&](const auto& r) { return r.id == id; });
}

TEST(Selection, StaysOnItsFlowWhenRowsMove) {
  FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  Rows rows = frame(w, s, 10);  // by RATE↓: flows 2, 1, 4, 3, 6
  ASSERT_EQ(rows.selected, 0U);
  s = apply(s, Command{Command::Kind::Down});
  rows = frame(w, s, 10);
  ASSERT_EQ(rows.selected, 1U);
  EXPECT_EQ(rows.selected_flow()->rec.id, 1U);
  // Flow 1 becomes the biggest receiver: it moves to the top, and the selection with it.
  flow_by_id(w, 1).rate_reply_bytes = 1e9F;
  rows = frame(w, s, 10);
  EXPECT_EQ(rows.selected, 0U);
  EXPECT_EQ(rows.selected_flow()->rec.id, 1U);
  // Then it goes quiet: it moves down, still selected.
  flow_by_id(w, 1).rate_reply_bytes = 1;
  rows = frame(w, s, 10);
  EXPECT_EQ(rows.selected, 2U);  // 2, 4, 1, 3, 6
  EXPECT_EQ(rows.selected_flow()->rec.id, 1U);
  // It closes: the selection lands on the row now at its place.
  w.flows.erase(
      std::find_if(w.flows.begin(), w.flows.end(), [](const auto& r) { return r.id == 1; }));
  rows = frame(w, s, 10);
  EXPECT_EQ(rows.selected, 2U);
  EXPECT_EQ(rows.selected_flow()->rec.id, 3U);
}

TEST(Selection, StaysAtItsPlaceUntilTheUserMovesIt) {
  FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  Rows rows = frame(w, s, 10);
  ASSERT_EQ(rows.selected_flow()->rec.id, 2U);
  flow_by_id(w, 1).rate_reply_bytes = 1e9F;
  rows = frame(w, s, 10);
  EXPECT_EQ(rows.selected, 0U);  // the top row, whichever flow that is now
  EXPECT_EQ(rows.selected_flow()->rec.id, 1U);
}

TEST(Selection, MovementsTypedBeforeOneFrameAddUpInOrder) {
  // Keys read in one batch (or while the rows of a newer sort are being prepared) are resolved
  // together at the next frame, with the result of pressing them one frame each.
  const FakeWorld w = test::random_world(200);
  const auto batch = [&](std::initializer_list<Command::Kind> keys, std::size_t start) {
    ViewState s = default_view_state();
    Rows rows = frame(w, s, 10);
    for (std::size_t i = 0; i < start; ++i) {
      s = apply(s, Command{Command::Kind::Down});
    }
    rows = frame(w, s, 10);
    ViewState one_by_one = s;
    for (const auto k : keys) {
      s = apply(s, Command{k});
      (void)frame(w, one_by_one = apply(one_by_one, Command{k}), 10);
    }
    const Rows together = frame(w, s, 10);
    const Rows apart = frame(w, one_by_one, 10);
    EXPECT_EQ(together.selected, apart.selected);
    return together;
  };
  using K = Command::Kind;
  const std::size_t total = batch({}, 0).total;
  EXPECT_EQ(batch({K::End, K::Up}, 0).selected, total - 2);
  EXPECT_EQ(batch({K::End, K::Up, K::Up, K::PageUp}, 0).selected, total - 13);
  EXPECT_EQ(batch({K::Home, K::Down, K::PageDown}, 50).selected, 11U);
  EXPECT_EQ(batch({K::Down, K::Down, K::PageDown}, 5).selected, 17U);
  EXPECT_EQ(batch({K::Up, K::PageDown}, 0).selected, 10U) << "the Up stops at the top first";
  EXPECT_EQ(batch({K::PageDown, K::Up, K::Home, K::Down}, 30).selected, 1U);
}

TEST(Selection, PagingHomeEndAndWheel) {
  const FakeWorld w = test::random_world(200);
  ViewState s = default_view_state();
  Rows rows = frame(w, s, 10);
  const std::size_t total = rows.total;
  ASSERT_GT(total, 50U);
  const auto press = [&](Command::Kind k, std::int64_t arg = 0) {
    s = apply(s, Command{k, arg});
    rows = frame(w, s, 10);
  };
  press(Command::Kind::PageDown);
  EXPECT_EQ(rows.selected, 10U);
  EXPECT_EQ(rows.first, 10U);
  press(Command::Kind::PageDown);
  EXPECT_EQ(rows.selected, 20U);
  EXPECT_EQ(rows.first, 20U);
  press(Command::Kind::PageUp);
  EXPECT_EQ(rows.selected, 10U);
  EXPECT_EQ(rows.first, 10U);
  press(Command::Kind::End);
  EXPECT_EQ(rows.selected, total - 1);
  EXPECT_EQ(rows.first, total - 10);
  EXPECT_EQ(rows.flows.size(), 10U);
  press(Command::Kind::Down);  // at the bottom: stays
  EXPECT_EQ(rows.selected, total - 1);
  press(Command::Kind::Home);
  EXPECT_EQ(rows.selected, 0U);
  EXPECT_EQ(rows.first, 0U);
  press(Command::Kind::Up);  // at the top: stays
  EXPECT_EQ(rows.selected, 0U);
  press(Command::Kind::MoveBy, 3);  // the wheel
  EXPECT_EQ(rows.selected, 3U);
  EXPECT_EQ(rows.first, 0U);
  for (int i = 0; i < 8; ++i) {
    s = apply(s, Command{Command::Kind::Down});  // keys between two frames add up
  }
  rows = frame(w, s, 10);
  EXPECT_EQ(rows.selected, 11U);
  EXPECT_EQ(rows.first, 2U);           // scrolled just enough to show it
  press(Command::Kind::SelectRow, 5);  // a click
  EXPECT_EQ(rows.selected, 5U);
  EXPECT_EQ(rows.first, 2U);
  press(Command::Kind::SelectRow, 1'000'000);
  EXPECT_EQ(rows.selected, total - 1);
}

TEST(Selection, DetailPaneShowsTheSelectedFlow) {
  const FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s = apply(s, Command{Command::Kind::Down});
  s = apply(s, Command{Command::Kind::Enter});
  const Rows rows = frame(w, s, 10);
  ASSERT_TRUE(rows.detail);
  EXPECT_EQ(rows.detail->rec.id, 1U);
  EXPECT_TRUE(rows.detail->enrich.process.ok());
}

TEST(Selection, GroupsAreSelectedByKey) {
  FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s.tab = Tab::Owners;
  frame(w, s, 10);
  s = apply(s, Command{Command::Kind::Down});
  Rows rows = frame(w, s, 10);
  ASSERT_EQ(rows.selected_group()->label, "curl");
  flow_by_id(w, 1).rate_reply_bytes = 1e9F;
  rows = frame(w, s, 10);
  EXPECT_EQ(rows.selected, 0U);
  EXPECT_EQ(rows.selected_group()->label, "curl");
  EXPECT_EQ(s.current_cursor().group->pid, 4242);
}

TEST(Selection, VisibleKeysAreTheShownFlows) {
  const FakeWorld w = test::sample_world();
  const Rows rows = build_rows(w.snapshot(), default_view_state(), 3);
  const auto keys = visible_keys(rows);
  ASSERT_EQ(keys.size(), 3U);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(keys[i], rows.flows[i].rec.key);
  }
}

TEST(Selection, SettleIgnoresRowsOfAnotherTab) {
  const FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  const Rows rows = build_rows(w.snapshot(), s, 10);
  s.tab = Tab::Hosts;
  settle(s, rows);
  EXPECT_FALSE(s.cursor[static_cast<std::size_t>(Tab::Hosts)].group);
  EXPECT_FALSE(s.cursor[static_cast<std::size_t>(Tab::Flows)].flow);
}

}  // namespace
}  // namespace flowtop::view
