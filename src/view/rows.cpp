#include "flowtop/view/rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <variant>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/hash_seed.hpp"
#include "flowtop/view/redact.hpp"
#include "flowtop/view/totals.hpp"
#include "view/candidates.hpp"
#include "view/window.hpp"

namespace flowtop::view {
namespace {

using core::FlowRecord;
using detail::SortItem;

core::Enrichment lookup(const Snapshot& snap, const FlowRecord& rec,
                        core::EnrichNeeds needs = core::kNeedAll) {
  return snap.enrich ? snap.enrich(rec, needs) : core::Enrichment{};
}

// The tie order of flows, ascending always: the remote address, the inside address, ports,
// protocol, zone, ICMP type and code, the kernel's id.
void tie_order(const FlowRecord& r, SortItem& it) {
  // The remote end first, then the inside end (core::ends_of's addresses, without its copies).
  const bool inside_responds = r.has(FlowRecord::kInsideResponds);
  const auto [dhi, dlo] = (inside_responds ? r.key.orig.src : r.reply.src).ordered_words();
  const auto [shi, slo] = (inside_responds ? r.reply.src : r.key.orig.src).ordered_words();
  it.t = {dhi,
          dlo,
          shi,
          slo,
          (std::uint64_t{r.key.orig.dport} << 48U) | (std::uint64_t{r.key.orig.sport} << 32U) |
              (std::uint64_t{r.key.proto} << 24U) | (std::uint64_t{r.key.zone} << 8U),
          (std::uint64_t{r.key.icmp_type} << 40U) | (std::uint64_t{r.key.icmp_code} << 32U) | r.id};
}

// The enrichment fields an aggregate tab groups by (and labels its groups with).
core::EnrichNeeds tab_needs(Tab tab) {
  switch (tab) {
    case Tab::Owners: return core::kNeedProcess | core::kNeedInsideName;
    case Tab::Hosts: return core::kNeedRemoteName | core::kNeedRemoteGeo;
    case Tab::Countries:
    case Tab::As: return core::kNeedRemoteGeo;
    default: return 0;
  }
}

// Fields nobody will see are not copied: names with DNS off, GeoIP with GeoIP off.
core::EnrichNeeds shown_needs(core::EnrichNeeds needs, const ViewState& state) {
  if (!state.dns) {
    needs &= static_cast<core::EnrichNeeds>(~core::kNeedNames);
  }
  if (!state.geoip) {
    needs &= static_cast<core::EnrichNeeds>(~core::kNeedGeo);
  }
  return needs;
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

// The enrichment of each flow of one pass, looked up once per remote end for the fields that
// depend on the remote address alone (its name and GeoIP: core::EnrichNeeds): many flows
// go to few hosts, so a pass copies those strings once per host, not once per flow. The flow's
// own fields (process, source name and GeoIP, service) are looked up per flow into the same
// entry; get() returns a reference valid until the next get().
class EnrichMemo {
 public:
  EnrichMemo(const Snapshot& snap, core::EnrichNeeds needs)
      : snap_(snap),
        dst_needs_(needs & (core::kNeedRemoteName | core::kNeedRemoteGeo)),
        flow_needs_(needs & ~dst_needs_) {}

  const core::Enrichment& get(const FlowRecord& rec) {
    if (dst_needs_ == 0) {
      own_ = lookup(snap_, rec, flow_needs_);
      return own_;
    }
    auto [it, added] = by_dst_.try_emplace(core::ends_of(rec).remote.addr);
    core::Enrichment& e = it->second;
    if (added) {
      e = lookup(snap_, rec, dst_needs_);
    }
    if (flow_needs_ != 0) {
      core::Enrichment f = lookup(snap_, rec, flow_needs_);
      e.process = std::move(f.process);
      e.host = std::move(f.host);
      e.inside_name = std::move(f.inside_name);
      e.inside_geo = std::move(f.inside_geo);
      e.service = std::move(f.service);
    }
    return e;
  }

 private:
  const Snapshot& snap_;
  core::EnrichNeeds dst_needs_;
  core::EnrichNeeds flow_needs_;
  core::Enrichment own_;
  std::unordered_map<core::IpAddr, core::Enrichment, core::SeededIpHash> by_dst_;
};

// Selection, active-only and filter; counts everything for the status line. Each shown flow's
// enrichment (the fields in `needs`) is looked up once, for the filter, the sort key (Flows:
// packed into `items`) and the aggregation (other tabs: added to `aggregator`), then dropped
// (the visible rows look theirs up again).
void select(const Snapshot& snap, const ViewState& state, core::EnrichNeeds needs,
            std::vector<SortItem>* items, detail::SortKeys* keys, detail::Aggregator* aggregator,
            Counts& counts) {
  const bool enrich = needs != 0;
  const ColumnSpec& spec = spec_of(state.current_sort().column);
  EnrichMemo memo(snap, needs);
  if (items != nullptr) {
    items->reserve(snap.flows.size());
  }
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
    const core::Enrichment& e = enrich ? memo.get(rec) : kEmptyEnrichment;
    if (!state.filter.empty() && !matches(state.filter, rec, e, snap.realtime_ns)) {
      ++counts.filtered;
      continue;
    }
    ++counts.shown;
    counts.hidden.add(Hidden::Shown);
    if (core::rates_known(rec)) {
      counts.rates_known = true;
      counts.rate_out += core::sent_rate(rec);
      counts.rate_in += core::received_rate(rec);
    } else if (core::counter_state(rec) == core::CounterState::Pending) {
      ++counts.rates_pending;
    }
    counts.ended += rec.ended() ? 1 : 0;
    if (aggregator != nullptr) {
      aggregator->add(rec, e);
    }
    if (items != nullptr) {
      SortItem& it = items->emplace_back();
      it.index = static_cast<std::uint32_t>(i);
      it.hash = static_cast<std::uint32_t>(rec.key.hash());
      if (spec.flow_key != nullptr) {
        SortValue v;
        spec.flow_key(rec, e, state, v);
        keys->pack(v, it);
      }
      tie_order(rec, it);
    }
  }
}

std::string empty_reason(const Snapshot& snap, const ViewState& state, const Counts& counts) {
  if (snap.flows.empty()) {
    if (snap.status.collecting) {
      return "collecting…";
    }
    switch (snap.status.tracking) {
      case Tracking::Offered:
        return "conntrack is not tracking in this namespace: press t to track it while flowtop "
               "runs (as --track)";
      case Tracking::Session:
        return "no flows yet: flowtop makes conntrack track in this namespace while it runs";
      case Tracking::NotOffered: break;
    }
    return "conntrack is not tracking in this namespace: try --track";
  }
  std::string what = describe(state.selection);
  if (state.active_only) {
    what += ", active only";
  }
  if (!state.filter.empty()) {
    what +=
        ", filter " + (redacting(state) ? redact_addresses_in(state.filter.text(), *state.redactor)
                                        : state.filter.text());
  }
  return fmt::format("no flows match {} ({} hidden)", what, counts.hidden_total());
}

// The TOTAL columns of the groups, from the snapshot's totals. Without a filter or active-only,
// the groups whose flows have all gone stay as rows with their totals (FLOWS 0): totals outlive
// flows.
void add_totals(const Snapshot& snap, const ViewState& state, std::vector<GroupRow>& groups) {
  if (!snap.totals || !snap.totals->groups) {
    return;
  }
  const auto& map = (*snap.totals->groups)[static_cast<std::size_t>(state.tab)];
  std::unordered_set<std::string> live;
  for (GroupRow& g : groups) {
    g.known_totals = true;
    std::string id = detail::group_id(g.key);
    if (const auto it = map.find(id); it != map.end()) {
      g.total_out = it->second.out;
      g.total_in = it->second.in;
    }
    live.insert(std::move(id));
  }
  if (!state.filter.empty() || state.active_only) {
    return;
  }
  for (const auto& [id, t] : map) {
    if (live.contains(id)) {
      continue;
    }
    GroupRow g = t.group;
    g.flows = 0;
    g.known_counters = true;  // no flow: nothing now (blank), not unknown
    g.known_rates = true;
    g.known_totals = true;
    g.total_out = t.out;
    g.total_in = t.in;
    groups.push_back(std::move(g));
  }
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

bool PrepKey::operator==(const PrepKey& o) const {
  const auto sel = [](const Selection& x) {
    return std::tuple{x.ipv4, x.ipv6, x.tcp,   x.udp,      x.dccp,
                      x.icmp, x.sctp, x.other, x.loopback, x.dns};
  };
  return tab == o.tab && sort == o.sort && sel(selection) == sel(o.selection) &&
         active_only == o.active_only && filter == o.filter && dns == o.dns && geoip == o.geoip;
}

PrepKey prep_key(const ViewState& state) {
  return PrepKey{state.tab,         state.current_sort(), state.selection,
                 state.active_only, state.filter.text(),  state.dns,
                 state.geoip};
}

ViewState with_key(ViewState state, const PrepKey& key) {
  state.tab = key.tab;
  state.sort[static_cast<std::size_t>(key.tab)] = key.sort;
  state.selection = key.selection;
  state.active_only = key.active_only;
  if (state.filter.text() != key.filter) {
    FilterResult r = compile_filter(key.filter);
    state.filter = std::holds_alternative<Filter>(r) ? std::move(std::get<Filter>(r)) : Filter{};
  }
  state.dns = key.dns;
  state.geoip = key.geoip;
  return state;
}

std::optional<std::size_t> Prepared::find_flow(const Snapshot& snapshot,
                                               const core::FlowKey& wanted) const {
  if (flow_slots.empty()) {
    return std::nullopt;
  }
  const std::size_t mask = flow_slots.size() - 1;
  const auto hash = static_cast<std::uint32_t>(wanted.hash());  // as prepare() indexed it
  for (std::size_t i = hash & mask; flow_slots[i] != 0; i = (i + 1) & mask) {
    const std::size_t row = flow_slots[i] - 1;
    if (snapshot.flows[order[row]].key == wanted) {
      return row;
    }
  }
  return std::nullopt;
}

Prepared prepare(const Snapshot& snapshot, const ViewState& state) {
  Prepared p;
  p.key = prep_key(state);
  const SortSpec sort = state.current_sort();
  const bool flows_tab = state.tab == Tab::Flows;
  // Only the fields the filter, the sort key or the grouping read are copied for every flow.
  const core::EnrichNeeds needs = shown_needs(
      state.filter.needs() | (flows_tab ? spec_of(sort.column).sort_needs : tab_needs(state.tab)),
      state);
  if (flows_tab) {
    std::vector<SortItem> items;
    detail::SortKeys keys(sort);
    select(snapshot, state, needs, &items, &keys, nullptr, p.counts);
    keys.sort(items);
    p.order.reserve(items.size());
    std::size_t slots = 16;
    while (slots < 2 * items.size()) {
      slots *= 2;
    }
    p.flow_slots.assign(slots, 0);
    for (const SortItem& it : items) {
      p.order.push_back(it.index);
      std::size_t i = it.hash & (slots - 1);
      while (p.flow_slots[i] != 0) {
        i = (i + 1) & (slots - 1);
      }
      p.flow_slots[i] = static_cast<std::uint32_t>(p.order.size());
    }
  } else {
    detail::Aggregator aggregator(state.tab, state.dns);
    select(snapshot, state, needs, nullptr, nullptr, &aggregator, p.counts);
    p.groups = aggregator.take();
    add_totals(snapshot, state, p.groups);
    detail::sort_groups(p.groups, sort);
    p.group_pos.reserve(p.groups.size());
    for (std::size_t i = 0; i < p.groups.size(); ++i) {
      p.group_pos.emplace(detail::group_id(p.groups[i].key), i);
    }
  }
  return p;
}

namespace {

// The parts of Rows every range of them shares.
Rows rows_header(const Prepared& prepared, const Snapshot& snapshot, const ViewState& state) {
  Rows rows;
  rows.tab = state.tab;
  rows.status = snapshot.status;
  rows.totals = snapshot.totals;
  rows.realtime_ns = snapshot.realtime_ns;
  rows.counts = prepared.counts;
  return rows;
}

// Rows [first, first + count) of the prepared order (Flows) or groups, redacted as `state` says.
void fill_rows(Rows& rows, const Prepared& prepared, const Snapshot& snapshot,
               const ViewState& state, std::size_t first, std::size_t count) {
  if (state.tab == Tab::Flows) {
    rows.flows.reserve(count);
    for (std::size_t i = first; i < first + count; ++i) {
      if (i + core::kPrefetchAhead < first + count) {
        core::prefetch(snapshot.flows[prepared.order[i + core::kPrefetchAhead]]);
      }
      const FlowRecord& rec = snapshot.flows[prepared.order[i]];
      rows.flows.push_back(FlowRow{rec, lookup(snapshot, rec), core::rates_of(rec), {}});
      if (redacting(state)) {
        redact_row(rows.flows.back(), state.redact, *state.redactor);
      }
    }
    return;
  }
  const auto begin = prepared.groups.begin() + static_cast<std::ptrdiff_t>(first);
  rows.groups.assign(begin, begin + static_cast<std::ptrdiff_t>(count));
  if (redacting(state)) {
    for (GroupRow& g : rows.groups) {
      redact_group(g, state.tab, state.redact, *state.redactor, false);
    }
  }
}

}  // namespace

Rows build_rows(const Prepared& prepared, const Snapshot& snapshot, const ViewState& state,
                std::size_t visible) {
  Rows rows = rows_header(prepared, snapshot, state);
  const Cursor& cur = state.current_cursor();
  std::optional<std::size_t> found;
  if (state.tab == Tab::Flows) {
    if (cur.follow && cur.flow) {
      found = prepared.find_flow(snapshot, *cur.flow);
    }
    const detail::Window w = detail::place_window(prepared.order.size(), found, cur, visible);
    rows.total = w.total;
    rows.first = w.first;
    rows.selected = w.selected;
    fill_rows(rows, prepared, snapshot, state, w.first, w.count);
    if (state.detail_open) {
      if (const FlowRow* sel = rows.selected_flow()) {
        rows.detail = *sel;
      }
    }
  } else {
    if (cur.follow && cur.group) {
      if (const auto it = prepared.group_pos.find(detail::group_id(*cur.group));
          it != prepared.group_pos.end()) {
        found = it->second;
      }
    }
    const detail::Window w = detail::place_window(prepared.groups.size(), found, cur, visible);
    rows.total = w.total;
    rows.first = w.first;
    rows.selected = w.selected;
    fill_rows(rows, prepared, snapshot, state, w.first, w.count);
  }
  if (rows.total == 0) {
    rows.empty_reason = empty_reason(snapshot, state, rows.counts);
  }
  return rows;
}

Rows rows_range(const Prepared& prepared, const Snapshot& snapshot, const ViewState& state,
                std::size_t first, std::size_t count) {
  Rows rows = rows_header(prepared, snapshot, state);
  rows.total = prepared.total();
  rows.first = std::min(first, rows.total);
  fill_rows(rows, prepared, snapshot, state, rows.first, std::min(count, rows.total - rows.first));
  if (rows.total == 0) {
    rows.empty_reason = empty_reason(snapshot, state, rows.counts);
  }
  return rows;
}

Rows build_rows(const Snapshot& snapshot, const ViewState& state, std::size_t visible) {
  return build_rows(prepare(snapshot, state), snapshot, state, visible);
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
    c.flow = f->key();
  }
  if (const GroupRow* g = rows.selected_group()) {
    c.group = g->key;
  }
}

std::vector<core::FlowKey> visible_keys(const Rows& rows) {
  std::vector<core::FlowKey> keys;
  keys.reserve(rows.flows.size());
  for (const FlowRow& f : rows.flows) {
    keys.push_back(f.key());
  }
  return keys;
}

}  // namespace flowtop::view
