// The column registry: one spec per column, in screen order. Adding a column is one enumerator
// in column.hpp, one entry in kColumns below, and its formatters.
#include "flowtop/view/column.hpp"

#include <algorithm>
#include <bit>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/text.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/rows.hpp"

namespace flowtop::view {
namespace {

using core::FlowRecord;
using C = Column;

// ---- sort key encoders ----

std::uint64_t enc(double d) {
  const auto bits = std::bit_cast<std::uint64_t>(d == 0 ? 0.0 : d);  // -0 == +0
  return (bits >> 63U) != 0 ? ~bits : bits | (std::uint64_t{1} << 63U);
}
constexpr std::uint64_t enc_signed(std::int64_t v) {
  return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63U);
}

void number(SortValue& v, bool known, std::uint64_t word) {
  v.known = known;
  v.words[0] = word;
}
void text(SortValue& v, std::string_view t, bool known = true) {
  v.known = known && !t.empty();
  v.text = t;
  v.text_slot = 0;
}
// A group's label or detail: "-" and "" are unknown.
void group_text(SortValue& v, const std::string& t) {
  text(v, t, t != "-");
}

bool counters(const FlowRecord& r) {
  return r.has(FlowRecord::kHasCounters);
}

using Enr = core::Enrichment;

void process_key(const FlowRecord& r, const Enr& e, const ViewState& s, SortValue& v) {
  if (e.process.ok()) {
    text(v, e.process.value.name);
    return;
  }
  if (e.host.ok()) {
    if (!e.host.value.name.empty()) {
      text(v, e.host.value.name);
      return;
    }
    const core::Ends ends = core::ends_of(r);
    if (s.dns && e.inside_name.ok() && !e.inside_name.value.empty()) {
      text(v, e.inside_name.value);
      return;
    }
    const auto [hi, lo] = ends.inside.addr.ordered_words();
    v.words = {~std::uint64_t{0}, hi, lo};  // addresses after the names
    return;
  }
  v.known = false;
}
void dir_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/, SortValue& v) {
  number(v, true, static_cast<std::uint64_t>(r.direction()));
}
void nat_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/, SortValue& v) {
  const core::Nat n = core::nat_of(r);
  number(v, n.any(), (n.dnat ? 2U : 0U) | (n.snat ? 1U : 0U));
}
void pid_key(const FlowRecord& /*rec*/, const Enr& e, const ViewState& /*state*/, SortValue& v) {
  number(v, e.process.ok(), enc_signed(e.process.value.pid));
}
void proto_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
               SortValue& v) {
  text(v, core::proto_name(r.key.proto));
  v.words[1] = static_cast<std::uint64_t>(r.key.family);
}
void state_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
               SortValue& v) {
  text(v, core::state_name(r.key.proto, r.state), r.has(FlowRecord::kHasState));
}
void age_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/, SortValue& v) {
  number(v, r.has(FlowRecord::kHasTimestamp), ~r.start_ns);  // older is bigger: an earlier start
}
void address_key(const FlowRecord& r, const Enr& e, const ViewState& s, SortValue& v) {
  // Names sort among themselves before the numeric addresses (after them when reversed): the
  // column reads as text, with the addresses in numeric order.
  if (s.dns && e.remote_name.ok() && !e.remote_name.value.empty()) {
    v.words = {0, 0, 0};
    v.text = e.remote_name.value;
    v.text_slot = 1;
    return;
  }
  const auto [hi, lo] = core::ends_of(r).remote.addr.ordered_words();
  v.words = {1, hi, lo};
}
void port_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
              SortValue& v) {
  const bool icmp = core::proto_is_icmp(r.key.proto);
  number(v, icmp || r.has(FlowRecord::kHasPorts),
         icmp ? r.key.icmp_type * 256U + r.key.icmp_code : r.reply.sport);
}
void geo_key(const FlowRecord& /*rec*/, const Enr& e, const ViewState& /*state*/, SortValue& v) {
  text(v, geo_code(e.remote_geo));
}
void bytes_out_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
                   SortValue& v) {
  number(v, counters(r), core::sent_counters(r).bytes);
}
void bytes_in_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
                  SortValue& v) {
  number(v, counters(r), core::received_counters(r).bytes);
}
void rate_out_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
                  SortValue& v) {
  number(v, core::rates_known(r), enc(core::sent_rate(r)));
}
void rate_in_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
                 SortValue& v) {
  number(v, core::rates_known(r), enc(core::received_rate(r)));
}
void packets_out_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
                     SortValue& v) {
  number(v, counters(r), core::sent_counters(r).packets);
}
void packets_in_key(const FlowRecord& r, const Enr& /*enrich*/, const ViewState& /*state*/,
                    SortValue& v) {
  number(v, counters(r), core::received_counters(r).packets);
}

void label_key(const GroupRow& g, SortValue& v) {
  group_text(v, g.label);
}
void detail_key(const GroupRow& g, SortValue& v) {
  group_text(v, g.detail);
}
void group_pid_key(const GroupRow& g, SortValue& v) {
  number(v, g.key.pid != 0, enc_signed(g.key.pid));
}
void group_asn_key(const GroupRow& g, SortValue& v) {
  number(v, g.key.asn != 0, g.key.asn);
}
void group_flows_key(const GroupRow& g, SortValue& v) {
  number(v, true, g.flows);
}
void group_bytes_out_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_counters, g.bytes_out);
}
void group_bytes_in_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_counters, g.bytes_in);
}
void group_rate_out_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_rates, enc(g.rate_out));
}
void group_rate_in_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_rates, enc(g.rate_in));
}
void group_total_out_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_totals, g.total_out);
}
void group_total_in_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_totals, g.total_in);
}
void group_packets_out_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_counters, g.packets_out);
}
void group_packets_in_key(const GroupRow& g, SortValue& v) {
  number(v, g.known_counters, g.packets_in);
}

// ---- cell formatters ----

using Ctx = CellContext;

// A lookup's text: the value when known, blank while pending, "-" when failed or off.
template <class T>
std::string lookup_text(const core::Lookup<T>& l, const std::string& ok_text) {
  switch (l.state) {
    case core::Lookup<T>::State::Ok: return ok_text;
    case core::Lookup<T>::State::Pending: return "";  // being looked up: blank, not a guess
    case core::Lookup<T>::State::Failed:
    case core::Lookup<T>::State::Disabled: return "-";
  }
  return "-";
}

std::string or_dash(const std::string& s) {
  return s.empty() ? std::string("-") : s;
}

std::string process_cell(const FlowRow& r, const Ctx& c) {
  return owner_text(r, c.state.dns).value_or("-");
}
std::string pid_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return lookup_text(r.enrich.process, std::to_string(r.enrich.process.value.pid));
}
std::string dir_cell(const FlowRow& r, const Ctx& c) {
  return std::string(dir_mark(r.rec.direction(), c.ascii));
}
std::string nat_cell(const FlowRow& r, const Ctx& c) {
  return nat_text(r.rec, c.width);
}
std::string proto_flow_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return proto_cell(r.rec.key);
}
std::string state_flow_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return state_cell(r.rec);
}
std::string age_flow_cell(const FlowRow& r, const Ctx& c) {
  return age_cell(r.rec, c.realtime_ns);
}
std::string address_cell(const FlowRow& r, const Ctx& c) {
  return address_text(core::ends_of(r.rec).remote.addr, r.enrich.remote_name, c.state.dns);
}
std::string port_flow_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return port_cell(r);
}
std::string geo_flow_cell(const FlowRow& r, const Ctx& c) {
  return geo_cell(r.enrich.remote_geo, c.width, c.state.geoip);
}
// ↑ is what the inside end sent, ↓ what it received (core/ends.hpp).
std::string bytes_out_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return bytes_cell(counters(r.rec), core::sent_counters(r.rec).bytes);
}
std::string bytes_in_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return bytes_cell(counters(r.rec), core::received_counters(r.rec).bytes);
}
std::string rate_out_cell(const FlowRow& r, const Ctx& c) {
  return rate_cell(core::rates_known(r.rec), core::sent_rate(r.rec), c.state.bits);
}
std::string rate_in_cell(const FlowRow& r, const Ctx& c) {
  return rate_cell(core::rates_known(r.rec), core::received_rate(r.rec), c.state.bits);
}
std::string packets_out_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return packets_cell(counters(r.rec), core::sent_counters(r.rec).packets);
}
std::string packets_in_cell(const FlowRow& r, const Ctx& /*ctx*/) {
  return packets_cell(counters(r.rec), core::received_counters(r.rec).packets);
}

std::string label_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return or_dash(g.label);
}
std::string detail_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return or_dash(g.detail);
}
std::string group_pid_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return g.key.pid != 0 ? std::to_string(g.key.pid) : "-";
}
std::string group_flows_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return count_cell(g.flows);
}
std::string group_bytes_out_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return bytes_cell(g.known_counters, g.bytes_out);
}
std::string group_bytes_in_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return bytes_cell(g.known_counters, g.bytes_in);
}
std::string group_rate_out_cell(const GroupRow& g, const Ctx& c) {
  return rate_cell(g.known_rates, g.rate_out, c.state.bits);
}
std::string group_rate_in_cell(const GroupRow& g, const Ctx& c) {
  return rate_cell(g.known_rates, g.rate_in, c.state.bits);
}
// Without totals (nothing keeps them: a frame built without a ledger) there is nothing to say,
// and the screen leaves the column out; with them a zero is blank as everywhere.
std::string group_total_out_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return g.known_totals ? bytes_cell(true, g.total_out) : std::string();
}
std::string group_total_in_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return g.known_totals ? bytes_cell(true, g.total_in) : std::string();
}
std::string group_packets_out_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return packets_cell(g.known_counters, g.packets_out);
}
std::string group_packets_in_cell(const GroupRow& g, const Ctx& /*ctx*/) {
  return packets_cell(g.known_counters, g.packets_in);
}

// ---- the registry ----

// Placements per tab: Flows, Owners, Hosts, Countries, AS. P{priority, min, pref, comfort}.
// A column is as wide as its widest cell on screen, within min and pref (column.hpp). On the Flows
// tab the byte totals, PID, NAT and packets are optional (priority <= 4): at 80 columns the owner,
// protocol, state, age, remote end, service, country and both rates show.
using P = Placement;
constexpr P kNo{};
// The counter columns stand on every tab with the same widths; on the aggregate tabs they rank
// below the group's own columns.
constexpr std::array<P, kTabCount> counter(std::uint8_t flows, std::uint8_t groups,
                                           std::uint8_t width) {
  return {P{flows, width, width, width}, P{groups, width, width, width},
          P{groups, width, width, width}, P{groups, width, width, width},
          P{groups, width, width, width}};
}
constexpr std::array<P, kTabCount> groups_only(std::uint8_t priority, std::uint8_t width) {
  return {kNo, P{priority, width, width, width}, P{priority, width, width, width},
          P{priority, width, width, width}, P{priority, width, width, width}};
}

constexpr std::uint8_t kRateWidth = 10;  // "999.9 kB/s"

// One column per entry, in the order of the fields of ColumnSpec: id, name, aliases, label, ASCII
// label, placements, right, descending, rate, sort_needs, flow sort key, group sort key, flow
// cell, group cell.
// clang-format off
constexpr std::array<ColumnSpec, kColumnCount> kColumns{{
    {C::Process, "owner", "process name", "OWNER", "OWNER",
     {P{8, 7, 20, 10}, P{10, 10, 32, 12}, kNo, kNo, kNo}, false, false, false,
     core::kNeedProcess | core::kNeedInsideName, process_key, label_key, process_cell,
     label_cell},
    {C::Pid, "pid", "", "PID", "PID",
     {P{2, 3, 7, 3}, P{8, 3, 7, 3}, kNo, kNo, kNo}, true, false, false,
     core::kNeedProcess, pid_key, group_pid_key, pid_cell, group_pid_cell},
    {C::User, "user", "", "USER", "USER",
     {kNo, P{3, 8, 17, 17}, kNo, kNo, kNo}, false, false, false,
     0, nullptr, detail_key, nullptr, detail_cell},
    {C::Proto, "proto", "", "PROTO", "PROTO",
     {P{11, 5, 6, 5}, kNo, kNo, kNo, kNo}, false, false, false,
     0, proto_key, nullptr, proto_flow_cell, nullptr},
    {C::State, "state", "", "STATE", "STATE",
     {P{7, 11, 11, 11}, kNo, kNo, kNo, kNo}, false, false, false,
     0, state_key, nullptr, state_flow_cell, nullptr},
    {C::Age, "age", "time", "TIME", "TIME",
     {P{6, 4, 4, 4}, kNo, kNo, kNo, kNo}, true, true, false,
     0, age_key, nullptr, age_flow_cell, nullptr},
    {C::Dir, "dir", "direction", "", "",
     {P{12, 1, 1, 1}, kNo, kNo, kNo, kNo}, false, false, false,
     0, dir_key, nullptr, dir_cell, nullptr},
    {C::Address, "address", "host", "ADDRESS", "ADDRESS",
     {P{13, 15, 40, 24}, kNo, P{12, 15, 50, 24, "HOST"}, kNo, kNo}, false, false, false,
     core::kNeedRemoteName, address_key, label_key, address_cell, label_cell},
    {C::Port, "port", "service", "PORT", "PORT",
     {P{9, 5, 10, 9}, kNo, kNo, kNo, kNo}, false, false, false,
     0, port_key, nullptr, port_flow_cell, nullptr},
    {C::Nat, "nat", "", "NAT", "NAT",
     {P{2, 6, 30, 6}, kNo, kNo, kNo, kNo}, false, false, false,
     0, nat_key, nullptr, nat_cell, nullptr},
    {C::Geo, "geo", "", "GEO", "GEO",
     {P{5, 3, 28, 3}, kNo, P{4, 3, 28, 3}, kNo, kNo}, false, false, false,
     core::kNeedRemoteGeo, geo_key, detail_key, geo_flow_cell, detail_cell},
    {C::Country, "country", "", "COUNTRY", "COUNTRY",
     {kNo, kNo, kNo, P{12, 10, 10, 10}, kNo}, false, false, false,
     0, nullptr, label_key, nullptr, label_cell},
    {C::CountryName, "country-name", "", "NAME", "NAME",
     {kNo, kNo, kNo, P{4, 10, 30, 16}, kNo}, false, false, false,
     0, nullptr, detail_key, nullptr, detail_cell},
    {C::Asn, "asn", "as", "AS", "AS",
     {kNo, kNo, kNo, kNo, P{12, 8, 12, 8}}, false, false, false,
     0, nullptr, group_asn_key, nullptr, label_cell},
    {C::Org, "org", "", "ORG", "ORG",
     {kNo, kNo, kNo, kNo, P{4, 10, 40, 16}}, false, false, false,
     0, nullptr, detail_key, nullptr, detail_cell},
    {C::Flows, "flows", "", "FLOWS", "FLOWS",
     groups_only(9, 6), true, true, false,
     0, nullptr, group_flows_key, nullptr, group_flows_cell},
    {C::BytesOut, "bytes-out", "", "BYTES↑", "BYTES-O",
     counter(3, 5, 8), true, true, false,
     0, bytes_out_key, group_bytes_out_key, bytes_out_cell, group_bytes_out_cell},
    {C::RateOut, "rate-out", "", "RATE↑", "RATE-O",
     counter(10, 7, kRateWidth), true, true, true,
     0, rate_out_key, group_rate_out_key, rate_out_cell, group_rate_out_cell},
    {C::BytesIn, "bytes-in", "bytes", "BYTES↓", "BYTES-I",
     counter(4, 6, 8), true, true, false,
     0, bytes_in_key, group_bytes_in_key, bytes_in_cell, group_bytes_in_cell},
    {C::RateIn, "rate-in", "rate", "RATE↓", "RATE-I",
     counter(12, 11, kRateWidth), true, true, true,
     0, rate_in_key, group_rate_in_key, rate_in_cell, group_rate_in_cell},
    {C::TotalOut, "total-out", "", "TOTAL↑", "TOTAL-O",
     groups_only(2, 8), true, true, false,
     0, nullptr, group_total_out_key, nullptr, group_total_out_cell},
    {C::TotalIn, "total-in", "total", "TOTAL↓", "TOTAL-I",
     groups_only(2, 8), true, true, false,
     0, nullptr, group_total_in_key, nullptr, group_total_in_cell},
    {C::PacketsOut, "packets-out", "", "PKTS↑", "PKTS-O",
     counter(1, 1, 6), true, true, false,
     0, packets_out_key, group_packets_out_key, packets_out_cell, group_packets_out_cell},
    {C::PacketsIn, "packets-in", "packets", "PKTS↓", "PKTS-I",
     counter(2, 2, 6), true, true, false,
     0, packets_in_key, group_packets_in_key, packets_in_cell, group_packets_in_cell},
}};
// clang-format on

constexpr bool registry_in_column_order() {
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    if (static_cast<std::size_t>(kColumns[i].id) != i) {
      return false;
    }
  }
  return true;
}
static_assert(registry_in_column_order(), "kColumns must list every Column in enum order");

// The columns of each tab, in registry order (built once).
const std::array<std::vector<Column>, kTabCount>& tab_columns() {
  static const auto columns = [] {
    std::array<std::vector<Column>, kTabCount> out;
    for (const ColumnSpec& s : kColumns) {
      for (std::size_t t = 0; t < kTabCount; ++t) {
        if (s.on[t].priority != 0) {
          out[t].push_back(s.id);
        }
      }
    }
    return out;
  }();
  return columns;
}

// Calls fn(name) for the column's name and each alias.
template <class F>
void each_name(const ColumnSpec& s, F&& fn) {
  fn(s.name);
  std::string_view rest = s.aliases;
  while (!rest.empty()) {
    const std::size_t sp = rest.find(' ');
    fn(rest.substr(0, sp));
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  }
}

}  // namespace

std::string_view tab_name(Tab tab) {
  switch (tab) {
    case Tab::Flows: return "Flows";
    case Tab::Owners: return "Owners";
    case Tab::Hosts: return "Hosts";
    case Tab::Countries: return "Countries";
    case Tab::As: return "AS";
  }
  return "";
}

std::optional<Tab> parse_tab(std::string_view name) {
  for (std::size_t i = 0; i < kTabCount; ++i) {
    const auto tab = static_cast<Tab>(i);
    if (core::iequals(tab_name(tab), name)) {
      return tab;
    }
  }
  if (core::iequals(name, "processes")) {
    return Tab::Owners;
  }
  return std::nullopt;
}

std::span<const ColumnSpec> all_columns() {
  return kColumns;
}

const ColumnSpec& spec_of(Column column) {
  return kColumns[static_cast<std::size_t>(column)];
}

std::span<const Column> columns_of(Tab tab) {
  return tab_columns()[static_cast<std::size_t>(tab)];
}

bool has_column(Tab tab, Column column) {
  return placement(tab, column).priority != 0;
}

const Placement& placement(Tab tab, Column column) {
  return spec_of(column).on[static_cast<std::size_t>(tab)];
}

std::string_view column_label(Tab tab, Column column, bool ascii) {
  const ColumnSpec& s = spec_of(column);
  const std::string_view own = placement(tab, column).label;
  if (!own.empty()) {
    return own;
  }
  return ascii ? s.ascii_label : s.label;
}

std::string_view column_name(Column column) {
  const auto i = static_cast<std::size_t>(column);
  return i < kColumns.size() ? kColumns[i].name : std::string_view{};
}

std::optional<Column> parse_column(std::string_view name) {
  std::optional<Column> found;
  for (const ColumnSpec& s : kColumns) {
    each_name(s, [&](std::string_view n) {
      if (!found && core::iequals(n, name)) {
        found = s.id;
      }
    });
  }
  return found;
}

std::string column_names() {
  std::string out;
  for (const ColumnSpec& s : kColumns) {
    each_name(s, [&](std::string_view n) {
      out += out.empty() ? "" : " ";
      out += n;
    });
  }
  return out;
}

bool descending_by_default(Column column) {
  return spec_of(column).descending;
}

}  // namespace flowtop::view
