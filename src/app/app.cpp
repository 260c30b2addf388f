#include "flowtop/app/app.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "config.hpp"
#include "flowtop/app/options.hpp"
#include "flowtop/app/track_guard.hpp"
#include "flowtop/conntrack/collector.hpp"
#include "flowtop/core/clock.hpp"
#include "flowtop/enrich/enricher.hpp"
#include "flowtop/geoip/database.hpp"
#include "flowtop/output/batch_writer.hpp"
#include "flowtop/output/json_writer.hpp"
#include "flowtop/sys/privileges.hpp"
#include "flowtop/sys/signals.hpp"
#include "flowtop/sys/sysctl_guard.hpp"
#include "flowtop/table/flow_table.hpp"
#include "flowtop/tui/terminal.hpp"
#include "flowtop/view/filter.hpp"
#include "frame_source.hpp"
#include "screen_mode.hpp"
#include "update_command.hpp"

namespace flowtop::app {
namespace {

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

constexpr std::size_t kWriteChunk = 256 * 1024;

/// Writes everything; false when the reader went away (EPIPE) or another write error.
bool write_all(const std::string& s) {
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

std::size_t output_width() {
  winsize ws{};
  if (isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  if (const char* cols = std::getenv("COLUMNS"); cols != nullptr) {
    const long v = std::strtol(cols, nullptr, 10);
    if (v >= 20 && v <= 1000) {
      return static_cast<std::size_t>(v);
    }
  }
  return 120;
}

/// Shown first: the busiest flows (total rate, then total bytes), then the kernel id for stability.
/// `enrichment` is parallel to `rows` and is reordered with it.
void sort_for_display(std::vector<const core::FlowRecord*>& rows,
                      std::vector<core::Enrichment>& enrichment) {
  std::vector<std::size_t> order(rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(), [&rows](std::size_t ia, std::size_t ib) {
    const core::FlowRecord* a = rows[ia];
    const core::FlowRecord* b = rows[ib];
    const double ra = a->rate_orig_bytes + a->rate_reply_bytes;
    const double rb = b->rate_orig_bytes + b->rate_reply_bytes;
    if (ra != rb) {
      return ra > rb;
    }
    const auto ba = a->orig_ctr.bytes + a->reply_ctr.bytes;
    const auto bb = b->orig_ctr.bytes + b->reply_ctr.bytes;
    if (ba != bb) {
      return ba > bb;
    }
    return a->id < b->id;
  });
  std::vector<const core::FlowRecord*> sorted_rows(rows.size());
  std::vector<core::Enrichment> sorted_enr(rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    sorted_rows[i] = rows[order[i]];
    sorted_enr[i] = std::move(enrichment[order[i]]);
  }
  rows.swap(sorted_rows);
  enrichment.swap(sorted_enr);
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

struct Runtime {
  const Options& opts;
  table::FlowTable& table;
  core::CollectorStats& stats;
  conntrack::Collector& collector;
  const sys::SignalFd& sigs;
  const enrich::Enricher* enricher = nullptr;  ///< null with neither DNS nor GeoIP nor owners
  const sys::SysctlGuard::Result* sysctl = nullptr;
  std::uint64_t first_ticket = 0;  ///< requested before start(): the initial dump answers it
  view::Filter filter;             ///< --filter (validated before anything was touched)
};

/// --batch / --json (and, until the screen lands, the default mode): one frame per interval, each
/// from a full dump. Returns the exit status.
int frames_loop(Runtime& rt) {
  const auto interval_ns = static_cast<std::int64_t>(rt.opts.interval_s * 1e9);
  const bool json = rt.opts.mode == Mode::Json;
  output::BatchOptions batch{rt.opts.selection, rt.opts.show_src, rt.opts.bits, output_width()};
  std::vector<core::FlowRecord> snapshot;
  std::vector<const core::FlowRecord*> shown;
  std::vector<core::Enrichment> enrichment;
  std::string out;
  std::int64_t deadline = core::steady_ns();
  for (std::uint64_t frame = 1; !rt.opts.iterations || frame <= *rt.opts.iterations; ++frame) {
    if (frame > 1 && wait_until(rt.sigs, deadline) != 0) {
      return 0;  // SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE: a request to stop
    }
    const std::uint64_t ticket = frame == 1 ? rt.first_ticket : rt.collector.request_dump();
    while (!rt.collector.wait_dump(ticket, std::chrono::milliseconds(20))) {
      if (auto err = rt.collector.error()) {
        std::rethrow_exception(err);
      }
      if (rt.sigs.read() != 0) {
        return 0;
      }
    }
    rt.table.snapshot(snapshot);
    shown.clear();
    view::HiddenCounts counts;
    const std::int64_t now_real = core::realtime_ns();
    enrichment.clear();
    for (const auto& rec : snapshot) {
      const view::Hidden h = view::classify(rec, rt.opts.selection);
      if (h != view::Hidden::Shown) {
        counts.add(h);
        continue;
      }
      core::Enrichment enr = rt.enricher->lookup(rec);
      if (!rt.filter.empty() && !view::matches(rt.filter, rec, enr, now_real)) {
        continue;  // --filter: like the screen, filtered flows are neither shown nor "hidden"
      }
      counts.add(h);
      shown.push_back(&rec);
      enrichment.push_back(std::move(enr));
    }
    sort_for_display(shown, enrichment);
    out.clear();
    if (json) {
      const output::FrameInfo info{frame, now_real};
      for (std::size_t i = 0; i < shown.size(); ++i) {
        out += output::json_line(*shown[i], enrichment[i], info);
        out += '\n';
        if (out.size() >= kWriteChunk) {  // stream a big frame: bounded memory, early first bytes
          if (!write_all(out)) {
            return 0;
          }
          out.clear();
        }
      }
    } else {
      output::FrameStatus status;
      status.version = FLOWTOP_VERSION;
      status.frame = frame;
      status.realtime_ns = now_real;
      status.tracked = snapshot.size();
      status.counts = counts;
      status.health = health_lines(rt.stats, rt.sysctl, rt.opts.no_sysctl);
      if (rt.enricher != nullptr) {
        for (auto& line : rt.enricher->health()) {
          status.health.push_back(std::move(line));
        }
      }
      out = output::batch_frame(shown, status, batch, &enrichment);
    }
    if (!write_all(out)) {
      return 0;  // the reader closed the pipe (flowtop --json | head): leave quietly
    }
    const std::int64_t now = core::steady_ns();
    deadline = std::max(deadline + interval_ns, now + interval_ns / 10);
  }
  return 0;
}

/// The enricher's attribution line for DB-IP data (enrich::Enricher::health()).
constexpr std::string_view kDbIpAttribution = "IP Geolocation by DB-IP";

/// The calling thread's RCU registration, for threads the screen starts.
std::optional<table::RcuThread>& rcu_registration() {
  thread_local std::optional<table::RcuThread> registration;
  return registration;
}

ScreenDeps screen_deps(const Options& opts, const sys::SignalFd& sigs, table::FlowTable& table,
                       core::CollectorStats& stats, conntrack::Collector& collector,
                       enrich::Enricher& enricher, const sys::SysctlGuard::Result* sysctl) {
  ScreenDeps deps{opts, sigs};
  deps.take_snapshot = [&, sysctl](view::Snapshot& s) {
    if (auto err = collector.error()) {
      std::rethrow_exception(err);
    }
    table.snapshot(s.flows);
    s.enrich = [&enricher](const core::FlowRecord& rec, core::EnrichNeeds needs) {
      return enricher.lookup(rec, needs);
    };
    s.status.tracked = s.flows.size();
    s.status.ct_max = stats.ct_max.load();
    s.status.events = stats.events.load();
    s.status.enobufs = stats.enobufs.load();
    s.status.resyncs = stats.resyncs.load();
    s.status.collecting = !stats.initial_dump_done.load();
    s.status.health = health_lines(stats, sysctl, opts.no_sysctl);
    s.status.dbip = false;
    for (auto& line : enricher.health()) {
      if (line == kDbIpAttribution) {
        s.status.dbip = true;  // an attribution, shown in the title bar and the help, not a problem
      } else {
        s.status.health.push_back(std::move(line));
      }
    }
    s.realtime_ns = core::realtime_ns();
    s.steady_ns = core::steady_ns();
  };
  deps.publish_shown = [&collector](std::vector<core::FlowKey> keys) {
    collector.set_watched(std::move(keys));
  };
  deps.set_dns = [&enricher](bool on) { enricher.set_dns(on); };
  deps.set_geoip = [&enricher](bool on) { enricher.set_geoip(on); };
  deps.set_interval = [&collector](double seconds) {
    collector.set_interval(std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
  };
  deps.wake_fd = collector.notify_fd();
  deps.thread_init = [] { rcu_registration().emplace(); };
  deps.thread_exit = [] { rcu_registration().reset(); };
  return deps;
}

void print_stats(const core::CollectorStats& s) {
  print_err(fmt::format(
      "flowtop: stats: events={} enobufs={} resyncs={} dumps={} gets={} parse_errors={} flows={} "
      "last_dump_ms={:.1f} rcvbuf={}",
      s.events.load(), s.enobufs.load(), s.resyncs.load(), s.dumps.load(), s.gets.load(),
      s.parse_errors.load(), s.flows.load(), static_cast<double>(s.last_dump_ns.load()) / 1e6,
      s.rcvbuf.load()));
}

int run_collecting(const Options& opts, const view::Filter& filter) {
  // Signals are blocked before any thread starts, so every thread inherits the mask and the main
  // thread alone reads them. The screen also takes resizes and job control (Ctrl-Z, fg); --batch
  // and --json leave SIGTSTP alone so Ctrl-Z works there as usual.
  const bool screen = opts.mode == Mode::Screen;
  const sys::SignalFd sigs =
      screen
          ? sys::SignalFd({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGWINCH, SIGTSTP, SIGCONT})
          : sys::SignalFd({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE});
  sys::install_fatal_signal_handlers();
  // Before any thread starts (liburcu's start with the first table): keeps CAP_NET_ADMIN and what
  // /proc needs, which is all the set-up below uses.
  sys::drop_privileges();

  table::RcuThread rcu;
  table::FlowTable table(1 << 16);
  core::CollectorStats stats;
  // The enrichment workers exist before the collector starts: it reports every first sight.
  std::unique_ptr<enrich::Enricher> enricher;
  conntrack::CollectorConfig config;
  config.on_new = [&enricher](const core::FlowRecord& rec) {
    if (enricher) {
      enricher->on_new(rec);
    }
  };
  config.interval = std::chrono::nanoseconds(static_cast<std::int64_t>(opts.interval_s * 1e9));
  config.event_buffer = opts.event_buffer;
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
  std::optional<TrackGuard> track;
  if (opts.track) {
    try {
      track.emplace();
    } catch (const std::exception& e) {
      print_err(fmt::format("flowtop: --track: cannot add the nft table: {}", e.what()));
      return 1;
    }
  }

  int status = 0;
  try {
    const std::uint64_t first_ticket = collector->request_dump();
    collector->start();
    if (screen) {
      status = run_screen(screen_deps(opts, sigs, table, stats, *collector, *enricher,
                                      sysctl ? &sysctl->result() : nullptr));
    } else {
      Runtime rt{opts,
                 table,
                 stats,
                 *collector,
                 sigs,
                 enricher.get(),
                 sysctl ? &sysctl->result() : nullptr,
                 first_ticket,
                 filter};
      status = frames_loop(rt);
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
  collector.reset();
  enricher.reset();  // returns at once even with DNS workers stuck in getnameinfo
  return status;     // guards restore in reverse order: --track table, then sysctls; then the table
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
  // Bad --filter / --sort values are usage errors, found before the kernel is touched.
  view::Filter filter;
  if (!opts.filter.empty()) {
    auto compiled = view::compile_filter(opts.filter);
    if (const auto* err = std::get_if<view::FilterError>(&compiled)) {
      print_err(fmt::format("flowtop: invalid --filter '{}': {} (try 'flowtop --help')",
                            opts.filter, err->describe()));
      return 2;
    }
    filter = std::get<view::Filter>(std::move(compiled));
  }
  if (opts.mode == Mode::Screen) {
    if (std::string why; !tui::have_terminal(&why)) {
      print_err(why);  // before anything is touched
      return 1;
    }
    try {
      std::vector<std::string> ignored;
      (void)initial_state(opts, "", "", ignored);  // checks --sort (and --filter) the screen's way
    } catch (const UsageError& e) {
      print_err(fmt::format("{} (try 'flowtop --help')", e.what()));
      return 2;
    }
  }
  try {
    return run_collecting(opts, filter);
  } catch (const std::exception& e) {
    print_err(fmt::format("flowtop: {}", e.what()));
    return 1;
  }
}

}  // namespace flowtop::app
