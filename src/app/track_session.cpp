#include "track_session.hpp"

#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace flowtop::app {

void TrackSession::start() {
  {
    const std::lock_guard lock(mu_);
    if (guard_) {
      return;
    }
  }
  // nft and the state file take a few milliseconds: outside the lock the snapshot thread reads
  // under. Only the main thread starts and restores, so nothing else sets guard_ meanwhile.
  auto guard = std::make_unique<TrackGuard>();
  const std::lock_guard lock(mu_);
  guard_ = std::move(guard);
  error_.clear();
}

void TrackSession::start_from_key() noexcept {
  try {
    start();
  } catch (const std::exception& e) {
    const std::lock_guard lock(mu_);
    error_ = std::string("t: cannot make conntrack track: ") + e.what();
  } catch (...) {
    const std::lock_guard lock(mu_);
    error_ = "t: cannot make conntrack track";
  }
}

void TrackSession::restore() noexcept {
  std::unique_ptr<TrackGuard> guard;
  {
    const std::lock_guard lock(mu_);
    guard = std::move(guard_);
  }
  guard.reset();  // deletes the table (the last flowtop of the namespace) outside the lock
}

view::Tracking TrackSession::tracking() const {
  const std::lock_guard lock(mu_);
  if (guard_) {
    return view::Tracking::Session;
  }
  return offer_ ? view::Tracking::Offered : view::Tracking::NotOffered;
}

std::string TrackSession::error() const {
  const std::lock_guard lock(mu_);
  return error_;
}

}  // namespace flowtop::app
