#include "flowtop/view/rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <optional>
#include <string_view>
#include <tuple>

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
  // The sort column's comparison alone (-1, 0, 1).
  [[nodiscard]] int primary(const Candidate& a, const Candidate& b) const {
    return primary(snap_.flows[a.rec], key_of(a), snap_.flows[b.rec], key_of(b));
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

// A flow's place in a full sort, packed so that comparisons stay in this array rather than
// chase records: the sort column as an ordered integer when it is a number, then the fields of
// FlowLess's tie order. Sorts in the same order as FlowLess.
struct SortItem {
  Candidate cand;
  bool unknown = false;  // numeric columns: no value (last whatever the direction)
  std::uint64_t k = 0;   // numeric columns: the value, order-preserving (inverted when descending)
  std::array<std::uint8_t, 16> dst{}, src{};
  std::uint64_t rest1 = 0;  // dport sport proto zone
  std::uint64_t rest2 = 0;  // icmp type, code, id
};

constexpr std::uint64_t enc(std::uint64_t v) {
  return v;
}
std::uint64_t enc(float f) {
  const auto bits = std::bit_cast<std::uint32_t>(f == 0 ? 0.0F : f);  // -0 == +0
  return (bits & 0x8000'0000U) != 0 ? ~bits : bits | 0x8000'0000U;
}
constexpr std::uint64_t enc_signed(std::int64_t v) {
  return static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63);
}

// A record's numeric key for `column`: {known, value}; nullopt when the column is not a number.
std::optional<std::pair<bool, std::uint64_t>> numeric_key(Column column, const FlowRecord& r,
                                                          const detail::SortKey* key) {
  const bool ctr = r.has(FlowRecord::kHasCounters);
  switch (column) {
    case Column::Pid:
      return std::pair{key != nullptr && key->known, key != nullptr ? enc_signed(key->num) : 0};
    case Column::Age: return std::pair{r.has(FlowRecord::kHasTimestamp), enc(~r.start_ns)};
    case Column::Port: {
      const bool icmp = core::proto_is_icmp(r.key.proto);
      return std::pair{
          r.has(FlowRecord::kHasPorts) || icmp,
          std::uint64_t{icmp ? r.key.icmp_type * 256U + r.key.icmp_code : r.key.orig.dport}};
    }
    case Column::BytesOut: return std::pair{ctr, enc(r.orig_ctr.bytes)};
    case Column::BytesIn: return std::pair{ctr, enc(r.reply_ctr.bytes)};
    case Column::PacketsOut: return std::pair{ctr, enc(r.orig_ctr.packets)};
    case Column::PacketsIn: return std::pair{ctr, enc(r.reply_ctr.packets)};
    case Column::RateOut: return std::pair{ctr, enc(r.rate_orig_bytes)};
    case Column::RateIn: return std::pair{ctr, enc(r.rate_reply_bytes)};
    default: return std::nullopt;
  }
}

// Sorts `cands` fully, in FlowLess's order.
void sort_candidates(const Snapshot& snap, Candidates& cands, SortSpec sort) {
  const FlowLess less(snap, cands, sort);
  std::vector<SortItem> items(cands.items.size());
  bool numeric = true;
  for (std::size_t i = 0; i < items.size(); ++i) {
    SortItem& it = items[i];
    it.cand = cands.items[i];
    const FlowRecord& r = snap.flows[it.cand.rec];
    const detail::SortKey* key = it.cand.key == detail::kNoKey ? nullptr : &cands.keys[it.cand.key];
    if (const auto nk = numeric_key(sort.column, r, key)) {
      it.unknown = !nk->first;
      it.k = it.unknown ? 0 : (sort.descending ? ~nk->second : nk->second);
    } else {
      numeric = false;
    }
    it.dst = r.key.orig.dst.bytes;
    it.src = r.key.orig.src.bytes;
    it.rest1 = (std::uint64_t{r.key.orig.dport} << 48) | (std::uint64_t{r.key.orig.sport} << 32) |
               (std::uint64_t{r.key.proto} << 24) | (std::uint64_t{r.key.zone} << 8);
    it.rest2 =
        (std::uint64_t{r.key.icmp_type} << 40) | (std::uint64_t{r.key.icmp_code} << 32) | r.id;
  }
  const auto tie = [](const SortItem& a, const SortItem& b) {
    return std::tie(a.dst, a.src, a.rest1, a.rest2) < std::tie(b.dst, b.src, b.rest1, b.rest2);
  };
  if (numeric) {
    std::sort(items.begin(), items.end(), [&](const SortItem& a, const SortItem& b) {
      if (a.unknown != b.unknown) {
        return b.unknown;
      }
      if (a.k != b.k) {
        return a.k < b.k;
      }
      return tie(a, b);
    });
  } else {
    std::sort(items.begin(), items.end(), [&](const SortItem& a, const SortItem& b) {
      const int c = less.primary(a.cand, b.cand);
      return c != 0 ? c < 0 : tie(a, b);
    });
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    cands.items[i] = items[i].cand;
  }
}

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

std::optional<std::size_t> Prepared::find_flow(const Snapshot& snapshot,
                                               const core::FlowKey& key) const {
  if (flow_slots.empty()) {
    return std::nullopt;
  }
  const std::size_t mask = flow_slots.size() - 1;
  for (std::size_t i = key.hash() & mask; flow_slots[i] != 0; i = (i + 1) & mask) {
    const std::size_t row = flow_slots[i] - 1;
    if (snapshot.flows[order[row]].key == key) {
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
  const bool key_from_enrichment = flows_tab && sort_needs_enrichment(sort.column, state.dns);
  const bool enrich_all = state.filter.needs_enrichment() || !flows_tab || key_from_enrichment;
  std::optional<detail::Aggregator> aggregator;
  if (!flows_tab) {
    aggregator.emplace(state.tab, state.dns);
  }
  Candidates cands = select(snapshot, state, enrich_all,
                            key_from_enrichment ? std::optional<Column>(sort.column) : std::nullopt,
                            aggregator ? &*aggregator : nullptr, p.counts);
  if (flows_tab) {
    sort_candidates(snapshot, cands, sort);
    p.order.reserve(cands.items.size());
    std::size_t slots = 16;
    while (slots < 2 * cands.items.size()) {
      slots *= 2;
    }
    p.flow_slots.assign(slots, 0);
    for (const Candidate& c : cands.items) {
      p.order.push_back(c.rec);
      std::size_t i = snapshot.flows[c.rec].key.hash() & (slots - 1);
      while (p.flow_slots[i] != 0) {
        i = (i + 1) & (slots - 1);
      }
      p.flow_slots[i] = static_cast<std::uint32_t>(p.order.size());
    }
  } else {
    p.groups = aggregator->take();
    std::sort(p.groups.begin(), p.groups.end(), detail::GroupLess(sort));
    p.group_pos.reserve(p.groups.size());
    for (std::size_t i = 0; i < p.groups.size(); ++i) {
      p.group_pos.emplace(detail::group_id(p.groups[i].key), i);
    }
  }
  return p;
}

Rows build_rows(const Prepared& prepared, const Snapshot& snapshot, const ViewState& state,
                std::size_t visible) {
  Rows rows;
  rows.tab = state.tab;
  rows.status = snapshot.status;
  rows.realtime_ns = snapshot.realtime_ns;
  rows.counts = prepared.counts;
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
    rows.flows.reserve(w.count);
    for (std::size_t i = w.first; i < w.first + w.count; ++i) {
      const FlowRecord& rec = snapshot.flows[prepared.order[i]];
      rows.flows.push_back(FlowRow{rec, lookup(snapshot, rec), core::rates_of(rec)});
    }
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
    const auto begin = prepared.groups.begin() + static_cast<std::ptrdiff_t>(w.first);
    rows.groups.assign(begin, begin + static_cast<std::ptrdiff_t>(w.count));
  }
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
