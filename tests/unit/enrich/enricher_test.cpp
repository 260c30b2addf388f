// The facade end to end: real owner lookups (sock_diag + /proc), GeoIP from the fixtures in
// tests/data/geoip, services from conf/. Reverse DNS stays off except for loopback (never looked
// up), so no query leaves the machine.
#include "flowtop/enrich/enricher.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "flowtop/core/ends.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/sys/unique_fd.hpp"

namespace {

namespace fs = std::filesystem;
using flowtop::core::Enrichment;
using flowtop::core::FlowRecord;
using flowtop::core::GeoInfo;
using flowtop::core::IpAddr;
using flowtop::core::L4Proto;
using flowtop::enrich::Enricher;
using flowtop::enrich::EnricherConfig;
using namespace std::chrono_literals;

const flowtop::rcu::Thread kRcu;

constexpr auto kTcp = static_cast<std::uint8_t>(L4Proto::Tcp);

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

fs::path source_root() {
  return fs::path(FLOWTOP_TEST_DATA).parent_path().parent_path();
}

FlowRecord flow(std::uint8_t proto, const char* src, std::uint16_t sport, const char* dst,
                std::uint16_t dport) {
  FlowRecord rec;
  rec.key.proto = proto;
  rec.key.orig = {ip(src), ip(dst), sport, dport};
  rec.key.family = rec.key.orig.src.family();
  rec.reply = {ip(dst), ip(src), dport, sport};
  rec.id = 7;
  rec.flags = FlowRecord::kHasPorts;
  return rec;
}

EnricherConfig quiet_config() {
  EnricherConfig c;
  c.dns = false;  // no resolver traffic from unit tests
  c.geoip_dirs = {(source_root() / "tests" / "data" / "geoip").string()};
  c.tor_dir = "/nonexistent";
  c.tcp_conf = (source_root() / "conf" / "tcp.conf").string();
  c.udp_conf = (source_root() / "conf" / "udp.conf").string();
  return c;
}

template <class Pred>
Enrichment settle(const Enricher& e, const FlowRecord& rec, Pred done) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    Enrichment got = e.lookup(rec);
    if (done(got) || std::chrono::steady_clock::now() > until) {
      return got;
    }
    std::this_thread::sleep_for(2ms);
  }
}

TEST(Enricher, GeoIpFromTheFixtureDatabases) {
  const Enricher e(quiet_config());
  const FlowRecord rec = flow(kTcp, "10.0.0.2", 40000, "81.2.69.142", 443);
  const Enrichment first = e.lookup(rec);
  ASSERT_EQ(first.inside_geo.state, flowtop::core::Lookup<GeoInfo>::State::Ok)
      << "reserved ranges are labelled at once";
  EXPECT_EQ(first.inside_geo.value.kind, GeoInfo::Kind::Private);
  const Enrichment got = settle(e, rec, [](const Enrichment& x) { return x.remote_geo.ok(); });
  ASSERT_TRUE(got.remote_geo.ok());
  EXPECT_EQ(got.remote_geo.value.kind, GeoInfo::Kind::Located);
  EXPECT_EQ(got.remote_geo.value.country, "GB");
  EXPECT_EQ(got.remote_geo.value.country_name, "United Kingdom");
  EXPECT_EQ(got.remote_geo.value.city, "London");
  EXPECT_EQ(got.remote_geo.value.asn, 20712U);
  EXPECT_EQ(got.remote_geo.value.org, "Andrews & Arnold Ltd");
  EXPECT_EQ(got.service, "https");

  const FlowRecord v6 = flow(kTcp, "fd00::2", 40000, "2001:218::1", 80);
  const Enrichment got6 = settle(e, v6, [](const Enrichment& x) { return x.remote_geo.ok(); });
  EXPECT_EQ(got6.remote_geo.value.country, "JP");
  EXPECT_EQ(got6.remote_geo.value.city, "東京");
  EXPECT_EQ(got6.remote_geo.value.asn, 2914U);

  const FlowRecord unknown = flow(kTcp, "10.0.0.2", 40000, "8.8.8.8", 53);
  const Enrichment none = settle(e, unknown, [](const Enrichment& x) {
    return x.remote_geo.state != flowtop::core::Lookup<GeoInfo>::State::Pending;
  });
  EXPECT_EQ(none.remote_geo.state, flowtop::core::Lookup<GeoInfo>::State::Failed);
  EXPECT_GE(e.stats().geo_lookups, 3U);
}

TEST(Enricher, TurnedOffLookupsAreDisabled) {
  EnricherConfig c = quiet_config();
  c.geoip = false;
  Enricher e(c);
  const FlowRecord rec = flow(kTcp, "10.0.0.2", 40000, "81.2.69.142", 443);
  Enrichment got = e.lookup(rec);
  EXPECT_EQ(got.inside_name.state, flowtop::core::Lookup<std::string>::State::Disabled);
  EXPECT_EQ(got.remote_name.state, flowtop::core::Lookup<std::string>::State::Disabled);
  EXPECT_EQ(got.inside_geo.state, flowtop::core::Lookup<GeoInfo>::State::Disabled);
  EXPECT_EQ(got.remote_geo.state, flowtop::core::Lookup<GeoInfo>::State::Disabled);
  EXPECT_FALSE(e.dns());
  EXPECT_FALSE(e.geoip());
  std::this_thread::sleep_for(30ms);
  EXPECT_TRUE(e.health().empty()) << "-G: the databases are not even opened";
  // The `g` key: on again, the databases open and lookups work.
  e.set_geoip(true);
  EXPECT_TRUE(e.geoip());
  got = settle(e, rec, [](const Enrichment& x) { return x.remote_geo.ok(); });
  EXPECT_EQ(got.remote_geo.value.country, "GB");
  e.set_geoip(false);
  EXPECT_EQ(e.lookup(rec).remote_geo.state, flowtop::core::Lookup<GeoInfo>::State::Disabled);
}

TEST(Enricher, LoopbackNamesAreNeverLookedUp) {
  EnricherConfig c = quiet_config();
  c.dns = true;
  Enricher e(c);
  const FlowRecord rec = flow(kTcp, "127.0.0.1", 40000, "127.0.0.1", 8080);
  e.on_new(rec);
  const Enrichment got = e.lookup(rec);
  EXPECT_EQ(got.inside_name.state, flowtop::core::Lookup<std::string>::State::Failed);
  EXPECT_EQ(got.remote_name.state, flowtop::core::Lookup<std::string>::State::Failed);
  EXPECT_EQ(got.inside_geo.value.kind, GeoInfo::Kind::Loopback);
  EXPECT_EQ(e.stats().dns_queued, 0U) << "queued: it would be looked up";
  e.set_dns(false);
  EXPECT_EQ(e.lookup(rec).inside_name.state, flowtop::core::Lookup<std::string>::State::Disabled);
}

TEST(Enricher, HealthNamesBadConfLinesAndAMissingDatabase) {
  const fs::path dir = fs::temp_directory_path() / ("flowtop-enricher-" + std::to_string(getpid()));
  fs::create_directories(dir / "empty");
  std::ofstream(dir / "tcp.conf") << "22, ssh\n80 http\n";
  EnricherConfig c = quiet_config();
  c.tcp_conf = (dir / "tcp.conf").string();
  c.geoip_dirs = {(dir / "empty").string()};
  {
    const Enricher e(c);
    std::vector<std::string> health;
    const auto until = std::chrono::steady_clock::now() + 5s;
    do {
      std::this_thread::sleep_for(5ms);
      health = e.health();
    } while (health.size() < 2 && std::chrono::steady_clock::now() < until);
    ASSERT_GE(health.size(), 2U);
    EXPECT_EQ(health[0], (dir / "tcp.conf").string() + ":2: expected '<port>, <name>'");
    EXPECT_TRUE(std::any_of(health.begin(), health.end(), [](const std::string& h) {
      return h.find("flowtop -u") != std::string::npos;
    })) << "no hint how to get a database";
    // Without a database lookups fail; nothing crashes.
    const FlowRecord rec = flow(kTcp, "10.0.0.2", 40000, "81.2.69.142", 22);
    const Enrichment got = settle(e, rec, [](const Enrichment& x) {
      return x.remote_geo.state != flowtop::core::Lookup<GeoInfo>::State::Pending;
    });
    EXPECT_EQ(got.remote_geo.state, flowtop::core::Lookup<GeoInfo>::State::Failed);
    EXPECT_EQ(got.service, "ssh");
  }
  fs::remove_all(dir);
}

TEST(Enricher, FindsTheProcessOwningALoopbackConnection) {
  const flowtop::sys::UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  ASSERT_EQ(listen(listener.get(), 1), 0);
  socklen_t len = sizeof sin;
  getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sin), &len);
  const flowtop::sys::UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  sockaddr_in me{};
  len = sizeof me;
  getsockname(client.get(), reinterpret_cast<sockaddr*>(&me), &len);

  const Enricher e(quiet_config());
  const FlowRecord rec =
      flow(kTcp, "127.0.0.1", ntohs(me.sin_port), "127.0.0.1", ntohs(sin.sin_port));
  const Enrichment got = settle(e, rec, [](const Enrichment& x) { return x.process.ok(); });
  ASSERT_TRUE(got.process.ok());
  EXPECT_EQ(got.process.value.pid, getpid());
  EXPECT_EQ(e.stats().owner_found, 1U);
  EXPECT_GE(e.stats().proc_scans, 1U);
  // A forwarded flow (no address of ours) has no owner.
  const FlowRecord fwd = flow(kTcp, "192.168.1.10", 40000, "81.2.69.142", 443);
  EXPECT_EQ(e.lookup(fwd).process.state,
            flowtop::core::Lookup<flowtop::core::ProcessInfo>::State::Failed);
}

}  // namespace

// A forwarded flow's owner is the LAN device of its inside end: the neighbour table's MAC, asked
// once per address and generation (the snapshot thread asks for every forwarded flow at every
// snapshot), asked again once the table's generation moves.
TEST(Enricher, ForwardedFlowsAreOwnedByTheNeighbourUntilTheTableChanges) {
  using flowtop::core::HostOwner;
  using flowtop::core::Lookup;
  using flowtop::core::MacAddr;
  struct Table {
    std::mutex mu;
    std::map<IpAddr, MacAddr> macs;
    std::atomic<std::uint64_t> generation{1};
    int asked = 0;
  };
  auto table = std::make_shared<Table>();
  table->macs[ip("10.0.0.2")] = MacAddr{0x02, 0, 0, 0, 0, 0x02};
  EnricherConfig c = quiet_config();
  c.geoip = false;
  c.usual_lease_files = false;
  c.neighbour_mac = [table](const IpAddr& a) -> std::optional<MacAddr> {
    const std::lock_guard lock(table->mu);
    ++table->asked;
    const auto it = table->macs.find(a);
    return it == table->macs.end() ? std::nullopt : std::optional<MacAddr>(it->second);
  };
  c.neighbour_generation = [table] { return table->generation.load(); };
  Enricher e(c);
  flowtop::core::NetFacts facts;
  facts.local = {ip("10.0.0.1"), ip("192.0.2.1")};  // sorted
  facts.inside = {flowtop::core::Prefix{ip("10.0.0.0"), 96 + 8}};
  FlowRecord rec = flow(kTcp, "10.0.0.2", 40000, "198.51.100.7", 443);
  rec.reply.dst = ip("192.0.2.1");  // masqueraded
  rec.flags = static_cast<std::uint8_t>(rec.flags | flowtop::core::classify(rec, facts));
  ASSERT_EQ(rec.direction(), flowtop::core::Direction::Forward);

  Enrichment got = e.lookup(rec);
  ASSERT_TRUE(got.host.ok());
  EXPECT_EQ(flowtop::core::mac_text(got.host.value.mac), "02:00:00:00:00:02");
  EXPECT_EQ(got.host.value.name, "") << "no lease file names it";
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(e.lookup(rec).host.ok());
  }
  EXPECT_EQ(table->asked, 1) << "one question per address while the table stays the same";

  {
    const std::lock_guard lock(table->mu);
    table->macs[ip("10.0.0.2")] = MacAddr{0x02, 0, 0, 0, 0, 0x99};  // the address moved
  }
  ++table->generation;
  got = e.lookup(rec);
  ASSERT_TRUE(got.host.ok());
  EXPECT_EQ(flowtop::core::mac_text(got.host.value.mac), "02:00:00:00:00:99");

  {
    const std::lock_guard lock(table->mu);
    table->macs.clear();  // gone from the neighbour table
  }
  ++table->generation;
  EXPECT_EQ(e.lookup(rec).host.state, Lookup<HostOwner>::State::Failed);

  // An outbound flow has a local process, never a LAN device.
  FlowRecord out = flow(kTcp, "10.0.0.1", 40001, "198.51.100.7", 443);
  out.flags = static_cast<std::uint8_t>(out.flags | flowtop::core::classify(out, facts));
  ASSERT_EQ(out.direction(), flowtop::core::Direction::Out);
  EXPECT_EQ(e.lookup(out).host.state, Lookup<HostOwner>::State::Disabled);
}
