#pragma once

#include <initializer_list>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::sys {

/// Blocks `signals` in the calling thread (call before starting threads so they inherit the mask)
/// and reads them from a non-blocking signalfd. Owned by the UI/main thread.
class SignalFd {
 public:
  explicit SignalFd(std::initializer_list<int> signals);
  /// The next pending signal number, or 0 when none.
  [[nodiscard]] int read() const;
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  UniqueFd fd_;
};

/// An action run from a fatal-signal handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS...):
/// must be async-signal-safe. Returns nothing; registered in a fixed-size table.
using EmergencyAction = void (*)(void* ctx) noexcept;

/// Installs handlers for the fatal signals that run every registered action (last registered
/// first), then restore the default disposition and re-raise. Idempotent.
void install_fatal_signal_handlers();
/// Registers/unregisters an action; at most 8. Not async-signal-safe itself (call from normal
/// code).
void register_emergency_action(EmergencyAction action, void* ctx);
void unregister_emergency_action(EmergencyAction action, void* ctx);
/// Runs every registered action now (for code paths that must restore without unwinding).
void run_emergency_actions() noexcept;

}  // namespace flowtop::sys
