// Totals that outlive flows: per-group byte sums fed by per-snapshot counter differences.
#include "flowtop/view/totals.hpp"

#include <algorithm>
#include <utility>

#include "flowtop/core/ends.hpp"
#include "flowtop/view/snapshot.hpp"
#include "view/candidates.hpp"

namespace flowtop::view {
namespace {

using core::FlowRecord;

constexpr std::array<Tab, 4> kGroupTabs{Tab::Owners, Tab::Hosts, Tab::Countries, Tab::As};

// What the groups of every aggregate tab are keyed and labelled by.
constexpr core::EnrichNeeds kGroupNeeds =
    core::kNeedProcess | core::kNeedInsideName | core::kNeedRemoteName | core::kNeedRemoteGeo;

template <class T>
bool pending(const core::Lookup<T>& l) {
  return l.state == core::Lookup<T>::State::Pending;
}

// A lookup that decides a flow's group on some tab is still running.
bool group_pending(const core::Enrichment& e) {
  return pending(e.process) || pending(e.host) || pending(e.remote_geo);
}

std::uint64_t grew(std::uint64_t now, std::uint64_t before) {
  return now > before ? now - before : 0;
}

std::uint64_t tag_of(const FlowRecord& rec) {
  return (std::uint64_t{rec.id} << 32U) | static_cast<std::uint32_t>(rec.key.hash());
}

}  // namespace

void RateHistory::push(double out, double in) {
  out_[head_] = static_cast<float>(out);
  in_[head_] = static_cast<float>(in);
  head_ = (head_ + 1) % kHistory;
  count_ = std::min(count_ + 1, kHistory);
}

std::vector<double> RateHistory::series_out() const {
  std::vector<double> v(count_);
  for (std::size_t i = 0; i < count_; ++i) {
    v[i] = out(i);
  }
  return v;
}

std::vector<double> RateHistory::series_in() const {
  std::vector<double> v(count_);
  for (std::size_t i = 0; i < count_; ++i) {
    v[i] = in(i);
  }
  return v;
}

Focus focus_of(const ViewState& state) {
  Focus f;
  f.tab = state.tab;
  const Cursor& c = state.current_cursor();
  if (state.tab == Tab::Flows) {
    f.flow = c.flow;
  } else {
    f.group = c.group;
  }
  return f;
}

const GroupTotal* Totals::find(Tab tab, const GroupKey& key) const {
  if (!groups) {
    return nullptr;
  }
  const auto& map = (*groups)[static_cast<std::size_t>(tab)];
  const auto it = map.find(detail::group_id(key));
  return it == map.end() ? nullptr : &it->second;
}

void Ledger::start(const Snapshot& snap) {
  for (auto& m : groups_) {
    m.clear();
  }
  groups_published_ = std::make_shared<const GroupTotals>(groups_);
  totals_ = Totals{};
  totals_.since_realtime_ns = snap.realtime_ns;
  enobufs_base_ = snap.status.enobufs;
  // The flows alive now count from their current counters.
  seen_.clear();
  for (const FlowRecord& rec : snap.flows) {
    if (rec.has(FlowRecord::kHasCounters)) {
      seen_.push_back(
          Seen{tag_of(rec), core::sent_counters(rec).bytes, core::received_counters(rec).bytes, 0});
    }
  }
  std::sort(seen_.begin(), seen_.end(), [](const Seen& a, const Seen& b) { return a.tag < b.tag; });
  last_steady_ns_ = snap.steady_ns;
  started_ = true;
}

void Ledger::evict(std::unordered_map<std::string, GroupTotal>& groups) {
  if (groups.size() <= max_groups_) {
    return;
  }
  // Down to 90% of the cap at once, so that a stream of new groups evicts in batches.
  const std::size_t keep = max_groups_ - max_groups_ / 10;
  std::vector<std::int64_t> times;
  times.reserve(groups.size());
  for (const auto& [id, g] : groups) {
    times.push_back(g.active_ns);
  }
  const std::size_t drop = groups.size() - keep;
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   times.end());
  const std::int64_t cutoff = times[drop - 1];
  std::size_t dropped = 0;
  for (auto it = groups.begin(); it != groups.end() && dropped < drop;) {
    if (it->second.active_ns <= cutoff) {
      it = groups.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  totals_.evicted += dropped;
}

std::shared_ptr<const Totals> Ledger::account(const Snapshot& snap, const Selection& selection,
                                              bool dns, const Focus& focus) {
  if (!started_ || reset_.exchange(false, std::memory_order_relaxed)) {
    start(snap);
  } else {
    if (!(focus == totals_.focus)) {
      totals_.focus_history.clear();
    }
    std::uint64_t out = 0;  // this snapshot's counted bytes
    std::uint64_t in = 0;
    std::uint64_t fg_out = 0;  // the focused group's
    std::uint64_t fg_in = 0;
    std::optional<core::Rates> focus_rate;
    bool groups_changed = false;
    // This snapshot's flows in tag order, merged with the last one's (seen_, same order): the
    // flows that left are not carried over.
    order_.clear();
    for (std::size_t i = 0; i < snap.flows.size(); ++i) {
      if (snap.flows[i].has(FlowRecord::kHasCounters)) {
        order_.emplace_back(tag_of(snap.flows[i]), static_cast<std::uint32_t>(i));
      }
    }
    std::sort(order_.begin(), order_.end());
    std::vector<Seen> next;
    next.reserve(order_.size());
    auto prev = seen_.cbegin();
    for (const auto& [tag, index] : order_) {
      const FlowRecord& rec = snap.flows[index];
      const std::uint64_t sent = core::sent_counters(rec).bytes;
      const std::uint64_t received = core::received_counters(rec).bytes;
      if (focus.flow && *focus.flow == rec.key && core::rates_known(rec)) {
        focus_rate = core::Rates{core::sent_rate(rec), core::received_rate(rec), 0, 0};
      }
      while (prev != seen_.cend() && prev->tag < tag) {
        ++prev;
      }
      Seen& s = next.emplace_back();
      if (prev != seen_.cend() && prev->tag == tag) {
        s = *prev++;  // taken: a second flow with the same tag starts afresh
      } else {
        // A flow that started before counting did counts from now; a newer one from 0.
        const bool older = rec.has(FlowRecord::kHasTimestamp) &&
                           static_cast<std::int64_t>(rec.start_ns) < totals_.since_realtime_ns;
        s = older ? Seen{tag, sent, received, 0} : Seen{tag, 0, 0, 0};
      }
      const std::uint64_t d_out = grew(sent, s.sent);
      const std::uint64_t d_in = grew(received, s.received);
      if (d_out == 0 && d_in == 0) {
        continue;
      }
      if (classify(rec, selection) != Hidden::Shown) {
        s.sent = sent, s.received = received;  // hidden: not counted
        continue;
      }
      const core::Enrichment e = snap.enrich ? snap.enrich(rec, kGroupNeeds) : core::Enrichment{};
      if (snap.enrich && group_pending(e) && s.defers < kMaxDefers) {
        ++s.defers;  // counted in full once its owner and GeoIP are known
        continue;
      }
      s.sent = std::max(s.sent, sent), s.received = std::max(s.received, received);
      out += d_out;
      in += d_in;
      for (const Tab tab : kGroupTabs) {
        GroupRow g = detail::make_group(tab, rec, e, dns);
        auto& map = groups_[static_cast<std::size_t>(tab)];
        GroupTotal& t = map[detail::group_id(g.key)];
        if (tab == focus.tab && focus.group && *focus.group == g.key) {
          fg_out += d_out;
          fg_in += d_in;
        }
        t.group = std::move(g);
        t.out += d_out;
        t.in += d_in;
        t.active_ns = snap.steady_ns;
      }
      groups_changed = true;
    }
    seen_.swap(next);  // the flows that left the table are forgotten
    if (groups_changed) {
      for (const Tab tab : kGroupTabs) {
        evict(groups_[static_cast<std::size_t>(tab)]);
      }
      groups_published_ = std::make_shared<const GroupTotals>(groups_);
    }
    totals_.out += out;
    totals_.in += in;
    const std::int64_t dt = snap.steady_ns - last_steady_ns_;
    if (dt > 0) {
      const double secs = static_cast<double>(dt) / 1e9;
      totals_.history.push(static_cast<double>(out) / secs, static_cast<double>(in) / secs);
      if (focus.group) {
        totals_.focus_history.push(static_cast<double>(fg_out) / secs,
                                   static_cast<double>(fg_in) / secs);
      } else if (focus_rate) {
        totals_.focus_history.push(focus_rate->orig_bytes, focus_rate->reply_bytes);
      }
      last_steady_ns_ = snap.steady_ns;
    }
  }
  totals_.focus = focus;
  totals_.lossy = snap.status.enobufs > enobufs_base_;
  auto published = std::make_shared<Totals>(totals_);
  published->groups = groups_published_;
  return published;
}

}  // namespace flowtop::view
