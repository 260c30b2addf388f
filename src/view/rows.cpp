#include "flowtop/view/rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string_view>

#include "view/candidates.hpp"
#include "view/window.hpp"

namespace flowtop::view {
namespace {

using core::FlowRecord;
using detail::Candidate;
using detail::Candidates;
using detail::ordered;

std::string_view geo_code(const core::Lookup<core::GeoInfo>& g) {
  if (!g.ok()) {
    return {};
  }
  return g.value.kind == core::GeoInfo::Kind::Located ? std::string_view(g.value.country)
                                                      : core::geo_kind_label(g.value.kind);
}

// Strict total order of flows for a sort column: unknown values last, ties by the flow's key.
class FlowLess {
 public:
  FlowLess(const Snapshot& snap, const Candidates& cands, SortSpec sort)
      : snap_(snap), cands_(cands), sort_(sort) {}

  bool operator()(const Candidate& a, const Candidate& b) const {
    const FlowRecord& ra = snap_.flows[a.rec];
    const FlowRecord& rb = snap_.flows[b.rec];
    const int c = primary(ra, key_of(a), rb, key_of(b));
    if (c != 0) {
      return c < 0;
    }
    return tie(ra, rb);
  }

 private:
  [[nodiscard]] const detail::SortKey& key_of(const Candidate& c) const {
    static const detail::SortKey kUnknown{};
    return c.key == detail::kNoKey ? kUnknown : cands_.keys[c.key];
  }

  [[nodiscard]] int primary(const FlowRecord& a, const detail::SortKey& ka, const FlowRecord& b,
                            const detail::SortKey& kb) const {
    const bool d = sort_.descending;
    const bool ca = a.has(FlowRecord::kHasCounters);
    const bool cb = b.has(FlowRecord::kHasCounters);
    switch (sort_.column) {
      case Column::Process:
      case Column::Geo:
        return ordered(ka.known, std::string_view(ka.text), kb.known, std::string_view(kb.text), d);
      case Column::Pid: return ordered(ka.known, ka.num, kb.known, kb.num, d);
      case Column::Proto: {
        const int c =
            ordered(true, core::proto_name(a.key.proto), true, core::proto_name(b.key.proto), d);
        return c != 0 ? c : ordered(true, a.key.family, true, b.key.family, d);
      }
      case Column::State:
        return ordered(a.has(FlowRecord::kHasState), core::state_name(a.key.proto, a.state),
                       b.has(FlowRecord::kHasState), core::state_name(b.key.proto, b.state), d);
      case Column::Age:  // older is bigger: an earlier start
        return ordered(a.has(FlowRecord::kHasTimestamp), ~a.start_ns,
                       b.has(FlowRecord::kHasTimestamp), ~b.start_ns, d);
      case Column::Address: return address(a, ka, b, kb, d);
      case Column::Port: return ordered(port_known(a), port_of(a), port_known(b), port_of(b), d);
      case Column::BytesOut: return ordered(ca, a.orig_ctr.bytes, cb, b.orig_ctr.bytes, d);
      case Column::BytesIn: return ordered(ca, a.reply_ctr.bytes, cb, b.reply_ctr.bytes, d);
      case Column::PacketsOut: return ordered(ca, a.orig_ctr.packets, cb, b.orig_ctr.packets, d);
      case Column::PacketsIn: return ordered(ca, a.reply_ctr.packets, cb, b.reply_ctr.packets, d);
      case Column::RateOut: return ordered(ca, a.rate_orig_bytes, cb, b.rate_orig_bytes, d);
      case Column::RateIn: return ordered(ca, a.rate_reply_bytes, cb, b.rate_reply_bytes, d);
      default: return 0;
    }
  }

  // The key holds the DNS name when one is shown (known), else the address is compared.
  static int address(const FlowRecord& a, const detail::SortKey& ka, const FlowRecord& b,
                     const detail::SortKey& kb, bool d) {
    // Names sort among themselves before the numeric addresses (after them when reversed): the
    // column reads as text, with the addresses in numeric order.
    if (ka.known != kb.known) {
      return (ka.known ? -1 : 1) * (d ? -1 : 1);
    }
    if (ka.known) {
      return ordered(true, std::string_view(ka.text), true, std::string_view(kb.text), d);
    }
    return ordered(true, a.key.orig.dst, true, b.key.orig.dst, d);
  }

  static bool port_known(const FlowRecord& r) {
    return r.has(FlowRecord::kHasPorts) || core::proto_is_icmp(r.key.proto);
  }
  static unsigned port_of(const FlowRecord& r) {
    return core::proto_is_icmp(r.key.proto) ? r.key.icmp_type * 256U + r.key.icmp_code
                                            : r.key.orig.dport;
  }

  static bool tie(const FlowRecord& a, const FlowRecord& b) {
    const auto& ka = a.key;
    const auto& kb = b.key;
    if (ka.orig.dst != kb.orig.dst) {
      return ka.orig.dst < kb.orig.dst;
    }
    if (ka.orig.src != kb.orig.src) {
      return ka.orig.src < kb.orig.src;
    }
    const auto rest = [](const FlowRecord& r) {
      return std::tuple{r.key.orig.dport, r.key.orig.sport, r.key.proto, r.key.zone,
                        r.key.icmp_type,  r.key.icmp_code,  r.id};
    };
    return rest(a) < rest(b);
  }

  const Snapshot& snap_;
  const Candidates& cands_;
  SortSpec sort_;
};

bool sort_needs_enrichment(Column column, bool dns) {
  switch (column) {
    case Column::Process:
    case Column::Pid:
    case Column::Geo: return true;
    case Column::Address: return dns;
    default: return false;
  }
}

detail::SortKey sort_key(Column column, const core::Enrichment& e) {
  detail::SortKey k;
  switch (column) {
    case Column::Process:
      k.known = e.process.ok();
      k.text = e.process.value.name;
      break;
    case Column::Pid:
      k.known = e.process.ok();
      k.num = e.process.value.pid;
      break;
    case Column::Address:
      k.known = e.dst_name.ok() && !e.dst_name.value.empty();
      k.text = e.dst_name.value;
      break;
    case Column::Geo:
      k.text = geo_code(e.dst_geo);
      k.known = !k.text.empty();
      break;
    default: break;
  }
  return k;
}

core::Enrichment lookup(const Snapshot& snap, const FlowRecord& rec) {
  return snap.enrich ? snap.enrich(rec) : core::Enrichment{};
}

void count_protocol(Counts& counts, std::uint8_t proto) {
  using P = core::L4Proto;
  switch (static_cast<P>(proto)) {
    case P::Tcp: ++counts.tcp; break;
    case P::Udp:
    case P::UdpLite: ++counts.udp; break;
    case P::Icmp:
    case P::Icmpv6: ++counts.icmp; break;
    case P::Sctp: ++counts.sctp; break;
    case P::Dccp: ++counts.dccp; break;
    default: ++counts.other; break;
  }
}

bool inactive(const FlowRecord& rec) {
  // Only a flow known to be idle is hidden by `a`: no counters or no completed rate window yet
  // means unknown, and unknown is shown.
  return rec.has(FlowRecord::kHasCounters) && rec.has(FlowRecord::kHasRates) &&
         rec.rate_orig_bytes == 0 && rec.rate_reply_bytes == 0;
}

const core::Enrichment kEmptyEnrichment{};

// Selection, active-only and filter; counts everything for the status line. With `enrich`, each
// candidate's enrichment is looked up once: for the filter, the sort key (`key_column`) and the
// aggregation, then dropped (the visible rows look theirs up again).
Candidates select(const Snapshot& snap, const ViewState& state, bool enrich,
                  std::optional<Column> key_column, detail::Aggregator* aggregator,
                  Counts& counts) {
  Candidates out;
  out.items.reserve(snap.flows.size());
  counts.tracked = snap.flows.size();
  for (std::size_t i = 0; i < snap.flows.size(); ++i) {
    const FlowRecord& rec = snap.flows[i];
    count_protocol(counts, rec.key.proto);
    const Hidden h = classify(rec, state.selection);
    if (h != Hidden::Shown) {
      counts.hidden.add(h);
      continue;
    }
    if (state.active_only && inactive(rec)) {
      ++counts.inactive;
      continue;
    }
    Candidate c{static_cast<std::uint32_t>(i), detail::kNoKey};
    if (enrich) {
      const core::Enrichment e = lookup(snap, rec);
      if (!state.filter.empty() && !matches(state.filter, rec, e, snap.realtime_ns)) {
        ++counts.filtered;
        continue;
      }
      if (key_column) {
        c.key = static_cast<std::uint32_t>(out.keys.size());
        out.keys.push_back(sort_key(*key_column, e));
      }
      if (aggregator != nullptr) {
        aggregator->add(rec, e);
      }
    } else if (!state.filter.empty() &&
               !matches(state.filter, rec, kEmptyEnrichment, snap.realtime_ns)) {
      ++counts.filtered;
      continue;
    }
    ++counts.shown;
    counts.hidden.add(Hidden::Shown);
    if (rec.has(FlowRecord::kHasCounters)) {
      const core::Rates r = core::rates_of(rec);
      counts.rate_out += r.orig_bytes;
      counts.rate_in += r.reply_bytes;
    }
    if (aggregator == nullptr) {
      out.items.push_back(c);
    }
  }
  return out;
}

std::string empty_reason(const Snapshot& snap, const ViewState& state, const Counts& counts) {
  if (snap.flows.empty()) {
    return snap.status.collecting ? "collecting…"
                                  : "conntrack is not tracking in this namespace: try --track";
  }
  std::string what = describe(state.selection);
  if (state.active_only) {
    what += ", active only";
  }
  if (!state.filter.empty()) {
    what += ", filter " + state.filter.text();
  }
  return fmt::format("no flows match {} ({} hidden)", what, counts.hidden_total());
}

}  // namespace

const FlowRow* Rows::selected_flow() const {
  if (!selected || *selected < first || *selected - first >= flows.size()) {
    return nullptr;
  }
  return &flows[*selected - first];
}

const GroupRow* Rows::selected_group() const {
  if (!selected || *selected < first || *selected - first >= groups.size()) {
    return nullptr;
  }
  return &groups[*selected - first];
}

Rows build_rows(const Snapshot& snapshot, const ViewState& state, std::size_t visible) {
  Rows rows;
  rows.tab = state.tab;
  rows.status = snapshot.status;
  rows.realtime_ns = snapshot.realtime_ns;
  const SortSpec sort = state.current_sort();
  const Cursor& cur = state.current_cursor();
  const bool flows_tab = state.tab == Tab::Flows;
  const bool key_from_enrichment = flows_tab && sort_needs_enrichment(sort.column, state.dns);
  const bool enrich_all = state.filter.needs_enrichment() || !flows_tab || key_from_enrichment;
  std::optional<detail::Aggregator> aggregator;
  if (!flows_tab) {
    aggregator.emplace(state.tab, state.dns);
  }
  Candidates cands = select(snapshot, state, enrich_all,
                            key_from_enrichment ? std::optional<Column>(sort.column) : std::nullopt,
                            aggregator ? &*aggregator : nullptr, rows.counts);

  if (flows_tab) {
    const FlowLess less(snapshot, cands, sort);
    const auto is_selected = [&](const Candidate& c) {
      return cur.flow && snapshot.flows[c.rec].key == *cur.flow;
    };
    const detail::Window w = detail::resolve_window(cands.items, less, is_selected, cur, visible);
    rows.total = w.total;
    rows.first = w.first;
    rows.selected = w.selected;
    rows.flows.reserve(w.count);
    for (std::size_t i = w.first; i < w.first + w.count; ++i) {
      const FlowRecord& rec = snapshot.flows[cands.items[i].rec];
      rows.flows.push_back(FlowRow{rec, lookup(snapshot, rec), core::rates_of(rec)});
    }
    if (state.detail_open) {
      if (const FlowRow* sel = rows.selected_flow()) {
        rows.detail = *sel;
      }
    }
  } else {
    std::vector<GroupRow> groups = aggregator->take();
    const detail::GroupLess less(sort);
    const auto is_selected = [&](const GroupRow& g) { return cur.group && g.key == *cur.group; };
    const detail::Window w = detail::resolve_window(groups, less, is_selected, cur, visible);
    rows.total = w.total;
    rows.first = w.first;
    rows.selected = w.selected;
    const auto begin = groups.begin() + static_cast<std::ptrdiff_t>(w.first);
    rows.groups.assign(std::make_move_iterator(begin),
                       std::make_move_iterator(begin + static_cast<std::ptrdiff_t>(w.count)));
  }
  if (rows.total == 0) {
    rows.empty_reason = empty_reason(snapshot, state, rows.counts);
  }
  return rows;
}

void settle(ViewState& state, const Rows& rows) {
  if (rows.tab != state.tab) {
    return;  // built for another tab (the state moved on): nothing to fold back
  }
  Cursor& c = state.cursor[static_cast<std::size_t>(state.tab)];
  c.move = PendingMove{};
  if (!rows.selected) {
    c.index = 0;
    c.scroll = 0;
    return;  // empty table: keep the key, the flow may come back
  }
  c.index = *rows.selected;
  c.scroll = rows.first;
  if (const FlowRow* f = rows.selected_flow()) {
    c.flow = f->rec.key;
  }
  if (const GroupRow* g = rows.selected_group()) {
    c.group = g->key;
  }
}

std::vector<core::FlowKey> visible_keys(const Rows& rows) {
  std::vector<core::FlowKey> keys;
  keys.reserve(rows.flows.size());
  for (const FlowRow& f : rows.flows) {
    keys.push_back(f.rec.key);
  }
  return keys;
}

}  // namespace flowtop::view
