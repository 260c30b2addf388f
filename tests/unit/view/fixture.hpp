#pragma once

// Flows and snapshots for the view and render tests: a fixed, realistic table.

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/view/snapshot.hpp"

namespace flowtop::test {

inline constexpr std::int64_t kNowNs = 1'780'000'000'000'000'000;  // 2026-05-28 20:26:40 UTC
inline constexpr std::uint64_t kSecond = 1'000'000'000;

/// A flow builder: tcp v4 by default, with counters, timestamps and rates.
struct FlowSpec {
  std::string src = "10.0.0.2";
  std::string dst = "93.184.216.34";
  std::uint8_t proto = 6;
  std::uint16_t sport = 40000;
  std::uint16_t dport = 443;
  std::uint8_t state = 3;  // ESTABLISHED
  std::uint64_t bytes_out = 1200, bytes_in = 53000;
  std::uint64_t packets_out = 12, packets_in = 40;
  float rate_out = 120, rate_in = 5300;
  std::uint64_t age_s = 93;
  bool counters = true;
  bool timestamp = true;
  std::uint32_t id = 1;
  std::uint32_t mark = 0;
  std::uint16_t zone = 0;
  std::string reply_src{};  // NAT: the reply's source when not the original destination
  std::string reply_dst{};  // NAT: the reply's destination when not the original source
  std::uint8_t icmp_type = 8, icmp_code = 0;
};

inline core::FlowRecord make_flow(const FlowSpec& s) {
  core::FlowRecord r;
  r.key.orig.src = *core::IpAddr::parse(s.src);
  r.key.orig.dst = *core::IpAddr::parse(s.dst);
  r.key.family = r.key.orig.src.family();
  r.key.proto = s.proto;
  r.key.zone = s.zone;
  const bool icmp = core::proto_is_icmp(s.proto);
  const bool ports = core::proto_has_ports(s.proto);
  if (icmp) {
    r.key.icmp_type = s.icmp_type;
    r.key.icmp_code = s.icmp_code;
    r.key.orig.sport = s.sport;  // echo id
  } else if (ports) {
    r.key.orig.sport = s.sport;
    r.key.orig.dport = s.dport;
  }
  r.reply.src = s.reply_src.empty() ? r.key.orig.dst : *core::IpAddr::parse(s.reply_src);
  r.reply.dst = s.reply_dst.empty() ? r.key.orig.src : *core::IpAddr::parse(s.reply_dst);
  r.reply.sport = ports ? r.key.orig.dport : r.key.orig.sport;
  r.reply.dport = ports ? r.key.orig.sport : 0;
  r.id = s.id;
  r.mark = s.mark;
  r.timeout = 431999;
  r.status = 0x0E;  // SEEN_REPLY ASSURED CONFIRMED
  r.state = s.state;
  if (s.proto == 6 || s.proto == 132 || s.proto == 33) {
    r.flags |= core::FlowRecord::kHasState;
  }
  if (ports) {
    r.flags |= core::FlowRecord::kHasPorts;
  }
  if (s.counters) {
    r.flags |= core::FlowRecord::kHasCounters | core::FlowRecord::kHasRates;
    r.orig_ctr = {s.packets_out, s.bytes_out};
    r.reply_ctr = {s.packets_in, s.bytes_in};
    r.rate_orig_bytes = s.rate_out;
    r.rate_reply_bytes = s.rate_in;
    r.rate_orig_packets = s.rate_out / 100;
    r.rate_reply_packets = s.rate_in / 1000;
  }
  if (s.timestamp) {
    r.flags |= core::FlowRecord::kHasTimestamp;
    r.start_ns = static_cast<std::uint64_t>(kNowNs) - s.age_s * kSecond;
  }
  return r;
}

inline core::GeoInfo geo(std::string cc, std::string name, std::string city, std::uint32_t asn,
                         std::string org) {
  core::GeoInfo g;
  g.country = std::move(cc);
  g.country_name = std::move(name);
  g.city = std::move(city);
  g.asn = asn;
  g.org = std::move(org);
  return g;
}

inline core::GeoInfo private_geo() {
  core::GeoInfo g;
  g.kind = core::GeoInfo::Kind::Private;
  return g;
}

inline core::Lookup<core::ProcessInfo> process(std::int32_t pid, std::string name,
                                               std::string user = "alice",
                                               std::string cmdline = "") {
  core::ProcessInfo p;
  p.pid = pid;
  p.uid = user == "root" ? 0 : 1000;
  p.name = std::move(name);
  p.user = std::move(user);
  p.cmdline = std::move(cmdline);
  return core::Lookup<core::ProcessInfo>::ready(std::move(p));
}

/// A snapshot whose enrich() answers from a table keyed by kernel id (ids not in it: Failed /
/// no names / no geo). Counts enrich() calls.
struct FakeWorld {
  std::vector<core::FlowRecord> flows;
  std::map<std::uint32_t, core::Enrichment> enrichment;
  mutable std::size_t enrich_calls = 0;
  bool dbip = false;  ///< a DB-IP database is in use (attribution)

  [[nodiscard]] view::Snapshot snapshot() const {
    view::Snapshot s;
    s.flows = flows;
    s.enrich = [this](const core::FlowRecord& r, core::EnrichNeeds needs) {
      ++enrich_calls;
      core::Enrichment e;
      if (const auto it = enrichment.find(r.id); it != enrichment.end()) {
        e = it->second;
      } else {
        e.process = core::Lookup<core::ProcessInfo>::failed();
        e.inside_name = core::Lookup<std::string>::failed();
        e.remote_name = core::Lookup<std::string>::failed();
        e.inside_geo = core::Lookup<core::GeoInfo>::failed();
        e.remote_geo = core::Lookup<core::GeoInfo>::failed();
      }
      // As the app's enricher: fields not asked for stay Pending, so a view that forgets to ask
      // for what it reads shows it wrong in these tests.
      if ((needs & core::kNeedProcess) == 0) {  // the owner: a process or a LAN device
        e.process = {};
        e.host = {};
      }
      if ((needs & core::kNeedInsideName) == 0) {
        e.inside_name = {};
      }
      if ((needs & core::kNeedRemoteName) == 0) {
        e.remote_name = {};
      }
      if ((needs & core::kNeedInsideGeo) == 0) {
        e.inside_geo = {};
      }
      if ((needs & core::kNeedRemoteGeo) == 0) {
        e.remote_geo = {};
      }
      if ((needs & core::kNeedService) == 0) {
        e.service.clear();
      }
      return e;
    };
    s.status.tracked = flows.size();
    s.status.dbip = dbip;
    s.realtime_ns = kNowNs;
    s.steady_ns = 5 * kSecond;
    return s;
  }
};

/// The fixed table of the golden frames: TCP, UDP, ICMP, IPv6, NAT, accounting off, a hostile
/// DNS name and process name, wide characters, loopback and DNS flows (hidden by default).
inline FakeWorld sample_world() {
  FakeWorld w;
  const auto add = [&](FlowSpec s, core::Enrichment e) {
    w.flows.push_back(make_flow(s));
    w.enrichment[s.id] = std::move(e);
  };
  const auto ok_name = [](std::string n) { return core::Lookup<std::string>::ready(std::move(n)); };
  const auto ok_geo = [](core::GeoInfo g) {
    return core::Lookup<core::GeoInfo>::ready(std::move(g));
  };
  {
    core::Enrichment e;
    e.process = process(4242, "curl", "alice", "curl -s https://example.com/");
    e.inside_name = core::Lookup<std::string>::failed();
    e.remote_name = ok_name("example.com");
    e.inside_geo = ok_geo(private_geo());
    e.remote_geo = ok_geo(geo("US", "United States", "Norwell", 15133, "Edgecast"));
    e.service = "https";
    add({.id = 1}, e);
  }
  {
    core::Enrichment e;
    e.process = process(1201, "firefox-esr");
    e.remote_name = ok_name("lhr25s34-in-f14.1e100.net");
    e.remote_geo = ok_geo(geo("GB", "United Kingdom", "London", 15169, "Google LLC"));
    e.service = "https";
    add({.dst = "142.250.187.206",
         .sport = 51000,
         .bytes_out = 25'000'000,
         .bytes_in = 910'000'000,
         .packets_out = 20000,
         .packets_in = 640000,
         .rate_out = 25000,
         .rate_in = 2'400'000,
         .age_s = 3700,
         .id = 2},
        e);
  }
  {
    core::Enrichment e;
    e.process = process(1201, "firefox-esr");
    e.remote_name = ok_name("2a00-1450.example.net");
    e.remote_geo = ok_geo(geo("DE", "Germany", "Frankfurt am Main", 15169, "Google LLC"));
    e.service = "https";
    add({.src = "2001:db8::2",
         .dst = "2a00:1450:4001:82b::200e",
         .sport = 51002,
         .bytes_out = 3000,
         .bytes_in = 70000,
         .rate_out = 0,
         .rate_in = 0,
         .age_s = 30,
         .id = 3},
        e);
  }
  {
    core::Enrichment e;  // a forwarded flow from the LAN through NAT: no local process
    e.process = core::Lookup<core::ProcessInfo>::failed();
    e.remote_name = ok_name("\x1b]0;pwned\x07\x1b[2Jevil.example");
    e.remote_geo = ok_geo(geo("NL", "Netherlands", "Amsterdam", 1136, "KPN B.V."));
    add({.src = "192.168.1.50",
         .dst = "198.51.100.7",
         .sport = 33000,
         .dport = 22,
         .bytes_out = 4'000'000,
         .bytes_in = 150'000,
         .rate_out = 100'000,
         .rate_in = 2000,
         .age_s = 200'000,
         .id = 4,
         .mark = 0x10,
         .reply_dst = "203.0.113.9"},
        e);
  }
  {
    core::Enrichment e;
    e.process = process(777, "\x1b[31m日本語ツール\xcc");
    e.remote_name = ok_name("ns.example.org");
    e.remote_geo = ok_geo(geo("JP", "Japan", "Tōkyō", 2497, "IIJ"));
    add({.dst = "203.0.113.53",
         .proto = 17,
         .sport = 5353,
         .dport = 5353,
         .state = 0,
         .bytes_out = 500,
         .bytes_in = 0,
         .rate_out = 0.2F,
         .rate_in = 0,
         .age_s = 5,
         .id = 5},
        e);
  }
  {
    core::Enrichment e;  // accounting and timestamps were off when it started
    e.process = process(900, "sshd", "root");
    e.remote_name = ok_name("backup.lan");
    e.remote_geo = ok_geo(private_geo());
    add({.dst = "10.0.0.9",
         .sport = 22,
         .dport = 50022,
         .counters = false,
         .timestamp = false,
         .id = 6},
        e);
  }
  {
    core::Enrichment e;
    e.process = core::Lookup<core::ProcessInfo>::failed();
    e.remote_geo = ok_geo(geo("US", "United States", "Ashburn", 14618, "Amazon"));
    add({.dst = "198.51.100.200",
         .proto = 1,
         .sport = 77,
         .state = 0,
         .bytes_out = 84,
         .bytes_in = 84,
         .packets_out = 1,
         .packets_in = 1,
         .rate_out = 84,
         .rate_in = 84,
         .age_s = 2,
         .id = 7},
        e);
  }
  // Hidden by default: loopback, DNS.
  add({.src = "127.0.0.1", .dst = "127.0.0.1", .sport = 40100, .dport = 631, .id = 8}, {});
  add({.dst = "10.0.0.1", .proto = 17, .sport = 40200, .dport = 53, .state = 0, .id = 9}, {});
  return w;
}

/// `n` varied flows (ids 1..n) with a fixed seed: every protocol the default selection shows is
/// TCP; about a tenth have no counters or no timestamp; enrichment is a mix of known, failed and
/// pending, with repeated processes, hosts, countries and ASes so groups form.
inline FakeWorld random_world(std::size_t n, unsigned seed = 42, bool enrich = true) {
  FakeWorld w;
  std::mt19937 rng(seed);
  const auto pick = [&](std::uint32_t k) {
    return std::uniform_int_distribution<std::uint32_t>(0, k - 1)(rng);
  };
  const std::vector<std::string> procs{"curl", "firefox", "ssh", "apt", "chrome", "dig", "wget"};
  const std::vector<std::string> countries{"US", "DE", "GB", "JP", "FR", "NL"};
  for (std::size_t i = 0; i < n; ++i) {
    FlowSpec s;
    s.id = static_cast<std::uint32_t>(i + 1);
    const std::uint32_t host = pick(50);
    s.dst = "198.51." + std::to_string(host / 10) + "." + std::to_string(host % 10 + 1);
    s.src = "10.1." + std::to_string(pick(4)) + "." + std::to_string(pick(250) + 1);
    s.sport = static_cast<std::uint16_t>(1024 + pick(60000));
    s.dport = static_cast<std::uint16_t>(pick(3) == 0 ? 443 : 1 + pick(2000));
    s.state = static_cast<std::uint8_t>(pick(10));
    s.bytes_out = pick(4) == 0 ? 0 : pick(1'000'000) * std::uint64_t{pick(1000) + 1};
    s.bytes_in = pick(1'000'000) * std::uint64_t{pick(1000) + 1};
    s.packets_out = s.bytes_out / 1000 + pick(3);
    s.packets_in = s.bytes_in / 1000 + pick(3);
    s.rate_out = pick(3) == 0 ? 0.0F : static_cast<float>(pick(5'000'000));
    s.rate_in = pick(3) == 0 ? 0.0F : static_cast<float>(pick(5'000'000));
    s.age_s = pick(200'000);
    s.counters = pick(10) != 0;
    s.timestamp = pick(10) != 0;
    s.mark = pick(4);
    w.flows.push_back(make_flow(s));
    if (!enrich) {
      continue;
    }
    core::Enrichment e;
    const std::uint32_t p = pick(10);
    if (p < 7) {
      e.process =
          process(static_cast<std::int32_t>(1000 + p * 7), procs[p], p % 2 == 0 ? "alice" : "root");
    } else if (p < 9) {
      e.process = core::Lookup<core::ProcessInfo>::failed();
    }  // else pending
    if (host % 3 != 0) {
      e.remote_name = core::Lookup<std::string>::ready("host" + std::to_string(host) + ".example");
    } else {
      e.remote_name = core::Lookup<std::string>::failed();
    }
    if (host % 7 != 0) {
      e.remote_geo = core::Lookup<core::GeoInfo>::ready(geo(
          countries[host % countries.size()], "Country " + countries[host % countries.size()],
          "City" + std::to_string(host % 5), 64500 + host % 9, "Org" + std::to_string(host % 9)));
    } else {
      e.remote_geo = core::Lookup<core::GeoInfo>::ready(private_geo());
    }
    e.service = s.dport == 443 ? "https" : "";
    w.enrichment[s.id] = std::move(e);
  }
  return w;
}

}  // namespace flowtop::test
