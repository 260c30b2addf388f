// The streaming JSON writer against the DOM writer it replaced (kept here as the reference,
// nlohmann::ordered_json built field by field and dumped): byte for byte the same objects, for
// random records and enrichments full of hostile strings; and the documented fields of a record
// whose every outside string is hostile (control characters, quotes, bidi controls, invalid
// UTF-8) come back intact.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "flowtop/output/json_writer.hpp"
#include "flowtop/view/cells.hpp"

namespace flowtop::reference {
namespace {

using Json = nlohmann::ordered_json;

Json port(bool ports, std::uint16_t value) {
  return ports ? Json(value) : Json(nullptr);
}

Json tuple(bool ports, const core::FlowTuple& t) {
  Json out;
  out["src"] = t.src.to_string();
  out["dst"] = t.dst.to_string();
  out["sport"] = port(ports, t.sport);
  out["dport"] = port(ports, t.dport);
  return out;
}

Json icmp(const core::FlowKey& key) {
  if (!core::proto_is_icmp(key.proto)) {
    return nullptr;
  }
  Json out;
  out["type"] = key.icmp_type;
  out["code"] = key.icmp_code;
  out["id"] = key.orig.sport;  // the echo id sits in the tuple's source port
  return out;
}

Json state(const core::FlowRecord& rec) {
  if (!rec.has(core::FlowRecord::kHasState)) {
    return nullptr;
  }
  const std::string_view name = core::state_name(rec.key.proto, rec.state);
  return name.empty() ? Json(nullptr) : Json(name);
}

Json pair(std::uint64_t orig, std::uint64_t reply) {
  Json out;
  out["orig"] = orig;
  out["reply"] = reply;
  return out;
}

// Rates rounded to a thousandth: the record holds floats, whose widening would print noise digits.
double rounded(double value) {
  return std::round(value * 1000) / 1000;
}

Json rate(const core::FlowRecord& rec) {
  const core::Rates r = core::rates_of(rec);
  Json out;
  out["orig"] = rounded(r.orig_bytes);
  out["reply"] = rounded(r.reply_bytes);
  return out;
}

Json age_s(const core::FlowRecord& rec, std::int64_t realtime_ns) {
  if (!rec.has(core::FlowRecord::kHasTimestamp)) {
    return nullptr;
  }
  // In unsigned arithmetic: a start after the frame (clocks disagree) or a wild value is age 0.
  if (const auto lived = core::duration_ns(rec)) {
    return *lived / 1'000'000'000;  // an ended flow: its duration
  }
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(realtime_ns, 0));
  return now > rec.start_ns ? (now - rec.start_ns) / 1'000'000'000 : 0;
}

Json status(std::uint32_t bits) {
  Json out = Json::array();
  core::for_each_status_name(bits, [&](std::string_view name) { out.push_back(name); });
  return out;
}

Json text_or_null(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json name(const core::Lookup<std::string>& l) {
  return l.ok() ? text_or_null(l.value) : Json(nullptr);
}

Json process(const core::Lookup<core::ProcessInfo>& l) {
  if (!l.ok()) {
    return nullptr;
  }
  Json out;
  out["pid"] = l.value.pid;
  out["name"] = l.value.name;
  out["user"] = l.value.user;
  return out;
}

// Located addresses only; reserved ranges (private, loopback...) and unknown ones are null.
Json geo(const core::Lookup<core::GeoInfo>& l) {
  if (!l.ok() || l.value.kind != core::GeoInfo::Kind::Located) {
    return nullptr;
  }
  const core::GeoInfo& g = l.value;
  Json out;
  out["country"] = text_or_null(g.country);
  out["country_name"] = text_or_null(g.country_name);
  out["city"] = text_or_null(g.city);
  out["asn"] = g.asn != 0 ? Json(g.asn) : Json(nullptr);
  out["org"] = text_or_null(g.org);
  return out;
}

Json endpoint(const core::Endpoint& ep, bool ports, const core::Lookup<std::string>& n,
              const core::Lookup<core::GeoInfo>& g) {
  Json out;
  out["addr"] = ep.addr.to_string();
  out["port"] = port(ports, ep.port);
  out["name"] = name(n);
  out["geo"] = geo(g);
  return out;
}

Json nat(const core::FlowRecord& rec, bool ports) {
  const core::Nat n = core::nat_of(rec);
  if (!n.any()) {
    return nullptr;
  }
  Json out;
  out["snat"] =
      n.snat ? Json(view::endpoint(n.snat_to.addr, n.snat_to.port, ports)) : Json(nullptr);
  out["dnat"] =
      n.dnat ? Json(view::endpoint(n.dnat_to.addr, n.dnat_to.port, ports)) : Json(nullptr);
  return out;
}

// What the inside end sent or received: bytes, packets and rate (null without counters; the
// rate null while it is not known).
Json side(bool counters, const core::Counters& c, bool rate_known, double rate_bytes) {
  if (!counters) {
    return nullptr;
  }
  Json out;
  out["bytes"] = c.bytes;
  out["packets"] = c.packets;
  out["rate"] = rate_known ? Json(rounded(rate_bytes)) : Json(nullptr);
  return out;
}

Json seconds(std::optional<std::uint64_t> ns) {
  return ns ? Json(std::round(static_cast<double>(*ns) / 1e6) / 1e3) : Json(nullptr);
}

Json owner(const core::Enrichment& enr) {
  if (enr.process.ok()) {
    Json out;
    out["kind"] = "process";
    out["pid"] = enr.process.value.pid;
    out["name"] = enr.process.value.name;
    out["user"] = enr.process.value.user;
    out["netns"] = text_or_null(enr.process.value.netns);
    return out;
  }
  if (enr.host.ok()) {
    Json out;
    out["kind"] = "host";
    out["mac"] = core::mac_text(enr.host.value.mac);
    out["name"] = text_or_null(enr.host.value.name);
    return out;
  }
  return nullptr;
}

// The flow fields of a frame object and of an event record, appended to `j` in README order.
void flow_fields(Json& j, const core::FlowRecord& rec, const core::Enrichment& enr,
                 std::int64_t realtime_ns) {
  const bool counters = rec.has(core::FlowRecord::kHasCounters);
  j["id"] = rec.id;
  j["family"] = rec.key.family == core::Family::V4 ? "ipv4" : "ipv6";
  j["proto"] = core::proto_label(rec.key.proto);
  j["state"] = state(rec);
  const bool ports = rec.has(core::FlowRecord::kHasPorts);
  j["orig"] = tuple(ports, rec.key.orig);
  j["reply"] = tuple(ports, rec.reply);
  j["icmp"] = icmp(rec.key);
  j["service"] = text_or_null(enr.service);
  j["bytes"] = counters ? pair(rec.orig_ctr.bytes, rec.reply_ctr.bytes) : Json(nullptr);
  j["packets"] = counters ? pair(rec.orig_ctr.packets, rec.reply_ctr.packets) : Json(nullptr);
  const bool rates = core::rates_known(rec);
  j["rate"] = rates ? rate(rec) : Json(nullptr);
  j["counters"] = core::counter_state_name(core::counter_state(rec));
  j["age_s"] = age_s(rec, realtime_ns);
  j["ended"] = rec.ended();
  j["duration_s"] = seconds(core::duration_ns(rec));
  j["mark"] = rec.mark;
  j["zone"] = rec.key.zone;
  j["status"] = status(rec.status);
  j["process"] = process(enr.process);
  // The initiator (orig.src) is the inside end unless the inside end responds; dst_* are the
  // responder's (the reply source: the original destination unless DNAT'd).
  const core::Ends ends = core::ends_of(rec);
  const bool inside_first = ends.inside_initiated;
  j["src_name"] = name(inside_first ? enr.inside_name : enr.remote_name);
  j["dst_name"] = name(inside_first ? enr.remote_name : enr.inside_name);
  j["src_geo"] = geo(inside_first ? enr.inside_geo : enr.remote_geo);
  j["dst_geo"] = geo(inside_first ? enr.remote_geo : enr.inside_geo);
  const bool end_ports = ports && !core::proto_is_icmp(rec.key.proto);
  j["direction"] = view::dir_word(ends.direction);
  j["local"] = endpoint(ends.inside, end_ports, enr.inside_name, enr.inside_geo);
  j["remote"] = endpoint(ends.remote, end_ports, enr.remote_name, enr.remote_geo);
  j["sent"] = side(counters, core::sent_counters(rec), rates, core::sent_rate(rec));
  j["received"] = side(counters, core::received_counters(rec), rates, core::received_rate(rec));
  j["nat"] = nat(rec, end_ports);
  j["owner"] = owner(enr);
}

std::string json_line(const core::FlowRecord& rec, const core::Enrichment& enr,
                      const output::FrameInfo& frame) {
  Json j;
  j["ts"] = std::round(static_cast<double>(frame.realtime_ns) / 1e6) / 1e3;  // ms precision
  j["frame"] = frame.frame;
  flow_fields(j, rec, enr, frame.realtime_ns);
  // replace: any invalid UTF-8 that reaches a string becomes U+FFFD instead of throwing.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string json_event_line(output::FlowEvent event, const core::FlowRecord& rec,
                            const core::Enrichment& enr, std::int64_t realtime_ns) {
  // The frame object's flow fields, less what only a frame means (frame number, a rate of the
  // last interval, an age at the frame), after the record's version, kind and time.
  Json j;
  j["v"] = 1;
  j["event"] = event == output::FlowEvent::Start ? "start" : "end";
  j["ts"] = std::round(static_cast<double>(realtime_ns) / 1e6) / 1e3;
  j["start"] = rec.has(core::FlowRecord::kHasTimestamp)
                   ? Json(std::round(static_cast<double>(rec.start_ns) / 1e6) / 1e3)
                   : Json(nullptr);
  flow_fields(j, rec, enr, realtime_ns);
  for (const char* drop : {"rate", "age_s", "ended"}) {
    j.erase(drop);
  }
  for (const char* side_name : {"sent", "received"}) {
    if (j[side_name].is_object()) {
      j[side_name].erase("rate");
    }
  }
  if (event == output::FlowEvent::Start) {
    j.erase("duration_s");
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace
}  // namespace flowtop::reference

namespace flowtop::output {
namespace {

using core::FlowRecord;
using nlohmann::json;

// Strings from outside as they may come: DNS names, process names, GeoIP names, lease names.
const std::vector<std::string>& hostile_strings() {
  static const std::vector<std::string> strings = {
      "",
      "plain",
      "example.com",
      "a\"quoted\"name",
      "back\\slash",
      std::string("nul\0inside", 10),
      "tab\there\nnewline\rreturn",
      "\x1b[2J\x1b]0;title\x07",
      "\x7f"
      "del",
      "\xe2\x80\xae"
      "evil\xe2\x80\xac.exe",             // RIGHT-TO-LEFT OVERRIDE ... POP DIRECTIONAL
      "\xe2\x81\xa6isolate\xe2\x81\xa9",  // LEFT-TO-RIGHT ISOLATE ... POP
      "zero\xe2\x80\x8bwidth",
      "\xff\xfe invalid",
      "truncated \xe2\x82",
      "\xc0\xaf overlong",
      "\xed\xa0\x80 surrogate",
      "Link\xc3\xb6ping",
      "\xe6\x9d\xb1\xe4\xba\xac",
      "\xf0\x9f\x98\x80 emoji",
      "\x01\x02\x03\x1f",
      "slash/and\\u0041",
  };
  return strings;
}

class RandomFlows {
 public:
  explicit RandomFlows(std::uint32_t seed) : rng_(seed) {}

  FlowRecord record() {
    FlowRecord r;
    const bool v6 = coin();
    r.key.family = v6 ? core::Family::V6 : core::Family::V4;
    static constexpr std::uint8_t kProtos[] = {6, 17, 136, 132, 33, 1, 58, 47, 99, 255};
    r.key.proto = kProtos[pick(std::size(kProtos))];
    r.key.zone = static_cast<std::uint16_t>(pick(3) == 0 ? pick(65536) : 0);
    r.key.icmp_type = static_cast<std::uint8_t>(pick(256));
    r.key.icmp_code = static_cast<std::uint8_t>(pick(256));
    r.key.orig = {addr(v6), addr(v6), port(), port()};
    // Often the plain reply of the original tuple; else a NAT'd one.
    if (pick(3) != 0) {
      r.reply = {r.key.orig.dst, r.key.orig.src, r.key.orig.dport, r.key.orig.sport};
    } else {
      r.reply = {addr(v6), addr(v6), port(), port()};
    }
    r.id = static_cast<std::uint32_t>(rng_());
    r.state = static_cast<std::uint8_t>(pick(16));
    r.flags = static_cast<std::uint8_t>(pick(256));
    r.status = static_cast<std::uint16_t>(rng_());
    r.life = static_cast<std::uint8_t>(pick(4));
    r.mark = pick(2) == 0 ? 0 : static_cast<std::uint32_t>(rng_());
    r.orig_ctr = {big(), big()};
    r.reply_ctr = {big(), big()};
    r.start_ns = pick(4) == 0 ? big() : kNow - pick(1'000'000) * 1'000'000'019ULL;
    if (r.ended()) {
      r.stop_ns = pick(3) == 0 ? 0 : r.start_ns + big() % 10'000'000'000'000ULL;
    }
    r.rate_orig_bytes = rate();
    r.rate_reply_bytes = rate();
    r.rate_orig_packets = rate();
    r.rate_reply_packets = rate();
    return r;
  }

  core::Enrichment enrichment() {
    core::Enrichment e;
    random_state(e.process);
    e.process.value = {static_cast<std::int32_t>(rng_()),
                       static_cast<std::uint32_t>(pick(70000)),
                       text(),
                       text(),
                       text(),
                       pick(2) == 0 ? std::string() : text()};
    random_state(e.host);
    for (auto& b : e.host.value.mac) {
      b = static_cast<std::uint8_t>(pick(256));
    }
    e.host.value.name = text();
    random_state(e.inside_name);
    e.inside_name.value = text();
    random_state(e.remote_name);
    e.remote_name.value = text();
    random_state(e.inside_geo);
    e.inside_geo.value = geo();
    random_state(e.remote_geo);
    e.remote_geo.value = geo();
    e.service = pick(3) == 0 ? std::string() : text();
    return e;
  }

  std::int64_t realtime() {
    switch (pick(4)) {
      case 0: return 0;
      case 1: return static_cast<std::int64_t>(big() >> 1U);
      default: return static_cast<std::int64_t>(kNow + pick(1'000'000'000));
    }
  }

  static constexpr std::uint64_t kNow = 1'795'745'470'917'000'000;

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool coin() { return pick(2) == 0; }
  std::uint16_t port() { return static_cast<std::uint16_t>(pick(65536)); }
  std::uint64_t big() {
    const unsigned bits = static_cast<unsigned>(pick(65));
    return bits == 64 ? rng_() : rng_() & ((std::uint64_t{1} << bits) - 1);
  }
  core::IpAddr addr(bool v6) {
    static const char* const kV4[] = {"10.0.0.2",  "93.184.216.34", "192.0.2.1",
                                      "127.0.0.1", "0.0.0.0",       "255.255.255.255"};
    static const char* const kV6[] = {"2001:db8::1",    "::1",          "fe80::1:2:3:4",
                                      "::ffff:1.2.3.4", "2001:218::10", "ff02::fb"};
    return *core::IpAddr::parse(v6 ? kV6[pick(std::size(kV6))] : kV4[pick(std::size(kV4))]);
  }
  float rate() {
    switch (pick(8)) {
      case 0: return 0.0F;
      case 1: return -0.0F;
      case 2: return std::numeric_limits<float>::quiet_NaN();
      case 3: return std::numeric_limits<float>::infinity();
      case 4: return std::numeric_limits<float>::max();
      case 5: return std::numeric_limits<float>::denorm_min();
      default:
        return std::uniform_real_distribution<float>(0.0F, 1e9F)(rng_) /
               static_cast<float>(1U << pick(20));
    }
  }
  std::string text() {
    const auto& s = hostile_strings();
    std::string out = s[pick(s.size())];
    if (coin()) {
      out += s[pick(s.size())];
    }
    return out;
  }
  core::GeoInfo geo() {
    core::GeoInfo g;
    g.kind = static_cast<core::GeoInfo::Kind>(pick(3) == 0 ? pick(6) : 0);
    g.country = text();
    g.country_name = text();
    g.city = text();
    g.asn = coin() ? 0 : static_cast<std::uint32_t>(rng_());
    g.org = text();
    return g;
  }
  template <class L>
  void random_state(L& lookup) {
    lookup.state = static_cast<typename L::State>(pick(4) == 0 ? pick(4) : 1);  // mostly Ok
  }

  std::mt19937_64 rng_;
};

TEST(JsonStream, FrameObjectsEqualTheDomWritersByteForByte) {
  RandomFlows gen(20261207);
  for (int i = 0; i < 5000; ++i) {
    const FlowRecord rec = gen.record();
    const core::Enrichment enr = gen.enrichment();
    const FrameInfo frame{static_cast<std::uint64_t>(i) + 1, gen.realtime()};
    ASSERT_EQ(json_line(rec, enr, frame), reference::json_line(rec, enr, frame)) << "record " << i;
  }
}

TEST(JsonStream, EventRecordsEqualTheDomWritersByteForByte) {
  RandomFlows gen(7);
  for (int i = 0; i < 5000; ++i) {
    const FlowRecord rec = gen.record();
    const core::Enrichment enr = gen.enrichment();
    const std::int64_t now = gen.realtime();
    for (const FlowEvent ev : {FlowEvent::Start, FlowEvent::End}) {
      ASSERT_EQ(json_event_line(ev, rec, enr, now), reference::json_event_line(ev, rec, enr, now))
          << "record " << i;
    }
  }
}

TEST(JsonStream, HostileStringsKeepTheDocumentedFieldsIntact) {
  FlowRecord r;
  r.key.family = core::Family::V4;
  r.key.proto = 6;
  r.key.orig = {*core::IpAddr::parse("10.0.0.2"), *core::IpAddr::parse("93.184.216.34"), 51234,
                443};
  r.reply = {*core::IpAddr::parse("93.184.216.34"), *core::IpAddr::parse("10.0.0.2"), 443, 51234};
  r.flags = FlowRecord::kHasPorts | FlowRecord::kHasState;
  r.state = 3;
  const std::string bidi =
      "\xe2\x80\xae"
      "gpj.exe";  // U+202E: shows as "exe.jpg"
  const std::string controls = std::string("a\"b\\c\n\t\x1b[31m\x01\0z", 15);
  const std::string invalid = "bad\xff\xfe";
  core::Enrichment e;
  e.process = core::Lookup<core::ProcessInfo>::ready({42, 0, controls, bidi, "", invalid});
  e.remote_name = core::Lookup<std::string>::ready(bidi);
  e.inside_name = core::Lookup<std::string>::ready(controls);
  core::GeoInfo g;
  g.country = "\"";
  g.country_name = controls;
  g.city = bidi;
  g.asn = 64500;
  g.org = invalid;
  e.remote_geo = core::Lookup<core::GeoInfo>::ready(g);
  e.service = "\\";
  const std::string text = json_line(r, e, FrameInfo{1, 0});
  for (const char c : text) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20U) << "a raw control byte in " << text;
  }
  const auto j = nlohmann::ordered_json::parse(text);  // throws (fails) on invalid JSON
  std::vector<std::string> keys;
  for (const auto& item : j.items()) {
    keys.push_back(item.key());
  }
  const std::vector<std::string> documented = {
      "ts",         "frame",     "id",    "family",  "proto",   "state",    "orig",     "reply",
      "icmp",       "service",   "bytes", "packets", "rate",    "counters", "age_s",    "ended",
      "duration_s", "mark",      "zone",  "status",  "process", "src_name", "dst_name", "src_geo",
      "dst_geo",    "direction", "local", "remote",  "sent",    "received", "nat",      "owner"};
  EXPECT_EQ(keys, documented);
  EXPECT_EQ(j["service"], "\\");
  EXPECT_EQ(j["process"]["name"], controls);
  EXPECT_EQ(j["process"]["user"], bidi);
  EXPECT_EQ(j["owner"]["kind"], "process");
  EXPECT_EQ(j["owner"]["name"], controls);
  EXPECT_EQ(j["owner"]["netns"], "bad\xef\xbf\xbd\xef\xbf\xbd") << "invalid UTF-8 becomes U+FFFD";
  EXPECT_EQ(j["src_name"], controls);
  EXPECT_EQ(j["dst_name"], bidi);
  EXPECT_EQ(j["dst_geo"]["country"], "\"");
  EXPECT_EQ(j["dst_geo"]["country_name"], controls);
  EXPECT_EQ(j["dst_geo"]["city"], bidi);
  EXPECT_EQ(j["dst_geo"]["asn"], 64500);
  EXPECT_EQ(j["dst_geo"]["org"], "bad\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(j["remote"]["name"], bidi);
  EXPECT_EQ(j["local"]["name"], controls);
}

}  // namespace
}  // namespace flowtop::output
