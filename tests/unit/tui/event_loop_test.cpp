// The event loop on a real pseudo-terminal, with a fake snapshot source: the child runs the loop;
// the parent types keys and sends signals at known (CLOCK_MONOTONIC) times, then checks what the
// child recorded: when snapshots were taken, what was published, what the loop measured.
#include "flowtop/tui/event_loop.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/sys/signals.hpp"
#include "flowtop/tui/terminal.hpp"
#include "flowtop/view/view_state.hpp"
#include "unit/tui/pty_child.hpp"

namespace flowtop::tui {
namespace {

using ptytest::Child;
using ptytest::g_mark;
using ptytest::run_child;

constexpr std::int64_t kMs = 1'000'000;

std::vector<core::FlowRecord> fake_flows(int n) {
  std::vector<core::FlowRecord> out;
  for (int i = 0; i < n; ++i) {
    core::FlowRecord r;
    r.key.family = core::Family::V4;
    r.key.proto = 6;
    r.key.orig.src = *core::IpAddr::parse("10.0.0.1");
    r.key.orig.dst = *core::IpAddr::parse("10.0.1." + std::to_string(i + 1));
    r.key.orig.sport = static_cast<std::uint16_t>(40000 + i);
    r.key.orig.dport = 443;
    r.reply = {r.key.orig.dst, r.key.orig.src, 443, r.key.orig.sport};
    r.id = static_cast<std::uint32_t>(i + 1);
    r.state = 3;  // ESTABLISHED
    r.flags = core::FlowRecord::kHasState | core::FlowRecord::kHasPorts;
    out.push_back(r);
  }
  return out;
}

// What the child saw, written to a file after the loop (the terminal is restored by then).
struct Report {
  std::map<std::string, std::string> values;
  std::vector<std::int64_t> snapshots;  // steady ns of each take_snapshot()

  static Report read(const std::string& path) {
    Report r;
    std::ifstream in(path);
    std::string key;
    std::string value;
    while (in >> key >> value) {
      if (key == "snapshot") {
        r.snapshots.push_back(std::stoll(value));
      } else {
        r.values[key] = value;
      }
    }
    return r;
  }
  [[nodiscard]] long num(const std::string& k) const {
    const auto it = values.find(k);
    return it == values.end() ? -1 : std::stol(it->second);
  }
  // Snapshots taken in (from, to).
  [[nodiscard]] std::vector<std::int64_t> between(std::int64_t from, std::int64_t to) const {
    std::vector<std::int64_t> out;
    std::copy_if(snapshots.begin(), snapshots.end(), std::back_inserter(out),
                 [&](std::int64_t t) { return t > from && t < to; });
    return out;
  }
};

// The child: the loop over 5 fake flows at a 0.2 s interval, until a signal or `q`.
void loop_child(const std::string& report_path) {
  const sys::SignalFd sigs({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGWINCH, SIGTSTP, SIGCONT});
  std::vector<std::int64_t> snaps;
  std::vector<double> intervals;
  long published = 0;
  std::size_t last_keys = 0;
  LoopDeps deps;
  deps.take_snapshot = [&](view::Snapshot& s) {
    snaps.push_back(core::steady_ns());
    s.flows = fake_flows(5);
    s.status.tracked = s.flows.size();
    s.realtime_ns = core::realtime_ns();
    s.steady_ns = core::steady_ns();
  };
  deps.publish_shown = [&](std::vector<core::FlowKey> keys) {
    ++published;
    last_keys = keys.size();
  };
  deps.set_interval = [&](double v) { intervals.push_back(v); };
  deps.signals = &sigs;
  deps.version = "test";
  LoopResult r;
  view::ViewState state = view::default_view_state();
  state.interval_s = 0.2;
  {
    Terminal t;
    g_mark();
    r = run_event_loop(t, state, deps);
  }
  std::ofstream out(report_path);
  out << "signal " << r.signal << "\nframes " << r.frames << "\nkeys " << r.key.count
      << "\nkey_p99_ns " << r.key.p99 << "\nframe_count " << r.frame.count << "\npublished "
      << published << "\nlast_keys " << last_keys << "\npaused " << state.paused << "\ninterval_ms "
      << static_cast<long>(state.interval_s * 1000) << "\nset_intervals " << intervals.size()
      << "\n";
  if (!intervals.empty()) {
    out << "set_interval_ms " << static_cast<long>(intervals.back() * 1000) << "\n";
  }
  for (const auto t : snaps) {
    out << "snapshot " << t << "\n";
  }
}

// The child for the slow-snapshot tests: every take_snapshot() sleeps `sleep_ms` (a copy of a
// huge table under an event storm); the `throw_at`th (1-based, 0: never) throws instead.
void slow_child(const std::string& report_path, int sleep_ms, int throw_at,
                std::size_t sync_max = 2000) {
  const sys::SignalFd sigs({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGWINCH, SIGTSTP, SIGCONT});
  const std::thread::id ui = std::this_thread::get_id();
  std::mutex workers_mutex;        // thread_init/exit run on both worker threads, concurrently
  std::set<std::thread::id> live;  // between thread_init and thread_exit
  int calls = 0;
  long off_ui = 0;  // take_snapshot() calls on a worker thread, between its init and exit
  long inits = 0;
  long exits = 0;
  std::int64_t longest = 0;
  std::size_t last_keys = 0;
  LoopDeps deps;
  deps.thread_init = [&] {
    const std::lock_guard lock(workers_mutex);
    ++inits;
    live.insert(std::this_thread::get_id());
  };
  deps.thread_exit = [&] {
    const std::lock_guard lock(workers_mutex);
    exits += static_cast<long>(live.erase(std::this_thread::get_id()));
  };
  deps.take_snapshot = [&](view::Snapshot& s) {
    const std::int64_t t0 = core::steady_ns();
    if (++calls == throw_at) {
      throw std::runtime_error("table gone");
    }
    {
      const std::lock_guard lock(workers_mutex);
      if (std::this_thread::get_id() != ui && live.count(std::this_thread::get_id()) == 1) {
        ++off_ui;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    s.flows = fake_flows(5);
    s.status.tracked = s.flows.size();
    s.realtime_ns = core::realtime_ns();
    s.steady_ns = core::steady_ns();
    longest = std::max(longest, core::steady_ns() - t0);
  };
  deps.publish_shown = [&](std::vector<core::FlowKey> keys) { last_keys = keys.size(); };
  deps.signals = &sigs;
  deps.version = "test";
  deps.sync_prepare_max = sync_max;
  LoopResult r;
  std::string error = "none";
  view::ViewState state = view::default_view_state();
  state.interval_s = 0.2;
  try {
    Terminal t;
    g_mark();
    r = run_event_loop(t, state, deps);
  } catch (const std::runtime_error& e) {
    error = e.what();
    error.erase(std::remove(error.begin(), error.end(), ' '), error.end());
  }
  std::ofstream out(report_path);
  out << "error " << error << "\nframes " << r.frames << "\nkeys " << r.key.count << "\nkey_p99_ns "
      << r.key.p99 << "\nkey_max_ns " << r.key.max << "\nframe_p99_ns " << r.frame.p99
      << "\nsnapshots " << r.snapshot.count << "\nsnapshot_p50_ns " << r.snapshot.p50 << "\ncalls "
      << calls << "\noff_ui " << off_ui << "\ninits " << inits << "\nexits " << exits
      << "\nlongest_ns " << longest << "\nlast_keys " << last_keys << "\nprepares "
      << r.prepare.count << "\ntab " << static_cast<int>(state.tab) << "\n";
}

// The child for the prepare-off-the-UI-thread tests: `n` flows sorted by a column that needs
// every flow's enrichment; counts the enrich() calls on the UI thread and off it. Tables over
// `sync_max` flows are prepared again on the snapshot thread after a key that changes what is
// shown.
void prepare_child(const std::string& report_path, int n, std::size_t sync_max = 2000,
                   double interval_s = 0.2) {
  const sys::SignalFd sigs({SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGWINCH, SIGTSTP, SIGCONT});
  const std::thread::id ui = std::this_thread::get_id();
  std::atomic<long> on_ui{0};
  std::atomic<long> off_ui{0};
  LoopDeps deps;
  deps.take_snapshot = [&](view::Snapshot& s) {
    s.flows = fake_flows(5);
    const core::FlowRecord proto = s.flows.front();
    s.flows.clear();
    for (int i = 0; i < n; ++i) {  // distinct remote ends 10.1.0.1, 10.1.0.2, ...
      core::FlowRecord r = proto;
      r.key.orig.dst = core::IpAddr::from_v4_be(htonl(0x0a010000U + static_cast<unsigned>(i) + 1));
      r.reply.src = r.key.orig.dst;
      r.id = static_cast<std::uint32_t>(i + 1);
      s.flows.push_back(r);
    }
    s.status.tracked = s.flows.size();
    s.realtime_ns = core::realtime_ns();
    s.steady_ns = core::steady_ns();
    s.enrich = [&](const core::FlowRecord&, core::EnrichNeeds) {
      (std::this_thread::get_id() == ui ? on_ui : off_ui).fetch_add(1);
      return core::Enrichment{};
    };
  };
  deps.signals = &sigs;
  deps.version = "test";
  deps.sync_prepare_max = sync_max;
  LoopResult r;
  view::ViewState state = view::default_view_state();
  state.interval_s = interval_s;
  state.sort[static_cast<std::size_t>(view::Tab::Flows)] = {view::Column::Process, false};
  {
    Terminal t;
    g_mark();
    r = run_event_loop(t, state, deps);
  }
  std::ofstream out(report_path);
  out << "frames " << r.frames << "\nkeys " << r.key.count << "\nprepares " << r.prepare.count
      << "\nsnapshots " << r.snapshot.count << "\non_ui " << on_ui.load() << "\noff_ui "
      << off_ui.load() << "\nkey_max_ns " << r.key.max << "\ntab " << static_cast<int>(state.tab)
      << "\npaused " << state.paused << "\ndescending " << state.current_sort().descending << "\n";
}

class EventLoop : public ptytest::PtyTest {
 protected:
  void SetUp() override {
    PtyTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    char tmpl[] = "/tmp/flowtop-loop-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
  }
  void TearDown() override {
    if (!path_.empty()) {
      ::unlink(path_.c_str());
    }
  }
  std::string path_;
};

TEST_F(EventLoop, KeysNeverShiftTheDeadlinePauseFreezesAndSigtermEnds) {
  Child c;
  const std::string path = path_;
  run_child(c, [path] { loop_child(path); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(500);
  // A burst of keys, 10 ms apart, across several intervals.
  const std::int64_t keys_from = core::steady_ns();
  for (int i = 0; i < 80; ++i) {
    c.type(i % 2 == 0 ? "j" : "k");
    c.pump(10);
  }
  const std::int64_t keys_to = core::steady_ns();
  c.pump(200);
  const std::int64_t pause_at = core::steady_ns();
  c.type(" ");
  c.pump(1000);
  const std::int64_t resume_at = core::steady_ns();
  c.type(" ");
  c.pump(300);
  const std::int64_t plus_at = core::steady_ns();
  c.type("+");  // 0.2 s -> 0.5 s
  c.pump(1300);
  const std::int64_t term_at = core::steady_ns();
  ASSERT_EQ(::kill(c.pid, SIGTERM), 0);
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0)
      << c.output.substr(std::max<std::size_t>(c.output.size(), 2000) - 2000);
  const Report r = Report::read(path_);

  EXPECT_EQ(r.num("signal"), SIGTERM);
  // Keys: snapshots during the burst stay on the 200 ms grid (no extra ones, no delay).
  const auto during = r.between(keys_from, keys_to);
  // About 0.8 s of keys: at least 3 snapshots on the 200 ms grid.
  ASSERT_GE(during.size(), 3U) << "snapshots held back by keys";
  for (std::size_t i = 1; i < during.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(during[i] - during[i - 1]), 200.0 * kMs, 60.0 * kMs)
        << "snapshot " << i << " of the key burst";
  }
  EXPECT_GE(r.num("keys"), 10) << "key-to-draw measured for the keys";
  EXPECT_LT(r.num("key_p99_ns"), 200 * kMs);
  // Pause: no snapshot while paused; one at once on resume.
  EXPECT_TRUE(r.between(pause_at + 60 * kMs, resume_at).empty()) << "a snapshot while paused";
  EXPECT_FALSE(r.between(resume_at, resume_at + 50 * kMs).empty()) << "none at once on resume";
  EXPECT_EQ(r.num("paused"), 0);
  // `+`: the collector is told, and the snapshots follow the new interval.
  EXPECT_EQ(r.num("set_intervals"), 1);
  EXPECT_EQ(r.num("set_interval_ms"), 500);
  EXPECT_EQ(r.num("interval_ms"), 500);
  const auto after = r.between(plus_at + 50 * kMs, term_at);
  ASSERT_GE(after.size(), 2U);
  for (std::size_t i = 1; i < after.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(after[i] - after[i - 1]), 500.0 * kMs, 80.0 * kMs);
  }
  // Every frame publishes the flows on screen: the 5 fake flows.
  EXPECT_EQ(r.num("published"), r.num("frames"));
  EXPECT_EQ(r.num("last_keys"), 5);
  EXPECT_EQ(r.num("frame_count"), r.num("frames"));
}

TEST_F(EventLoop, QuitKeyEndsTheLoopWithoutASignal) {
  Child c;
  const std::string path = path_;
  run_child(c, [path] { loop_child(path); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(300);
  c.type("q");
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const Report r = Report::read(path_);
  EXPECT_EQ(r.num("signal"), 0);
  EXPECT_GE(r.num("frames"), 1);
}

TEST_F(EventLoop, WindowResizeRedrawsAtOnceAtTheNewSize) {
  Child c;
  const std::string path = path_;
  run_child(c, [path] { loop_child(path); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(300);
  const std::size_t before = c.output.size();
  winsize ws{30, 100, 0, 0};
  ASSERT_EQ(::ioctl(c.master, TIOCSWINSZ, &ws), 0);  // the kernel sends SIGWINCH
  c.pump(150);  // well under the 200 ms interval... and a full repaint arrived
  const std::string after = c.output.substr(before);
  EXPECT_NE(after.find("flowtop test"), std::string::npos) << "no redraw after SIGWINCH";
  c.type("q");
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(EventLoop, KeysAreDrawnWhileASlowSnapshotIsInProgress) {
  Child c;
  const std::string path = path_;
  run_child(c, [path] { slow_child(path, 300, 0); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(400);  // the first snapshot is in; with a 0.2 s interval the next ones run back to back
  for (int i = 0; i < 40; ++i) {
    c.type(i % 2 == 0 ? "j" : "k");
    c.pump(15);
  }
  c.pump(100);
  c.type("q");  // also while a snapshot is in progress: the loop waits for it only to join
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const Report r = Report::read(path_);
  EXPECT_EQ(r.values.at("error"), "none");
  // The snapshots really took 300 ms each and ran the whole time the keys were typed...
  EXPECT_GE(r.num("longest_ns"), 290 * kMs);
  EXPECT_GE(r.num("snapshot_p50_ns"), 290 * kMs) << "snapshot latency measured on its thread";
  EXPECT_GE(r.num("snapshots"), 2);
  // ...yet every key was drawn long before a snapshot could have returned.
  EXPECT_GE(r.num("keys"), 10) << "key-to-draw measured for the keys";
  EXPECT_LT(r.num("key_max_ns"), 100 * kMs) << "a key waited for a snapshot";
  EXPECT_LT(r.num("frame_p99_ns"), 50 * kMs) << "a frame waited for a snapshot";
  // The finished snapshots reached the screen (the first frame had none).
  EXPECT_EQ(r.num("last_keys"), 5);
  EXPECT_NE(c.output.find("10.0.1.5"), std::string::npos);
  // take_snapshot ran only on a worker thread, between thread_init and thread_exit (each of the
  // two workers has both).
  EXPECT_EQ(r.num("inits"), 2);
  EXPECT_EQ(r.num("exits"), 2);
  EXPECT_EQ(r.num("off_ui"), r.num("calls"));
}

TEST_F(EventLoop, AKeyIsPreparedWhileASlowSnapshotIsInProgress) {
  // Every table is "big" here: each tab key is prepared on the prepare thread, which must not
  // wait for the 300 ms snapshots the snapshot thread is taking back to back.
  Child c;
  const std::string path = path_;
  run_child(c, [path] { slow_child(path, 300, 0, /*sync_max=*/0); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(400);
  for (int i = 0; i < 10; ++i) {
    c.type("\t");
    c.pump(60);
  }
  c.pump(100);
  c.type("q");
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const Report r = Report::read(path_);
  EXPECT_EQ(r.values.at("error"), "none");
  EXPECT_EQ(r.num("tab"), static_cast<long>(view::Tab::Flows)) << "ten tab keys: back to Flows";
  ASSERT_GE(r.num("keys"), 5);
  EXPECT_GE(r.num("prepares"), r.num("snapshots") + 5) << "tab keys were not prepared again";
  EXPECT_LT(r.num("key_max_ns"), 150 * kMs) << "a key waited for a snapshot in progress";
}

TEST_F(EventLoop, ASnapshotExceptionEndsTheLoopOnTheUiThread) {
  Child c;
  const std::string path = path_;
  run_child(c, [path] { slow_child(path, 20, 3); });
  ASSERT_TRUE(c.checkpoint());
  const int status = c.wait();  // no key, no signal: the third snapshot throws
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const Report r = Report::read(path_);
  EXPECT_EQ(r.values.at("error"), "tablegone");
  EXPECT_EQ(r.num("calls"), 3) << "snapshots went on after the exception";
  EXPECT_EQ(r.num("exits"), 2) << "a worker thread did not clean up";
}

}  // namespace
}  // namespace flowtop::tui

namespace flowtop::tui {
namespace {

TEST_F(EventLoop, CursorKeysDrawOnlyTheWindowTheSnapshotThreadPreparesTheTable) {
  constexpr int kFlows = 5000;
  Child c;
  const std::string path = path_;
  run_child(c, [path] { prepare_child(path, kFlows); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(500);  // snapshots arrive prepared
  for (int i = 0; i < 30; ++i) {
    c.type(i < 20 ? "j" : "k");
    c.pump(20);
  }
  c.pump(300);
  c.type("q");
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const Report r = Report::read(path_);
  ASSERT_GE(r.num("keys"), 10);
  ASSERT_GE(r.num("prepares"), 2);
  // Every prepared snapshot enriched all its flows for the sort key on the snapshot thread...
  EXPECT_GE(r.num("off_ui"), r.num("prepares") * kFlows);
  // ...while the UI thread only looked up the visible rows of each frame (a terminal is far
  // shorter than kFlows / 10 rows): no frame went over the whole table.
  EXPECT_LT(r.num("on_ui"), r.num("frames") * (kFlows / 10));
  EXPECT_LT(r.num("on_ui"), kFlows) << "a frame prepared the table on the UI thread";
}

}  // namespace
}  // namespace flowtop::tui

namespace flowtop::tui {
namespace {

TEST_F(EventLoop, AKeyThatChangesWhatIsShownPreparesABigTableOffTheUiThreadEvenPaused) {
  constexpr int kFlows = 5000;
  Child c;
  const std::string path = path_;
  run_child(c, [path] { prepare_child(path, kFlows, /*sync_max=*/100); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(500);  // prepared snapshots on screen: the Flows tab
  ASSERT_EQ(c.output.find("USER"), std::string::npos) << "the Processes tab is not shown yet";
  c.type(" ");  // pause: no new snapshot reaches the screen...
  c.pump(300);
  c.type("\t");  // ...but the paused one is aggregated for the Processes tab
  const std::size_t before = c.output.size();
  c.pump(400);
  EXPECT_NE(c.output.find("USER", before), std::string::npos) << "the Processes tab was not drawn";
  c.type("\t");  // Hosts, then back to Flows sorted by a name: each prepared off the UI thread
  c.pump(300);
  c.type("\t\t\t");  // Countries, AS, Flows
  c.pump(400);
  c.type("q");
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const Report r = Report::read(path_);
  EXPECT_EQ(r.num("paused"), 1);
  EXPECT_EQ(r.num("tab"), static_cast<long>(view::Tab::Flows));
  ASSERT_GE(r.num("keys"), 3);
  // Each tab key was prepared on the snapshot thread (the paused snapshot, again)...
  EXPECT_GE(r.num("prepares"), r.num("snapshots") + 3);
  EXPECT_GE(r.num("off_ui"), (r.num("snapshots") + 3) * kFlows);
  // ...and the UI thread only enriched visible rows: never a whole table.
  EXPECT_LT(r.num("on_ui"), kFlows) << "a key prepared the table on the UI thread";
  // A key's effect is drawn when its pass is done: one prepare of 5000 flows, far under 1 s.
  EXPECT_LT(r.num("key_max_ns"), 1000 * kMs);
}

}  // namespace
}  // namespace flowtop::tui

namespace flowtop::tui {
namespace {

TEST_F(EventLoop, KeysThatGoBackAndForthAreDrawnWithoutWaitingForTheNextSnapshot) {
  // `r` reverses the sort. The first `r` asks for the reversed order; the second comes back to
  // the order on screen before that pass is done; the third asks for the reversed order again,
  // after its first pass finished unwanted. With a 30 s interval no new snapshot comes to the
  // rescue: the third key must be drawn from a pass it asks for itself.
  constexpr int kFlows = 50'000;  // a pass takes tens of milliseconds: longer than the 2 ms gap
  Child c;
  const std::string path = path_;
  run_child(c, [path] { prepare_child(path, kFlows, /*sync_max=*/100, /*interval_s=*/30); });
  ASSERT_TRUE(c.checkpoint());
  c.pump(3000);  // the first snapshot, prepared (slow under the sanitizers)
  c.type("r");
  c.pump(2);
  c.type("r");
  c.pump(500);
  c.type("r");
  c.pump(2500);
  c.type("q");
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const Report r = Report::read(path_);
  EXPECT_EQ(r.num("descending"), 1) << "three reversals of an ascending sort";
  EXPECT_EQ(r.num("snapshots"), 1) << "the test needs a single snapshot";
  ASSERT_GE(r.num("keys"), 2) << "the third key was never drawn";
  EXPECT_LT(r.num("key_max_ns"), 2000 * kMs) << "a key waited for a snapshot that never came";
}

}  // namespace
}  // namespace flowtop::tui
