#include "flowtop/output/json_writer.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "flowtop/core/ends.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/redact.hpp"

namespace flowtop::output {
namespace {

using Json = nlohmann::ordered_json;  // keys in the documented order (README)

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

}  // namespace

std::string json_line(const core::FlowRecord& rec, const FrameInfo& frame) {
  return json_line(rec, core::Enrichment{}, frame);
}

namespace {

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

}  // namespace

std::string json_line(const core::FlowRecord& rec, const core::Enrichment& enr,
                      const FrameInfo& frame) {
  Json j;
  j["ts"] = std::round(static_cast<double>(frame.realtime_ns) / 1e6) / 1e3;  // ms precision
  j["frame"] = frame.frame;
  flow_fields(j, rec, enr, frame.realtime_ns);
  // replace: any invalid UTF-8 that reaches a string becomes U+FFFD instead of throwing.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string json_event_line(FlowEvent event, const core::FlowRecord& rec,
                            const core::Enrichment& enr, std::int64_t realtime_ns) {
  // The frame object's flow fields, less what only a frame means (frame number, a rate of the
  // last interval, an age at the frame), after the record's version, kind and time.
  Json j;
  j["v"] = 1;
  j["event"] = event == FlowEvent::Start ? "start" : "end";
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
  if (event == FlowEvent::Start) {
    j.erase("duration_s");
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

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
  std::string out;
  const auto emit = [&](const std::string& line) {
    out += line;
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
    for (const std::uint32_t i : prepared.order) {
      const core::FlowRecord& rec = snapshot.flows[i];
      const core::Enrichment enr =
          snapshot.enrich ? snapshot.enrich(rec, core::kNeedAll) : core::Enrichment{};
      if (redact) {
        view::FlowRow row{rec, enr, {}, {}};
        view::redact_row(row, frame.redact, *frame.redactor);
        if (!emit(json_line(row.rec, row.enrich, frame))) {
          return false;
        }
      } else if (!emit(json_line(rec, enr, frame))) {
        return false;
      }
    }
  } else {
    for (const view::GroupRow& g : prepared.groups) {
      if (redact) {
        view::GroupRow masked = g;
        view::redact_group(masked, prepared.key.tab, frame.redact, *frame.redactor, true);
        if (!emit(json_group_line(masked, prepared.key.tab, frame))) {
          return false;
        }
      } else if (!emit(json_group_line(g, prepared.key.tab, frame))) {
        return false;
      }
    }
  }
  return out.empty() || sink(out);
}

}  // namespace flowtop::output
