#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/sys/signals.hpp"
#include "flowtop/tui/latency.hpp"
#include "flowtop/view/snapshot.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::tui {

class Terminal;

/// What the screen needs from the rest of the program. The loop has two worker threads: the
/// snapshot thread (take_snapshot, then view::prepare of the new snapshot) and the prepare thread
/// (view::prepare of the snapshot on screen again, after a key that changes what is shown); both
/// call Snapshot::enrich. thread_init and thread_exit run on each worker; every other callback
/// runs on the UI thread and must return promptly: none may wait for the collector or a resolver.
struct LoopDeps {
  /// Fills a frame's input (one RCU read-side copy) into a default Snapshot the snapshot thread
  /// owns (its flows vector empty but with an older snapshot's capacity); the UI thread swaps
  /// the finished snapshot in and keeps drawing from the previous one meanwhile.
  /// May throw: the exception is handed to the UI thread, the loop ends and it propagates there
  /// (the caller's Terminal restores the screen while unwinding).
  std::function<void(view::Snapshot&)> take_snapshot;
  /// Called on each worker thread before its first pass and after its last (e.g. to register it
  /// with RCU). Empty: nothing is called.
  std::function<void()> thread_init;
  std::function<void()> thread_exit;
  /// The keys of the flows on screen, after each frame (the collector refreshes them each tick).
  std::function<void(std::vector<core::FlowKey>)> publish_shown;
  /// After each frame reached the terminal: the state it shows (while the rows for a newer sort,
  /// tab or filter are being prepared, the older one's). Empty: nothing is called.
  std::function<void(const view::ViewState& shown)> frame_drawn;
  std::function<void(bool)> set_dns;         ///< `n` toggled reverse DNS
  std::function<void(bool)> set_geoip;       ///< `g` toggled GeoIP
  std::function<void(double)> set_interval;  ///< `+`/`-` changed the interval (seconds)
  /// `w` changed the rate window: the collector's averages take its time constant and the
  /// snapshots carry them. Empty: nothing.
  std::function<void(core::RateWindow)> set_window;
  /// `t`: make conntrack track in the namespace while flowtop runs (as --track). Reports the
  /// outcome through the next snapshot's status (Status::tracking, a health line on failure);
  /// must not throw. Empty: the key does nothing.
  std::function<void()> track;
  /// `x` then `y`: deletes the conntrack entry of this key in the watched namespace; returns 0,
  /// ENOENT (already gone) or the errno, which the status line reports. Must not throw. Empty:
  /// the status line says deleting is not available.
  std::function<int(const core::FlowKey&)> delete_flow;
  /// `R`: the totals start again from 0 at the next snapshot. Must not throw. Empty: the key
  /// does nothing.
  std::function<void()> reset_totals;
  int wake_fd = -1;                        ///< readable when the collector has new data; -1: none
  const sys::SignalFd* signals = nullptr;  ///< INT TERM HUP QUIT PIPE WINCH TSTP CONT
  std::string version;                     ///< for the title bar
  std::string host;                        ///< the host name, for the title bar
  std::string netns;                       ///< --netns, for the title bar ("" none)
  /// The deadlines' clock (and the latency measurements'); nullptr = core::system_clock(). A
  /// clock with a wake fd (a test's FakeClock) is polled too: the loop then waits for it to move
  /// rather than for real time to pass.
  const core::Clock* clock = nullptr;
  /// A key that changes what is shown (sort, tab, filter, a toggle) prepares a table of up to
  /// this many flows again on the UI thread (well under a millisecond); a bigger one on the
  /// prepare thread, the screen keeping the older rows meanwhile.
  std::size_t sync_prepare_max = 2000;
};

/// How the loop ended and what it measured.
struct LoopResult {
  int signal = 0;  ///< the signal that ended it (SIGINT, SIGTERM...), 0 for `q`/F10
  std::uint64_t frames = 0;
  LatencySummary frame;     ///< rows + render + paint, every drawn frame
  LatencySummary snapshot;  ///< take_snapshot(), measured on the snapshot thread
  LatencySummary prepare;   ///< view::prepare() on the worker threads (new snapshots and keys)
  LatencySummary key;       ///< key read to the frame showing its effect on the terminal
};

/// Runs the interactive screen until `q`/F10 or a terminating signal. Waits in poll() on input,
/// the signalfd, the wake fd and the snapshot thread's eventfd against a monotonic deadline; asks
/// the snapshot thread for a snapshot at each deadline (not while paused) and swaps it in when it
/// is ready (with the rows already classified, filtered and sorted for the state of the
/// request: view::prepare() runs on the snapshot thread too), draws when something changed, and
/// applies a key and draws at once (never waiting for a snapshot in progress). A key that changes
/// what is shown has the snapshot on screen prepared again on the prepare thread (see
/// LoopDeps::sync_prepare_max), never behind a snapshot in progress, and its effect is drawn when
/// that is done; the UI thread itself never goes over a big table. Keys never move the deadline.
/// The worker threads are stopped and joined before this returns or throws. `state` is updated
/// in place (the caller persists it). UI thread.
LoopResult run_event_loop(Terminal& terminal, view::ViewState& state, const LoopDeps& deps);

}  // namespace flowtop::tui
