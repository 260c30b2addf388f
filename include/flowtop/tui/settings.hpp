#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "flowtop/tui/rc_file.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::tui {

/// The settings flowtoprc remembers (sort, tab, toggles, interval), as key → canonical
/// value text, e.g. {"tab", "flows"}, {"sort.flows", "rate-in desc"}, {"bits", "0"},
/// {"interval", "1"}. Plain value.
using Settings = std::map<std::string, std::string, std::less<>>;

/// Every remembered setting of `state`. Pure.
Settings settings_of(const view::ViewState& state);

/// Applies the entries of `rc` to `state`. An unknown key or a bad value adds
/// "file:line: reason" to `errors` and is skipped; the rest is used. Pure.
///   tab=flows|owners|hosts|countries|as (processes: owners' old name)
///   sort.<tab>=COLUMN [asc|desc]       (COLUMN as --sort takes it; order: the column's default)
///   columns.<tab>=COLUMN,COLUMN,...    (the shown columns, left to right; the others hidden;
///                                       a name that is not the tab's is reported and skipped)
///   ipv4 ipv6 tcp udp dccp icmp sctp other loopback dns_flows   (the selection)
///   active_only show_src bits dns geoip footer                   (toggles)
///   interval=SECONDS (0.1 to 3600)
/// Booleans: 1/0, true/false, yes/no, on/off.
void apply_rc(const RcFile& rc, std::string_view name, view::ViewState& state,
              std::vector<std::string>& errors);

/// The file's text for `settings`: a comment line, then `key=value` lines in key order. Pure.
std::string format_settings(const Settings& settings);

/// What to write at quit: `file` (the settings as read, defaults filled in) updated with every
/// setting whose value differs between `start` (the state the screen began with, command line
/// included) and `end` (the state at quit) — what the user chose on screen. Command-line flags
/// are therefore not persisted unless also changed on screen. Pure.
Settings merge_changes(const Settings& file, const Settings& start, const Settings& end);

}  // namespace flowtop::tui
