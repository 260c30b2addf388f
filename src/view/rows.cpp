#include "flowtop/view/rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <string_view>
#include <tuple>
#include <variant>

#include "view/candidates.hpp"
#include "view/window.hpp"

namespace flowtop::view {
namespace {

using core::FlowRecord;
using detail::Candidate;
using detail::Candidates;

std::string_view geo_code(const core::Lookup<core::GeoInfo>& g) {
  if (!g.ok()) {
    return {};
  }
  return g.value.kind == core::GeoInfo::Kind::Located ? std::string_view(g.value.country)
                                                      : core::geo_kind_label(g.value.kind);
}

// A flow's place in a full sort, packed into integers so that comparisons stay in this array
// rather than chase records or strings. `p`: the sort column: p[0] is 1 when the value is
// unknown (last whatever the direction), p[1..3] the value in ascending order (each word inverted
// when descending); texts (process, state, protocol, DNS name, country) are their rank among the
// frame's distinct texts. `t`: the tie order, ascending always: the remote address, the local
// address, ports, protocol, zone, ICMP type and code, the kernel's id.
struct SortItem {
  std::array<std::uint64_t, 4> p{};
  std::array<std::uint64_t, 6> t{};
  std::uint32_t rec = 0;
  std::uint32_t hash = 0;  // the low bits of the flow key's hash (for the Prepared's index)
};

bool item_less(const SortItem& a, const SortItem& b) {
  for (std::size_t i = 0; i < a.p.size(); ++i) {
    if (a.p[i] != b.p[i]) {
      return a.p[i] < b.p[i];
    }
  }
  for (std::size_t i = 0; i < a.t.size(); ++i) {
    if (a.t[i] != b.t[i]) {
      return a.t[i] < b.t[i];
    }
  }
  return false;
}

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
// An address as two big-endian words: ordered as its bytes are.
std::pair<std::uint64_t, std::uint64_t> enc(const core::IpAddr& a) {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    hi = (hi << 8) | a.bytes[i];
    lo = (lo << 8) | a.bytes[8 + i];
  }
  return {hi, lo};
}

bool port_known(const FlowRecord& r) {
  return r.has(FlowRecord::kHasPorts) || core::proto_is_icmp(r.key.proto);
}
unsigned port_of(const FlowRecord& r) {
  return core::proto_is_icmp(r.key.proto) ? r.key.icmp_type * 256U + r.key.icmp_code
                                          : r.key.orig.dport;
}

// Ranks of texts in byte order (equal texts, equal ranks).
std::vector<std::uint32_t> ranks(const std::vector<std::string_view>& texts) {
  std::vector<std::uint32_t> order(texts.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return texts[a] < texts[b]; });
  std::vector<std::uint32_t> rank(texts.size());
  std::uint32_t r = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0 && texts[order[i]] != texts[order[i - 1]]) {
      ++r;
    }
    rank[order[i]] = r;
  }
  return rank;
}

// Interns the protocol and state names of the records (few distinct ones) for their ranks.
class RecordTexts {
 public:
  std::uint32_t id(std::string_view text) {
    const auto [it, added] = ids_.try_emplace(text, static_cast<std::uint32_t>(texts_.size()));
    if (added) {
      texts_.push_back(text);
    }
    return it->second;
  }
  [[nodiscard]] std::vector<std::uint32_t> ranks() const { return view::ranks(texts_); }

 private:
  std::unordered_map<std::string_view, std::uint32_t> ids_;
  std::vector<std::string_view> texts_;
};

// Sorts `cands` fully: by the sort column (unknown last), then by the tie order. Returns the low
// 32 bits of each sorted flow's key hash (taken while the records are read in snapshot order).
std::vector<std::uint32_t> sort_candidates(const Snapshot& snap, Candidates& cands, SortSpec sort) {
  const bool d = sort.descending;
  const auto dir = [d](std::uint64_t v) { return d ? ~v : v; };
  std::vector<SortItem> items(cands.items.size());
  // Texts of the sort column: the enrichment's (interned by select()) or the records'.
  std::vector<std::uint32_t> key_rank;
  if (!cands.texts.empty()) {
    std::vector<std::string_view> views(cands.texts.begin(), cands.texts.end());
    key_rank = ranks(views);
  }
  std::vector<std::uint32_t> text_id;  // per item, for Proto and State
  RecordTexts record_texts;
  if (sort.column == Column::Proto || sort.column == Column::State) {
    text_id.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const FlowRecord& r = snap.flows[cands.items[i].rec];
      text_id[i] =
          record_texts.id(sort.column == Column::Proto ? core::proto_name(r.key.proto)
                                                       : core::state_name(r.key.proto, r.state));
    }
  }
  const std::vector<std::uint32_t> record_rank = record_texts.ranks();
  for (std::size_t i = 0; i < items.size(); ++i) {
    SortItem& it = items[i];
    const Candidate& c = cands.items[i];
    it.rec = c.rec;
    const FlowRecord& r = snap.flows[c.rec];
    it.hash = static_cast<std::uint32_t>(r.key.hash());
    static const detail::SortKey kUnknown{};
    const detail::SortKey& key = c.key == detail::kNoKey ? kUnknown : cands.keys[c.key];
    const bool ctr = r.has(FlowRecord::kHasCounters);
    bool known = true;
    switch (sort.column) {
      case Column::Process:
      case Column::Geo:
        known = key.known;
        it.p[1] = dir(key.known ? key_rank[key.text] : 0);
        break;
      case Column::Pid:
        known = key.known;
        it.p[1] = dir(enc_signed(key.num));
        break;
      case Column::Proto:
        it.p[1] = dir(record_rank[text_id[i]]);
        it.p[2] = dir(static_cast<std::uint64_t>(r.key.family));
        break;
      case Column::State:
        known = r.has(FlowRecord::kHasState);
        it.p[1] = dir(record_rank[text_id[i]]);
        break;
      case Column::Age:  // older is bigger: an earlier start
        known = r.has(FlowRecord::kHasTimestamp);
        it.p[1] = dir(~r.start_ns);
        break;
      case Column::Address:
        // Names sort among themselves before the numeric addresses (after them when reversed):
        // the column reads as text, with the addresses in numeric order.
        if (key.known) {
          it.p[1] = dir(0);
          it.p[2] = dir(key_rank[key.text]);
          it.p[3] = dir(0);
        } else {
          const auto [hi, lo] = enc(r.key.orig.dst);
          it.p[1] = dir(1);
          it.p[2] = dir(hi);
          it.p[3] = dir(lo);
        }
        break;
      case Column::Port:
        known = port_known(r);
        it.p[1] = dir(port_of(r));
        break;
      case Column::BytesOut:
        known = ctr;
        it.p[1] = dir(enc(r.orig_ctr.bytes));
        break;
      case Column::BytesIn:
        known = ctr;
        it.p[1] = dir(enc(r.reply_ctr.bytes));
        break;
      case Column::PacketsOut:
        known = ctr;
        it.p[1] = dir(enc(r.orig_ctr.packets));
        break;
      case Column::PacketsIn:
        known = ctr;
        it.p[1] = dir(enc(r.reply_ctr.packets));
        break;
      case Column::RateOut:
        known = ctr;
        it.p[1] = dir(enc(r.rate_orig_bytes));
        break;
      case Column::RateIn:
        known = ctr;
        it.p[1] = dir(enc(r.rate_reply_bytes));
        break;
      default: break;  // not a column of the Flows tab: the tie order alone
    }
    if (!known) {
      it.p = {1, 0, 0, 0};
    }
    const auto [dhi, dlo] = enc(r.key.orig.dst);
    const auto [shi, slo] = enc(r.key.orig.src);
    it.t = {dhi,
            dlo,
            shi,
            slo,
            (std::uint64_t{r.key.orig.dport} << 48) | (std::uint64_t{r.key.orig.sport} << 32) |
                (std::uint64_t{r.key.proto} << 24) | (std::uint64_t{r.key.zone} << 8),
            (std::uint64_t{r.key.icmp_type} << 40) | (std::uint64_t{r.key.icmp_code} << 32) | r.id};
  }
  std::sort(items.begin(), items.end(), item_less);
  std::vector<std::uint32_t> hashes(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    cands.items[i].rec = items[i].rec;
    cands.items[i].key = detail::kNoKey;  // the keys are not needed after the sort
    hashes[i] = items[i].hash;
  }
  return hashes;
}

// The sort key of an enrichment column; a text is interned into `cands` (its id in key.text).
detail::SortKey sort_key(Column column, const core::Enrichment& e, Candidates& cands) {
  detail::SortKey k;
  std::string_view text;
  switch (column) {
    case Column::Process:
      k.known = e.process.ok();
      text = e.process.value.name;
      break;
    case Column::Pid:
      k.known = e.process.ok();
      k.num = e.process.value.pid;
      break;
    case Column::Address:
      k.known = e.dst_name.ok() && !e.dst_name.value.empty();
      text = e.dst_name.value;
      break;
    case Column::Geo:
      text = geo_code(e.dst_geo);
      k.known = !text.empty();
      break;
    default: break;
  }
  if (k.known && column != Column::Pid) {
    k.text = cands.intern(text);
  }
  return k;
}

core::Enrichment lookup(const Snapshot& snap, const FlowRecord& rec,
                        core::EnrichNeeds needs = core::kNeedAll) {
  return snap.enrich ? snap.enrich(rec, needs) : core::Enrichment{};
}

// The enrichment fields a sort column of the Flows tab reads (ADDRESS: the names, when shown).
core::EnrichNeeds sort_needs(Column column, bool dns) {
  switch (column) {
    case Column::Process:
    case Column::Pid: return core::kNeedProcess;
    case Column::Address: return dns ? core::kNeedDstName : 0;
    case Column::Geo: return core::kNeedDstGeo;
    default: return 0;
  }
}

// The enrichment fields an aggregate tab groups by (and labels its groups with).
core::EnrichNeeds tab_needs(Tab tab) {
  switch (tab) {
    case Tab::Processes: return core::kNeedProcess;
    case Tab::Hosts: return core::kNeedDstName | core::kNeedDstGeo;
    case Tab::Countries:
    case Tab::As: return core::kNeedDstGeo;
    default: return 0;
  }
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

struct AddrHash {
  std::size_t operator()(const core::IpAddr& a) const noexcept {
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    const std::uint64_t h = (lo ^ (hi * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};

// The enrichment of each flow of one pass, looked up once per remote end for the fields that
// depend on the original destination alone (its name and GeoIP: core::EnrichNeeds): many flows
// go to few hosts, so a pass copies those strings once per host, not once per flow. The flow's
// own fields (process, source name and GeoIP, service) are looked up per flow into the same
// entry; get() returns a reference valid until the next get().
class EnrichMemo {
 public:
  EnrichMemo(const Snapshot& snap, core::EnrichNeeds needs)
      : snap_(snap),
        dst_needs_(needs & (core::kNeedDstName | core::kNeedDstGeo)),
        flow_needs_(needs & ~dst_needs_) {}

  const core::Enrichment& get(const FlowRecord& rec) {
    if (dst_needs_ == 0) {
      own_ = lookup(snap_, rec, flow_needs_);
      return own_;
    }
    auto [it, added] = by_dst_.try_emplace(rec.key.orig.dst);
    core::Enrichment& e = it->second;
    if (added) {
      e = lookup(snap_, rec, dst_needs_);
    }
    if (flow_needs_ != 0) {
      core::Enrichment f = lookup(snap_, rec, flow_needs_);
      e.process = std::move(f.process);
      e.src_name = std::move(f.src_name);
      e.src_geo = std::move(f.src_geo);
      e.service = std::move(f.service);
    }
    return e;
  }

 private:
  const Snapshot& snap_;
  core::EnrichNeeds dst_needs_;
  core::EnrichNeeds flow_needs_;
  core::Enrichment own_;
  std::unordered_map<core::IpAddr, core::Enrichment, AddrHash> by_dst_;
};

// Selection, active-only and filter; counts everything for the status line. With `enrich`, each
// candidate's enrichment is looked up once: for the filter, the sort key (`key_column`) and the
// aggregation, then dropped (the visible rows look theirs up again).
Candidates select(const Snapshot& snap, const ViewState& state, core::EnrichNeeds needs,
                  std::optional<Column> key_column, detail::Aggregator* aggregator,
                  Counts& counts) {
  const bool enrich = needs != 0;
  EnrichMemo memo(snap, needs);
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
      const core::Enrichment& e = memo.get(rec);
      if (!state.filter.empty() && !matches(state.filter, rec, e, snap.realtime_ns)) {
        ++counts.filtered;
        continue;
      }
      if (key_column) {
        c.key = static_cast<std::uint32_t>(out.keys.size());
        out.keys.push_back(sort_key(*key_column, e, out));
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
                                               const core::FlowKey& key) const {
  if (flow_slots.empty()) {
    return std::nullopt;
  }
  const std::size_t mask = flow_slots.size() - 1;
  const auto hash = static_cast<std::uint32_t>(key.hash());  // as prepare() indexed it
  for (std::size_t i = hash & mask; flow_slots[i] != 0; i = (i + 1) & mask) {
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
  const core::EnrichNeeds key_needs = flows_tab ? sort_needs(sort.column, state.dns) : 0;
  const bool key_from_enrichment = key_needs != 0;
  // Only the fields the filter, the sort key or the grouping read are copied for every flow.
  const core::EnrichNeeds needs =
      state.filter.needs() | key_needs | (flows_tab ? 0 : tab_needs(state.tab));
  std::optional<detail::Aggregator> aggregator;
  if (!flows_tab) {
    aggregator.emplace(state.tab, state.dns);
  }
  Candidates cands = select(snapshot, state, needs,
                            key_from_enrichment ? std::optional<Column>(sort.column) : std::nullopt,
                            aggregator ? &*aggregator : nullptr, p.counts);
  if (flows_tab) {
    const std::vector<std::uint32_t> hashes = sort_candidates(snapshot, cands, sort);
    p.order.reserve(cands.items.size());
    std::size_t slots = 16;
    while (slots < 2 * cands.items.size()) {
      slots *= 2;
    }
    p.flow_slots.assign(slots, 0);
    for (std::size_t k = 0; k < cands.items.size(); ++k) {
      p.order.push_back(cands.items[k].rec);
      std::size_t i = hashes[k] & (slots - 1);
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
