#include "flowtop/app/app.hpp"

#include <fmt/format.h>
#include <langinfo.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "config.hpp"
#include "flowtop/app/options.hpp"
#include "flowtop/conntrack/collector.hpp"
#include "flowtop/conntrack/ct_delete.hpp"
#include "flowtop/core/clock.hpp"
#include "flowtop/enrich/enricher.hpp"
#include "flowtop/geoip/database.hpp"
#include "flowtop/net/net_watcher.hpp"
#include "flowtop/output/batch_writer.hpp"
#include "flowtop/output/json_writer.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/sys/netns.hpp"
#include "flowtop/sys/privileges.hpp"
#include "flowtop/sys/signals.hpp"
#include "flowtop/sys/sysctl_guard.hpp"
#include "flowtop/table/flow_table.hpp"
#include "flowtop/tui/terminal.hpp"
#include "flowtop/view/redact.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/totals.hpp"
#include "frame_source.hpp"
#include "screen_mode.hpp"
#include "track_session.hpp"
#include "update_command.hpp"

namespace flowtop::app {
namespace {

/// The flow table's first size: as many hash buckets as the namespace has entries now (plus a
/// quarter), so that the first dump of a big table does not wait for the hash table's lazy
/// growth (liburcu grows it on its call_rcu thread); at least 4096, at most 2^20.
std::size_t initial_buckets() {
  std::ifstream in("/proc/sys/net/netfilter/nf_conntrack_count");
  std::size_t entries = 0;
  in >> entries;
  return std::clamp<std::size_t>(entries + entries / 4, std::size_t{1} << 12, std::size_t{1} << 20);
}

void print_err(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
}

/// One line a user understands: what failed, why, and what to do.
std::string explain_open_error(const std::system_error& e) {
  const int err = e.code().value();
  if (err == EPERM || err == EACCES) {
    return fmt::format(
        "flowtop: cannot read the conntrack table ({}): flowtop needs CAP_NET_ADMIN; run it as "
        "root "
        "(sudo flowtop)",
        e.what());
  }
  if (err == EPROTONOSUPPORT || err == ENOENT || err == EOPNOTSUPP || err == EAFNOSUPPORT) {
    return fmt::format(
        "flowtop: the kernel offers no conntrack netlink interface ({}): enable nf_conntrack and "
        "nf_conntrack_netlink (CONFIG_NF_CT_NETLINK), e.g. 'modprobe nf_conntrack_netlink'",
        e.what());
  }
  return fmt::format("flowtop: cannot open the conntrack netlink socket: {}", e.what());
}

/// Writes everything; false when the reader went away (EPIPE) or another write error.
bool write_all(std::string_view s) {
  const char* p = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

/// Whether the locale's character set is UTF-8 (else --batch draws ASCII arrows).
bool utf8_locale() {
  std::setlocale(LC_CTYPE, "");                            // NOLINT(concurrency-mt-unsafe)
  return std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;  // NOLINT(concurrency-mt-unsafe)
}

std::size_t output_width() {
  winsize ws{};
  if (isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  // Main thread, before any other reads the environment.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (const char* cols = std::getenv("COLUMNS"); cols != nullptr) {
    const long v = std::strtol(cols, nullptr, 10);
    if (v >= 20 && v <= 1000) {
      return static_cast<std::size_t>(v);
    }
  }
  return 120;
}

/// Waits until `deadline_ns` (steady) or a signal. Returns the signal number, or 0.
int wait_until(const sys::SignalFd& sigs, std::int64_t deadline_ns) {
  for (;;) {
    if (const int sig = sigs.read(); sig != 0) {
      return sig;
    }
    const std::int64_t now = core::steady_ns();
    if (now >= deadline_ns) {
      return 0;
    }
    pollfd pfd{sigs.fd(), POLLIN, 0};
    poll(&pfd, 1, static_cast<int>((deadline_ns - now + 999'999) / 1'000'000));
  }
}

/// Whether anything this run shows reads the ledger's totals: the screen (any tab, later), and
/// --batch/--json showing a group tab (TOTAL↑/TOTAL↓, "total"); the Flows tab has no total, and
/// --events no tab. Without it the frames skip the ledger (its work and ~40 bytes a flow).
bool wants_totals(const Options& opts, bool screen) {
  if (opts.events) {
    return false;
  }
  return screen || opts.tab.value_or(view::Tab::Flows) != view::Tab::Flows;
}

/// The totals (view::Ledger), fed by every snapshot with what the screen shows: its selection
/// (the flows counted), DNS (host labels) and selected row (whose rate history is kept).
/// account() runs on the thread that takes snapshots; the rest on any thread.
class TotalsFeed {
 public:
  explicit TotalsFeed(const view::ViewState& start) { set_shown(start); }

  /// The state a frame showed (the screen's frame_drawn).
  void set_shown(const view::ViewState& state) {
    const std::lock_guard lock(mu_);
    selection_ = state.selection;
    dns_ = state.dns;
    focus_ = view::focus_of(state);
  }
  /// Counts what moved since the last snapshot into `s.totals`; a health line when lost events
  /// may have hidden ended flows from them.
  void account(view::Snapshot& s) {
    view::Selection selection;
    bool dns = true;
    view::Focus focus;
    {
      const std::lock_guard lock(mu_);
      selection = selection_;
      dns = dns_;
      focus = focus_;
    }
    s.totals = ledger_.account(s, selection, dns, focus);
    if (s.totals->lossy) {
      s.status.health.emplace_back(
          "the totals may miss flows that ended while events were lost (R resets them)");
    }
  }
  void reset() { ledger_.reset(); }

 private:
  view::Ledger ledger_;
  std::mutex mu_;
  view::Selection selection_;
  bool dns_ = true;
  view::Focus focus_;
};

/// What both the screen and --batch/--json read each frame.
struct Sources {
  const Options& opts;
  table::FlowTable& table;
  core::CollectorStats& stats;
  conntrack::Collector& collector;
  const enrich::Enricher& enricher;
  const sys::SysctlGuard::Result* sysctl = nullptr;
  TrackSession* track = nullptr;    ///< --track and the screen's `t` key
  std::string geoip_dir_problem{};  ///< a --geoip-dir that is not a directory (a health line)
  TotalsFeed* totals = nullptr;     ///< the TOTAL columns and the histories; nullptr: none

  /// One frame's input: the flows (one RCU read-side copy), the enrichment lookup, the status
  /// and health lines. Rethrows the collector thread's exception. Any RCU-registered thread.
  void take_snapshot(view::Snapshot& s) const {
    if (auto err = collector.error()) {
      std::rethrow_exception(err);
    }
    table.snapshot(s.flows);
    // The chosen window's averages are the rates the screen and --batch show, sort and sum;
    // --json keeps its rate fields the last interval's.
    if (opts.mode != Mode::Json && collector.rate_window() != core::RateWindow::Off) {
      for (core::FlowRecord& rec : s.flows) {
        core::use_avg_rates(rec);
      }
    }
    s.enrich = [this](const core::FlowRecord& rec, core::EnrichNeeds needs) {
      return enricher.lookup(rec, needs);
    };
    s.status.tracked = s.flows.size();
    s.status.offloaded = static_cast<std::uint64_t>(
        std::count_if(s.flows.begin(), s.flows.end(),
                      [](const core::FlowRecord& r) { return core::offloaded(r.status); }));
    s.status.ct_max = stats.ct_max.load();
    s.status.events = stats.events.load();
    s.status.enobufs = stats.enobufs.load();
    s.status.resyncs = stats.resyncs.load();
    s.status.collecting = !stats.initial_dump_done.load();
    s.status.pressure = stats.pressure();
    s.status.health = health_lines(stats, s.status.pressure, sysctl, opts.no_sysctl);
    if (!geoip_dir_problem.empty() && enricher.geoip()) {
      s.status.health.push_back(geoip_dir_problem);
    }
    for (auto& line : enricher.health()) {
      s.status.health.push_back(std::move(line));
    }
    s.status.dbip = enricher.dbip();
    if (track != nullptr) {
      s.status.tracking = track->tracking();
      if (std::string error = track->error(); !error.empty()) {
        s.status.health.push_back(std::move(error));
      }
    }
    s.realtime_ns = core::realtime_ns();
    s.steady_ns = core::steady_ns();
    if (totals != nullptr) {
      totals->account(s);
    }
  }
};

/// How many flows `state` shows still wait for their owner lookup (a process or a LAN device).
std::size_t owners_pending(const view::Snapshot& snapshot, const view::ViewState& state) {
  using P = core::Lookup<core::ProcessInfo>::State;
  using H = core::Lookup<core::HostOwner>::State;
  return static_cast<std::size_t>(
      std::ranges::count_if(snapshot.flows, [&](const core::FlowRecord& rec) {
        if (view::classify(rec, state.selection) != view::Hidden::Shown) {
          return false;
        }
        const core::Enrichment e = snapshot.enrich(rec, core::kNeedProcess);
        return e.process.state == P::Pending || e.host.state == H::Pending;
      }));
}

/// Waits until no flow `state` shows waits for its owner, until the lookups stop making progress
/// (200 ms without one more answer: what is left waits on something slower, such as the /proc
/// rescan of a socket whose process is not indexed yet), or until `deadline_ns` (steady). The
/// snapshot's enrich() reads the caches live, so the frame then written has what was found
/// meanwhile. True when a signal asks to stop.
bool wait_for_owners(const view::Snapshot& snapshot, const view::ViewState& state,
                     const sys::SignalFd& sigs, std::int64_t deadline_ns) {
  constexpr std::int64_t kPollNs = 20'000'000;
  constexpr std::int64_t kNoProgressNs = 200'000'000;
  std::size_t fewest = owners_pending(snapshot, state);
  std::int64_t progress_ns = core::steady_ns();
  while (fewest != 0) {
    const std::int64_t now = core::steady_ns();
    if (now >= deadline_ns || now - progress_ns >= kNoProgressNs) {
      return false;
    }
    if (wait_until(sigs, std::min(deadline_ns, now + kPollNs)) != 0) {
      return true;
    }
    if (const std::size_t left = owners_pending(snapshot, state); left < fewest) {
      fewest = left;
      progress_ns = core::steady_ns();
    }
  }
  return false;
}

/// --batch / --json: one frame per interval, each from a full dump, through the screen's
/// pipeline: view::prepare (selection, filter, sort) → rows → render (batch) or the prepared
/// order (JSON). Returns the exit status.
int frames_loop(const Sources& src, const sys::SignalFd& sigs, std::uint64_t first_ticket) {
  const Options& opts = src.opts;
  const auto interval_ns = static_cast<std::int64_t>(opts.interval_s * 1e9);
  const bool json = opts.mode == Mode::Json;
  const view::ViewState state = state_from_options(opts);
  const std::size_t width = output_width();
  render::ReportOptions report;
  report.version = FLOWTOP_VERSION;
  report.ascii = !utf8_locale();
  view::Snapshot snapshot;
  std::int64_t deadline = core::steady_ns();
  for (std::uint64_t frame = 1; !opts.iterations || frame <= *opts.iterations; ++frame) {
    if (frame > 1 && wait_until(sigs, deadline) != 0) {
      return 0;  // SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE: a request to stop
    }
    const std::uint64_t ticket = frame == 1 ? first_ticket : src.collector.request_dump();
    while (!src.collector.wait_dump(ticket, std::chrono::milliseconds(20))) {
      if (auto err = src.collector.error()) {
        std::rethrow_exception(err);
      }
      if (sigs.read() != 0) {
        return 0;
      }
    }
    src.take_snapshot(snapshot);
    if (frame == 1) {
      // Owners are looked up when a flow is first seen: give the first frame's flows up to one
      // interval for theirs, so that a script's first frame is as complete as the next ones.
      if (wait_for_owners(snapshot, state, sigs, core::steady_ns() + interval_ns)) {
        return 0;
      }
    }
    const view::Prepared prepared = view::prepare(snapshot, state);
    bool written = false;
    if (json) {
      const output::FrameInfo info{frame, snapshot.realtime_ns, state.redact, state.redactor.get()};
      written = output::write_json_frame(prepared, snapshot, info,
                                         [](std::string_view chunk) { return write_all(chunk); });
    } else {
      report.frame = frame;
      report.realtime_ns = snapshot.realtime_ns;
      written = output::write_batch_frame(prepared, snapshot, state, width, report,
                                          [](std::string_view chunk) { return write_all(chunk); });
    }
    if (!written) {
      return 0;  // the reader closed the pipe (flowtop --json | head): leave quietly
    }
    const std::int64_t now = core::steady_ns();
    deadline = std::max(deadline + interval_ns, now + interval_ns / 10);
  }
  return 0;
}

/// The starts and ends the collector reports for --json --events, handed from the collector
/// thread to the main thread. Bounded: past kMax records the newest are dropped and counted.
class LifeQueue {
 public:
  struct Item {
    output::FlowEvent event;
    core::FlowRecord rec;
    std::int64_t realtime_ns;
  };
  static constexpr std::size_t kMax = 1'000'000;

  /// Collector thread: never blocks for long (a swap of vectors on the other side).
  void push(conntrack::LifeEvent event, const core::FlowRecord& rec) {
    // The end's time is the kernel's stop stamp when it has one, else now.
    const std::int64_t now = core::realtime_ns();
    const std::int64_t when = event == conntrack::LifeEvent::End && rec.stop_ns != 0
                                  ? static_cast<std::int64_t>(rec.stop_ns)
                                  : now;
    std::lock_guard lock(mu_);
    if (items_.size() >= kMax) {
      ++dropped_;
      return;
    }
    items_.push_back(Item{
        event == conntrack::LifeEvent::Start ? output::FlowEvent::Start : output::FlowEvent::End,
        rec, when});
  }
  /// Main thread: everything queued so far, in order.
  void take(std::vector<Item>& out) {
    out.clear();
    std::lock_guard lock(mu_);
    out.swap(items_);
  }
  [[nodiscard]] std::uint64_t dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Item> items_;
  std::uint64_t dropped_ = 0;
};

/// --json --events: NDJSON start and end records as the collector reports them, filtered like
/// frames (the selection and --filter), with the enrichment known when each is written.
/// Returns the exit status.
int events_loop(const Sources& src, const sys::SignalFd& sigs, LifeQueue& queue) {
  const Options& opts = src.opts;
  const view::ViewState state = state_from_options(opts);
  // Written about every 100 ms: enrichment (owners, names) has had a moment.
  constexpr std::int64_t kPeriodNs = 100'000'000;
  std::vector<LifeQueue::Item> items;
  std::uint64_t written = 0;
  bool stopping = false;
  std::int64_t deadline = core::steady_ns();
  while (!stopping) {
    deadline += kPeriodNs;
    stopping = wait_until(sigs, deadline) != 0;  // a signal: write what is queued, then stop
    if (auto err = src.collector.error()) {
      std::rethrow_exception(err);
    }
    queue.take(items);
    std::string out;
    for (const LifeQueue::Item& it : items) {
      if (view::classify(it.rec, state.selection) != view::Hidden::Shown) {
        continue;
      }
      const core::Enrichment enr = src.enricher.lookup(it.rec, core::kNeedAll);
      if (!state.filter.empty() && !view::matches(state.filter, it.rec, enr, it.realtime_ns)) {
        continue;
      }
      view::FlowRow row{it.rec, enr, {}, {}};
      if (view::redacting(state)) {
        view::redact_row(row, state.redact, *state.redactor);
      }
      out += output::json_event_line(it.event, row.rec, row.enrich, it.realtime_ns);
      out += '\n';
      if (opts.iterations && ++written >= *opts.iterations) {
        stopping = true;
        break;
      }
    }
    if (!out.empty() && !write_all(out)) {
      return 0;  // the reader went away
    }
  }
  return 0;
}

/// The calling thread's RCU registration, for threads the screen starts.
std::optional<rcu::Thread>& rcu_registration() {
  thread_local std::optional<rcu::Thread> registration;
  return registration;
}

tui::LoopDeps loop_deps(const Sources& src, const sys::SignalFd& sigs, enrich::Enricher& enricher) {
  tui::LoopDeps deps;
  deps.take_snapshot = [&src](view::Snapshot& s) { src.take_snapshot(s); };
  deps.publish_shown = [&src](std::vector<core::FlowKey> keys) {
    src.collector.set_watched(std::move(keys));
  };
  deps.set_dns = [&enricher](bool on) { enricher.set_dns(on); };
  deps.set_geoip = [&enricher](bool on) { enricher.set_geoip(on); };
  deps.set_window = [&src](core::RateWindow w) { src.collector.set_rate_window(w); };
  deps.set_interval = [&src](double seconds) {
    src.collector.set_interval(std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
  };
  if (src.track != nullptr) {
    deps.track = [&src] { src.track->start_from_key(); };
  }
  // The UI thread keeps CAP_NET_ADMIN and is in the watched namespace (--netns was entered
  // before any thread started).
  if (!src.opts.read_only) {
    deps.delete_flow = [](const core::FlowKey& key) { return conntrack::delete_entry(key); };
  }
  if (src.totals != nullptr) {
    deps.reset_totals = [&src] { src.totals->reset(); };
    deps.frame_drawn = [&src](const view::ViewState& shown) { src.totals->set_shown(shown); };
  }
  deps.wake_fd = src.collector.notify_fd();
  deps.thread_init = [] { rcu_registration().emplace(); };
  deps.thread_exit = [] { rcu_registration().reset(); };
  deps.signals = &sigs;
  deps.version = FLOWTOP_VERSION;
  deps.netns = src.opts.netns;
  std::array<char, 256> host{};  // HOST_NAME_MAX is 64; a longer name is cut, still terminated
  if (::gethostname(host.data(), host.size() - 1) == 0) {
    deps.host = host.data();
  }
  return deps;
}

void print_stats(const core::CollectorStats& s) {
  print_err(fmt::format(
      "flowtop: stats: events={} enobufs={} resyncs={} dumps={} gets={} parse_errors={} flows={} "
      "last_dump_ms={:.1f} last_dump_cpu_ms={:.1f} refresh_cpu_ms={:.1f} rcvbuf={}",
      s.events.load(), s.enobufs.load(), s.resyncs.load(), s.dumps.load(), s.gets.load(),
      s.parse_errors.load(), s.flows.load(), static_cast<double>(s.last_dump_ns.load()) / 1e6,
      static_cast<double>(s.last_dump_cpu_ns.load()) / 1e6,
      s.refreshes.load() != 0 ? static_cast<double>(s.refresh_cpu_ns.load()) / 1e6 /
                                    static_cast<double>(s.refreshes.load())
                              : 0.0,
      s.rcvbuf.load()));
  // The kernel's conntrack statistics as `conntrack -S` prints them, read as the collector
  // stopped.
  const core::CtPressure p = s.pressure();
  if (p.now.entries) {
    print_err(fmt::format("flowtop: conntrack: entries={} max={}", *p.now.entries,
                          p.now.max.value_or(s.ct_max.load())));
  }
  for (const core::CtCpuStats& c : p.now.cpus) {
    print_err(fmt::format(
        "flowtop: conntrack: cpu={} found={} invalid={} insert={} insert_failed={} drop={} "
        "early_drop={} error={} search_restart={} clash_resolve={} chaintoolong={}",
        c.cpu, c.found, c.invalid, c.insert, c.insert_failed, c.drop, c.early_drop, c.error,
        c.search_restart, c.clash_resolve, c.chaintoolong));
  }
}

int run_collecting(const Options& opts) {
  // Signals are blocked before any thread starts, so every thread inherits the mask and the main
  // thread alone reads them. The screen also takes resizes and job control (Ctrl-Z, fg); --batch
  // and --json leave SIGTSTP alone so Ctrl-Z works there as usual.
  const bool screen = opts.mode == Mode::Screen;
  // Another namespace: entered before any thread or socket exists, so that everything below
  // (conntrack, rtnetlink, sock_diag, /proc/sys/net) is that namespace's.
  if (!opts.netns.empty()) {
    try {
      sys::enter_netns(opts.netns);
    } catch (const std::exception& e) {
      print_err(fmt::format("flowtop: {}", e.what()));
      return 1;
    }
  }
  const sys::SignalFd sigs =
      screen
          ? sys::SignalFd({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGWINCH, SIGTSTP, SIGCONT})
          : sys::SignalFd({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE});
  sys::install_fatal_signal_handlers();
  // Sockets in containers' namespaces (the owners of their forwarded flows): a thread that keeps
  // CAP_SYS_ADMIN for setns(), started before the drop below.
  std::optional<sys::NetnsSockets> netns_sockets;
  try {
    netns_sockets.emplace();
  } catch (const std::system_error&) {
    // No foreign owners: forwarded flows from containers show their LAN-device owner only.
  }
  // Before any thread starts (liburcu's start with the first table): keeps CAP_NET_ADMIN and what
  // /proc needs, which is all the set-up below uses.
  sys::drop_privileges();

  // The namespace's addresses, routes and neighbours: which end of a flow is inside, and the LAN
  // device behind a forwarded flow.
  std::optional<net::NetWatcher> network;
  try {
    network.emplace();
    network->start();
  } catch (const std::system_error& e) {
    print_err(
        fmt::format("flowtop: cannot read the network configuration over rtnetlink ({}); "
                    "every flow reads as outbound",
                    e.what()));
  }

  rcu::Thread rcu;
  table::FlowTable table(initial_buckets());
  core::CollectorStats stats;
  // The enrichment workers exist before the collector starts: it reports every first sight.
  std::unique_ptr<enrich::Enricher> enricher;
  conntrack::CollectorConfig config;
  config.on_new = [&enricher](const core::FlowRecord& rec) {
    if (enricher) {
      enricher->on_new(rec);
    }
  };
  if (network) {
    config.net_facts = [&network]() -> std::shared_ptr<const core::NetFacts> {
      std::shared_ptr<const net::NetState> state = network->state();
      return {state, &state->facts};  // aliasing: the facts live as long as their state
    };
  }
  config.interval = std::chrono::nanoseconds(static_cast<std::int64_t>(opts.interval_s * 1e9));
  config.rate_window = opts.window.value_or(core::RateWindow::Off);
  config.event_buffer = opts.event_buffer;
  config.linger = std::chrono::nanoseconds(static_cast<std::int64_t>(opts.linger_s * 1e9));
  LifeQueue life;
  if (opts.events) {
    config.on_life = [&life](conntrack::LifeEvent event, const core::FlowRecord& rec) {
      life.push(event, rec);
    };
  }
  // --batch/--json: every frame requests its own full dump. The screen: periodic dumps within the
  // CPU budget, and GETs of the flows on screen every interval.
  config.periodic_dumps = screen;

  std::optional<conntrack::Collector> collector;
  try {
    collector.emplace(table, stats, std::move(config));
  } catch (const std::system_error& e) {
    print_err(explain_open_error(e));
    return 1;
  }

  enrich::EnricherConfig enrich_config;
  enrich_config.dns = !opts.no_dns;
  enrich_config.geoip = !opts.no_geoip;
  enrich_config.geoip_dirs = geoip::default_dirs(opts.geoip_dir);
  enrich_config.tcp_conf = find_config("tcp.conf");
  enrich_config.udp_conf = find_config("udp.conf");
  enrich_config.lease_files = opts.lease_files;
  enrich_config.netns_sockets = netns_sockets ? &*netns_sockets : nullptr;
  if (network) {
    enrich_config.neighbour_mac =
        [&network](const core::IpAddr& addr) -> std::optional<core::MacAddr> {
      const std::shared_ptr<const net::NetState> state = network->state();
      const auto it = state->neighbours.find(addr);
      if (it == state->neighbours.end()) {
        return std::nullopt;
      }
      return it->second;
    };
    enrich_config.neighbour_generation = [&network] { return network->generation(); };
  }
  enricher = std::make_unique<enrich::Enricher>(std::move(enrich_config));

  std::optional<sys::SysctlGuard> sysctl;
  if (!opts.no_sysctl) {
    try {
      sysctl.emplace();
    } catch (const std::exception& e) {
      print_err(
          fmt::format("flowtop: cannot manage nf_conntrack_acct/timestamp ({}); use --no-sysctl "
                      "to leave them alone",
                      e.what()));
      return 1;
    }
  }
  // The screen offers the `t` key when the namespace tracks nothing (as --track, later).
  TrackSession track(screen);
  if (opts.track) {
    try {
      track.start();
    } catch (const std::exception& e) {
      print_err(fmt::format("flowtop: --track: cannot add the nft table: {}", e.what()));
      return 1;
    }
  }

  int status = 0;
  try {
    const std::uint64_t first_ticket = collector->request_dump();
    collector->start();
    TotalsFeed totals(state_from_options(opts));
    const Sources src{opts,
                      table,
                      stats,
                      *collector,
                      *enricher,
                      sysctl ? &sysctl->result() : nullptr,
                      &track,
                      geoip::geoip_dir_problem(opts.geoip_dir),
                      wants_totals(opts, screen) ? &totals : nullptr};
    if (screen) {
      status = run_screen(opts, loop_deps(src, sigs, *enricher));
    } else if (opts.events) {
      status = events_loop(src, sigs, life);
    } else {
      status = frames_loop(src, sigs, first_ticket);
    }
  } catch (const std::system_error& e) {
    print_err(e.code().value() == EPERM ? explain_open_error(e)
                                        : fmt::format("flowtop: {}", e.what()));
    status = 1;
  } catch (const std::exception& e) {
    print_err(fmt::format("flowtop: {}", e.what()));
    status = 1;
  }
  collector->stop();
  if (opts.stats) {
    print_stats(stats);
  }
  if (const std::uint64_t dropped = life.dropped(); dropped != 0) {
    print_err(
        fmt::format("flowtop: --events: {} records dropped (the output was too slow)", dropped));
  }
  collector.reset();
  enricher.reset();
  network.reset();  // returns at once even with DNS workers stuck in getnameinfo
  return status;    // guards restore in reverse order: --track table, then sysctls; then the table
}

}  // namespace

int run(int argc, char** argv) {
  Options opts;
  try {
    opts = parse_options(argc, argv);
  } catch (const UsageError& e) {
    print_err(fmt::format("{} (try 'flowtop --help')", e.what()));
    return 2;
  }
  switch (opts.mode) {
    case Mode::Help: std::fputs(help_text().c_str(), stdout); return 0;
    case Mode::Version: std::puts(version_text().c_str()); return 0;
    case Mode::Update:
      return run_update(find_config("geoip.conf"), opts.geoip_dir, isatty(STDERR_FILENO) != 0);
    default: break;
  }
  if (opts.mode == Mode::Screen) {
    if (std::string why; !tui::have_terminal(&why)) {
      print_err(why);  // before anything is touched
      return 1;
    }
  }
  try {
    return run_collecting(opts);
  } catch (const std::exception& e) {
    print_err(fmt::format("flowtop: {}", e.what()));
    return 1;
  }
}

}  // namespace flowtop::app
