// prepare_bench: the cost of view::prepare() (classify, filter, enrich, count, sort, index: what
// the screen's producer thread does per snapshot and per sort/filter/tab key) and of
// view::build_rows() (what the UI thread does per frame) on a synthetic table.
//
//   prepare_bench [FLOWS] [REPEATS] [MATCH]  (default 100000 flows, 7 repeats; prints medians;
//                                            MATCH: only the case of that name; "NAME*": every
//                                            case whose name starts with NAME)
//
// The "router" cases run the app's real enricher (DNS and GeoIP off) on forwarded flows from
// 1,000 LAN hosts, once with the neighbour table (the OWNER of each flow is the LAN device's MAC)
// and once without it (as before owners of forwarded flows existed): their difference is what
// LAN owners cost a snapshot.
//
// Not a test: CI does not run it; bench/README.md says how to read it.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/enrich/enricher.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/view/filter.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/snapshot.hpp"
#include "flowtop/view/view_state.hpp"

namespace {

using namespace flowtop;

core::FlowRecord make(std::uint32_t i) {
  core::FlowRecord r;
  const bool v6 = i % 4 == 3;
  const std::string src = v6 ? fmt::format("2001:db8::{:x}", i)
                             : fmt::format("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
  const std::string dst = v6 ? fmt::format("2001:db8:1::{:x}", i % 997)
                             : fmt::format("198.51.{}.{}", (i % 997) >> 8, (i % 997) & 255);
  r.key.orig.src = *core::IpAddr::parse(src);
  r.key.orig.dst = *core::IpAddr::parse(dst);
  r.key.family = r.key.orig.src.family();
  r.key.proto = i % 3 == 0 ? 17 : 6;
  r.key.orig.sport = static_cast<std::uint16_t>(1024 + i % 60000);
  r.key.orig.dport = static_cast<std::uint16_t>(i % 5 == 0 ? 53 : 443);
  r.reply.src = r.key.orig.dst;
  r.reply.dst = r.key.orig.src;
  r.reply.sport = r.key.orig.dport;
  r.reply.dport = r.key.orig.sport;
  r.id = i + 1;
  r.state = 3;
  r.flags = core::FlowRecord::kHasPorts | core::FlowRecord::kHasCounters |
            core::FlowRecord::kHasRates | core::FlowRecord::kHasTimestamp |
            (r.key.proto == 6 ? core::FlowRecord::kHasState : 0);
  r.orig_ctr = {i % 1000, (i * 7919ULL) % 10'000'000};
  r.reply_ctr = {i % 3000, (i * 104729ULL) % 50'000'000};
  // Scrambled (a table in hash order is in no rate order): a rate column that grows with the
  // index would make std::sort's pivots poor.
  r.rate_orig_bytes = static_cast<float>(((i * 2654435761U) >> 7) % 100000);
  r.rate_reply_bytes = static_cast<float>(((i * 2246822519U) >> 5) % 400000);
  r.start_ns = 1'780'000'000'000'000'000ULL - (i % 3600) * 1'000'000'000ULL;
  // As a router sees them: one in seven masqueraded, and every flow classified (out, in, fwd)
  // the way the collector stamps it, so the ends, NAT and sent/received code paths all run.
  if (i % 7 == 0) {
    r.reply.dst = *core::IpAddr::parse(v6 ? "2001:db8:ff::1" : "203.0.113.1");
  }
  static const core::NetFacts kFacts = [] {
    core::NetFacts f;
    f.local = {*core::IpAddr::parse("198.51.0.7"), *core::IpAddr::parse("2001:db8:1::7")};
    f.inside = {core::Prefix{*core::IpAddr::parse("10.0.0.0"), 96 + 8},
                core::Prefix{*core::IpAddr::parse("2001:db8::"), 64}};
    return f;
  }();
  r.flags = static_cast<std::uint8_t>(r.flags | core::classify(r, kFacts));
  return r;
}

// What the app's enricher hands out: copies of cached strings (names, geo, owner); like it,
// only the fields asked for.
core::Enrichment copied_enrichment(const core::FlowRecord& r, core::EnrichNeeds needs) {
  static const char* const kNames[] = {"firefox", "curl", "sshd", "python3", "systemd-resolve"};
  static const char* const kCc[] = {"US", "DE", "GB", "SE", "CH", "FR", "JP"};
  core::Enrichment e;
  const std::uint32_t i = r.id;
  if ((needs & core::kNeedProcess) == 0) {
  } else if (i % 4 != 0) {
    core::ProcessInfo p;
    p.pid = static_cast<std::int32_t>(1000 + i % 50);
    p.name = kNames[i % 5];
    p.user = i % 2 == 0 ? "root" : "alice";
    e.process = core::Lookup<core::ProcessInfo>::ready(std::move(p));
  } else {
    e.process = core::Lookup<core::ProcessInfo>::failed();
  }
  e.inside_name = core::Lookup<std::string>::failed();
  static const std::vector<std::string> kHosts = [] {
    std::vector<std::string> v;
    for (int h = 0; h < 997; ++h) {
      v.push_back(fmt::format("host{}.example.net", h));
    }
    return v;
  }();
  e.remote_name = core::Lookup<std::string>::ready(kHosts[i % 997]);
  if ((needs & core::kNeedRemoteGeo) != 0) {
    core::GeoInfo g;
    g.country = kCc[i % 7];
    g.country_name = "Some Country Name";
    g.city = "Some City";
    g.asn = 64496 + i % 40;
    g.org = "Example Networks Incorporated";
    e.remote_geo = core::Lookup<core::GeoInfo>::ready(std::move(g));
  }
  if ((needs & core::kNeedInsideGeo) != 0) {
    e.inside_geo = core::Lookup<core::GeoInfo>::failed();
  }
  if ((needs & core::kNeedService) != 0) {
    e.service = r.key.orig.dport == 53 ? "domain" : "https";
  }
  return e;
}

struct Case {
  const char* name;
  view::Tab tab;
  view::Column column;
  const char* filter;
  bool idle = false;  // every flow without traffic: the sort column ties everywhere
};

template <class F>
double median_ms(int repeats, F&& f) {
  std::vector<double> t;
  for (int k = 0; k < repeats; ++k) {
    const auto a = std::chrono::steady_clock::now();
    f();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Forwarded flows from 1,000 LAN hosts (10.0.x.y) to the same remotes, through the real
/// enricher; `neighbours`: whether the neighbour table knows the LAN hosts' MACs.
template <class RunCase>
int router(std::uint32_t n, RunCase&& run_case) {
  const rcu::Thread rcu_thread;
  static const core::NetFacts kFacts = [] {
    core::NetFacts f;
    f.local = {*core::IpAddr::parse("10.0.0.1"), *core::IpAddr::parse("192.0.2.1")};  // sorted
    f.inside = {core::Prefix{*core::IpAddr::parse("10.0.0.0"), 96 + 8}};
    return f;
  }();
  view::Snapshot snap;
  snap.flows.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    core::FlowRecord r = make(i);
    r.key.family = core::Family::V4;
    r.key.orig.src =
        *core::IpAddr::parse(fmt::format("10.0.{}.{}", (i % 1000) / 250, 2 + (i % 1000) % 250));
    r.key.orig.dst = *core::IpAddr::parse(fmt::format("198.51.{}.{}", (i % 997) >> 8, i & 255));
    r.key.proto = 6;
    r.reply.src = r.key.orig.dst;
    r.reply.dst = *core::IpAddr::parse("192.0.2.1");  // masqueraded
    r.reply.sport = r.key.orig.dport;
    r.reply.dport = r.key.orig.sport;
    r.flags = static_cast<std::uint8_t>((r.flags & ~core::FlowRecord::kEndsBits) |
                                        core::classify(r, kFacts) | core::FlowRecord::kHasState);
    snap.flows.push_back(r);
  }
  snap.realtime_ns = 1'780'000'000'000'000'000;
  const Case plain[] = {
      {"router: Flows by RATE-IN", view::Tab::Flows, view::Column::RateIn, ""},
      {"router: Flows by OWNER", view::Tab::Flows, view::Column::Process, ""},
      {"router: Owners", view::Tab::Owners, view::Column::RateIn, ""},
  };
  const Case lan[] = {
      {"router+LAN: Flows by RATE-IN", view::Tab::Flows, view::Column::RateIn, ""},
      {"router+LAN: Flows by OWNER", view::Tab::Flows, view::Column::Process, ""},
      {"router+LAN: Owners", view::Tab::Owners, view::Column::RateIn, ""},
  };
  for (const bool neighbours : {false, true}) {
    enrich::EnricherConfig cfg;
    cfg.dns = false;
    cfg.geoip = false;
    cfg.usual_lease_files = false;
    if (neighbours) {
      cfg.neighbour_mac = [](const core::IpAddr& a) -> std::optional<core::MacAddr> {
        return core::MacAddr{2, 0, 0, 0, a.bytes[14], a.bytes[15]};
      };
      cfg.neighbour_generation = [] { return std::uint64_t{1}; };
    }
    const enrich::Enricher enricher(std::move(cfg));
    snap.enrich = [&enricher](const core::FlowRecord& r, core::EnrichNeeds needs) {
      return enricher.lookup(r, needs);
    };
    fmt::print("{}:\n", neighbours ? "router, LAN owners from the neighbour table"
                                   : "router, no neighbour table (no LAN owners)");
    for (const Case& c : neighbours ? lan : plain) {
      if (run_case(c, snap) != 0) {
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint32_t n =
      argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 100000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
  view::Snapshot snap;
  snap.flows.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    snap.flows.push_back(make(i));
  }
  snap.enrich = copied_enrichment;
  snap.realtime_ns = 1'780'000'000'000'000'000;

  const Case cases[] = {
      {"Flows by RATE-IN", view::Tab::Flows, view::Column::RateIn, ""},
      {"Flows by RATE-IN, all idle", view::Tab::Flows, view::Column::RateIn, "", true},
      {"Flows by BYTES-OUT", view::Tab::Flows, view::Column::BytesOut, ""},
      {"Flows by PROTO", view::Tab::Flows, view::Column::Proto, ""},
      {"Flows by ADDRESS (names)", view::Tab::Flows, view::Column::Address, ""},
      {"Flows by PROCESS", view::Tab::Flows, view::Column::Process, ""},
      {"Flows, filter port=443", view::Tab::Flows, view::Column::RateIn, "port=443"},
      {"Flows, filter proc=firefox", view::Tab::Flows, view::Column::RateIn, "proc=firefox"},
      {"Processes", view::Tab::Owners, view::Column::RateIn, ""},
      {"Hosts", view::Tab::Hosts, view::Column::RateIn, ""},
      {"Countries", view::Tab::Countries, view::Column::RateIn, ""},
      {"AS", view::Tab::As, view::Column::RateIn, ""},
  };
  fmt::print("view::prepare / build_rows at {} flows (median of {}):\n", n, repeats);
  const std::string match = argc > 3 ? argv[3] : "";
  const auto run_case = [&](const Case& c, const view::Snapshot& base) -> int {
    const std::string_view name(c.name);
    const bool prefix = !match.empty() && match.back() == '*';
    if (!match.empty() &&
        (prefix ? !name.starts_with(std::string_view(match).substr(0, match.size() - 1))
                : name != match)) {
      return 0;
    }
    view::ViewState st = view::default_view_state();
    st.tab = c.tab;
    st.sort[static_cast<std::size_t>(c.tab)] = view::SortSpec{c.column, true};
    auto compiled = view::compile_filter(c.filter);
    if (auto* f = std::get_if<view::Filter>(&compiled)) {
      st.filter = std::move(*f);
    } else {
      fmt::print(stderr, "bad filter {}\n", c.filter);
      return 1;
    }
    view::Snapshot idle;
    if (c.idle) {
      idle.flows = base.flows;
      for (core::FlowRecord& r : idle.flows) {
        r.rate_orig_bytes = r.rate_reply_bytes = 0;
      }
      idle.enrich = base.enrich;
      idle.realtime_ns = base.realtime_ns;
    }
    const view::Snapshot& in = c.idle ? idle : base;
    view::Prepared p;
    const double prep = median_ms(repeats, [&] { p = view::prepare(in, st); });
    const double rows = median_ms(repeats, [&] { (void)view::build_rows(p, in, st, 45); });
    fmt::print("  {:<28} prepare {:7.2f} ms   build_rows(45) {:6.3f} ms   ({} rows)\n", c.name,
               prep, rows, p.total());
    return 0;
  };
  for (const Case& c : cases) {
    if (run_case(c, snap) != 0) {
      return 1;
    }
  }
  return router(n, run_case);
}
