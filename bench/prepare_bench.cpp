// prepare_bench: the cost of view::prepare() (classify, filter, enrich, count, sort, index: what
// the screen's producer thread does per snapshot and per sort/filter/tab key) and of
// view::build_rows() (what the UI thread does per frame) on a synthetic table.
//
//   prepare_bench [FLOWS] [REPEATS]      (default 100000 flows, 7 repeats; prints medians)
//
// Not a test: CI does not run it; bench/README.md says how to read it.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
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
  r.rate_orig_bytes = static_cast<float>((i * 31U) % 100000);
  r.rate_reply_bytes = static_cast<float>((i * 17U) % 400000);
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
core::Enrichment enrich(const core::FlowRecord& r, core::EnrichNeeds needs) {
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
  snap.enrich = enrich;
  snap.realtime_ns = 1'780'000'000'000'000'000;

  struct Case {
    const char* name;
    view::Tab tab;
    view::Column column;
    const char* filter;
    bool idle = false;  // every flow without traffic: the sort column ties everywhere
  };
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
  for (const Case& c : cases) {
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
      idle.flows = snap.flows;
      for (core::FlowRecord& r : idle.flows) {
        r.rate_orig_bytes = r.rate_reply_bytes = 0;
      }
      idle.enrich = snap.enrich;
      idle.realtime_ns = snap.realtime_ns;
    }
    const view::Snapshot& in = c.idle ? idle : snap;
    view::Prepared p;
    const double prep = median_ms(repeats, [&] { p = view::prepare(in, st); });
    const double rows = median_ms(repeats, [&] { (void)view::build_rows(p, in, st, 45); });
    fmt::print("  {:<28} prepare {:7.2f} ms   build_rows(45) {:6.3f} ms   ({} rows)\n", c.name,
               prep, rows, p.total());
  }
  return 0;
}
