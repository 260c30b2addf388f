#include "flowtop/output/json_writer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "flowtop/view/rows.hpp"
#include "unit/view/ends_fixture.hpp"

namespace flowtop::output {
namespace {

using core::FlowRecord;
using nlohmann::json;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kNow = 1'795'745'470'917'000'000;  // README's example ts

core::IpAddr ip(const char* text) {
  return *core::IpAddr::parse(text);
}

FlowRecord tcp_v4() {
  FlowRecord r;
  r.key.orig = {ip("10.0.0.2"), ip("93.184.216.34"), 51234, 443};
  r.key.family = core::Family::V4;
  r.key.proto = 6;
  r.key.zone = 7;
  r.reply = {ip("93.184.216.34"), ip("192.0.2.1"), 443, 51234};
  r.id = 3'456'789'012U;
  r.status = (1U << 1) | (1U << 2) | (1U << 3);  // SEEN_REPLY ASSURED CONFIRMED
  r.mark = 0x42;
  r.state = 3;  // ESTABLISHED
  r.flags = FlowRecord::kHasCounters | FlowRecord::kHasTimestamp | FlowRecord::kHasState |
            FlowRecord::kHasRates | FlowRecord::kHasPorts;
  r.orig_ctr = {12, 1200};
  r.reply_ctr = {40, 53000};
  r.start_ns = static_cast<std::uint64_t>(kNow - 93 * kSecond - kSecond / 2);
  r.rate_orig_bytes = 120.5F;
  r.rate_reply_bytes = 5300.0F;
  return r;
}

json line(const FlowRecord& r, std::uint64_t frame = 3) {
  const std::string text = json_line(r, FrameInfo{frame, kNow});
  EXPECT_EQ(text.find('\n'), std::string::npos);
  return json::parse(text);  // throws (fails the test) on invalid JSON
}

TEST(JsonWriter, TcpV4EveryField) {
  const json j = line(tcp_v4());
  EXPECT_DOUBLE_EQ(j["ts"].get<double>(), 1795745470.917);
  EXPECT_EQ(j["frame"], 3);
  EXPECT_EQ(j["id"], 3456789012U);
  EXPECT_EQ(j["family"], "ipv4");
  EXPECT_EQ(j["proto"], "tcp");
  EXPECT_EQ(j["state"], "ESTABLISHED");
  EXPECT_EQ(j["orig"], json::parse(R"({"src":"10.0.0.2","dst":"93.184.216.34","sport":51234,
                                       "dport":443})"));
  EXPECT_EQ(j["reply"], json::parse(R"({"src":"93.184.216.34","dst":"192.0.2.1","sport":443,
                                        "dport":51234})"));
  EXPECT_TRUE(j["icmp"].is_null());
  EXPECT_TRUE(j["service"].is_null());
  EXPECT_EQ(j["bytes"], json::parse(R"({"orig":1200,"reply":53000})"));
  EXPECT_EQ(j["packets"], json::parse(R"({"orig":12,"reply":40})"));
  EXPECT_DOUBLE_EQ(j["rate"]["orig"].get<double>(), 120.5);
  EXPECT_DOUBLE_EQ(j["rate"]["reply"].get<double>(), 5300.0);
  EXPECT_EQ(j["age_s"], 93);  // whole seconds, rounded down
  EXPECT_EQ(j["mark"], 0x42);
  EXPECT_EQ(j["zone"], 7);
  EXPECT_EQ(j["status"], json::parse(R"(["SEEN_REPLY","ASSURED","CONFIRMED"])"));
  for (const char* key : {"process", "src_name", "dst_name", "src_geo", "dst_geo"}) {
    EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j[key].is_null()) << key;
  }
}

TEST(JsonWriter, KeysInSpecOrder) {
  const std::string text = json_line(tcp_v4(), FrameInfo{1, kNow});
  const std::vector<std::string> keys{
      "ts",         "frame",     "id",    "family",  "proto",   "state",    "orig",     "reply",
      "icmp",       "service",   "bytes", "packets", "rate",    "counters", "age_s",    "ended",
      "duration_s", "mark",      "zone",  "status",  "process", "src_name", "dst_name", "src_geo",
      "dst_geo",    "direction", "local", "remote",  "sent",    "received", "nat",      "owner"};
  const json j = json::parse(text);
  EXPECT_EQ(j.size(), keys.size());
  std::size_t pos = 0;
  for (const auto& k : keys) {
    const std::size_t at = text.find("\"" + k + "\":", pos);
    ASSERT_NE(at, std::string::npos) << k << " missing or out of order";
    pos = at;
  }
  EXPECT_LT(text.find("\"src\""), text.find("\"dst\""));
  EXPECT_LT(text.find("\"sport\""), text.find("\"dport\""));
}

TEST(JsonWriter, UdpV6) {
  FlowRecord r;
  r.key.orig = {ip("2001:db8::2"), ip("2001:db8:1::53"), 40000, 5353};
  r.key.family = core::Family::V6;
  r.key.proto = 17;
  r.reply = {r.key.orig.dst, r.key.orig.src, 5353, 40000};
  r.flags = FlowRecord::kHasCounters | FlowRecord::kHasPorts;
  r.orig_ctr = {1, 80};
  const json j = line(r);
  EXPECT_EQ(j["family"], "ipv6");
  EXPECT_EQ(j["proto"], "udp");
  EXPECT_TRUE(j["state"].is_null());
  EXPECT_EQ(j["orig"]["src"], "2001:db8::2");
  EXPECT_EQ(j["orig"]["dst"], "2001:db8:1::53");
  EXPECT_EQ(j["orig"]["sport"], 40000);
  EXPECT_EQ(j["reply"]["dport"], 40000);
  EXPECT_EQ(j["bytes"]["orig"], 80);
  EXPECT_EQ(j["bytes"]["reply"], 0);
  // Counters but no rate window closed yet and no timestamp for a first-sight rate: the rate is
  // not known, and says so (never a misleading 0).
  EXPECT_TRUE(j["rate"].is_null());
  EXPECT_EQ(j["counters"], "pending");
  EXPECT_TRUE(j["sent"]["rate"].is_null());
  EXPECT_TRUE(j["age_s"].is_null());  // no timestamp extension
  EXPECT_EQ(j["status"], json::array());
}

TEST(JsonWriter, EndedFlowHasDurationAndCountersOk) {
  FlowRecord r = tcp_v4();
  r.life = FlowRecord::kEnded | FlowRecord::kSampled;
  r.stop_ns = r.start_ns + 2'500'000'000ULL;
  const json j = line(r);
  EXPECT_EQ(j["ended"], true);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 2.5);
  EXPECT_EQ(j["age_s"], 2) << "an ended flow's age stops at its end";
  EXPECT_EQ(j["counters"], "ok");
  EXPECT_EQ(line(tcp_v4())["ended"], false);
  EXPECT_TRUE(line(tcp_v4())["duration_s"].is_null());
}

TEST(JsonWriter, CountersOffAfterAFullViewWithoutThem) {
  FlowRecord r = tcp_v4();
  r.flags = FlowRecord::kHasPorts;
  r.life = FlowRecord::kSampled;
  const json j = line(r);
  EXPECT_EQ(j["counters"], "off");
  EXPECT_TRUE(j["bytes"].is_null());
  EXPECT_TRUE(j["rate"].is_null());
  r.life = 0;  // known from an event only
  EXPECT_EQ(line(r)["counters"], "pending");
}

TEST(JsonWriter, EventRecordsAreVersionedStartAndEnd) {
  FlowRecord r = tcp_v4();
  r.life = FlowRecord::kEnded | FlowRecord::kSampled;
  r.stop_ns = r.start_ns + 40'000'000ULL;
  const json end = json::parse(json_event_line(FlowEvent::End, r, core::Enrichment{}, kNow));
  EXPECT_EQ(end["v"], 1);
  EXPECT_EQ(end["event"], "end");
  EXPECT_DOUBLE_EQ(end["ts"].get<double>(), 1795745470.917);
  EXPECT_EQ(end["bytes"], json::parse(R"({"orig":1200,"reply":53000})"));
  EXPECT_DOUBLE_EQ(end["duration_s"].get<double>(), 0.04);
  EXPECT_EQ(end["received"], json::parse(R"({"bytes":53000,"packets":40})"));
  for (const char* key : {"frame", "rate", "age_s", "ended"}) {
    EXPECT_FALSE(end.contains(key)) << key;
  }
  const std::string text = json_event_line(FlowEvent::Start, tcp_v4(), core::Enrichment{}, kNow);
  EXPECT_TRUE(text.starts_with(R"({"v":1,"event":"start","ts":)")) << text;
  const json start = json::parse(text);
  EXPECT_FALSE(start.contains("duration_s"));
  EXPECT_TRUE(start["start"].is_number());
}

TEST(JsonWriter, IcmpHasTypeCodeIdAndNullPorts) {
  FlowRecord r;
  r.key.orig = {ip("10.0.0.2"), ip("10.0.0.3"), 77, 0};
  r.key.family = core::Family::V4;
  r.key.proto = 1;
  r.key.icmp_type = 8;
  r.key.icmp_code = 0;
  r.reply = {r.key.orig.dst, r.key.orig.src, 77, 0};
  const json j = line(r);
  EXPECT_EQ(j["proto"], "icmp");
  EXPECT_EQ(j["icmp"], json::parse(R"({"type":8,"code":0,"id":77})"));
  for (const char* dir : {"orig", "reply"}) {
    EXPECT_TRUE(j[dir]["sport"].is_null()) << dir;
    EXPECT_TRUE(j[dir]["dport"].is_null()) << dir;
  }
  EXPECT_TRUE(j["state"].is_null());

  r.key.family = core::Family::V6;
  r.key.proto = 58;
  r.key.orig = {ip("fe80::1"), ip("fe80::2"), 9, 0};
  r.key.icmp_type = 128;
  r.key.icmp_code = 3;
  const json j6 = line(r);
  EXPECT_EQ(j6["proto"], "icmpv6");
  EXPECT_EQ(j6["icmp"], json::parse(R"({"type":128,"code":3,"id":9})"));
}

TEST(JsonWriter, SctpWithState) {
  FlowRecord r;
  r.key.orig = {ip("10.0.0.2"), ip("10.0.0.3"), 1, 2};
  r.key.family = core::Family::V4;
  r.key.proto = 132;
  r.reply = {r.key.orig.dst, r.key.orig.src, 2, 1};
  r.state = 2;
  r.flags = FlowRecord::kHasState | FlowRecord::kHasPorts;
  const json j = line(r);
  EXPECT_EQ(j["proto"], "sctp");
  EXPECT_EQ(j["state"], "COOKIE-WAIT");
  EXPECT_EQ(j["orig"]["sport"], 1);
  EXPECT_EQ(j["orig"]["dport"], 2);
}

TEST(JsonWriter, StateNullWithoutTheStateFlag) {
  FlowRecord r = tcp_v4();
  r.flags &= static_cast<std::uint8_t>(~FlowRecord::kHasState);
  EXPECT_TRUE(line(r)["state"].is_null());
}

TEST(JsonWriter, GreAndGenericHaveNullPortsAndNoIcmp) {
  FlowRecord r;
  r.key.orig = {ip("10.0.0.2"), ip("10.0.0.3"), 0x1234, 0x5678};  // GRE keys in the port fields
  r.key.family = core::Family::V4;
  r.key.proto = 47;
  r.reply = {r.key.orig.dst, r.key.orig.src, 0x5678, 0x1234};
  r.state = 3;
  const json j = line(r);
  EXPECT_EQ(j["proto"], "gre");
  EXPECT_TRUE(j["orig"]["sport"].is_null());
  EXPECT_TRUE(j["orig"]["dport"].is_null());
  EXPECT_TRUE(j["reply"]["sport"].is_null());
  EXPECT_TRUE(j["icmp"].is_null());
  EXPECT_TRUE(j["state"].is_null());

  r.key.proto = 99;  // no name in /etc/protocols: the number
  const json g = line(r);
  EXPECT_EQ(g["proto"], "99");
  EXPECT_TRUE(g["orig"]["dport"].is_null());
}

// DCCP on a kernel without a DCCP tracker: a generic protocol-33 entry, which has no ports.
TEST(JsonWriter, PortProtocolWithoutPortsFromTheKernelHasNullPorts) {
  FlowRecord r = tcp_v4();
  r.key.proto = 33;
  r.key.orig.sport = r.key.orig.dport = 0;
  r.flags = FlowRecord::kHasCounters;
  const json j = line(r);
  EXPECT_EQ(j["proto"], "dccp");
  EXPECT_TRUE(j["orig"]["sport"].is_null());
  EXPECT_TRUE(j["reply"]["dport"].is_null());
  EXPECT_TRUE(j["state"].is_null());
}

TEST(JsonWriter, NoCountersMeansNullNotZero) {
  FlowRecord r = tcp_v4();
  r.flags = FlowRecord::kHasState;
  const json j = line(r);
  EXPECT_TRUE(j["bytes"].is_null());
  EXPECT_TRUE(j["packets"].is_null());
  EXPECT_TRUE(j["rate"].is_null());
  EXPECT_TRUE(j["age_s"].is_null());
}

TEST(JsonWriter, AgeNeverNegative) {
  FlowRecord r = tcp_v4();
  r.start_ns = static_cast<std::uint64_t>(kNow + 5 * kSecond);  // clocks disagree
  EXPECT_EQ(line(r)["age_s"], 0);
}

TEST(JsonWriter, RatesHaveNoFloatNoise) {
  FlowRecord r = tcp_v4();
  r.rate_orig_bytes = 0.1F;
  const std::string text = json_line(r, FrameInfo{1, kNow});
  EXPECT_NE(text.find("\"rate\":{\"orig\":0.1,"), std::string::npos) << text;
}

TEST(JsonWriter, TimestampHasMillisecondPrecision) {
  const std::string text = json_line(tcp_v4(), FrameInfo{1, 1'700'000'000'123'456'789});
  EXPECT_NE(text.find("\"ts\":1700000000.123,"), std::string::npos) << text;
}

TEST(JsonWriter, HostileRecordsStillGiveValidJson) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    FlowRecord r;
    // Arbitrary bytes everywhere a parser could put them: addresses, numbers, flags, state.
    std::vector<unsigned char> noise(sizeof(r.key.orig.src.bytes) * 4);
    for (auto& b : noise) {
      b = static_cast<unsigned char>(rng());
    }
    std::memcpy(r.key.orig.src.bytes.data(), noise.data(), 16);
    std::memcpy(r.key.orig.dst.bytes.data(), noise.data() + 16, 16);
    std::memcpy(r.reply.src.bytes.data(), noise.data() + 32, 16);
    std::memcpy(r.reply.dst.bytes.data(), noise.data() + 48, 16);
    r.key.proto = static_cast<std::uint8_t>(rng());
    r.key.family = (rng() & 1) != 0 ? core::Family::V4 : core::Family::V6;
    r.key.icmp_type = static_cast<std::uint8_t>(rng());
    r.state = static_cast<std::uint8_t>(rng());
    r.flags = static_cast<std::uint8_t>(rng());
    r.status = static_cast<std::uint16_t>(rng());
    r.start_ns = (static_cast<std::uint64_t>(rng()) << 32) | rng();
    r.orig_ctr.bytes = (static_cast<std::uint64_t>(rng()) << 32) | rng();
    r.rate_reply_bytes = static_cast<float>(rng());
    const std::string text = json_line(r, FrameInfo{1, kNow});
    ASSERT_TRUE(json::accept(text)) << text;
    const json j = json::parse(text);
    ASSERT_EQ(j.size(), 32U);
    ASSERT_TRUE(j["orig"]["src"].is_string());
  }
}

}  // namespace
}  // namespace flowtop::output

namespace flowtop::output {
namespace {

TEST(JsonWriterEnrichment, FilledFieldsFollowTheSchema) {
  core::Enrichment e;
  e.process =
      core::Lookup<core::ProcessInfo>::ready({4242, 1000, "curl", "alice", "curl -s x", ""});
  e.remote_name = core::Lookup<std::string>::ready("example.com");
  e.inside_name = core::Lookup<std::string>::failed();
  core::GeoInfo g;
  g.country = "US";
  g.country_name = "United States";
  g.city = "Norwell";
  g.asn = 15133;
  g.org = "Edgecast";
  e.remote_geo = core::Lookup<core::GeoInfo>::ready(g);
  core::GeoInfo priv;
  priv.kind = core::GeoInfo::Kind::Private;
  e.inside_geo = core::Lookup<core::GeoInfo>::ready(priv);
  e.service = "https";
  const json j = json::parse(json_line(tcp_v4(), e, FrameInfo{1, kNow}));
  EXPECT_EQ(j["process"], json::parse(R"({"pid":4242,"name":"curl","user":"alice"})"));
  EXPECT_EQ(j["dst_name"], "example.com");
  EXPECT_TRUE(j["src_name"].is_null()) << "a failed lookup is null";
  EXPECT_EQ(j["dst_geo"], json::parse(R"({"country":"US","country_name":"United States",
                                          "city":"Norwell","asn":15133,"org":"Edgecast"})"));
  EXPECT_TRUE(j["src_geo"].is_null()) << "a private address has no location";
  EXPECT_EQ(j["service"], "https");
}

TEST(JsonWriterEnrichment, PendingDisabledAndPartialGeoAreNull) {
  core::Enrichment e;
  e.remote_name = core::Lookup<std::string>::disabled();
  core::GeoInfo g;
  g.country = "SE";
  e.remote_geo = core::Lookup<core::GeoInfo>::ready(g);
  const json j = json::parse(json_line(tcp_v4(), e, FrameInfo{1, kNow}));
  EXPECT_TRUE(j["process"].is_null());
  EXPECT_TRUE(j["dst_name"].is_null());
  EXPECT_EQ(j["dst_geo"]["country"], "SE");
  EXPECT_TRUE(j["dst_geo"]["city"].is_null());
  EXPECT_TRUE(j["dst_geo"]["asn"].is_null());
  EXPECT_TRUE(j["service"].is_null());
}

TEST(JsonWriterEnrichment, HostileNamesStayValidJson) {
  core::Enrichment e;
  e.remote_name = core::Lookup<std::string>::ready(std::string("evil\x1b[2J\xff\xfe.example", 19));
  e.process = core::Lookup<core::ProcessInfo>::ready({1, 0, "a\"b\\c\n", "root", "", ""});
  const std::string text = json_line(tcp_v4(), e, FrameInfo{1, kNow});
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "control bytes are escaped";
  const json j = json::parse(text);
  EXPECT_EQ(j["process"]["name"], "a\"b\\c\n");
}

}  // namespace
}  // namespace flowtop::output

// Flows classified as a server and a router see them (unit/view/ends_fixture.hpp): the two ends,
// the direction, what the inside end sent and received, NAT and the owner.
namespace flowtop::output {
namespace {

json flow_json(const test::FakeWorld& w, std::uint32_t id) {
  for (const auto& rec : w.flows) {
    if (rec.id == id) {
      return json::parse(json_line(rec, w.enrichment.at(id), FrameInfo{1, kNow}));
    }
  }
  ADD_FAILURE() << "no flow " << id;
  return {};
}

TEST(JsonWriterEnds, AnInboundFlowOnAServer) {
  const json j = flow_json(test::server_world(), 21);
  EXPECT_EQ(j["direction"], "in");
  EXPECT_EQ(j["local"], json::parse(R"({"addr":"192.0.2.10","port":22,
                                        "name":"server.example.org","geo":null})"));
  EXPECT_EQ(j["remote"]["addr"], "198.51.100.23");
  EXPECT_EQ(j["remote"]["port"], 50123);
  EXPECT_EQ(j["remote"]["name"], "client.example.net");
  EXPECT_EQ(j["remote"]["geo"]["country"], "GB");
  // ↑ sent by the server: the reply direction of a flow the client opened.
  EXPECT_EQ(j["sent"], json::parse(R"({"bytes":2000000,"packets":1500,"rate":200000})"));
  EXPECT_EQ(j["received"], json::parse(R"({"bytes":4000,"packets":80,"rate":400})"));
  EXPECT_EQ(j["bytes"], json::parse(R"({"orig":4000,"reply":2000000})"));  // unchanged
  EXPECT_TRUE(j["nat"].is_null());
  EXPECT_EQ(j["owner"], json::parse(R"({"kind":"process","pid":900,"name":"sshd","user":"root",
                                          "netns":null})"));
  // src_* and dst_* stay the initiator's and the responder's.
  EXPECT_EQ(j["src_name"], "client.example.net");
  EXPECT_EQ(j["dst_name"], "server.example.org");
  EXPECT_EQ(j["src_geo"]["country"], "GB");
  EXPECT_TRUE(j["dst_geo"].is_null());

  const json out = flow_json(test::server_world(), 24);
  EXPECT_EQ(out["direction"], "out");
  EXPECT_EQ(out["local"]["addr"], "192.0.2.10");
  EXPECT_EQ(out["remote"]["name"], "example.com");
  EXPECT_EQ(out["sent"]["bytes"], 600);
  EXPECT_EQ(out["src_name"].is_null(), true);
  EXPECT_EQ(out["dst_name"], "example.com");
}

TEST(JsonWriterEnds, InboundIpv6) {
  const json j = flow_json(test::server_world(), 22);
  EXPECT_EQ(j["family"], "ipv6");
  EXPECT_EQ(j["direction"], "in");
  EXPECT_EQ(j["local"]["addr"], "2001:db8:5::10");
  EXPECT_EQ(j["local"]["port"], 443);
  EXPECT_EQ(j["remote"], json::parse(R"({"addr":"2001:db8:99::5","port":40400,"name":null,
      "geo":{"country":"DE","country_name":"Germany","city":"Berlin","asn":3320,
             "org":"Deutsche Telekom AG"}})"));
  EXPECT_EQ(j["sent"]["bytes"], 80000);
  EXPECT_EQ(j["received"]["bytes"], 1500);
}

TEST(JsonWriterEnds, AMasqueradedFlowOnARouter) {
  const json j = flow_json(test::router_world(), 31);
  EXPECT_EQ(j["direction"], "fwd");
  EXPECT_EQ(j["local"], json::parse(R"({"addr":"192.168.77.23","port":41000,
                                        "name":"laptop.lan","geo":null})"));
  EXPECT_EQ(j["remote"]["addr"], "93.184.216.34");
  EXPECT_EQ(j["remote"]["port"], 443);
  EXPECT_EQ(j["nat"], json::parse(R"({"snat":"203.0.113.9:61000","dnat":null})"));
  EXPECT_EQ(j["sent"]["bytes"], 1200);
  EXPECT_EQ(j["received"]["bytes"], 53000);
  EXPECT_TRUE(j["process"].is_null());
  EXPECT_EQ(j["owner"],
            json::parse(R"({"kind":"host","mac":"aa:bb:cc:00:00:23","name":"laptop"})"));
}

TEST(JsonWriterEnds, APortForwardOnARouter) {
  const json j = flow_json(test::router_world(), 32);
  EXPECT_EQ(j["direction"], "fwd");
  // The inside end is the internal server, after DNAT; the remote end the Internet client.
  EXPECT_EQ(j["local"], json::parse(R"({"addr":"192.168.77.10","port":22,"name":null,
                                        "geo":null})"));
  EXPECT_EQ(j["remote"]["addr"], "198.51.100.99");
  EXPECT_EQ(j["remote"]["port"], 55555);
  EXPECT_EQ(j["remote"]["geo"]["country"], "NL");
  EXPECT_EQ(j["nat"], json::parse(R"({"snat":null,"dnat":"192.168.77.10:22"})"));
  EXPECT_EQ(j["orig"]["dport"], 2222);
  EXPECT_EQ(j["service"], "ssh");
  // The NAS sent the reply direction.
  EXPECT_EQ(j["sent"], json::parse(R"({"bytes":900000,"packets":700,"rate":90000})"));
  EXPECT_EQ(j["received"], json::parse(R"({"bytes":3000,"packets":50,"rate":300})"));
  EXPECT_EQ(j["owner"], json::parse(R"({"kind":"host","mac":"aa:bb:cc:00:00:10","name":"nas"})"));
  EXPECT_EQ(j["src_geo"]["country"], "NL");  // the initiator: the client
  EXPECT_TRUE(j["dst_geo"].is_null());       // the responder: private
}

TEST(JsonWriterEnds, ForwardedIpv6AndAFlowWithoutOwner) {
  const json v6 = flow_json(test::router_world(), 33);
  EXPECT_EQ(v6["direction"], "fwd");
  EXPECT_EQ(v6["local"]["addr"], "2001:db8:77::23");
  EXPECT_EQ(v6["remote"]["addr"], "2a00:1450:4001:82b::200e");
  EXPECT_TRUE(v6["nat"].is_null());
  EXPECT_EQ(v6["owner"]["kind"], "host");

  const json none = flow_json(test::router_world(), 35);
  EXPECT_TRUE(none["owner"].is_null());
  EXPECT_EQ(none["nat"]["snat"], "203.0.113.9:62000");

  // A device without a lease name: null, not "".
  test::FakeWorld w = test::router_world();
  w.enrichment[31].host = test::device("aa:bb:cc:00:00:23", "");
  EXPECT_EQ(flow_json(w, 31)["owner"],
            json::parse(R"({"kind":"host","mac":"aa:bb:cc:00:00:23","name":null})"));
}

TEST(JsonWriterEnds, IcmpEndsHaveNoPorts) {
  const core::FlowRecord r = test::classified(
      {.src = "198.51.100.23", .dst = "192.0.2.10", .proto = 1, .sport = 77, .id = 26},
      test::server_facts());
  const json j = json::parse(json_line(r, FrameInfo{1, kNow}));
  EXPECT_EQ(j["direction"], "in");
  EXPECT_EQ(j["local"]["addr"], "192.0.2.10");
  EXPECT_TRUE(j["local"]["port"].is_null());
  EXPECT_TRUE(j["remote"]["port"].is_null());
  EXPECT_TRUE(j["nat"].is_null());
}

TEST(JsonWriterEnds, OwnersGroupLines) {
  const test::FakeWorld w = test::router_world();
  view::ViewState s = view::default_view_state();
  s.tab = view::Tab::Owners;
  const view::Rows rows = view::build_rows(w.snapshot(), s, 100);
  std::map<std::string, json> by_label;
  for (const view::GroupRow& g : rows.groups) {
    const json j = json::parse(json_group_line(g, view::Tab::Owners, FrameInfo{1, kNow}));
    EXPECT_EQ(j["tab"], "owners");
    by_label[g.label] = j;
  }
  ASSERT_EQ(by_label.size(), 4U);
  const json& laptop = by_label["laptop"];
  EXPECT_EQ(laptop["kind"], "host");
  EXPECT_EQ(laptop["mac"], "aa:bb:cc:00:00:23");
  EXPECT_EQ(laptop["name"], "laptop");
  EXPECT_EQ(laptop["flows"], 2);
  const json& curl = by_label["curl"];
  EXPECT_EQ(curl["kind"], "process");
  EXPECT_EQ(curl["pid"], 4242);
  EXPECT_EQ(curl["name"], "curl");
  EXPECT_EQ(curl["user"], "alice");
  const json& none = by_label["-"];
  EXPECT_TRUE(none["kind"].is_null());
  EXPECT_TRUE(none["pid"].is_null());
  EXPECT_TRUE(none["name"].is_null());
}

}  // namespace
}  // namespace flowtop::output

namespace flowtop::output {
namespace {

TEST(JsonWriter, RedactedFrameCarriesNoAddressNameOrUserOfTheFlow) {
  view::Snapshot snap;
  snap.flows.push_back(tcp_v4());
  snap.enrich = [](const core::FlowRecord&, core::EnrichNeeds) {
    core::Enrichment e;
    core::ProcessInfo p;
    p.pid = 7;
    p.name = "curl";
    p.user = "alice";
    p.cmdline = "curl https://93.184.216.34/";
    e.process = core::Lookup<core::ProcessInfo>::ready(p);
    e.inside_name = core::Lookup<std::string>::ready("laptop.lan");
    e.remote_name = core::Lookup<std::string>::ready("example.com");
    return e;
  };
  view::ViewState state = view::default_view_state();
  const view::Prepared prepared = view::prepare(snap, state);
  core::Redactor::Key key{};
  key[3] = 9;
  const core::Redactor redactor(key);
  std::string plain_out;
  std::string masked_out;
  ASSERT_TRUE(write_json_frame(prepared, snap, FrameInfo{1, kNow}, [&](std::string_view s) {
    plain_out += s;
    return true;
  }));
  ASSERT_TRUE(write_json_frame(prepared, snap,
                               FrameInfo{1, kNow, core::RedactScope::All, &redactor},
                               [&](std::string_view s) {
                                 masked_out += s;
                                 return true;
                               }));
  for (const char* secret :
       {"10.0.0.2", "93.184.216.34", "192.0.2.1", "laptop.lan", "example.com", "alice"}) {
    EXPECT_NE(plain_out.find(secret), std::string::npos) << secret;
    EXPECT_EQ(masked_out.find(secret), std::string::npos) << secret << " in " << masked_out;
  }
  EXPECT_NE(masked_out.find(redactor.address(ip("93.184.216.34")).to_string()), std::string::npos);
  EXPECT_NE(masked_out.find("\"curl\""), std::string::npos);
}

TEST(JsonWriter, GroupLinesCarryTheTotalsSinceStart) {
  view::GroupRow g;
  g.key.pid = 4242;
  g.label = "curl";
  g.flows = 0;  // its flows have ended: the totals outlive them
  g.known_counters = true;
  g.known_totals = true;
  g.total_out = 1064;
  g.total_in = 103'956;
  const json j = json::parse(json_group_line(g, view::Tab::Owners, FrameInfo{2, 0}));
  EXPECT_EQ(j["total"]["orig"], 1064) << j;
  EXPECT_EQ(j["total"]["reply"], 103'956) << j;
  g.known_totals = false;
  EXPECT_TRUE(
      json::parse(json_group_line(g, view::Tab::Hosts, FrameInfo{2, 0}))["total"].is_null());
}

}  // namespace
}  // namespace flowtop::output
