#include "render/panels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <string>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/pressure.hpp"
#include "flowtop/core/text.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/command.hpp"
#include "flowtop/view/totals.hpp"
#include "render/line.hpp"
#include "render/sparkline.hpp"
#include "render/table.hpp"

namespace flowtop::render::detail {
namespace {

using core::FlowRecord;

constexpr std::size_t kLabelWidth = 11;

// "label    value" with the label dimmed.
Line labelled(std::string_view label, std::string_view value, std::size_t cols, bool ascii) {
  LineBuilder b(cols, ascii);
  b.field(label, kLabelWidth, Style::Dim);
  b.add(value, Style::Overlay);
  return b.take(Style::Overlay);
}

std::string tuple_text(const core::FlowTuple& t, const FlowRecord& rec, bool ascii) {
  const bool ports = rec.has(FlowRecord::kHasPorts);
  std::string s = fmt::format("{} {} {}", view::endpoint(t.src, t.sport, ports), ascii ? "->" : "→",
                              view::endpoint(t.dst, t.dport, ports));
  if (core::proto_is_icmp(rec.key.proto)) {
    s += fmt::format("  type {} code {} id {}", rec.key.icmp_type, rec.key.icmp_code, t.sport);
  }
  return s;
}

// The translations, with where they lead: "DNAT to 192.168.77.10:22, SNAT to 10.0.0.1:40000".
std::string nat_line(const FlowRecord& rec) {
  const core::Nat n = core::nat_of(rec);
  const bool ports = rec.has(FlowRecord::kHasPorts) && !core::proto_is_icmp(rec.key.proto);
  std::string s;
  if (n.dnat) {
    s = "DNAT to " + view::endpoint(n.dnat_to.addr, n.dnat_to.port, ports);
  }
  if (n.snat) {
    s += (s.empty() ? "" : ", ") + std::string("SNAT to ") +
         view::endpoint(n.snat_to.addr, n.snat_to.port, ports);
  }
  return s;
}

std::string_view direction_name(core::Direction d) {
  switch (d) {
    case core::Direction::Out: return "outbound (opened here)";
    case core::Direction::In: return "inbound (answered here)";
    case core::Direction::Local: return "local (both ends here)";
    case core::Direction::Forward: return "forwarded (routed through here)";
  }
  return "";
}

std::string direction_text(const FlowRecord& rec, const core::Counters& c, double rate,
                           double pkt_rate, bool bits) {
  switch (core::counter_state(rec)) {
    case core::CounterState::Off: return "- (accounting was off when the flow started)";
    case core::CounterState::Pending:
      if (!rec.has(FlowRecord::kHasCounters)) {
        return "- (not read from the kernel yet)";
      }
      return fmt::format("{} B ({})  {} packets  rate -", core::format_count(c.bytes),
                         core::format_bytes(c.bytes), core::format_count(c.packets));
    case core::CounterState::Ok: break;
  }
  return fmt::format("{} B ({})  {} packets  {}  {:.1f} pkt/s", core::format_count(c.bytes),
                     core::format_bytes(c.bytes), core::format_count(c.packets),
                     core::format_rate(rate, bits), pkt_rate);
}

std::string start_text(const FlowRecord& rec, std::int64_t realtime_ns) {
  if (!rec.has(FlowRecord::kHasTimestamp)) {
    return "- (timestamps were off when the flow started)";
  }
  const auto secs = static_cast<std::time_t>(rec.start_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(realtime_ns, 0));
  const std::uint64_t age = now > rec.start_ns ? (now - rec.start_ns) / 1'000'000'000 : 0;
  return fmt::format("{} ({} ago)", buf.data(), core::format_age(age));
}

template <class T>
std::string state_word(const core::Lookup<T>& l) {
  switch (l.state) {
    case core::Lookup<T>::State::Pending: return "looking up";
    case core::Lookup<T>::State::Failed: return "-";
    case core::Lookup<T>::State::Disabled: return "off";
    case core::Lookup<T>::State::Ok: return "";
  }
  return "";
}

std::string geo_full(const core::Lookup<core::GeoInfo>& g) {
  if (!g.ok()) {
    return "geo " + state_word(g);
  }
  const core::GeoInfo& v = g.value;
  if (v.kind != core::GeoInfo::Kind::Located) {
    return core::geo_kind_label(v.kind);
  }
  std::string s = v.country.empty() ? "-" : v.country;
  if (!v.country_name.empty()) {
    s += " " + v.country_name;
  }
  if (!v.city.empty()) {
    s += ", " + v.city;
  }
  if (v.asn != 0) {
    s += fmt::format(", AS{}", v.asn);
    if (!v.org.empty()) {
      s += " " + v.org;
    }
  }
  return s;
}

std::string end_text(const core::IpAddr& addr, const core::Lookup<std::string>& name,
                     const core::Lookup<core::GeoInfo>& geo, const view::ViewState& state) {
  std::string s = addr.to_string();
  if (name.ok() && !name.value.empty()) {
    s += "  " + name.value;
  } else if (state.dns) {
    s += "  name " + (name.ok() ? std::string("-") : state_word(name));
  }
  if (state.geoip) {
    s += "  " + geo_full(geo);
  }
  return s;
}

std::string counter_text(std::string_view name, double total, const core::CtPressure& p,
                         double core::CtDropCounters::*field) {
  std::string s = fmt::format("{} {}", name, core::format_count(static_cast<std::uint64_t>(total)));
  if (p.rate) {
    const double r = (*p.rate).*field;
    s += r >= 10 ? fmt::format(" ({:.0f}/s)", r) : fmt::format(" ({:.1f}/s)", r);
  }
  return s;
}

std::string cpu_text(const core::CtCpuStats& c) {
  return fmt::format(
      "found={} invalid={} insert={} insert_failed={} drop={} early_drop={} error={} "
      "search_restart={} clash_resolve={} chaintoolong={}",
      c.found, c.invalid, c.insert, c.insert_failed, c.drop, c.early_drop, c.error,
      c.search_restart, c.clash_resolve, c.chaintoolong);
}

}  // namespace

std::vector<Line> pressure_lines(const view::Status& status, std::size_t cols, bool ascii) {
  std::vector<Line> out;
  {
    LineBuilder b(cols, ascii);
    b.add(" Conntrack pressure   (p or Esc closes)", Style::OverlayTitle);
    out.push_back(b.take(Style::OverlayTitle));
  }
  const core::CtPressure& p = status.pressure;
  const std::uint64_t entries = p.now.entries.value_or(status.tracked);
  const std::uint64_t max = p.now.max.value_or(status.ct_max);
  if (const auto pct = core::table_fill_percent(entries, max)) {
    out.push_back(labelled(
        "table",
        fmt::format(
            "{:.1f}% full: {} of nf_conntrack_max {}{}", *pct, core::format_count(entries),
            core::format_count(max),
            *pct >= core::kTableFillWarnPercent ? "  (when full, new flows are dropped)" : ""),
        cols, ascii));
  } else {
    out.push_back(
        labelled("table", fmt::format("{} entries, limit unknown", entries), cols, ascii));
  }
  if (p.now.cpus.empty()) {
    out.push_back(labelled("dropped", "- (the kernel gave no statistics)", cols, ascii));
  } else {
    using D = core::CtDropCounters;
    out.push_back(labelled(
        "dropped",
        fmt::format("{}  {}  {}  {}", counter_text("drop", p.totals.drop, p, &D::drop),
                    counter_text("early_drop", p.totals.early_drop, p, &D::early_drop),
                    counter_text("insert_failed", p.totals.insert_failed, p, &D::insert_failed),
                    counter_text("error", p.totals.error, p, &D::error)),
        cols, ascii));
  }
  out.push_back(labelled(
      "flowtop",
      fmt::format("{} events; lost events {} time{} (ENOBUFS), {} resync dump{}",
                  core::format_count(status.events), status.enobufs, status.enobufs == 1 ? "" : "s",
                  status.resyncs, status.resyncs == 1 ? "" : "s"),
      cols, ascii));
  out.push_back(labelled(
      "offloaded",
      status.offloaded == 0
          ? std::string("no flow in a flowtable")
          : fmt::format("{} flow{} in a flowtable (STATE OFFLOAD): counters and rates are stale",
                        core::format_count(status.offloaded), status.offloaded == 1 ? "" : "s"),
      cols, ascii));
  out.push_back(labelled("who", "Hosts tab sorted by FLOWS; filter state=UNREPLIED, state=SYN-SENT",
                         cols, ascii));
  for (const core::CtCpuStats& c : p.now.cpus) {
    out.push_back(labelled(fmt::format("cpu={}", c.cpu), cpu_text(c), cols, ascii));
  }
  return out;
}

Line history_line(const view::RateHistory& h, std::size_t cols, bool ascii, bool bits) {
  const std::vector<double> out = h.series_out();
  const std::vector<double> in = h.series_in();
  const double max_out = out.empty() ? 0 : *std::max_element(out.begin(), out.end());
  const double max_in = in.empty() ? 0 : *std::max_element(in.begin(), in.end());
  // "↑ SPARK max 999.9 kB/s  ↓ SPARK max 999.9 kB/s" after the label.
  constexpr std::size_t kFixed = 2 * (2 + 5 + 15) + 2;
  const std::size_t room = cols > kLabelWidth + kFixed ? cols - kLabelWidth - kFixed : 0;
  const std::size_t n = std::min(h.size(), room / 2);
  const auto side = [&](std::string_view arrow, const std::vector<double>& v, double max) {
    std::string spark = sparkline(v, n, ascii);
    return fmt::format("{} {}{}max {}", arrow, spark, spark.empty() ? "" : " ",
                       core::format_rate(max, bits));
  };
  return labelled(
      "history",
      fmt::format("{}  {}  ({} interval{})", side(ascii ? "out" : "↑", out, max_out),
                  side(ascii ? "in" : "↓", in, max_in), h.size(), h.size() == 1 ? "" : "s"),
      cols, ascii);
}

std::vector<Line> detail_lines(const view::FlowRow& row, const view::ViewState& state,
                               std::int64_t realtime_ns, std::size_t cols, bool ascii,
                               const view::RateHistory* history) {
  const FlowRecord& rec = row.rec;
  const core::Enrichment& e = row.enrich;
  std::vector<Line> out;
  {
    LineBuilder b(cols, ascii);
    std::string head =
        fmt::format(" Flow {} {}", view::proto_cell(rec.key),
                    rec.has(FlowRecord::kHasState) ? core::state_name(rec.key.proto, rec.state)
                                                   : std::string_view{});
    if (rec.ended()) {
      head +=
          fmt::format("   id {}   zone {}   mark 0x{:x}   ENDED", rec.id, rec.key.zone, rec.mark);
      if (const auto lived = core::duration_ns(rec)) {
        head += fmt::format(" after {:.3f}s", static_cast<double>(*lived) / 1e9);
      }
    } else {
      head += fmt::format("   id {}   zone {}   mark 0x{:x}   timeout {}s", rec.id, rec.key.zone,
                          rec.mark, rec.timeout);
    }
    b.add(head, Style::OverlayTitle);
    out.push_back(b.take(Style::OverlayTitle));
  }
  const core::Ends ends = core::ends_of(rec);
  out.push_back(labelled(
      "direction",
      fmt::format("{} {}", view::dir_mark(ends.direction, ascii), direction_name(ends.direction)),
      cols, ascii));
  out.push_back(labelled("orig", tuple_text(rec.key.orig, rec, ascii), cols, ascii));
  out.push_back(labelled("reply", tuple_text(rec.reply, rec, ascii), cols, ascii));
  if (const std::string nat = nat_line(rec); !nat.empty()) {
    out.push_back(labelled("nat", nat, cols, ascii));
  }
  // ↑ what the inside end sent, ↓ what it received: the reply direction when it responds.
  const std::string orig =
      direction_text(rec, rec.orig_ctr, row.rates.orig_bytes, row.rates.orig_packets, state.bits);
  const std::string reply = direction_text(rec, rec.reply_ctr, row.rates.reply_bytes,
                                           row.rates.reply_packets, state.bits);
  out.push_back(
      labelled(ascii ? "sent" : "sent ↑", ends.inside_initiated ? orig : reply, cols, ascii));
  out.push_back(labelled(ascii ? "received" : "received ↓", ends.inside_initiated ? reply : orig,
                         cols, ascii));
  if (history != nullptr && !history->empty()) {
    out.push_back(history_line(*history, cols, ascii, state.bits));
  }
  {
    std::string p;
    if (e.process.ok()) {
      const core::ProcessInfo& pi = e.process.value;
      p = fmt::format("{}  pid {}  user {}", pi.name, pi.pid, pi.user.empty() ? "-" : pi.user);
      if (!pi.netns.empty()) {
        p += "  in network namespace " + pi.netns;
      }
    } else if (e.host.ok()) {
      p = fmt::format(
          "LAN device {}  {}", core::mac_text(e.host.value.mac),
          e.host.value.name.empty() ? std::string("(no DHCP lease)") : e.host.value.name);
    } else {
      p = e.process.state == core::Lookup<core::ProcessInfo>::State::Failed
              ? "- (no local socket: forwarded, or already closed)"
              : state_word(e.process);
    }
    out.push_back(labelled("owner", p, cols, ascii));
  }
  if (e.process.ok() && !e.process.value.cmdline.empty()) {
    out.push_back(labelled("cmdline", e.process.value.cmdline, cols, ascii));
  }
  out.push_back(labelled(ends.direction == core::Direction::Forward ? "inside" : "local",
                         end_text(ends.inside.addr, e.inside_name, e.inside_geo, state), cols,
                         ascii));
  out.push_back(labelled("remote", end_text(ends.remote.addr, e.remote_name, e.remote_geo, state),
                         cols, ascii));
  if (!e.service.empty()) {
    out.push_back(labelled("service", e.service, cols, ascii));
  }
  out.push_back(labelled("started", start_text(rec, realtime_ns), cols, ascii));
  {
    std::string flags;
    core::for_each_status_name(rec.status, [&](std::string_view n) {
      flags += flags.empty() ? "" : " ";
      flags += n;
    });
    out.push_back(labelled("status", flags.empty() ? "-" : flags, cols, ascii));
  }
  if (core::offloaded(rec.status)) {
    out.push_back(labelled(
        "offload", "a flowtable handles this flow: its counters and rates are stale", cols, ascii));
  }
  return out;
}

std::vector<Line> help_lines(std::size_t cols, std::size_t max_lines, bool ascii, bool dbip) {
  std::vector<Line> out;
  {
    LineBuilder b(cols, ascii);
    b.add(" Keys (any key closes this help)", Style::OverlayTitle);
    out.push_back(b.take(Style::OverlayTitle));
  }
  constexpr std::size_t kKeysWidth = 20;
  for (const view::KeyHelp& k : view::KeyMap::help()) {
    LineBuilder b(cols, ascii);
    b.add(" ", Style::Overlay);
    b.field(k.keys, kKeysWidth, Style::Header);
    b.add(k.what, Style::Overlay);
    out.push_back(b.take(Style::Overlay));
  }
  out.push_back(labelled(" filter",
                         "proc pid user host addr port service country city asn org "
                         "proto family state mark zone bytes packets rate age",
                         cols, ascii));
  out.push_back(labelled(" ", "= != ~ < > <= >=, and or not ( ); ended, nat; rate>1MB/s age>5m",
                         cols, ascii));
  out.push_back(labelled(" columns",
                         ascii ? "-O original direction (from the initiator), -I reply"
                               : "↑ original direction (from the initiator), ↓ reply",
                         cols, ascii));
  if (dbip) {
    out.push_back(
        labelled(" GeoIP", "IP Geolocation by DB-IP (https://db-ip.com, CC BY 4.0)", cols, ascii));
  }
  if (out.size() > max_lines) {
    out.resize(max_lines);
    if (max_lines > 0) {
      LineBuilder b(cols, ascii);
      b.add(ascii ? " ... (a taller terminal shows more)" : " … (a taller terminal shows more)",
            Style::Dim);
      out.back() = b.take(Style::Overlay);
    }
  }
  return out;
}

std::vector<Line> sort_menu_lines(const view::ViewState& state, bool ascii) {
  const auto columns = view::columns_of(state.tab);
  constexpr std::size_t kWidth = 16;
  std::vector<Line> out;
  {
    LineBuilder b(kWidth, ascii);
    b.field(" Sort by", kWidth, Style::OverlayTitle);
    out.push_back(b.take(Style::OverlayTitle));
  }
  const view::SortSpec& sort = state.current_sort();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const bool hl = i == state.sort_menu_index;
    std::string text = " " + std::string(view::column_label(state.tab, columns[i], ascii));
    if (columns[i] == sort.column) {
      text += ascii ? (sort.descending ? " v" : " ^") : (sort.descending ? " ▼" : " ▲");
    }
    LineBuilder b(kWidth, ascii);
    b.field(text, kWidth, hl ? Style::MenuSelected : Style::Overlay);
    out.push_back(b.take(hl ? Style::MenuSelected : Style::Overlay));
  }
  return out;
}

std::vector<Line> chooser_lines(const view::ViewState& state, bool ascii) {
  const std::vector<view::ColumnChoice> choice = view::column_choice(state, state.tab);
  constexpr std::size_t kWidth = 30;
  constexpr std::size_t kLabel = 12;
  std::vector<Line> out;
  {
    LineBuilder b(kWidth, ascii);
    b.field(fmt::format(" Columns: {}", view::tab_name(state.tab)), kWidth, Style::OverlayTitle);
    out.push_back(b.take(Style::OverlayTitle));
  }
  for (std::size_t i = 0; i < choice.size(); ++i) {
    const bool hl = i == std::min(state.columns_index, choice.size() - 1);
    const Style style = hl ? Style::MenuSelected : Style::Overlay;
    LineBuilder b(kWidth, ascii);
    b.field(choice[i].shown ? " [x] " : " [ ] ", 5, style);
    b.field(std::string(view::column_label(state.tab, choice[i].column, ascii)), kLabel, style);
    b.field(std::string(view::column_name(choice[i].column)), kWidth - 5 - kLabel, style);
    out.push_back(b.take(style));
  }
  return out;
}

}  // namespace flowtop::render::detail
