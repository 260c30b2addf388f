#pragma once

#include <functional>
#include <string>
#include <vector>

#include "flowtop/app/options.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/sys/signals.hpp"
#include "flowtop/view/snapshot.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::app {

/// What the interactive screen needs from the app. The SignalFd must have been created, before
/// any thread started, for exactly SIGINT SIGTERM SIGHUP SIGQUIT SIGPIPE SIGWINCH SIGTSTP SIGCONT
/// (the last three only in screen mode: blocking SIGTSTP in --batch would disable Ctrl-Z there).
/// Every callback runs on the UI thread and must not wait on the collector or a resolver.
struct ScreenDeps {
  const Options& options;
  const sys::SignalFd& signals;
  /// Copies one frame's input. May throw (e.g. to hand over the collector's exception): the
  /// terminal is restored and the exception propagates out of run_screen().
  std::function<void(view::Snapshot&)> take_snapshot{};
  /// The keys of the flows on screen, after each frame.
  std::function<void(std::vector<core::FlowKey>)> publish_shown{};
  std::function<void(bool)> set_dns{};         ///< reverse DNS on/off (initial value, then `n`)
  std::function<void(bool)> set_geoip{};       ///< GeoIP on/off (initial value, then `g`)
  std::function<void(double)> set_interval{};  ///< collector tick in seconds (initial, then +/-)
  int wake_fd = -1;  ///< an eventfd the collector signals when it has new data; -1: none
  /// Run on a thread the screen starts (the snapshot producer) at its start and end: registers it
  /// with RCU, which take_snapshot needs.
  std::function<void()> thread_init = {};
  std::function<void()> thread_exit = {};
};

/// The interactive screen (the default mode): reads flowtoprc, applies the command line over it,
/// checks --sort and --filter, runs the ncurses screen until `q` or a terminating signal, then,
/// with the terminal restored, prints flowtoprc problems, saves the settings changed on screen
/// and (--stats) the frame-time and key-to-draw percentiles on stderr. Returns the exit status:
/// 0; 1 without a usable terminal; 2 for a bad --sort or --filter. Other errors throw (the
/// terminal is restored first). Main (UI) thread.
int run_screen(const ScreenDeps& deps);

/// The view state the screen starts with: defaults, then flowtoprc entries, then the command line
/// (flags override the file). Problems go to `errors` ("file:line: reason"); a bad --sort or
/// --filter throws UsageError. `rc_text`/`rc_name` are the file's content and name (tests).
view::ViewState initial_state(const Options& options, const std::string& rc_text,
                              const std::string& rc_name, std::vector<std::string>& errors);

}  // namespace flowtop::app
