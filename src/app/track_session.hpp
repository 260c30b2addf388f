#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "flowtop/app/track_guard.hpp"
#include "flowtop/view/snapshot.hpp"

namespace flowtop::app {

/// Whether flowtop makes conntrack track in the namespace: the --track table from the start, or
/// from the screen's `t` key on. Either way it is the TrackGuard's table and state file, removed
/// when flowtop leaves (restore(), or the destructor). Started and restored by the main thread;
/// tracking() and error() are read by the snapshot thread, under the mutex.
class TrackSession {
 public:
  /// `offer`: the screen offers the `t` key while flowtop does not track (the empty table says
  /// so).
  explicit TrackSession(bool offer) : offer_(offer) {}

  /// Adds the table (TrackGuard) unless this session already has it. Throws what TrackGuard
  /// throws (--track at start-up: a failure ends flowtop).
  void start();
  /// The `t` key: start(), a failure kept for error() (the health line) instead of thrown, so
  /// the screen goes on. Another `t` tries again.
  void start_from_key() noexcept;
  /// Deletes the table if this is the last flowtop of the namespace that uses it; idempotent.
  void restore() noexcept;

  [[nodiscard]] view::Tracking tracking() const;
  /// The last failure of the `t` key, as a health line; "" when none (or tracking since).
  [[nodiscard]] std::string error() const;

 private:
  mutable std::mutex mu_;
  bool offer_;
  std::unique_ptr<TrackGuard> guard_;  // set: tracking
  std::string error_;
};

}  // namespace flowtop::app
