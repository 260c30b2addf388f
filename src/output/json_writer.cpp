#include "flowtop/output/json_writer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "flowtop/core/ends.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/redact.hpp"

namespace flowtop::output {
namespace {

using Json = nlohmann::ordered_json;  // keys in the documented order (README)

// JSON text appended to one buffer as it is written: no DOM per flow. The output is what
// Json::dump(-1, ' ', false, replace) of the same values gives (compact, keys in the order
// written): strings are escaped by nlohmann (any bytes become valid UTF-8 JSON, invalid UTF-8
// U+FFFD) unless every byte is printable ASCII other than '"' and '\' (which nlohmann writes as
// they are); floating-point numbers are nlohmann's own shortest form.
class JsonText {
 public:
  explicit JsonText(std::string& out) : out_(out) {}

  void begin_object() {
    out_ += '{';
    first_ = true;
  }
  void end_object() {
    out_ += '}';
    first_ = false;
  }
  void begin_array() {
    out_ += '[';
    first_ = true;
  }
  void end_array() {
    out_ += ']';
    first_ = false;
  }
  // A member's name: one of ours (plain ASCII, short), written as it is, with the comma before
  // it, in one append (a frame object has about 70 of them).
  JsonText& key(std::string_view name) {
    std::array<char, 64> buf{};
    char* p = buf.data();
    if (!first_) {
      *p++ = ',';
    }
    *p++ = '"';
    const std::size_t n = std::min(name.size(), buf.size() - 4);
    std::memcpy(p, name.data(), n);
    p += n;
    *p++ = '"';
    *p++ = ':';
    out_.append(buf.data(), p);
    first_ = true;  // the value follows without a comma
    return *this;
  }
  void null() { raw("null"); }
  void boolean(bool b) { raw(b ? "true" : "false"); }
  template <class Int>
  requires std::is_integral_v<Int>
  void integer(Int v) {
    separate();
    std::array<char, 24> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out_.append(buf.data(), res.ptr);
    first_ = false;
  }
  void number(double v) {
    separate();
    if (!std::isfinite(v)) {
      out_ += "null";  // as nlohmann writes it
    } else {
      std::array<char, 64> buf{};
      // nlohmann's own formatter (the one dump() calls): the same digits byte for byte.
      char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
      out_.append(buf.data(), end);
    }
    first_ = false;
  }
  void string(std::string_view s) {
    separate();
    if (std::all_of(s.begin(), s.end(),
                    [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; })) {
      out_ += '"';
      out_ += s;
      out_ += '"';
    } else {
      out_ += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    first_ = false;
  }
  void string_or_null(std::string_view s) {
    if (s.empty()) {
      null();
    } else {
      string(s);
    }
  }
  // "10.0.0.1" (dotted quad written here: glibc's inet_ntop formats IPv4 with sprintf) or
  // "2001:db8::1" (inet_ntop).
  void address(const core::IpAddr& a) {
    std::array<char, INET6_ADDRSTRLEN> buf{};
    std::size_t len = 0;
    if (a.is_v4()) {
      char* p = buf.data();
      for (std::size_t i = 12; i < 16; ++i) {
        if (i > 12) {
          *p++ = '.';
        }
        p = std::to_chars(p, buf.data() + buf.size(), a.bytes[i]).ptr;
      }
      len = static_cast<std::size_t>(p - buf.data());
    } else {
      inet_ntop(AF_INET6, a.bytes.data(), buf.data(), buf.size());
      len = std::strlen(buf.data());
    }
    string(std::string_view(buf.data(), len));
  }

 private:
  void separate() {
    if (!first_) {
      out_ += ',';
    }
  }
  void raw(std::string_view text) {
    separate();
    out_ += text;
    first_ = false;
  }

  std::string& out_;
  bool first_ = true;
};

// Rates rounded to a thousandth: the record holds floats, whose widening would print noise digits.
double rounded(double value) {
  return std::round(value * 1000) / 1000;
}

double seconds_ms(std::int64_t ns) {
  return std::round(static_cast<double>(ns) / 1e6) / 1e3;  // seconds, milliseconds
}

void port(JsonText& j, bool ports, std::uint16_t value) {
  if (ports) {
    j.integer(value);
  } else {
    j.null();
  }
}

void tuple(JsonText& j, bool ports, const core::FlowTuple& t) {
  j.begin_object();
  j.key("src").address(t.src);
  j.key("dst").address(t.dst);
  port(j.key("sport"), ports, t.sport);
  port(j.key("dport"), ports, t.dport);
  j.end_object();
}

void icmp(JsonText& j, const core::FlowKey& key) {
  if (!core::proto_is_icmp(key.proto)) {
    j.null();
    return;
  }
  j.begin_object();
  j.key("type").integer(key.icmp_type);
  j.key("code").integer(key.icmp_code);
  j.key("id").integer(key.orig.sport);  // the echo id sits in the tuple's source port
  j.end_object();
}

void state(JsonText& j, const core::FlowRecord& rec) {
  if (!rec.has(core::FlowRecord::kHasState)) {
    j.null();
    return;
  }
  j.string_or_null(core::state_name(rec.key.proto, rec.state));
}

void pair(JsonText& j, std::uint64_t orig, std::uint64_t reply) {
  j.begin_object();
  j.key("orig").integer(orig);
  j.key("reply").integer(reply);
  j.end_object();
}

void rate(JsonText& j, const core::FlowRecord& rec) {
  const core::Rates r = core::rates_of(rec);
  j.begin_object();
  j.key("orig").number(rounded(r.orig_bytes));
  j.key("reply").number(rounded(r.reply_bytes));
  j.end_object();
}

void age_s(JsonText& j, const core::FlowRecord& rec, std::int64_t realtime_ns) {
  if (!rec.has(core::FlowRecord::kHasTimestamp)) {
    j.null();
    return;
  }
  // In unsigned arithmetic: a start after the frame (clocks disagree) or a wild value is age 0.
  if (const auto lived = core::duration_ns(rec)) {
    j.integer(*lived / 1'000'000'000);  // an ended flow: its duration
    return;
  }
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(realtime_ns, 0));
  j.integer(now > rec.start_ns ? (now - rec.start_ns) / 1'000'000'000 : std::uint64_t{0});
}

void status(JsonText& j, std::uint32_t bits) {
  j.begin_array();
  core::for_each_status_name(bits, [&](std::string_view name) { j.string(name); });
  j.end_array();
}

void name(JsonText& j, const core::Lookup<std::string>& l) {
  if (l.ok()) {
    j.string_or_null(l.value);
  } else {
    j.null();
  }
}

void process(JsonText& j, const core::Lookup<core::ProcessInfo>& l) {
  if (!l.ok()) {
    j.null();
    return;
  }
  j.begin_object();
  j.key("pid").integer(l.value.pid);
  j.key("name").string(l.value.name);
  j.key("user").string(l.value.user);
  j.end_object();
}

// Located addresses only; reserved ranges (private, loopback...) and unknown ones are null.
void geo(JsonText& j, const core::Lookup<core::GeoInfo>& l) {
  if (!l.ok() || l.value.kind != core::GeoInfo::Kind::Located) {
    j.null();
    return;
  }
  const core::GeoInfo& g = l.value;
  j.begin_object();
  j.key("country").string_or_null(g.country);
  j.key("country_name").string_or_null(g.country_name);
  j.key("city").string_or_null(g.city);
  if (g.asn != 0) {
    j.key("asn").integer(g.asn);
  } else {
    j.key("asn").null();
  }
  j.key("org").string_or_null(g.org);
  j.end_object();
}

void endpoint(JsonText& j, const core::Endpoint& ep, bool ports, const core::Lookup<std::string>& n,
              const core::Lookup<core::GeoInfo>& g) {
  j.begin_object();
  j.key("addr").address(ep.addr);
  port(j.key("port"), ports, ep.port);
  name(j.key("name"), n);
  geo(j.key("geo"), g);
  j.end_object();
}

void nat(JsonText& j, const core::FlowRecord& rec, bool ports) {
  const core::Nat n = core::nat_of(rec);
  if (!n.any()) {
    j.null();
    return;
  }
  j.begin_object();
  if (n.snat) {
    j.key("snat").string(view::endpoint(n.snat_to.addr, n.snat_to.port, ports));
  } else {
    j.key("snat").null();
  }
  if (n.dnat) {
    j.key("dnat").string(view::endpoint(n.dnat_to.addr, n.dnat_to.port, ports));
  } else {
    j.key("dnat").null();
  }
  j.end_object();
}

// What the inside end sent or received: bytes, packets and (`with_rate`) rate (null without
// counters; the rate null while it is not known).
void side(JsonText& j, bool counters, const core::Counters& c, bool with_rate, bool rate_known,
          double rate_bytes) {
  if (!counters) {
    j.null();
    return;
  }
  j.begin_object();
  j.key("bytes").integer(c.bytes);
  j.key("packets").integer(c.packets);
  if (with_rate) {
    if (rate_known) {
      j.key("rate").number(rounded(rate_bytes));
    } else {
      j.key("rate").null();
    }
  }
  j.end_object();
}

void owner(JsonText& j, const core::Enrichment& enr) {
  if (enr.process.ok()) {
    j.begin_object();
    j.key("kind").string("process");
    j.key("pid").integer(enr.process.value.pid);
    j.key("name").string(enr.process.value.name);
    j.key("user").string(enr.process.value.user);
    j.key("netns").string_or_null(enr.process.value.netns);
    j.end_object();
    return;
  }
  if (enr.host.ok()) {
    j.begin_object();
    j.key("kind").string("host");
    j.key("mac").string(core::mac_text(enr.host.value.mac));
    j.key("name").string_or_null(enr.host.value.name);
    j.end_object();
    return;
  }
  j.null();
}

// Which flow fields a record carries: a frame's object has them all; an event record (schema
// v1) has no rate of the last interval, no age at a frame, no "ended", and a start record no
// duration.
enum class Fields : std::uint8_t { Frame, EventStart, EventEnd };

// The flow fields of a frame object and of an event record, in README order.
void flow_fields(JsonText& j, const core::FlowRecord& rec, const core::Enrichment& enr,
                 std::int64_t realtime_ns, Fields fields) {
  const bool frame = fields == Fields::Frame;
  const bool counters = rec.has(core::FlowRecord::kHasCounters);
  j.key("id").integer(rec.id);
  j.key("family").string(rec.key.family == core::Family::V4 ? "ipv4" : "ipv6");
  j.key("proto").string(core::proto_label(rec.key.proto));
  state(j.key("state"), rec);
  const bool ports = rec.has(core::FlowRecord::kHasPorts);
  tuple(j.key("orig"), ports, rec.key.orig);
  tuple(j.key("reply"), ports, rec.reply);
  icmp(j.key("icmp"), rec.key);
  j.key("service").string_or_null(enr.service);
  if (counters) {
    pair(j.key("bytes"), rec.orig_ctr.bytes, rec.reply_ctr.bytes);
    pair(j.key("packets"), rec.orig_ctr.packets, rec.reply_ctr.packets);
  } else {
    j.key("bytes").null();
    j.key("packets").null();
  }
  const bool rates = core::rates_known(rec);
  if (frame) {
    if (rates) {
      rate(j.key("rate"), rec);
    } else {
      j.key("rate").null();
    }
  }
  j.key("counters").string(core::counter_state_name(core::counter_state(rec)));
  if (frame) {
    age_s(j.key("age_s"), rec, realtime_ns);
    j.key("ended").boolean(rec.ended());
  }
  if (fields != Fields::EventStart) {
    if (const auto lived = core::duration_ns(rec)) {
      j.key("duration_s").number(std::round(static_cast<double>(*lived) / 1e6) / 1e3);
    } else {
      j.key("duration_s").null();
    }
  }
  j.key("mark").integer(rec.mark);
  j.key("zone").integer(rec.key.zone);
  status(j.key("status"), rec.status);
  process(j.key("process"), enr.process);
  // The initiator (orig.src) is the inside end unless the inside end responds; dst_* are the
  // responder's (the reply source: the original destination unless DNAT'd).
  const core::Ends ends = core::ends_of(rec);
  const bool inside_first = ends.inside_initiated;
  name(j.key("src_name"), inside_first ? enr.inside_name : enr.remote_name);
  name(j.key("dst_name"), inside_first ? enr.remote_name : enr.inside_name);
  geo(j.key("src_geo"), inside_first ? enr.inside_geo : enr.remote_geo);
  geo(j.key("dst_geo"), inside_first ? enr.remote_geo : enr.inside_geo);
  const bool end_ports = ports && !core::proto_is_icmp(rec.key.proto);
  j.key("direction").string(view::dir_word(ends.direction));
  endpoint(j.key("local"), ends.inside, end_ports, enr.inside_name, enr.inside_geo);
  endpoint(j.key("remote"), ends.remote, end_ports, enr.remote_name, enr.remote_geo);
  side(j.key("sent"), counters, core::sent_counters(rec), frame, rates, core::sent_rate(rec));
  side(j.key("received"), counters, core::received_counters(rec), frame, rates,
       core::received_rate(rec));
  nat(j.key("nat"), rec, end_ports);
  owner(j.key("owner"), enr);
}

// One frame object of a flow, appended to `out` (no newline).
void append_json_line(std::string& out, const core::FlowRecord& rec, const core::Enrichment& enr,
                      const FrameInfo& frame) {
  JsonText j(out);
  j.begin_object();
  j.key("ts").number(seconds_ms(frame.realtime_ns));
  j.key("frame").integer(frame.frame);
  flow_fields(j, rec, enr, frame.realtime_ns, Fields::Frame);
  j.end_object();
}

}  // namespace

std::string json_line(const core::FlowRecord& rec, const FrameInfo& frame) {
  return json_line(rec, core::Enrichment{}, frame);
}

std::string json_line(const core::FlowRecord& rec, const core::Enrichment& enr,
                      const FrameInfo& frame) {
  std::string out;
  append_json_line(out, rec, enr, frame);
  return out;
}

std::string json_event_line(FlowEvent event, const core::FlowRecord& rec,
                            const core::Enrichment& enr, std::int64_t realtime_ns) {
  // The frame object's flow fields, less what only a frame means (frame number, a rate of the
  // last interval, an age at the frame), after the record's version, kind and time.
  std::string out;
  JsonText j(out);
  j.begin_object();
  j.key("v").integer(1);
  j.key("event").string(event == FlowEvent::Start ? "start" : "end");
  j.key("ts").number(seconds_ms(realtime_ns));
  if (rec.has(core::FlowRecord::kHasTimestamp)) {
    j.key("start").number(std::round(static_cast<double>(rec.start_ns) / 1e6) / 1e3);
  } else {
    j.key("start").null();
  }
  flow_fields(j, rec, enr, realtime_ns,
              event == FlowEvent::Start ? Fields::EventStart : Fields::EventEnd);
  j.end_object();
  return out;
}

namespace {

Json pair(std::uint64_t orig, std::uint64_t reply) {
  Json out;
  out["orig"] = orig;
  out["reply"] = reply;
  return out;
}

Json optional_pair(bool known, std::uint64_t orig, std::uint64_t reply) {
  return known ? pair(orig, reply) : Json(nullptr);
}

Json rate_pair(bool known, double orig, double reply) {
  if (!known) {
    return nullptr;
  }
  Json out;
  out["orig"] = rounded(orig);
  out["reply"] = rounded(reply);
  return out;
}

std::string_view tab_key(view::Tab tab) {
  switch (tab) {
    case view::Tab::Flows: return "flows";
    case view::Tab::Owners: return "owners";
    case view::Tab::Hosts: return "hosts";
    case view::Tab::Countries: return "countries";
    case view::Tab::As: return "as";
  }
  return "";
}

Json ts(std::int64_t realtime_ns) {
  return std::round(static_cast<double>(realtime_ns) / 1e6) / 1e3;  // seconds, milliseconds
}

}  // namespace

std::string json_group_line(const view::GroupRow& g, view::Tab tab, const FrameInfo& frame) {
  Json j;
  j["ts"] = ts(frame.realtime_ns);
  j["frame"] = frame.frame;
  j["tab"] = tab_key(tab);
  const auto known = [](const std::string& s) { return !s.empty() && s != "-"; };
  switch (tab) {
    case view::Tab::Owners:
      if (g.key.name.starts_with('\x01')) {  // a LAN device (view/aggregate.cpp)
        j["kind"] = "host";
        j["mac"] = g.key.name.substr(1);
        j["name"] = known(g.label) ? Json(g.label) : Json(nullptr);
        break;
      }
      j["kind"] = g.key.pid != 0 ? Json("process") : Json(nullptr);
      j["pid"] = g.key.pid != 0 ? Json(g.key.pid) : Json(nullptr);
      j["name"] = known(g.label) ? Json(g.label) : Json(nullptr);  // "curl@web" in a container
      j["user"] = known(g.detail) ? Json(g.detail) : Json(nullptr);
      break;
    case view::Tab::Hosts: {
      const std::string addr = g.key.addr.to_string();
      j["addr"] = addr;
      j["name"] = g.label != addr && known(g.label) ? Json(g.label) : Json(nullptr);
      j["country"] = known(g.detail) ? Json(g.detail) : Json(nullptr);
      break;
    }
    case view::Tab::Countries:
      j["country"] = known(g.key.name) ? Json(g.key.name) : Json(nullptr);
      j["country_name"] = known(g.detail) ? Json(g.detail) : Json(nullptr);
      break;
    case view::Tab::As:
      j["asn"] = g.key.asn != 0 ? Json(g.key.asn) : Json(nullptr);
      j["org"] = known(g.detail) ? Json(g.detail) : Json(nullptr);
      break;
    case view::Tab::Flows: break;
  }
  j["flows"] = g.flows;
  j["bytes"] = optional_pair(g.known_counters, g.bytes_out, g.bytes_in);
  j["packets"] = optional_pair(g.known_counters, g.packets_out, g.packets_in);
  j["rate"] = rate_pair(g.known_rates, g.rate_out, g.rate_in);
  // Bytes since flowtop started, ended flows included (TOTAL↑ / TOTAL↓).
  j["total"] = optional_pair(g.known_totals, g.total_out, g.total_in);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool write_json_frame(const view::Prepared& prepared, const view::Snapshot& snapshot,
                      const FrameInfo& frame, core::FunctionRef<bool(std::string_view)> sink) {
  constexpr std::size_t kChunk = std::size_t{256} * 1024;
  // One buffer for the whole frame, flushed to `sink` every kChunk bytes: objects are written
  // straight into it (no DOM, no string per flow).
  std::string out;
  out.reserve(kChunk + 4096);
  const auto flush_if_full = [&] {
    out += '\n';
    if (out.size() < kChunk) {
      return true;
    }
    const bool ok = sink(out);
    out.clear();
    return ok;
  };
  const bool redact = frame.redact != core::RedactScope::Off && frame.redactor != nullptr;
  if (prepared.key.tab == view::Tab::Flows) {
    const std::vector<std::uint32_t>& order = prepared.order;
    for (std::size_t n = 0; n < order.size(); ++n) {
      if (n + core::kPrefetchAhead < order.size()) {
        core::prefetch(snapshot.flows[order[n + core::kPrefetchAhead]]);
      }
      const core::FlowRecord& rec = snapshot.flows[order[n]];
      const core::Enrichment enr =
          snapshot.enrich ? snapshot.enrich(rec, core::kNeedAll) : core::Enrichment{};
      if (redact) {
        view::FlowRow row{rec, enr, {}, {}};
        view::redact_row(row, frame.redact, *frame.redactor);
        append_json_line(out, row.rec, row.enrich, frame);
      } else {
        append_json_line(out, rec, enr, frame);
      }
      if (!flush_if_full()) {
        return false;
      }
    }
  } else {
    for (const view::GroupRow& g : prepared.groups) {
      if (redact) {
        view::GroupRow masked = g;
        view::redact_group(masked, prepared.key.tab, frame.redact, *frame.redactor, true);
        out += json_group_line(masked, prepared.key.tab, frame);
      } else {
        out += json_group_line(g, prepared.key.tab, frame);
      }
      if (!flush_if_full()) {
        return false;
      }
    }
  }
  return out.empty() || sink(out);
}

}  // namespace flowtop::output
