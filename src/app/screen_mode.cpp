#include "screen_mode.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <optional>

#include "flowtop/core/text.hpp"
#include "flowtop/tui/event_loop.hpp"
#include "flowtop/tui/rc_file.hpp"
#include "flowtop/tui/settings.hpp"
#include "flowtop/tui/terminal.hpp"
#include "flowtop/view/column.hpp"

namespace flowtop::app {
namespace {

void print_err(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
}

// The command line over the state flowtoprc gave: flags that were given win; flags that can only
// turn something on (-s -b --loopback ...) turn it on; -n and -G turn DNS / GeoIP off.
void apply_options(const Options& o, view::ViewState& s) {
  if (o.families_given) {
    s.selection.ipv4 = o.selection.ipv4;
    s.selection.ipv6 = o.selection.ipv6;
  }
  if (o.protocols_given) {
    s.selection.tcp = o.selection.tcp;
    s.selection.udp = o.selection.udp;
    s.selection.dccp = o.selection.dccp;
    s.selection.icmp = o.selection.icmp;
    s.selection.sctp = o.selection.sctp;
  }
  s.selection.other = s.selection.other || o.selection.other;
  s.selection.loopback = s.selection.loopback || o.selection.loopback;
  s.selection.dns = s.selection.dns || o.selection.dns;
  s.show_src = s.show_src || o.show_src;
  s.bits = s.bits || o.bits;
  if (o.no_dns) {
    s.dns = false;
  }
  if (o.no_geoip) {
    s.geoip = false;
  }
  s.read_only = o.read_only;
  if (o.window) {
    s.window = *o.window;
  }
  // One key per run: the same address gets the same pseudonym on every frame and tab.
  if (!s.redactor) {
    s.redactor = std::make_shared<const core::Redactor>(core::Redactor::random_key());
  }
  if (o.redact) {
    s.redact = *o.redact;
    s.redact_choice = *o.redact;
  }
  if (o.interval_given) {
    s.interval_s = o.interval_s;
  }
  if (o.sort) {
    // Every tab that has the column sorts by it.
    for (std::size_t t = 0; t < view::kTabCount; ++t) {
      if (view::has_column(static_cast<view::Tab>(t), *o.sort)) {
        s.sort[t] = view::SortSpec{*o.sort, view::descending_by_default(*o.sort)};
      }
    }
  }
  if (o.tab) {
    s.tab = *o.tab;
  }
  if (!o.filter.empty()) {
    s.filter = o.filter;
  }
}

std::string stats_line(std::string_view what, const tui::LatencySummary& s, std::string_view unit) {
  return "flowtop: screen: " + tui::format_latency(what, s, unit);
}

}  // namespace

view::ViewState state_from_options(const Options& options) {
  view::ViewState state = view::default_view_state();
  apply_options(options, state);
  return state;
}

view::ViewState initial_state(const Options& options, const std::string& rc_text,
                              const std::string& rc_name, std::vector<std::string>& errors) {
  view::ViewState state = view::default_view_state();
  const tui::RcFile rc = tui::parse_rc(rc_text, rc_name);
  errors.insert(errors.end(), rc.errors.begin(), rc.errors.end());
  tui::apply_rc(rc, rc_name, state, errors);
  apply_options(options, state);
  return state;
}

int run_screen(const Options& opts, const tui::LoopDeps& deps) {
  if (std::string why; !tui::have_terminal(&why)) {
    print_err(why);
    return 1;
  }
  std::vector<std::string> problems;  // printed once the terminal is restored
  const std::optional<tui::RcLocation> rc_loc = tui::rc_location();
  const std::string rc_path = rc_loc ? rc_loc->path() : std::string();
  const tui::RcFile rc = rc_loc ? tui::read_rc(*rc_loc) : tui::RcFile{};
  problems = rc.errors;
  view::ViewState state = view::default_view_state();
  tui::apply_rc(rc, rc_path, state, problems);
  const tui::Settings file_settings = tui::settings_of(state);
  apply_options(opts, state);
  const tui::Settings start_settings = tui::settings_of(state);
  if (deps.set_dns) {
    deps.set_dns(state.dns);
  }
  if (deps.set_geoip) {
    deps.set_geoip(state.geoip);
  }
  if (deps.set_interval) {
    deps.set_interval(state.interval_s);
  }

  tui::LoopResult result;
  std::exception_ptr error;
  try {
    tui::Terminal terminal;
    result = tui::run_event_loop(terminal, state, deps);
  } catch (const tui::TerminalError& e) {
    for (const auto& p : problems) {
      print_err(p);
    }
    print_err(e.what());
    return 1;
  } catch (...) {
    error = std::current_exception();  // the Terminal is gone: the screen is restored
  }
  for (const auto& p : problems) {
    print_err(p);
  }
  if (error) {
    std::rethrow_exception(error);
  }
  if (rc_loc) {
    const tui::Settings out =
        tui::merge_changes(file_settings, start_settings, tui::settings_of(state));
    if (out != file_settings) {
      try {
        tui::write_rc(*rc_loc, tui::format_settings(out));
      } catch (const std::exception& e) {
        print_err(fmt::format("flowtop: cannot save the settings: {}", e.what()));
      }
    }
  }
  if (opts.stats) {
    print_err(stats_line("frame-time", result.frame, "frames"));
    print_err(stats_line("key-to-draw", result.key, "keys"));
    print_err(stats_line("snapshot", result.snapshot, "snapshots"));
    print_err(stats_line("prepare", result.prepare, "passes"));
  }
  return 0;
}

}  // namespace flowtop::app
