#pragma once

#include <string>
#include <vector>

#include "flowtop/app/options.hpp"
#include "flowtop/tui/event_loop.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::app {

/// The interactive screen (the default mode): reads flowtoprc, applies the command line over it,
/// runs the ncurses screen until `q` or a terminating signal, then, with the terminal restored,
/// prints flowtoprc problems, saves the settings changed on screen and (--stats) the frame-time
/// and key-to-draw percentiles on stderr. `deps` is what the event loop needs from the rest of
/// the program; its `signals` must have been created before any thread started, for exactly
/// SIGINT SIGTERM SIGHUP SIGQUIT SIGPIPE SIGWINCH SIGTSTP SIGCONT. Returns the exit status: 0, or
/// 1 without a usable terminal. Other errors throw (the terminal is restored first). Main (UI)
/// thread.
int run_screen(const Options& opts, const tui::LoopDeps& deps);

/// What --batch and --json show: the defaults, then the command line (no flowtoprc: a script's
/// output depends on its command line alone). Pure.
view::ViewState state_from_options(const Options& options);

/// The view state the screen starts with: defaults, then flowtoprc entries, then the command line
/// (flags override the file). Problems go to `errors` ("file:line: reason"). `rc_text`/`rc_name`
/// are the file's content and name (tests). Pure.
view::ViewState initial_state(const Options& options, const std::string& rc_text,
                              const std::string& rc_name, std::vector<std::string>& errors);

}  // namespace flowtop::app
