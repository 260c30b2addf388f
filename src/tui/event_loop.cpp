#include "flowtop/tui/event_loop.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <exception>
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
#include "flowtop/view/command.hpp"
#include "flowtop/view/rows.hpp"

namespace flowtop::tui {
namespace {

constexpr std::int64_t kCollectingPoll = 100'000'000;  // 100 ms

std::int64_t interval_ns(const view::ViewState& state) {
  return static_cast<std::int64_t>(state.interval_s * 1e9);
}

// The cursor movement a command queues, if it is one.
std::optional<view::PendingMove::Kind> move_kind(view::Command::Kind k) {
  using K = view::Command::Kind;
  using M = view::PendingMove::Kind;
  switch (k) {
    case K::Up:
    case K::Down:
    case K::MoveBy: return M::By;
    case K::PageUp:
    case K::PageDown: return M::Page;
    case K::Home: return M::Home;
    case K::End: return M::End;
    case K::SelectRow: return M::Index;
    default: return std::nullopt;
  }
}

// Whether `next` would overwrite a pending move rather than add to it (the reducer sums
// row and page steps of the same kind; anything else replaces the pending move).
bool replaces_pending(const view::PendingMove& pending, view::PendingMove::Kind next) {
  using M = view::PendingMove::Kind;
  if (pending.kind == M::None) {
    return false;
  }
  return pending.kind != next || (next != M::By && next != M::Page);
}

// Takes snapshots on its own thread so the UI thread never waits for the copy. Asked by
// request(state) (at most one in flight and one pending: requests coalesce, the latest state
// wins); after the copy it also runs view::prepare() with that state (classify, filter, sort:
// the O(n log n) part of a frame). A finished snapshot + Prepared waits in `ready_` (replacing
// an older one not yet taken) and the eventfd fires; take() swaps both into the UI's in O(1)
// and hands the UI's old buffers back (they are freed or reused on this thread). An exception
// from take_snapshot (or thread_init) ends the thread and is rethrown by take() on the UI thread.
// The destructor stops and joins the thread; a snapshot in progress finishes first.
class Producer {
 public:
  explicit Producer(const LoopDeps& deps)
      : deps_(deps), thread_([this](std::stop_token st) { run(st); }) {}
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  ~Producer() {
    thread_.request_stop();  // wakes the condition variable (stop_token-aware wait)
    thread_.join();
  }

  void request(const view::ViewState& state) {
    {
      const std::lock_guard lock(mutex_);
      requested_ = true;
      req_state_ = state;
    }
    cv_.notify_one();
  }
  // Whether a snapshot is being taken or asked for.
  [[nodiscard]] bool busy() {
    const std::lock_guard lock(mutex_);
    return requested_ || in_flight_;
  }
  // Swaps a finished snapshot and its Prepared into `into`/`into_prep` when one is ready and
  // `accept` (returns whether it did; when not accepted it stays ready). One prepared for
  // another key than `want` is not taken while a newer pass is asked for or running (it would
  // only be prepared again on the UI thread). Rethrows the snapshot thread's exception.
  bool take(view::Snapshot& into, std::optional<view::Prepared>& into_prep, bool accept,
            const view::PrepKey& want) {
    const std::lock_guard lock(mutex_);
    if (error_) {
      std::rethrow_exception(std::exchange(error_, nullptr));
    }
    if (!has_ready_ || !accept) {
      return false;
    }
    if ((!ready_prep_ || !(ready_prep_->key == want)) && (requested_ || in_flight_)) {
      return false;
    }
    std::swap(into, ready_);
    std::swap(into_prep, ready_prep_);
    has_ready_ = false;
    return true;
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
  void run(const std::stop_token& st) {
    try {
      if (deps_.thread_init) {
        deps_.thread_init();
      }
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    produce(st);
    if (deps_.thread_exit) {
      try {
        deps_.thread_exit();
      } catch (...) {
        fail(std::current_exception());
      }
    }
  }

  void produce(const std::stop_token& st) {
    view::ViewState state;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, st, [this] { return requested_; });
        if (st.stop_requested()) {
          return;
        }
        requested_ = false;
        in_flight_ = true;
        state = req_state_;
      }
      // A fresh snapshot; only the flows' storage is reused (the buffers rotate through the UI,
      // so nothing else from an older snapshot may leak into this one).
      std::vector<core::FlowRecord> flows = std::move(back_.flows);
      flows.clear();
      back_ = view::Snapshot{};
      back_.flows = std::move(flows);
      const std::int64_t t0 = core::steady_ns();
      try {
        deps_.take_snapshot(back_);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      const std::int64_t t1 = core::steady_ns();
      try {
        back_prep_ = view::prepare(back_, state);  // frees the buffers the UI handed back
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      const std::int64_t t2 = core::steady_ns();
      {
        const std::lock_guard lock(mutex_);
        rec_.add(t1 - t0);
        prep_rec_.add(t2 - t1);
        std::swap(back_, ready_);
        std::swap(back_prep_, ready_prep_);
        has_ready_ = true;
        in_flight_ = false;
      }
      notify_.notify();
    }
  }

  void fail(std::exception_ptr e) {
    {
      const std::lock_guard lock(mutex_);
      if (!error_) {
        error_ = std::move(e);
      }
      in_flight_ = false;
    }
    notify_.notify();
  }

  const LoopDeps& deps_;
  sys::EventFd notify_;
  std::mutex mutex_;
  std::condition_variable_any cv_;
  // Under mutex_:
  bool requested_ = false;
  bool in_flight_ = false;
  bool has_ready_ = false;
  view::ViewState req_state_;  // the state of the latest request
  view::Snapshot ready_;
  std::optional<view::Prepared> ready_prep_;
  std::exception_ptr error_;
  LatencyRecorder rec_, prep_rec_;
  // The snapshot thread's own buffers.
  view::Snapshot back_;
  std::optional<view::Prepared> back_prep_;
  std::jthread thread_;  // last: started after, and joined before, everything above
};

// The loop's working set: one snapshot, the last frame (for clicks), the recorders.
class Loop {
 public:
  Loop(Terminal& term, view::ViewState& state, const LoopDeps& deps)
      : term_(term), state_(state), deps_(deps), options_{deps.version, !term.utf8()} {
    // Until the first snapshot arrives the screen says so rather than showing an empty table.
    snapshot_.status.collecting = true;
  }

  LoopResult run();

 private:
  // Asks the snapshot thread for a snapshot (the deadline grid counts from now).
  void request_snapshot();
  // Swaps in a finished snapshot unless paused; rethrows the snapshot thread's exception.
  void receive_snapshot();
  void draw();
  view::Rows build(render::Size size);
  // Returns false when the user asked to quit.
  bool handle_input(std::int64_t read_ns);
  // Returns the signal that ends the loop, or 0.
  int handle_signals();

  Terminal& term_;
  view::ViewState& state_;
  const LoopDeps& deps_;
  render::RenderOptions options_;
  view::KeyMap keymap_;
  view::Snapshot snapshot_;
  std::optional<view::Prepared> prep_;  // snapshot_ prepared for some PrepKey
  render::Frame frame_;
  std::int64_t last_snapshot_ns_ = 0;  // last request (the deadline grid)
  std::int64_t collect_poll_ns_ = 0;   // last look while collecting
  std::int64_t deadline_ns_ = 0;
  bool dirty_ = true;
  std::optional<std::int64_t> key_pending_ns_;  // earliest key read not yet on screen
  LatencyRecorder frame_rec_, key_rec_;
  std::uint64_t frames_ = 0;
  Producer producer_{deps_};  // last: joined before the rest goes away
};

void Loop::request_snapshot() {
  last_snapshot_ns_ = core::steady_ns();
  collect_poll_ns_ = last_snapshot_ns_;
  producer_.request(state_);
}

void Loop::receive_snapshot() {
  producer_.drain();
  if (producer_.take(snapshot_, prep_, !state_.paused, view::prep_key(state_))) {
    dirty_ = true;
  }
}

view::Rows Loop::build(render::Size size) {
  const std::size_t capacity = render::table_capacity(snapshot_.status, state_, size);
  // Only a change of what is shown (tab, sort, selection, filter...) prepares the snapshot again
  // here, once; the producer is asked for a fresh pass with the new state so the next snapshot
  // comes prepared. Cursor moves, scrolling, panes: the O(window) step only.
  if (!prep_ || !(prep_->key == view::prep_key(state_))) {
    const bool changed = prep_.has_value();
    prep_ = view::prepare(snapshot_, state_);
    if (changed && !state_.paused) {
      producer_.request(state_);
    }
  }
  view::Rows rows = view::build_rows(*prep_, snapshot_, state_, capacity);
  view::settle(state_, rows);
  return rows;
}

void Loop::draw() {
  const std::int64_t t0 = core::steady_ns();
  const render::Size size = term_.size();
  const view::Rows rows = build(size);
  frame_ = render::render(rows, state_, size, options_);
  term_.paint(frame_);
  const std::int64_t t1 = core::steady_ns();
  frame_rec_.add(t1 - t0);
  ++frames_;
  if (key_pending_ns_) {
    key_rec_.add(t1 - *key_pending_ns_);
    key_pending_ns_.reset();
  }
  dirty_ = false;
  if (deps_.publish_shown) {
    deps_.publish_shown(view::visible_keys(rows));
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
    // A movement is resolved against the sorted rows at the next frame. Keys read in one batch
    // (a held-down arrow, a pasted sequence) are applied before that frame: steps of one kind
    // add up in the reducer; before a different movement, resolve the pending one so End then
    // Up ends one row above the end.
    if (const auto kind = move_kind(cmd->kind);
        kind && replaces_pending(state_.current_cursor().move, *kind)) {
      build(term_.size());
    }
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
    if (was_paused && !state_.paused) {
      request_snapshot();  // resume shows the present at once; the deadline stays
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
    std::int64_t now = core::steady_ns();
    // Until the first dump is in, look again every kCollectingPoll: the wake fd may fire just
    // before the collector marks the dump done, and a long interval must not keep
    // "collecting…" on screen. The regular deadline is unaffected.
    if (snapshot_.status.collecting && !state_.paused &&
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
    std::array<pollfd, 4> fds{};
    fds[0] = {term_.input_fd(), POLLIN, 0};
    fds[1] = {deps_.signals != nullptr ? deps_.signals->fd() : -1, POLLIN, 0};
    fds[2] = {deps_.wake_fd, POLLIN, 0};
    fds[3] = {producer_.fd(), POLLIN, 0};
    now = core::steady_ns();
    std::int64_t wake_at = deadline_ns_;
    if (snapshot_.status.collecting && !state_.paused) {
      wake_at = std::min(wake_at, collect_poll_ns_ + kCollectingPoll);
    }
    const std::int64_t wait_ns = std::max<std::int64_t>(wake_at - now, 0);
    const int timeout_ms = static_cast<int>((wait_ns + 999'999) / 1'000'000);
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      sys::throw_errno("poll");
    }
    const std::int64_t woke_ns = core::steady_ns();
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
      if (snapshot_.status.collecting && !state_.paused) {
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
