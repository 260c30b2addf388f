#include "flowtop/conntrack/collector.hpp"

#include <linux/netfilter/nfnetlink_compat.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <vector>

#include "ct_socket.hpp"
#include "flowtop/conntrack/parser.hpp"
#include "flowtop/conntrack/stats_parser.hpp"
#include "flowtop/core/clock.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/sys/event_fd.hpp"
#include "resync_pacer.hpp"

namespace flowtop::conntrack {
namespace {

/// Raises this thread's nice value by `by` (lowers its priority), at most to 19: relative to what
/// flowtop was started with (`nice`, systemd's Nice=), which it never undoes.
void lower_this_thread(int by) {
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0) {
    return;
  }
  (void)::setpriority(PRIO_PROCESS, tid, std::min(now + by, 19));
}

/// This thread's CPU time (user and system), in ns.
std::int64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr std::size_t kDefaultEventBuffer = 16UL << 20;
constexpr std::size_t kMaxEventBuffer = 64UL << 20;
constexpr std::int64_t kDrainPeriodNs = 5'000'000;        // events are drained on a 5 ms timer
constexpr std::int64_t kMinResyncGapNs = 100'000'000;     // coalesce resyncs
constexpr std::int64_t kMaxResyncGapNs = 60'000'000'000;  // back-off limit under a storm
constexpr std::size_t kMaxDatagramsPerDrain = 200'000;
// Applying an event (parse, table update, lingering, enrichment hand-off) costs ~5 us, copying it
// out of the socket well under 1 us. So a receiver thread of its own copies events out of the
// socket as they come, also while the collector thread dumps or applies a storm, and the
// collector applies them in order; up to kMaxStagedBytes wait in memory (about a fifth of the
// socket buffer's ~1.3 KB an event). Beyond that the socket is left to fill (and ENOBUFS
// counted) as before.
constexpr std::size_t kMaxStagedBytes = 64UL << 20;
// Staged events live in blocks that never move and are reused, so that staging a storm costs
// neither the copies of a growing buffer nor a page fault per 4 KiB after its first blocks (both
// had been two thirds of the receiver's time in a churn storm, and events were lost meanwhile).
constexpr std::size_t kStageBlock = 1UL << 20;
constexpr int kCollectorNice = 5;  // the collector thread's nice value above the process's
constexpr std::size_t kKeptStageBlocks = 1;  // spare blocks kept once a storm is over
// Flows learned from NEW/UPDATE events carry no counters: a GET completes each before it is
// shown, within a budget so that an event storm never turns into a GET storm (~7 us each: 2,000
// a second is ~1.4% of a core). Beyond the queue's bound, flows wait for the next dump or GET.
constexpr double kCompletionsPerSecond = 2000;
constexpr double kCompletionBurst = 256;
constexpr std::size_t kMaxToComplete = 4096;
// ...and not at once: a short flow has usually moved its bytes (often ended) 100 ms after its
// NEW event, so the GET reads what it did rather than its SYN. A requested dump (a --json or
// --batch frame) completes every waiting flow first.
constexpr std::int64_t kCompletionDelayNs = 100'000'000;
// A drain that finds this many datagrams waiting means a churn storm (200,000 events a second at
// the 5 ms drain period; a busy router sees a few thousand a second): for kBusyHoldNs after one,
// DESTROYs take the lean path (the entry goes at once, its end record is still reported) instead
// of making a lingering row, which costs three table updates, so that a storm costs no events.
constexpr std::size_t kBusyDrainDatagrams = 1000;
constexpr std::int64_t kBusyHoldNs = 1'000'000'000;

std::uint64_t read_ct_max() {
  std::ifstream in("/proc/sys/net/netfilter/nf_conntrack_max");
  std::uint64_t v = 0;
  in >> v;
  return v;
}

}  // namespace

struct Collector::Impl {
  Impl(table::FlowTable& t, core::CollectorStats& s, CollectorConfig c)
      : table(t),
        stats(s),
        config(std::move(c)),
        clock(config.clock != nullptr ? *config.clock : core::system_clock()),
        events(
            NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY,
            clock),
        requests(0, clock) {
    event_buffer = config.event_buffer != 0 ? config.event_buffer : kDefaultEventBuffer;
    stats.rcvbuf = events.set_rcvbuf(event_buffer);
    events.set_nonblocking();
    stats.ct_max = read_ct_max();
    interval_ns = config.interval.count();
    rate_window = config.rate_window;
  }

  table::FlowTable& table;
  core::CollectorStats& stats;
  CollectorConfig config;
  const core::Clock& clock;
  CtSocket events;    // opened first: nothing created during the initial dump is missed
  CtSocket requests;  // dumps and GETs
  sys::EventFd wake;  // main -> collector
  sys::EventFd done;  // collector -> main
  std::jthread thread;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::uint64_t requested = 0;  // dump tickets handed out
  std::uint64_t completed = 0;  // tickets satisfied by a finished dump
  bool dead = false;
  bool watched_dirty = false;
  std::exception_ptr error;
  std::vector<core::FlowKey> watched_shared;

  // Collector-thread state.
  std::size_t event_buffer = 0;
  std::atomic<std::int64_t> interval_ns{0};  // written by set_interval (main), read here
  // Written by set_rate_window (main), read here at each sample: the averages' time constant.
  std::atomic<core::RateWindow> rate_window{core::RateWindow::Off};
  bool dumping = false;
  bool ct_stats_unavailable = false;  // the kernel refused a statistics request
  bool stage_lost = false;            // under stage_mu (see below): ENOBUFS or a truncated datagram
  ResyncPacer resync_pacer{kMinResyncGapNs, kMaxResyncGapNs, config.cpu_budget};
  std::unordered_set<std::uint32_t> destroyed_during_dump;
  std::vector<core::FlowKey> watched;
  std::int64_t next_periodic_dump = 0;
  std::int64_t next_get_tick = 0;
  std::int64_t busy_until_ns = 0;  // until then ended flows do not linger (kBusyDrainDatagrams)
  std::int64_t last_dump_end = 0;
  // Events copied out of the socket, not applied yet, oldest first: their bytes back to back in
  // blocks of kStageBlock bytes (no allocation per event), each at an 8-byte boundary, and where
  // each one is. The receiver thread and the collector's drain_events() read the socket and
  // append here only under stage_mu, so events are applied in the order the kernel queued them.
  // A block is mapped with its pages populated: one system call rather than a page fault per
  // 4 KiB on first use, in the middle of a storm (on this project's VMs a fault costs ~10 us).
  // Null when the mapping fails.
  struct Unmap {
    void operator()(std::uint8_t* p) const { ::munmap(p, kStageBlock); }
  };
  using Block = std::unique_ptr<std::uint8_t, Unmap>;
  static Block new_block() {
    void* p = ::mmap(nullptr, kStageBlock, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? Block() : Block(static_cast<std::uint8_t*>(p));
  }
  struct Staged {
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    std::int64_t recv_ns = 0;
  };
  struct Stage {
    std::vector<Block> blocks;  // the last one is being filled
    std::size_t used = 0;       // bytes used in the last block
    std::vector<Staged> events;
    [[nodiscard]] std::size_t bytes() const { return blocks.size() * kStageBlock; }
  };
  std::mutex stage_mu;
  std::condition_variable_any stage_room;  // the receiver waits while kMaxStagedBytes are staged
  Stage stage;                             // under stage_mu
  std::vector<Block> spare_blocks;         // under stage_mu: emptied blocks, for reuse
  Stage applying;                          // collector thread: the events being applied
  sys::EventFd staged_ready;               // receiver -> collector: staging was empty, now not
  sys::EventFd receiver_wake;              // stop() -> receiver
  std::jthread receiver;

  std::shared_ptr<const core::NetFacts> facts;  // refreshed once per loop iteration
  std::int64_t wall_offset_ns = 0;              // realtime - steady, once per loop iteration

  // Ended flows waiting for their rates to fall to 0 (one interval) and to go (linger), in the
  // order they ended.
  struct Lingering {
    core::FlowKey key;
    std::uint32_t id = 0;
    std::int64_t ended_ns = 0;
  };
  std::deque<Lingering> to_quiet;
  std::deque<Lingering> to_expire;

  // Flows learned from events that no dump or GET has completed yet (oldest first), and the
  // token bucket of completion GETs.
  struct Learned {
    core::FlowKey key;
    std::int64_t due_ns = 0;
  };
  std::deque<Learned> to_complete;
  double completion_tokens = kCompletionBurst;
  std::int64_t completion_refill_ns = 0;

  void refresh_facts() {
    if (config.net_facts) {
      facts = config.net_facts();
    }
    wall_offset_ns = clock.realtime_ns() - clock.steady_ns();
  }

  void classify(core::FlowRecord& rec) const {
    if (facts) {
      rec.flags = static_cast<std::uint8_t>((rec.flags & ~unsigned{core::FlowRecord::kEndsBits}) |
                                            core::classify(rec, *facts));
    }
  }

  [[nodiscard]] core::MergeContext merge_context(const core::FlowRecord& rec) const {
    // Rates cover at least 90% of an interval, whatever the sample came from (dump, GET, event).
    const std::int64_t interval = std::max<std::int64_t>(1, interval_ns.load());
    const std::int64_t avg_ns =
        std::int64_t{core::rate_window_seconds(rate_window.load())} * 1'000'000'000;
    return {std::max<std::int64_t>(1, interval * 9 / 10), interval, rec.sample_ns + wall_offset_ns,
            avg_ns};
  }

  /// Publishes a sample merged with the entry's record; `merged`, when given, receives the
  /// record as published.
  void upsert(core::FlowRecord rec, core::FlowRecord* merged = nullptr) {
    classify(rec);
    const core::MergeContext ctx = merge_context(rec);
    auto merge = [&ctx, merged](const core::FlowRecord* prev, core::FlowRecord& next) {
      core::merge_sample(prev, next, ctx);
      if (merged != nullptr) {
        *merged = next;
      }
    };
    if (table.upsert(rec, merge) == table::FlowTable::Upserted::Added && config.on_new) {
      config.on_new(rec);
    }
  }

  /// A DESTROY event: the final record lingers (or goes at once with linger 0) and is reported.
  void end_flow(core::FlowRecord rec) {
    const bool linger = config.linger.count() > 0 && clock.steady_ns() >= busy_until_ns;
    if (!linger && !config.on_life) {
      table.erase(rec.key, rec.id);  // the lean path: nobody wants the final record
      return;
    }
    const std::optional<core::FlowRecord> prev = table.find(rec.key);
    if (prev && prev->id == rec.id && prev->ended()) {
      return;  // a repeated DESTROY
    }
    const bool ours = !prev || prev->id == rec.id;  // else a newer entry holds the tuple
    rec.life |= core::FlowRecord::kEnded;
    classify(rec);
    core::FlowRecord final_rec = rec;
    core::merge_sample(ours ? (prev ? &*prev : nullptr) : nullptr, final_rec, merge_context(rec));
    if (ours && linger) {
      if (table.upsert(final_rec) == table::FlowTable::Upserted::Added && config.on_new) {
        config.on_new(final_rec);  // first seen at its end: enrich the lingering row
      }
      keep_lingering(final_rec);
    } else if (ours) {
      table.erase(rec.key, rec.id);
    }
    if (config.on_life) {
      config.on_life(LifeEvent::End, final_rec);
    }
  }

  void keep_lingering(const core::FlowRecord& rec) {
    const Lingering l{rec.key, rec.id, rec.sample_ns};
    if (to_expire.size() >= config.max_lingering && !to_expire.empty()) {
      table.erase(to_expire.front().key, to_expire.front().id);  // bounded under a storm
      to_expire.pop_front();
    }
    if (config.linger.count() > interval_ns.load()) {
      to_quiet.push_back(l);
    }
    to_expire.push_back(l);
  }

  /// Ended flows: rates to 0 one interval after the end, removed after the linger.
  void sweep_lingering(std::int64_t now) {
    const std::int64_t interval = interval_ns.load();
    while (!to_quiet.empty() && now - to_quiet.front().ended_ns >= interval) {
      const Lingering l = to_quiet.front();
      to_quiet.pop_front();
      if (auto rec = table.find(l.key); rec && rec->ended() && rec->id == l.id) {
        rec->rate_orig_bytes = rec->rate_reply_bytes = 0;
        rec->rate_orig_packets = rec->rate_reply_packets = 0;
        rec->avg_orig_bytes = rec->avg_reply_bytes = 0;
        table.upsert(*rec);  // the table rewrites the record under its sequence lock
      }
    }
    const std::int64_t linger = config.linger.count();
    while (!to_expire.empty() && now - to_expire.front().ended_ns >= linger) {
      const Lingering l = to_expire.front();
      to_expire.pop_front();
      if (auto rec = table.find(l.key); rec && rec->ended() && rec->id == l.id) {
        table.erase(l.key, l.id);
      }
    }
  }

  void apply_event(std::span<const std::uint8_t> bytes, std::int64_t recv_ns) {
    const ParseResult r = parse_ct_message(bytes, recv_ns, true);
    if (!r.msg) {
      if (r.error == ParseError::Malformed) {
        stats.parse_errors.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    stats.events.fetch_add(1, std::memory_order_relaxed);
    if (r.msg->kind == MsgKind::Destroy) {
      if (dumping) {
        destroyed_during_dump.insert(r.msg->rec.id);
      }
      end_flow(r.msg->rec);
      return;
    }
    core::FlowRecord published;
    upsert(r.msg->rec, &published);
    if (!published.has(core::FlowRecord::kSampled) && to_complete.size() < kMaxToComplete) {
      // No counters yet: complete_learned() GETs it.
      to_complete.push_back(Learned{published.key, clock.steady_ns() + kCompletionDelayNs});
    }
    if (r.msg->kind == MsgKind::New && config.on_life) {
      config.on_life(LifeEvent::Start, published);
    }
  }

  /// GETs the flows learned from events that still lack a full view (state, counters and
  /// timestamp from the kernel) once they are due (`all`: every one), as many as the token bucket
  /// allows; the rest wait for the next call (or a dump completes them first).
  void complete_learned(bool all = false) {
    const std::int64_t now = clock.steady_ns();
    if (completion_refill_ns != 0) {
      completion_tokens = std::min(
          kCompletionBurst, completion_tokens + static_cast<double>(now - completion_refill_ns) *
                                                    kCompletionsPerSecond / 1e9);
    }
    completion_refill_ns = now;
    while (!to_complete.empty() && completion_tokens >= 1 &&
           (all || to_complete.front().due_ns <= now)) {
      const core::FlowKey key = to_complete.front().key;
      to_complete.pop_front();
      const std::optional<core::FlowRecord> rec = table.find(key);
      if (!rec || rec->ended() || rec->has(core::FlowRecord::kSampled)) {
        continue;  // gone, ended (its DESTROY had the counters) or completed by a dump
      }
      completion_tokens -= 1;
      // Not found: it ended meanwhile, and its DESTROY event brings the final counters.
      requests.get(key,
                   [this](std::span<const std::uint8_t> m, std::int64_t t) { apply_entry(m, t); });
      stats.gets.fetch_add(1, std::memory_order_relaxed);
    }
  }

  /// Under stage_mu: copies the event datagrams the socket holds into the stage (unless
  /// kMaxStagedBytes wait already). Returns the number of datagrams read.
  std::size_t pull_events_locked() {
    if (stage.bytes() >= kMaxStagedBytes) {
      return 0;
    }
    bool lost = false;
    const std::size_t n = events.receive_events(
        [this, &lost](std::span<const std::uint8_t> m, std::int64_t t) {
          if (m.size() > kStageBlock) {  // a netlink message is at most a datagram (8 KiB)
            lost = true;
            return;
          }
          if (stage.blocks.empty() || stage.used + m.size() > kStageBlock) {
            if (spare_blocks.empty()) {
              Block fresh = new_block();
              if (!fresh) {  // no memory: this event is dropped, counted as lost (a resync follows)
                lost = true;
                return;
              }
              stage.blocks.push_back(std::move(fresh));
            } else {
              stage.blocks.push_back(std::move(spare_blocks.back()));
              spare_blocks.pop_back();
            }
            stage.used = 0;
          }
          std::uint8_t* at = stage.blocks.back().get() + stage.used;
          std::memcpy(at, m.data(), m.size());
          stage.used += (m.size() + 7) & ~std::size_t{7};
          stage.events.push_back(Staged{at, m.size(), t});
        },
        kMaxDatagramsPerDrain, lost);
    stage_lost = stage_lost || lost;
    return n;
  }

  /// The receiver thread: copies events out of the socket as soon as they are queued, so the
  /// socket does not fill while the collector thread dumps or applies a storm.
  void receive_loop(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      pollfd fds[2] = {{events.fd(), POLLIN, 0}, {receiver_wake.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
        sys::throw_errno("poll (conntrack events)");
      }
      if ((fds[1].revents & POLLIN) != 0) {
        receiver_wake.drain();
      }
      std::unique_lock lock(stage_mu);
      stage_room.wait(lock, stop, [this] { return stage.bytes() < kMaxStagedBytes; });
      if (stop.stop_requested()) {
        break;
      }
      const bool was_empty = stage.events.empty();
      pull_events_locked();
      const bool now_staged = !stage.events.empty();
      lock.unlock();
      if (was_empty && now_staged) {
        staged_ready.notify();
      }
    }
  }

  /// Applies every event queued so far: those the receiver staged, then what the socket still
  /// holds, in order. Returns the number of events applied.
  std::size_t drain_events() {
    bool lost = false;
    {
      const std::lock_guard lock(stage_mu);
      pull_events_locked();
      std::swap(stage, applying);
      lost = std::exchange(stage_lost, false);
    }
    stage_room.notify_all();
    staged_ready.drain();
    for (const Staged& e : applying.events) {
      apply_event(std::span<const std::uint8_t>(e.data, e.size), e.recv_ns);
    }
    const std::size_t n = applying.events.size();
    applying.events.clear();
    applying.used = 0;
    // The blocks go back for reuse; once a storm is over (a drain of few events) all but
    // kKeptStageBlocks are given back, and so is a storm-sized event list.
    const bool storm = n >= kBusyDrainDatagrams;
    std::vector<Block> freed;
    {
      const std::lock_guard lock(stage_mu);
      for (Block& b : applying.blocks) {
        spare_blocks.push_back(std::move(b));
      }
      if (!storm && spare_blocks.size() > kKeptStageBlocks) {
        freed.assign(std::make_move_iterator(spare_blocks.begin() + kKeptStageBlocks),
                     std::make_move_iterator(spare_blocks.end()));
        spare_blocks.resize(kKeptStageBlocks);
      }
    }
    applying.blocks.clear();
    if (!storm && applying.events.capacity() > kMaxDatagramsPerDrain / 4) {
      applying.events = {};
    }
    freed.clear();  // outside the lock
    if (lost || n >= kBusyDrainDatagrams) {
      busy_until_ns = clock.steady_ns() + kBusyHoldNs;
    }
    if (lost) {
      stats.enobufs.fetch_add(1, std::memory_order_relaxed);
      resync_pacer.lost(clock.steady_ns());
      if (event_buffer < kMaxEventBuffer) {
        event_buffer = std::min(event_buffer * 2, kMaxEventBuffer);
        stats.rcvbuf = events.set_rcvbuf(event_buffer);
      }
    }
    return n;
  }

  void apply_entry(std::span<const std::uint8_t> bytes, std::int64_t recv_ns) {
    const ParseResult r = parse_ct_message(bytes, recv_ns, false);
    if (!r.msg) {
      if (r.error == ParseError::Malformed) {
        stats.parse_errors.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    if (dumping && destroyed_during_dump.contains(r.msg->rec.id)) {
      return;  // its DESTROY event was already applied; the dump's copy is stale
    }
    upsert(r.msg->rec);
  }

  /// One full dump as a mark-and-sweep generation; events are drained between received batches so
  /// a long dump does not overflow the event socket.
  void full_dump(bool resync) {
    std::uint64_t ticket = 0;
    {
      std::lock_guard lock(mu);
      ticket = requested;
    }
    const std::int64_t t0 = clock.steady_ns();
    const std::int64_t cpu0 = thread_cpu_ns();
    dumping = true;
    destroyed_during_dump.clear();
    table.begin_resync();
    requests.dump([this](std::span<const std::uint8_t> m, std::int64_t t) { apply_entry(m, t); },
                  [this] { drain_events(); });
    table.end_resync();
    dumping = false;
    // Flows learned from events during the dump that it did not include: complete them now, so
    // the frame that asked for this dump shows them with counters.
    drain_events();
    complete_learned(true);
    const std::int64_t t1 = clock.steady_ns();
    const std::int64_t cost = t1 - t0;
    last_dump_end = t1;
    stats.dumps.fetch_add(1, std::memory_order_relaxed);
    stats.last_dump_ns = static_cast<std::uint64_t>(cost);
    const auto cpu = static_cast<std::uint64_t>(std::max<std::int64_t>(thread_cpu_ns() - cpu0, 0));
    stats.last_dump_cpu_ns = cpu;
    if (stats.dumps.load(std::memory_order_relaxed) > 1) {
      stats.refresh_cpu_ns.fetch_add(cpu, std::memory_order_relaxed);
      stats.refreshes.fetch_add(1, std::memory_order_relaxed);
    }
    stats.flows = table.size();
    if (resync) {
      stats.resyncs.fetch_add(1, std::memory_order_relaxed);
    }
    resync_pacer.dumped(t1, cost, resync);
    // Keep full refreshes within the CPU budget: a dump costing d runs at most every d / budget.
    const auto budget_period =
        static_cast<std::int64_t>(static_cast<double>(cost) / config.cpu_budget);
    const std::int64_t interval = interval_ns.load();
    const std::int64_t period = std::max<std::int64_t>(interval, budget_period);
    stats.dump_stretched = config.periodic_dumps && budget_period > interval;
    stats.refresh_period_ns = static_cast<std::uint64_t>(config.periodic_dumps ? period : 0);
    next_periodic_dump = t1 + period;
    stats.initial_dump_done = true;  // before the notification: a woken reader sees it
    {
      std::lock_guard lock(mu);
      completed = std::max(completed, ticket);
    }
    cv.notify_all();
    done.notify();
  }

  void refresh_watched() {
    {
      std::lock_guard lock(mu);
      if (watched_dirty) {
        watched = watched_shared;
        watched_dirty = false;
      }
    }
    for (const auto& key : watched) {
      if (auto rec = table.find(key); rec && rec->ended()) {
        continue;  // a lingering row: the kernel has it no more
      }
      const bool found = requests.get(
          key, [this](std::span<const std::uint8_t> m, std::int64_t t) { apply_entry(m, t); });
      stats.gets.fetch_add(1, std::memory_order_relaxed);
      if (!found) {
        table.erase(key);
      }
    }
    stats.flows = table.size();
  }

  /// Reads the kernel's conntrack statistics (per-CPU counters, entry count and limit) into
  /// `stats`. A kernel that refuses the requests leaves the pressure unknown; nothing else stops.
  void sample_ct_stats() {
    if (ct_stats_unavailable) {
      return;
    }
    core::CtStatsSample sample;
    core::CtCpuStats cpu;
    try {
      requests.stats([&](std::span<const std::uint8_t> m, std::int64_t /*recv_ns*/) {
        switch (parse_ct_stats(m, cpu, sample)) {
          case StatsParse::Cpu: sample.cpus.push_back(cpu); break;
          case StatsParse::Malformed:
            stats.parse_errors.fetch_add(1, std::memory_order_relaxed);
            break;
          case StatsParse::Global:
          case StatsParse::Other: break;
        }
      });
    } catch (const std::system_error&) {
      ct_stats_unavailable = true;
      return;
    }
    sample.steady_ns = clock.steady_ns();
    if (sample.max) {
      stats.ct_max = *sample.max;
    }
    stats.publish_ct_stats(std::move(sample));
  }

  bool dump_requested() {
    std::lock_guard lock(mu);
    return requested > completed;
  }

  void run(const std::stop_token& stop) {
    rcu::Thread rcu;
    // Below the receiver thread (the process's nice value): when the CPUs are short, events are
    // staged first and applied later, rather than applied while the socket overflows. (Raising a
    // thread's nice value needs no privilege; failure changes nothing.)
    lower_this_thread(kCollectorNice);
    refresh_facts();
    full_dump(false);
    sample_ct_stats();
    drain_events();
    next_get_tick = clock.steady_ns() + interval_ns.load();
    bool idle = false;
    while (!stop.stop_requested()) {
      const std::int64_t now = clock.steady_ns();
      std::int64_t deadline = next_get_tick;
      if (config.periodic_dumps) {
        deadline = std::min(deadline, next_periodic_dump);
      }
      if (resync_pacer.pending()) {
        deadline = std::min(deadline, resync_pacer.due());
      }
      if (!to_quiet.empty()) {
        deadline = std::min(deadline, to_quiet.front().ended_ns + interval_ns.load());
      }
      if (!to_expire.empty()) {
        deadline = std::min(deadline, to_expire.front().ended_ns + config.linger.count());
      }
      if (!to_complete.empty()) {  // when the first is due and a GET token is there
        const std::int64_t token_ns =
            completion_tokens >= 1
                ? 0
                : completion_refill_ns + static_cast<std::int64_t>((1 - completion_tokens) * 1e9 /
                                                                   kCompletionsPerSecond);
        deadline = std::min(deadline, std::max(to_complete.front().due_ns, token_ns));
      }
      // Dumps, GETs and resyncs are due on the clock; the drain period passes in real time.
      int timeout_ms = clock.poll_timeout_ms(deadline - now);
      if (!idle) {
        constexpr int kDrainMs = static_cast<int>(kDrainPeriodNs / 1'000'000);
        timeout_ms = timeout_ms < 0 ? kDrainMs : std::min(timeout_ms, kDrainMs);
      }
      // Busy: sleep on the timer and batch; idle: wake on the first event too.
      pollfd fds[3] = {{wake.fd(), POLLIN, 0},
                       {clock.wake_fd(), POLLIN, 0},
                       {idle ? staged_ready.fd() : -1, POLLIN, 0}};
      poll(fds, 3, timeout_ms);
      wake.drain();
      if ((fds[1].revents & POLLIN) != 0) {
        core::drain_wake(clock.wake_fd());
      }
      if (stop.stop_requested()) {
        break;
      }
      refresh_facts();
      idle = drain_events() == 0;
      complete_learned();
      const std::int64_t t = clock.steady_ns();
      sweep_lingering(t);
      const bool resync_due = resync_pacer.pending() && t >= resync_pacer.due();
      if (resync_due || dump_requested() || (config.periodic_dumps && t >= next_periodic_dump)) {
        full_dump(resync_pacer.begin_dump());
      }
      if (t >= next_get_tick) {
        refresh_watched();
        sample_ct_stats();
        next_get_tick = t + interval_ns.load();
      }
    }
    sample_ct_stats();  // the newest counters for --stats at exit
  }
};

Collector::Collector(table::FlowTable& table, core::CollectorStats& stats, CollectorConfig config)
    : impl_(std::make_unique<Impl>(table, stats, std::move(config))) {}

Collector::~Collector() {
  stop();
}

void Collector::start() {
  Impl* impl = impl_.get();
  // Either thread's exception ends the collector: the first one is what error() rethrows.
  auto guarded = [impl](void (Impl::*body)(const std::stop_token&)) {
    return [impl, body](const std::stop_token& stop) {
      try {
        (impl->*body)(stop);
      } catch (...) {
        {
          std::lock_guard lock(impl->mu);
          if (!impl->error) {
            impl->error = std::current_exception();
          }
          impl->dead = true;
        }
        impl->cv.notify_all();
        impl->done.notify();
      }
    };
  };
  impl->receiver = std::jthread(guarded(&Impl::receive_loop));
  impl->thread = std::jthread(guarded(&Impl::run));
  // Named for top -H and /proc/PID/task/TID/comm (at most 15 bytes).
  ::pthread_setname_np(impl->receiver.native_handle(), "ft-ct-events");
  ::pthread_setname_np(impl->thread.native_handle(), "ft-collector");
}

void Collector::stop() {
  if (impl_ && impl_->thread.joinable()) {
    impl_->thread.request_stop();
    impl_->wake.notify();
    impl_->thread.join();
  }
  if (impl_ && impl_->receiver.joinable()) {
    impl_->receiver.request_stop();  // also ends its wait for room (stop_token-aware)
    impl_->receiver_wake.notify();
    impl_->receiver.join();
  }
}

std::uint64_t Collector::request_dump() {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(impl_->mu);
    ticket = ++impl_->requested;
  }
  impl_->wake.notify();
  return ticket;
}

bool Collector::wait_dump(std::uint64_t ticket, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return impl_->completed >= ticket || impl_->dead; });
  return impl_->completed >= ticket;
}

void Collector::set_watched(std::vector<core::FlowKey> keys) {
  std::lock_guard lock(impl_->mu);
  impl_->watched_shared = std::move(keys);
  impl_->watched_dirty = true;
}

std::exception_ptr Collector::error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->error;
}

int Collector::notify_fd() const {
  return impl_->done.fd();
}

void Collector::set_interval(std::chrono::nanoseconds interval) {
  impl_->interval_ns = interval.count();
  impl_->wake.notify();
}

void Collector::set_rate_window(core::RateWindow window) {
  impl_->rate_window = window;
}

core::RateWindow Collector::rate_window() const {
  return impl_->rate_window.load();
}

}  // namespace flowtop::conntrack
