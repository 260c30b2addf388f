#include "flowtop/tui/event_loop.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/render/frame.hpp"
#include "flowtop/render/render.hpp"
#include "flowtop/sys/event_fd.hpp"
#include "flowtop/sys/unique_fd.hpp"
#include "flowtop/tui/terminal.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/command.hpp"
#include "flowtop/view/redact.hpp"
#include "flowtop/view/rows.hpp"

namespace flowtop::tui {
namespace {

constexpr std::int64_t kCollectingPoll = 100'000'000;  // 100 ms

std::int64_t interval_ns(const view::ViewState& state) {
  return static_cast<std::int64_t>(state.interval_s * 1e9);
}

using SnapshotPtr = std::shared_ptr<const view::Snapshot>;

// A finished pass of a worker: a snapshot and its rows prepared for some PrepKey.
struct Pass {
  SnapshotPtr snap;
  view::Prepared prep;
};

// The screen's workers: they take snapshots (the RCU copy of the flow table) and prepare them
// (view::prepare: classify, filter, enrich, sort, index: the O(n log n) part of a frame), so the
// UI thread never does either for a big table. Two threads, each with one kind of work, both for
// the latest state the UI sent (requests coalesce; the newest state wins):
//  - fresh: a new snapshot, then prepare it (at each deadline);
//  - again: prepare the snapshot on screen again for a key that changed what is shown (sort, tab,
//    filter, toggles). On its own thread so that it never waits for a fresh copy in progress (a
//    fresh pass whose copy ends after the key is prepared for the newer key too, and whichever
//    is ready first is shown; paused, only this one).
// Finished passes wait in two slots (a newer one replaces an older one of its kind) and the
// eventfd fires; take() hands the UI the one that fits. Snapshots the UI no longer shows come back
// through recycle() and their flow vectors are reused. An exception from take_snapshot, prepare
// or thread_init ends that thread and is rethrown by take() on the UI thread. The destructor
// stops and joins both threads; a pass in progress finishes first.
class Producer {
 public:
  explicit Producer(const LoopDeps& deps, const core::Clock& clock)
      : deps_(deps),
        clock_(clock),
        fresh_thread_([this](const std::stop_token& st) { run(st, Job::Fresh); }),
        again_thread_([this](const std::stop_token& st) { run(st, Job::Again); }) {}
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  ~Producer() {
    fresh_thread_.request_stop();  // wakes the condition variable (stop_token-aware wait)
    again_thread_.request_stop();
    fresh_thread_.join();
    again_thread_.join();
  }

  void request_fresh(const view::ViewState& state) {
    {
      const std::lock_guard lock(mutex_);
      fresh_requested_ = true;
      req_state_ = state;
    }
    cv_.notify_all();
  }
  void request_again(SnapshotPtr snap, const view::ViewState& state) {
    {
      const std::lock_guard lock(mutex_);
      again_ = std::move(snap);
      req_state_ = state;
    }
    cv_.notify_all();
  }
  // Whether a fresh snapshot is being taken or asked for.
  [[nodiscard]] bool busy() {
    const std::lock_guard lock(mutex_);
    return fresh_requested_ || fresh_running_;
  }
  // The finished pass the screen should show now, if any: one prepared for `want` (a fresh
  // snapshot before `shown` prepared again; fresh ones only when not `paused`); else, when no
  // pass is asked for or running (none for `want` is coming), a fresh one for another key (the
  // UI then asks for it again). A pass of `shown` prepared again is dropped once another
  // snapshot is shown. Rethrows a worker's exception.
  std::optional<Pass> take(const view::PrepKey& want, bool paused, const view::Snapshot* shown) {
    const std::lock_guard lock(mutex_);
    if (error_) {
      std::rethrow_exception(std::exchange(error_, nullptr));
    }
    if (ready_again_ && ready_again_->snap.get() != shown) {
      drop(ready_again_);
    }
    const bool fresh_ok = ready_fresh_ && !paused;
    const bool idle = !fresh_requested_ && !again_ && !fresh_running_ && !again_running_;
    std::optional<Pass> out;
    const bool fresh_fits = fresh_ok && ready_fresh_->prep.key == want;
    const bool again_fits = ready_again_ && ready_again_->prep.key == want;
    if (again_fits && !fresh_fits) {
      out = std::exchange(ready_again_, std::nullopt);
    } else if (fresh_fits || (fresh_ok && idle)) {
      out = std::exchange(ready_fresh_, std::nullopt);
    }
    if (out) {  // an older key's passes will not be wanted again
      if (ready_fresh_ && !(ready_fresh_->prep.key == want)) {
        drop(ready_fresh_);
      }
      if (ready_again_ && (!(ready_again_->prep.key == want) || out->snap != ready_again_->snap)) {
        drop(ready_again_);
      }
    }
    return out;
  }
  // A snapshot the screen no longer shows (its storage may be reused).
  void recycle(SnapshotPtr snap) {
    const std::lock_guard lock(mutex_);
    spare_.push_back(std::move(snap));
  }
  [[nodiscard]] int fd() const noexcept { return notify_.fd(); }
  void drain() const noexcept { notify_.drain(); }
  [[nodiscard]] LatencySummary summary() {
    const std::lock_guard lock(mutex_);
    return rec_.summary();
  }
  [[nodiscard]] LatencySummary prepare_summary() {
    const std::lock_guard lock(mutex_);
    return prep_rec_.summary();
  }

 private:
  enum class Job : std::uint8_t { Fresh, Again };

  void run(const std::stop_token& st, Job job) {
    // Background work: SCHED_BATCH keeps a woken worker from preempting the UI thread in the
    // middle of a frame (best effort; the policy needs no privilege).
    const sched_param batch{};
    (void)::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &batch);
    try {
      if (deps_.thread_init) {
        deps_.thread_init();
      }
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    job == Job::Fresh ? fresh_loop(st) : again_loop(st);
    if (deps_.thread_exit) {
      try {
        deps_.thread_exit();
      } catch (...) {
        fail(std::current_exception());
      }
    }
  }

  // Under mutex_: a pass no longer wanted; its snapshot may be reused.
  void drop(std::optional<Pass>& pass) {
    spare_.push_back(std::move(pass->snap));
    pass.reset();
  }

  // A snapshot to fill: a spare nobody else holds (its flows' capacity kept), else a new one.
  // The other spares are freed here, outside the lock (or this thread's share of them dropped:
  // a snapshot still on screen comes back through recycle() when the UI lets go of it).
  std::shared_ptr<view::Snapshot> blank() {
    std::vector<SnapshotPtr> spares;
    {
      const std::lock_guard lock(mutex_);
      spares.swap(spare_);
    }
    std::shared_ptr<view::Snapshot> snap;
    for (SnapshotPtr& s : spares) {
      if (!snap && s != nullptr && s.use_count() == 1) {
        snap = std::const_pointer_cast<view::Snapshot>(std::move(s));
      }
    }
    spares.clear();
    if (!snap) {
      return std::make_shared<view::Snapshot>();
    }
    std::vector<core::FlowRecord> flows = std::move(snap->flows);
    flows.clear();
    *snap = view::Snapshot{};
    snap->flows = std::move(flows);
    return snap;
  }

  // Prepares `snap` for `state` and puts the pass in `slot`; false after an exception.
  bool finish(SnapshotPtr snap, const view::ViewState& state, std::optional<Pass>& slot,
              bool& running) {
    const std::int64_t t0 = clock_.steady_ns();
    std::optional<view::Prepared> prep;
    try {
      prep = view::prepare(*snap, state);
    } catch (...) {
      fail(std::current_exception());
      return false;
    }
    const std::int64_t t1 = clock_.steady_ns();
    {
      const std::lock_guard lock(mutex_);
      prep_rec_.add(t1 - t0);
      if (slot) {
        drop(slot);
      }
      slot = Pass{std::move(snap), std::move(*prep)};
      running = false;
    }
    notify_.notify();
    return true;
  }

  void fresh_loop(const std::stop_token& st) {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, st, [this] { return fresh_requested_; });
        if (st.stop_requested()) {
          return;
        }
        fresh_requested_ = false;
        fresh_running_ = true;
      }
      std::shared_ptr<view::Snapshot> fresh = blank();
      const std::int64_t t0 = clock_.steady_ns();
      try {
        deps_.take_snapshot(*fresh);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      const std::int64_t t1 = clock_.steady_ns();
      view::ViewState state;
      {
        const std::lock_guard lock(mutex_);
        rec_.add(t1 - t0);
        state = req_state_;  // a key may have changed what is shown during the copy
      }
      if (!finish(std::move(fresh), state, ready_fresh_, fresh_running_)) {
        return;
      }
    }
  }

  void again_loop(const std::stop_token& st) {
    for (;;) {
      SnapshotPtr snap;
      view::ViewState state;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, st, [this] { return again_ != nullptr; });
        if (st.stop_requested()) {
          return;
        }
        snap = std::exchange(again_, nullptr);
        state = req_state_;
        again_running_ = true;
      }
      if (!finish(std::move(snap), state, ready_again_, again_running_)) {
        return;
      }
    }
  }

  void fail(std::exception_ptr e) {
    {
      const std::lock_guard lock(mutex_);
      if (!error_) {
        error_ = std::move(e);
      }
    }
    notify_.notify();
  }

  const LoopDeps& deps_;
  const core::Clock& clock_;
  sys::EventFd notify_;
  std::mutex mutex_;
  std::condition_variable_any cv_;
  // Under mutex_:
  bool fresh_requested_ = false;
  bool fresh_running_ = false;
  SnapshotPtr again_;  // the snapshot to prepare again, when asked
  bool again_running_ = false;
  view::ViewState req_state_;  // the state of the latest request
  std::optional<Pass> ready_fresh_, ready_again_;
  std::vector<SnapshotPtr> spare_;  // no longer shown; reused once nobody else holds them
  std::exception_ptr error_;
  LatencyRecorder rec_, prep_rec_;
  // Last: started after, and joined before, everything above.
  std::jthread fresh_thread_;
  std::jthread again_thread_;
};

// The loop's working set: the snapshot on screen and its prepared rows, the last frame (for
// clicks), the recorders.
class Loop {
 public:
  Loop(Terminal& term, view::ViewState& state, const LoopDeps& deps)
      : term_(term),
        state_(state),
        deps_(deps),
        clock_(deps.clock != nullptr ? *deps.clock : core::system_clock()),
        options_{deps.version, !term.utf8(), deps.host, deps.netns} {
    // Until the first snapshot arrives the screen says so rather than showing an empty table.
    auto first = std::make_shared<view::Snapshot>();
    first->status.collecting = true;
    snapshot_ = std::move(first);
  }

  LoopResult run();

 private:
  // Asks the snapshot thread for a snapshot (the deadline grid counts from now).
  void request_snapshot();
  // Swaps in a finished pass that fits the state; rethrows a worker's exception.
  void receive_snapshot();
  // Whether prep_ fits the state. When it does not, a small table is prepared again here; for a
  // big one false is returned (ask_again() asks the prepare thread for it).
  bool current();
  // Asks the prepare thread for the snapshot on screen prepared for the state (once per key).
  void ask_again();
  void draw();
  // Returns false when the user asked to quit.
  bool handle_input(std::int64_t read_ns);
  // Returns the signal that ends the loop, or 0.
  int handle_signals();

  Terminal& term_;
  view::ViewState& state_;
  const LoopDeps& deps_;
  const core::Clock& clock_;
  render::RenderOptions options_;
  view::KeyMap keymap_;
  SnapshotPtr snapshot_;                // on screen
  std::optional<view::Prepared> prep_;  // snapshot_ prepared for some PrepKey
  std::optional<view::PrepKey> asked_;  // the key the prepare thread was last asked for
  render::Frame frame_;
  std::int64_t last_snapshot_ns_ = 0;  // last request (the deadline grid)
  std::int64_t collect_poll_ns_ = 0;   // last look while collecting
  std::int64_t deadline_ns_ = 0;
  bool dirty_ = true;
  std::optional<std::int64_t> key_pending_ns_;  // earliest key read not yet on screen
  LatencyRecorder frame_rec_, key_rec_;
  std::uint64_t frames_ = 0;
  Producer producer_{deps_, clock_};  // last: joined before the rest goes away
};

void Loop::request_snapshot() {
  last_snapshot_ns_ = clock_.steady_ns();
  collect_poll_ns_ = last_snapshot_ns_;
  producer_.request_fresh(state_);
}

void Loop::receive_snapshot() {
  producer_.drain();
  std::optional<Pass> pass = producer_.take(view::prep_key(state_), state_.paused, snapshot_.get());
  if (!pass) {
    return;
  }
  if (pass->snap != snapshot_) {
    producer_.recycle(std::exchange(snapshot_, std::move(pass->snap)));
  }
  prep_ = std::move(pass->prep);
  dirty_ = true;
}

bool Loop::current() {
  const view::PrepKey want = view::prep_key(state_);
  if (prep_ && prep_->key == want) {
    return true;
  }
  if (!prep_ || snapshot_->flows.size() <= deps_.sync_prepare_max) {
    prep_ = view::prepare(*snapshot_, state_);
    return true;
  }
  return false;
}

void Loop::ask_again() {
  const view::PrepKey want = view::prep_key(state_);
  if (!asked_ || !(*asked_ == want)) {
    producer_.request_again(snapshot_, state_);
    asked_ = want;
  }
}

void Loop::draw() {
  const std::int64_t t0 = clock_.steady_ns();
  const render::Size size = term_.size();
  // Only a change of what is shown (tab, sort, selection, filter...) needs the table prepared
  // again. Until the prepare thread has done that for a big table, the screen shows the rows it
  // has, under the older key, with the present cursor, panes and units (the key that changed
  // what is shown is drawn when its rows arrive). Cursor moves, scrolling, panes: the O(window)
  // step only.
  const bool fits = current();
  const view::ViewState older = fits ? view::ViewState{} : view::with_key(state_, prep_->key);
  const view::ViewState& shown = fits ? state_ : older;
  const std::size_t capacity = render::table_capacity(snapshot_->status, shown, size);
  const view::Rows rows = view::build_rows(*prep_, *snapshot_, shown, capacity);
  if (fits) {
    view::settle(state_, rows);
    asked_.reset();  // a later change asks again, even back to a key asked for before
  }
  frame_ = render::render(rows, shown, size, options_);
  term_.paint(frame_);
  const std::int64_t t1 = clock_.steady_ns();
  frame_rec_.add(t1 - t0);
  ++frames_;
  if (key_pending_ns_ && fits) {
    key_rec_.add(t1 - *key_pending_ns_);
    key_pending_ns_.reset();
  }
  dirty_ = false;
  if (deps_.publish_shown) {
    deps_.publish_shown(view::visible_keys(rows));
  }
  if (deps_.frame_drawn) {
    deps_.frame_drawn(shown);
  }
  if (!fits) {
    // After the frame is on the terminal: the woken worker would otherwise take the CPU from this
    // frame on a small machine.
    ask_again();
  }
}

bool Loop::handle_input(std::int64_t read_ns) {
  using K = view::Command::Kind;
  for (const view::Input& in : term_.read_input()) {
    if (in.key == view::kKeyResize) {
      term_.resize();
      dirty_ = true;
      continue;
    }
    std::optional<view::Command> cmd;
    if (in.key == view::kKeyClick) {
      cmd = render::hit_test(frame_, in.line, in.col);
    }
    if (!cmd) {
      cmd = keymap_.lookup(state_, in);
    }
    if (cmd->kind == K::None) {
      continue;
    }
    // A movement is resolved against the sorted rows at the next frame; the movements of keys
    // read in one batch (a held-down arrow, a pasted sequence) add up in the reducer first.
    if (cmd->kind == K::Redraw) {
      term_.redraw_all();
    }
    const bool was_paused = state_.paused;
    state_ = view::apply(std::move(state_), *cmd);
    const view::Effects fx = view::take_effects(state_);
    if (!key_pending_ns_) {
      key_pending_ns_ = read_ns;
    }
    dirty_ = true;
    if (fx.quit) {
      return false;
    }
    if (fx.dns_changed && deps_.set_dns) {
      deps_.set_dns(state_.dns);
    }
    if (fx.geoip_changed && deps_.set_geoip) {
      deps_.set_geoip(state_.geoip);
    }
    if (fx.interval_changed) {
      if (deps_.set_interval) {
        deps_.set_interval(state_.interval_s);
      }
      deadline_ns_ = last_snapshot_ns_ + interval_ns(state_);
    }
    if (fx.track && deps_.track) {
      deps_.track();
    }
    if (fx.window_changed && deps_.set_window) {
      deps_.set_window(state_.window);
    }
    if (fx.delete_flow) {
      if (deps_.delete_flow) {
        const int err = deps_.delete_flow(*fx.delete_flow);
        const core::FlowKey shown =
            view::redacting(state_)
                ? view::redact_key(*fx.delete_flow, state_.redact, *state_.redactor)
                : *fx.delete_flow;
        state_.message = view::delete_outcome_text(shown, err, options_.ascii);
      } else {
        state_.message = "deleting flows is not available";
      }
    }
    if (fx.reset_totals && deps_.reset_totals) {
      deps_.reset_totals();
    }
    // Resume shows the present at once, after `t` the status line and the empty table say
    // whether tracking is on, after a delete the flow's row ends, after `R` the totals read 0,
    // and after `w` the rates are the new window's; the deadline stays.
    if ((was_paused || fx.track || fx.delete_flow || fx.reset_totals || fx.window_changed) &&
        !state_.paused) {
      request_snapshot();
      // A deadline that passed while paused (and the loop has not looked at yet) is this
      // snapshot's: it must not take a second one at the same moment.
      if (deadline_ns_ <= last_snapshot_ns_) {
        deadline_ns_ = last_snapshot_ns_ + interval_ns(state_);
      }
    }
  }
  return true;
}

int Loop::handle_signals() {
  if (deps_.signals == nullptr) {
    return 0;
  }
  for (int sig = deps_.signals->read(); sig != 0; sig = deps_.signals->read()) {
    switch (sig) {
      case SIGWINCH:
        term_.resize();
        dirty_ = true;
        break;
      case SIGTSTP:
        term_.suspend();  // returns after `fg`
        dirty_ = true;
        break;
      case SIGCONT:
        term_.resize();  // resumed by someone else's SIGCONT, or after our own stop
        dirty_ = true;
        break;
      default: return sig;  // INT TERM HUP QUIT PIPE: leave
    }
  }
  return 0;
}

LoopResult Loop::run() {
  LoopResult result;
  request_snapshot();
  deadline_ns_ = last_snapshot_ns_ + interval_ns(state_);
  for (;;) {
    std::int64_t now = clock_.steady_ns();
    // Until the first dump is in, look again every kCollectingPoll: the wake fd may fire just
    // before the collector marks the dump done, and a long interval must not keep
    // "collecting…" on screen. The regular deadline is unaffected.
    if (snapshot_->status.collecting && !state_.paused &&
        now >= collect_poll_ns_ + kCollectingPoll && now < deadline_ns_) {
      if (producer_.busy()) {
        collect_poll_ns_ = now;  // one is coming: look again a poll later
      } else {
        request_snapshot();
      }
    }
    if (now >= deadline_ns_) {
      if (!state_.paused) {
        request_snapshot();
      }
      deadline_ns_ += interval_ns(state_);
      if (deadline_ns_ <= now) {  // fell behind (stopped, slow snapshot): no burst of frames
        deadline_ns_ = now + interval_ns(state_);
      }
    }
    if (dirty_) {
      draw();
      continue;  // re-check the clock: drawing took time
    }
    std::array<pollfd, 5> fds{};
    fds[0] = {term_.input_fd(), POLLIN, 0};
    fds[1] = {deps_.signals != nullptr ? deps_.signals->fd() : -1, POLLIN, 0};
    fds[2] = {deps_.wake_fd, POLLIN, 0};
    fds[3] = {producer_.fd(), POLLIN, 0};
    fds[4] = {clock_.wake_fd(), POLLIN, 0};
    now = clock_.steady_ns();
    std::int64_t wake_at = deadline_ns_;
    if (snapshot_->status.collecting && !state_.paused) {
      wake_at = std::min(wake_at, collect_poll_ns_ + kCollectingPoll);
    }
    const int n = ::poll(fds.data(), fds.size(), clock_.poll_timeout_ms(wake_at - now));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      sys::throw_errno("poll");
    }
    const std::int64_t woke_ns = clock_.steady_ns();
    if ((fds[4].revents & POLLIN) != 0) {
      core::drain_wake(clock_.wake_fd());  // the clock moved: the deadlines are looked at above
    }
    if ((fds[1].revents & POLLIN) != 0) {
      if (const int sig = handle_signals(); sig != 0) {
        result.signal = sig;
        break;
      }
    }
    if ((fds[2].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const ssize_t r = ::read(deps_.wake_fd, &count, sizeof count);
      // The first dump finished: show it now rather than at the next deadline.
      if (snapshot_->status.collecting && !state_.paused) {
        request_snapshot();
      }
    }
    if ((fds[3].revents & POLLIN) != 0) {
      receive_snapshot();  // drawn at the top of the loop, after any keys read below
    }
    if ((fds[0].revents & POLLIN) != 0) {
      if (!handle_input(woke_ns)) {
        break;
      }
    } else if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
      result.signal = SIGHUP;  // the terminal went away without a SIGHUP reaching us
      break;
    }
  }
  result.frames = frames_;
  result.frame = frame_rec_.summary();
  result.snapshot = producer_.summary();
  result.prepare = producer_.prepare_summary();
  result.key = key_rec_.summary();
  return result;
}

}  // namespace

LoopResult run_event_loop(Terminal& terminal, view::ViewState& state, const LoopDeps& deps) {
  Loop loop(terminal, state, deps);
  return loop.run();
}

}  // namespace flowtop::tui
