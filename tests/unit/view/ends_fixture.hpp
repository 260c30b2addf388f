#pragma once

// Flows with a direction and two ends, classified by core::classify() as the app does: a server
// that clients connect to, and a router with a LAN it masquerades and a port forward to it.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::test {

inline core::IpAddr addr(const char* text) {
  return *core::IpAddr::parse(text);
}

/// An IPv4 prefix as NetFacts holds it: v4-mapped, 96 + its length.
inline core::Prefix prefix(const char* net, unsigned len) {
  const core::IpAddr a = addr(net);
  return core::Prefix{a, static_cast<std::uint8_t>(a.is_v4() ? 96 + len : len)};
}

inline core::NetFacts facts(std::vector<core::IpAddr> local, std::vector<core::Prefix> inside) {
  std::sort(local.begin(), local.end());
  return core::NetFacts{std::move(local), std::move(inside)};
}

/// The server: 192.0.2.10 and 2001:db8:5::10, nothing routed through it.
inline core::NetFacts server_facts() {
  return facts({addr("192.0.2.10"), addr("2001:db8:5::10")}, {});
}

/// The router: 203.0.113.9 on the Internet side, 192.168.77.1 and 2001:db8:77::1 on its LAN.
inline core::NetFacts router_facts() {
  return facts({addr("203.0.113.9"), addr("192.168.77.1"), addr("2001:db8:77::1")},
               {prefix("192.168.77.0", 24), prefix("2001:db8:77::", 64)});
}

/// make_flow(), with the reply's ports when NAT rewrote them (0: the mirror of the original's),
/// and the direction bits core::classify() gives it on the machine `net` describes.
inline core::FlowRecord classified(const FlowSpec& s, const core::NetFacts& net,
                                   std::uint16_t reply_sport = 0, std::uint16_t reply_dport = 0) {
  core::FlowRecord r = make_flow(s);
  if (reply_sport != 0) {
    r.reply.sport = reply_sport;
  }
  if (reply_dport != 0) {
    r.reply.dport = reply_dport;
  }
  r.flags |= core::classify(r, net);
  return r;
}

inline core::Lookup<std::string> name(std::string n) {
  return core::Lookup<std::string>::ready(std::move(n));
}
inline core::Lookup<core::GeoInfo> located(core::GeoInfo g) {
  return core::Lookup<core::GeoInfo>::ready(std::move(g));
}
/// "aa:bb:cc:dd:ee:ff" as bytes (a fixture's own MACs: always well formed).
inline core::MacAddr parse_mac_text(const std::string& text) {
  core::MacAddr mac{};
  for (std::size_t i = 0; i < mac.size(); ++i) {
    mac[i] = static_cast<std::uint8_t>(std::stoul(text.substr(i * 3, 2), nullptr, 16));
  }
  return mac;
}

inline core::Lookup<core::HostOwner> device(std::string mac, std::string lease_name) {
  return core::Lookup<core::HostOwner>::ready(
      core::HostOwner{parse_mac_text(mac), std::move(lease_name)});
}

/// A server's flows (sorted by RATE↓, what the server received: 24, 21, 22, 23):
///  21  in   198.51.100.23:50123 → 192.0.2.10:22      sshd; the client sent 4 kB, got 2 MB
///  22  in   [2001:db8:99::5]:40400 → [2001:db8:5::10]:443   nginx; no name for the client
///  23  in   198.51.100.23:50124 → 192.0.2.10:443     nginx; the same client again
///  24  out  192.0.2.10:41000 → 93.184.216.34:443     apt, from the server itself
inline FakeWorld server_world() {
  FakeWorld w;
  const core::NetFacts net = server_facts();
  const auto add = [&](const FlowSpec& s, core::Enrichment e) {
    w.flows.push_back(classified(s, net));
    w.enrichment[s.id] = std::move(e);
  };
  const core::GeoInfo gb = geo("GB", "United Kingdom", "London", 5089, "Virgin Media");
  {
    core::Enrichment e;
    e.process = process(900, "sshd", "root");
    e.host = core::Lookup<core::HostOwner>::disabled();
    e.inside_name = name("server.example.org");
    e.remote_name = name("client.example.net");
    e.remote_geo = located(gb);
    e.service = "ssh";
    add({.src = "198.51.100.23",
         .dst = "192.0.2.10",
         .sport = 50123,
         .dport = 22,
         .bytes_out = 4'000,
         .bytes_in = 2'000'000,
         .packets_out = 80,
         .packets_in = 1'500,
         .rate_out = 400,
         .rate_in = 200'000,
         .id = 21},
        e);
  }
  {
    core::Enrichment e;
    e.process = process(1300, "nginx", "www-data");
    e.host = core::Lookup<core::HostOwner>::disabled();
    e.remote_name = core::Lookup<std::string>::failed();
    e.remote_geo = located(geo("DE", "Germany", "Berlin", 3320, "Deutsche Telekom AG"));
    e.service = "https";
    add({.src = "2001:db8:99::5",
         .dst = "2001:db8:5::10",
         .sport = 40400,
         .dport = 443,
         .bytes_out = 1'500,
         .bytes_in = 80'000,
         .packets_out = 10,
         .packets_in = 60,
         .rate_out = 150,
         .rate_in = 8'000,
         .id = 22},
        e);
  }
  {
    core::Enrichment e;
    e.process = process(1300, "nginx", "www-data");
    e.host = core::Lookup<core::HostOwner>::disabled();
    e.remote_name = name("client.example.net");
    e.remote_geo = located(gb);
    e.service = "https";
    add({.src = "198.51.100.23",
         .dst = "192.0.2.10",
         .sport = 50124,
         .dport = 443,
         .bytes_out = 900,
         .bytes_in = 30'000,
         .packets_out = 9,
         .packets_in = 25,
         .rate_out = 90,
         .rate_in = 3'000,
         .id = 23},
        e);
  }
  {
    core::Enrichment e;
    e.process = process(2000, "apt", "root");
    e.host = core::Lookup<core::HostOwner>::disabled();
    e.remote_name = name("example.com");
    e.remote_geo = located(geo("US", "United States", "Norwell", 15133, "Edgecast"));
    e.service = "https";
    add({.src = "192.0.2.10",
         .dst = "93.184.216.34",
         .sport = 41000,
         .dport = 443,
         .bytes_out = 600,
         .bytes_in = 5'000'000,
         .packets_out = 6,
         .packets_in = 3'500,
         .rate_out = 60,
         .rate_in = 500'000,
         .id = 24},
        e);
  }
  return w;
}

/// A router's flows (sorted by RATE↓, what the inside end received: 33, 31, 34, 32, 35):
///  31  fwd  192.168.77.23:41000 → 93.184.216.34:443, SNAT to 203.0.113.9:61000   laptop
///  32  fwd  198.51.100.99:55555 → 203.0.113.9:2222, DNAT to 192.168.77.10:22       nas
///  33  fwd  [2001:db8:77::23]:42000 → [2a00:1450:4001:82b::200e]:443, no NAT       laptop
///  34  out  203.0.113.9:45000 → 93.184.216.34:443                                  curl
///  35  fwd  192.168.77.50:43000 → 198.51.100.7:80, SNAT; not a neighbour: no owner
inline FakeWorld router_world() {
  FakeWorld w;
  const core::NetFacts net = router_facts();
  const auto add = [&](const core::FlowRecord& r, core::Enrichment e) {
    w.flows.push_back(r);
    w.enrichment[r.id] = std::move(e);
  };
  const core::GeoInfo us = geo("US", "United States", "Norwell", 15133, "Edgecast");
  {
    core::Enrichment e;
    e.process = core::Lookup<core::ProcessInfo>::failed();
    e.host = device("aa:bb:cc:00:00:23", "laptop");
    e.inside_name = name("laptop.lan");
    e.inside_geo = located(private_geo());
    e.remote_name = name("example.com");
    e.remote_geo = located(us);
    e.service = "https";
    add(classified({.src = "192.168.77.23",
                    .dst = "93.184.216.34",
                    .sport = 41000,
                    .dport = 443,
                    .bytes_out = 1'200,
                    .bytes_in = 53'000,
                    .rate_out = 120,
                    .rate_in = 5'300,
                    .id = 31,
                    .reply_dst = "203.0.113.9"},
                   net, 0, 61000),
        e);
  }
  {
    core::Enrichment e;
    e.process = core::Lookup<core::ProcessInfo>::failed();
    e.host = device("aa:bb:cc:00:00:10", "nas");
    e.inside_name = core::Lookup<std::string>::failed();
    e.inside_geo = located(private_geo());
    e.remote_name = core::Lookup<std::string>::failed();
    e.remote_geo = located(geo("NL", "Netherlands", "Amsterdam", 1136, "KPN B.V."));
    e.service = "ssh";
    add(classified({.src = "198.51.100.99",
                    .dst = "203.0.113.9",
                    .sport = 55555,
                    .dport = 2222,
                    .bytes_out = 3'000,
                    .bytes_in = 900'000,
                    .packets_out = 50,
                    .packets_in = 700,
                    .rate_out = 300,
                    .rate_in = 90'000,
                    .id = 32,
                    .reply_src = "192.168.77.10"},
                   net, 22, 0),
        e);
  }
  {
    core::Enrichment e;
    e.process = core::Lookup<core::ProcessInfo>::failed();
    e.host = device("aa:bb:cc:00:00:23", "laptop");
    e.inside_name = name("laptop.lan");
    e.remote_name = name("2a00-1450.example.net");
    e.remote_geo = located(geo("DE", "Germany", "Frankfurt am Main", 15169, "Google LLC"));
    e.service = "https";
    add(classified({.src = "2001:db8:77::23",
                    .dst = "2a00:1450:4001:82b::200e",
                    .sport = 42000,
                    .dport = 443,
                    .bytes_out = 2'000,
                    .bytes_in = 70'000,
                    .rate_out = 200,
                    .rate_in = 7'000,
                    .id = 33},
                   net),
        e);
  }
  {
    core::Enrichment e;
    e.process = process(4242, "curl", "alice");
    e.host = core::Lookup<core::HostOwner>::disabled();
    e.remote_name = name("example.com");
    e.remote_geo = located(us);
    e.service = "https";
    add(classified({.src = "203.0.113.9",
                    .dst = "93.184.216.34",
                    .sport = 45000,
                    .dport = 443,
                    .bytes_out = 600,
                    .bytes_in = 20'000,
                    .rate_out = 60,
                    .rate_in = 2'000,
                    .id = 34},
                   net),
        e);
  }
  {
    core::Enrichment e;
    e.process = core::Lookup<core::ProcessInfo>::failed();
    e.host = core::Lookup<core::HostOwner>::failed();
    e.remote_name = core::Lookup<std::string>::failed();
    e.remote_geo = located(us);
    add(classified({.src = "192.168.77.50",
                    .dst = "198.51.100.7",
                    .sport = 43000,
                    .dport = 80,
                    .bytes_out = 100,
                    .bytes_in = 200,
                    .rate_out = 10,
                    .rate_in = 20,
                    .id = 35,
                    .reply_dst = "203.0.113.9"},
                   net, 0, 62000),
        e);
  }
  return w;
}

}  // namespace flowtop::test
