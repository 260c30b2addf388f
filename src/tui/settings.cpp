#include "flowtop/tui/settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>

#include "flowtop/core/text.hpp"
#include "flowtop/view/column.hpp"

namespace flowtop::tui {
namespace {

constexpr std::array kTabs{view::Tab::Flows, view::Tab::Owners, view::Tab::Hosts,
                           view::Tab::Countries, view::Tab::As};

std::string tab_key(view::Tab tab) {
  return core::ascii_lower(view::tab_name(tab));
}

// The tab names, and "processes" (the Owners tab's old name: older flowtoprc files say it).
std::optional<view::Tab> parse_tab(std::string_view text) {
  return view::parse_tab(text);
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string t = core::ascii_lower(text);
  if (t == "1" || t == "true" || t == "yes" || t == "on") {
    return true;
  }
  if (t == "0" || t == "false" || t == "no" || t == "off") {
    return false;
  }
  return std::nullopt;
}

std::optional<double> parse_interval(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v, std::chars_format::fixed);
  if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(v) ||
      v < view::kMinInterval || v > view::kMaxInterval) {
    return std::nullopt;
  }
  return v;
}

std::string format_interval(double v) {
  return fmt::format("{}", v);  // shortest round-trip: "1", "0.5", "2.5"
}

// The boolean settings and where they live in the state.
struct BoolSetting {
  std::string_view key;
  bool view::ViewState::*field = nullptr;
  bool view::Selection::*sel_field = nullptr;
};

constexpr std::array kBools{
    BoolSetting{"ipv4", nullptr, &view::Selection::ipv4},
    BoolSetting{"ipv6", nullptr, &view::Selection::ipv6},
    BoolSetting{"tcp", nullptr, &view::Selection::tcp},
    BoolSetting{"udp", nullptr, &view::Selection::udp},
    BoolSetting{"dccp", nullptr, &view::Selection::dccp},
    BoolSetting{"icmp", nullptr, &view::Selection::icmp},
    BoolSetting{"sctp", nullptr, &view::Selection::sctp},
    BoolSetting{"other", nullptr, &view::Selection::other},
    BoolSetting{"loopback", nullptr, &view::Selection::loopback},
    BoolSetting{"dns_flows", nullptr, &view::Selection::dns},
    BoolSetting{"active_only", &view::ViewState::active_only, nullptr},
    BoolSetting{"show_src", &view::ViewState::show_src, nullptr},
    BoolSetting{"bits", &view::ViewState::bits, nullptr},
    BoolSetting{"dns", &view::ViewState::dns, nullptr},
    BoolSetting{"geoip", &view::ViewState::geoip, nullptr},
    BoolSetting{"footer", &view::ViewState::footer, nullptr},
};

bool& bool_ref(view::ViewState& state, const BoolSetting& s) {
  return s.field != nullptr ? state.*s.field : state.selection.*s.sel_field;
}

bool bool_value(const view::ViewState& state, const BoolSetting& s) {
  return s.field != nullptr ? state.*s.field : state.selection.*s.sel_field;
}

std::string sort_value(const view::SortSpec& spec) {
  return fmt::format("{} {}", view::column_name(spec.column), spec.descending ? "desc" : "asc");
}

// "owner,proto,state,...": the shown columns of the tab, left to right.
std::string columns_value(const view::ViewState& state, view::Tab tab) {
  std::string out;
  for (const view::Column c : view::shown_columns(state, tab)) {
    out += out.empty() ? "" : ",";
    out += view::column_name(c);
  }
  return out;
}

// columns.<tab>=NAME,NAME,...: those columns shown in that order, the tab's others hidden. A name
// that is not a column of the tab is reported and skipped; with none left the line is not used.
void apply_columns(view::Tab tab, std::string_view value, view::ViewState& state,
                   const std::function<void(std::string_view)>& bad) {
  std::vector<view::ColumnChoice> chosen;
  while (true) {
    const auto comma = value.find(',');
    const std::string_view item = core::trim(value.substr(0, comma));
    if (!item.empty()) {
      const auto column = view::parse_column(item);
      if (!column || !view::has_column(tab, *column)) {
        bad(fmt::format("'{}' is not a column of the {} tab: ignored", rc_excerpt(item),
                        view::tab_name(tab)));
      } else {
        chosen.push_back(view::ColumnChoice{*column, true});
      }
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  if (chosen.empty()) {
    bad(fmt::format("no column of the {} tab to show: every column shown", view::tab_name(tab)));
    return;
  }
  state.columns[static_cast<std::size_t>(tab)] = std::move(chosen);
}

}  // namespace

Settings settings_of(const view::ViewState& state) {
  Settings out;
  out.emplace("tab", tab_key(state.tab));
  for (const view::Tab tab : kTabs) {
    out.emplace("sort." + tab_key(tab), sort_value(state.sort[static_cast<std::size_t>(tab)]));
    out.emplace("columns." + tab_key(tab), columns_value(state, tab));
  }
  for (const BoolSetting& s : kBools) {
    out.emplace(std::string(s.key), bool_value(state, s) ? "1" : "0");
  }
  out.emplace("interval", format_interval(state.interval_s));
  return out;
}

void apply_rc(const RcFile& rc, std::string_view name, view::ViewState& state,
              std::vector<std::string>& errors) {
  for (const RcEntry& e : rc.entries) {
    const std::string value = rc_excerpt(e.value);
    auto bad = [&](std::string_view reason) { errors.push_back(rc_error(name, e.line, reason)); };
    if (e.key == "tab") {
      if (const auto tab = parse_tab(e.value)) {
        state.tab = *tab;
      } else {
        bad(fmt::format("unknown tab '{}': expected flows, owners, hosts, countries or as", value));
      }
      continue;
    }
    if (e.key == "interval") {
      if (const auto v = parse_interval(e.value)) {
        state.interval_s = *v;
      } else {
        bad(fmt::format("bad interval '{}': expected seconds from 0.1 to 3600", value));
      }
      continue;
    }
    if (e.key.starts_with("columns.")) {
      if (const auto tab = parse_tab(std::string_view(e.key).substr(8))) {
        apply_columns(*tab, e.value, state, bad);
      } else {
        bad(fmt::format("unknown setting '{}'", rc_excerpt(e.key)));
      }
      continue;
    }
    if (e.key.starts_with("sort.")) {
      const auto tab = parse_tab(std::string_view(e.key).substr(5));
      if (!tab) {
        bad(fmt::format("unknown setting '{}'", rc_excerpt(e.key)));
        continue;
      }
      const std::string_view v = e.value;
      const auto space = v.find_first_of(" \t");
      const std::string_view col_text = v.substr(0, space);
      std::string_view order;
      if (space != std::string_view::npos) {
        order = v.substr(v.find_first_not_of(" \t", space));
      }
      const auto column = view::parse_column(col_text);
      if (!column || !view::has_column(*tab, *column)) {
        bad(fmt::format("'{}' is not a column of the {} tab", rc_excerpt(col_text),
                        view::tab_name(*tab)));
        continue;
      }
      view::SortSpec spec{*column, view::descending_by_default(*column)};
      const std::string o = core::ascii_lower(order);
      if (o == "desc" || o == "descending") {
        spec.descending = true;
      } else if (o == "asc" || o == "ascending") {
        spec.descending = false;
      } else if (!o.empty()) {
        bad(fmt::format("bad sort order '{}': expected asc or desc", rc_excerpt(order)));
        continue;
      }
      state.sort[static_cast<std::size_t>(*tab)] = spec;
      continue;
    }
    const auto* const it = std::find_if(kBools.begin(), kBools.end(),
                                        [&](const BoolSetting& s) { return s.key == e.key; });
    if (it == kBools.end()) {
      bad(fmt::format("unknown setting '{}'", rc_excerpt(e.key)));
      continue;
    }
    if (const auto b = parse_bool(e.value)) {
      bool_ref(state, *it) = *b;
    } else {
      bad(fmt::format("bad value '{}' for {}: expected 1 or 0", value, e.key));
    }
  }
}

std::string format_settings(const Settings& settings) {
  std::string out =
      "# flowtop settings: written when you quit after changing them on screen.\n"
      "# key=value per line; command-line flags override these.\n";
  for (const auto& [key, value] : settings) {
    out += fmt::format("{}={}\n", key, value);
  }
  return out;
}

Settings merge_changes(const Settings& file, const Settings& start, const Settings& end) {
  Settings out = file;
  for (const auto& [key, value] : end) {
    const auto was = start.find(key);
    if (was == start.end() || was->second != value) {
      out[key] = value;
    }
  }
  return out;
}

}  // namespace flowtop::tui
