#include "flowtop/view/command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace flowtop::view {
namespace {

using K = Command::Kind;

constexpr std::int32_t kCtrlA = 1;
constexpr std::int32_t kCtrlE = 5;
constexpr std::int32_t kBackspaceAscii = 8;
constexpr std::int32_t kCtrlL = 12;
constexpr std::int32_t kCtrlU = 21;
constexpr std::int32_t kEscAscii = 27;
constexpr std::int32_t kDel = 127;
constexpr std::int64_t kWheelRows = 3;

constexpr std::array kHelp{
    KeyHelp{"Tab, Shift-Tab", "next / previous view: Flows, Owners, Hosts, Countries, AS"},
    KeyHelp{"Up k u, Down j d", "move the selection"},
    KeyHelp{"PgUp PgDn Home End", "move by a page, to the top, to the bottom"},
    KeyHelp{"wheel, click", "scroll; select a row, a view, a sort column"},
    KeyHelp{"Left h Right l, F2", "scroll the columns sideways; show, hide and order them"},
    KeyHelp{"Enter", "Flows: details of the selected flow; other views: its flows"},
    KeyHelp{"p", "conntrack pressure: table fill, drops per CPU, lost events"},
    KeyHelp{"Esc", "close the details / menu; clear the filter"},
    KeyHelp{"< > r, F6", "sort by the next column left / right; reverse; sort menu"},
    KeyHelp{"/", "filter, e.g. proto=udp and rate>1MB/s (Esc clears)"},
    KeyHelp{"space", "pause the screen (collection continues)"},
    KeyHelp{"a", "active flows only"},
    KeyHelp{"s", "show the local (or inside) end and NAT of each flow"},
    // One line with `w`: the whole list still fits 80x24.
    KeyHelp{"b, w", "rates in bits / bytes; average over 2, 10, 40 s or none"},
    KeyHelp{"T U D I S, 4 6 L", "show TCP, UDP, DCCP, ICMP, SCTP; IPv4, IPv6, loopback"},
    KeyHelp{"P", "privacy mode: mask addresses, names, MACs, users"},
    // One line with `t` and `x`: the whole list still fits 80x24.
    KeyHelp{"n g, t, x", "DNS, GeoIP on/off; track (--track); delete the flow (y/N)"},
    KeyHelp{"+ -, F, R", "interval longer / shorter; key bar on / off; reset totals"},
    KeyHelp{"? F1, q F10", "this help; quit"},
};

Cursor& cursor_of(ViewState& s) {
  return s.cursor[static_cast<std::size_t>(s.tab)];
}
SortSpec& sort_of(ViewState& s) {
  return s.sort[static_cast<std::size_t>(s.tab)];
}

std::size_t column_index(Tab tab, Column column) {
  const auto cols = columns_of(tab);
  const auto it = std::find(cols.begin(), cols.end(), column);
  return it == cols.end() ? 0 : static_cast<std::size_t>(it - cols.begin());
}

void set_sort(ViewState& s, Column column, bool flip_same) {
  if (!has_column(s.tab, column)) {
    return;
  }
  SortSpec& sort = sort_of(s);
  if (sort.column == column) {
    if (flip_same) {
      sort.descending = !sort.descending;
    }
  } else {
    sort = SortSpec{column, descending_by_default(column)};
  }
  s.effects.persist = true;
}

// Movements typed before the next frame add up: steps of one kind sum; rows and pages after a
// Home, End or Index (or rows before a Page) are kept as its then_rows / then_pages; a Home, End
// or Index starts over.
void queue_move(ViewState& s, PendingMove::Kind kind, std::int64_t delta) {
  using M = PendingMove::Kind;
  cursor_of(s).follow = true;
  PendingMove& m = cursor_of(s).move;
  const bool absolute = m.kind == M::Home || m.kind == M::End || m.kind == M::Index;
  if (kind == M::Home || kind == M::End || kind == M::Index || m.kind == M::None) {
    m = PendingMove{kind, delta};
  } else if (kind == M::By) {
    if (m.kind == M::By) {
      m.delta += delta;
    } else {
      m.then_rows += delta;  // after a Page, Home, End or Index
    }
  } else if (m.kind == M::Page) {  // kind == Page
    m.delta += delta;
  } else if (absolute) {
    m.then_pages += delta;
  } else {  // rows, then a page: a page move from the rows' end
    m = PendingMove{M::Page, delta, m.delta, 0};
  }
}

void set_tab(ViewState& s, Tab tab) {
  if (s.tab != tab) {
    s.tab = tab;
    s.detail_open = false;
    s.sort_menu_open = false;
    s.columns_open = false;
    s.h_scroll = 0;
    s.effects.persist = true;
  }
}

void toggle(ViewState& s, bool& flag) {
  flag = !flag;
  s.effects.persist = true;
}

// UTF-8 of one code point (the caller passes printable code points only).
std::string utf8(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

bool continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
}

std::size_t prev_boundary(const std::string& s, std::size_t i) {
  if (i == 0) {
    return 0;
  }
  --i;
  while (i > 0 && continuation(s[i])) {
    --i;
  }
  return i;
}

std::size_t next_boundary(const std::string& s, std::size_t i) {
  if (i >= s.size()) {
    return s.size();
  }
  ++i;
  while (i < s.size() && continuation(s[i])) {
    ++i;
  }
  return i;
}

bool printable(std::int32_t cp) {
  return cp >= 0x20 && cp != kDel && !(cp >= 0x80 && cp <= 0x9F) && cp < 0x110000 &&
         !(cp >= 0xD800 && cp <= 0xDFFF);
}

// The filter that shows the flows of an aggregate row.
std::string group_filter(Tab tab, const GroupKey& key) {
  const auto quote = [](const std::string& v) {
    std::string out = "\"";
    for (const char c : v) {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
    return out + '"';
  };
  switch (tab) {
    case Tab::Owners:
      if (key.pid != 0) {
        return fmt::format("pid={}", key.pid);
      }
      if (key.name.starts_with('\x01')) {  // a LAN device, by its MAC
        return "mac=" + key.name.substr(1);
      }
      return "not pid>=0 and not mac~.";
    case Tab::Hosts: return "remote=" + key.addr.to_string();
    case Tab::Countries: return key.name.empty() ? "not country~." : "country=" + quote(key.name);
    case Tab::As: return key.asn != 0 ? fmt::format("asn={}", key.asn) : "not asn>=0";
    case Tab::Flows: break;
  }
  return "";
}

void accept_filter(ViewState& s) {
  FilterResult r = compile_filter(s.prompt.text);
  if (auto* f = std::get_if<Filter>(&r)) {
    s.filter = std::move(*f);
    s.prompt = FilterPrompt{};
    return;
  }
  const auto& e = std::get<FilterError>(r);
  s.prompt.error = e.message;
  s.prompt.error_pos = e.pos;  // the previous filter stays applied
}

void edit_prompt(ViewState& s, const Command& cmd) {
  FilterPrompt& p = s.prompt;
  p.cursor = std::min(p.cursor, p.text.size());
  switch (cmd.kind) {
    case K::FilterInsert: {
      if (!printable(static_cast<std::int32_t>(cmd.arg))) {
        return;
      }
      const std::string bytes = utf8(static_cast<std::uint32_t>(cmd.arg));
      p.text.insert(p.cursor, bytes);
      p.cursor += bytes.size();
      break;
    }
    case K::FilterBackspace: {
      const std::size_t from = prev_boundary(p.text, p.cursor);
      p.text.erase(from, p.cursor - from);
      p.cursor = from;
      break;
    }
    case K::FilterDelete: p.text.erase(p.cursor, next_boundary(p.text, p.cursor) - p.cursor); break;
    case K::FilterLeft: p.cursor = prev_boundary(p.text, p.cursor); break;
    case K::FilterRight: p.cursor = next_boundary(p.text, p.cursor); break;
    case K::FilterHome: p.cursor = 0; break;
    case K::FilterEnd: p.cursor = p.text.size(); break;
    case K::FilterKill:
      p.text.clear();
      p.cursor = 0;
      break;
    default: return;
  }
  p.error.clear();
  p.error_pos = 0;
}

Command main_key(const ViewState& state, std::int32_t key) {
  switch (key) {
    case 'q': return {K::Quit};
    case '\t':
    case kKeyTab: return {K::NextTab};
    case kKeyBackTab: return {K::PrevTab};
    case kKeyUp:
    case 'k':
    case 'u': return {K::Up};
    case kKeyDown:
    case 'j':
    case 'd': return {K::Down};
    case kKeyPageUp: return {K::PageUp};
    case kKeyPageDown: return {K::PageDown};
    case kKeyHome: return {K::Home};
    case kKeyEnd: return {K::End};
    case kKeyWheelUp: return {K::MoveBy, -kWheelRows};
    case kKeyWheelDown: return {K::MoveBy, kWheelRows};
    case kKeyLeft:
    case 'h': return {K::ScrollLeft};
    case kKeyRight:
    case 'l': return {K::ScrollRight};
    case 'b': return {K::ToggleBits};
    case 'a': return {K::ToggleActive};
    case 's': return {K::ToggleSource};
    case 'T': return {K::ToggleTcp};
    case 'U': return {K::ToggleUdp};
    case 'D': return {K::ToggleDccp};
    case 'I': return {K::ToggleIcmp};
    case 'S': return {K::ToggleSctp};
    case 'L': return {K::ToggleLoopback};
    case '4': return {K::ToggleIpv4};
    case '6': return {K::ToggleIpv6};
    case 'n': return {K::ToggleDns};
    case 'g': return {K::ToggleGeoip};
    case 'p': return {K::TogglePressure};
    case 'F': return {K::ToggleFooter};
    case 't': return {K::Track};
    case 'x': return {K::DeleteFlow};
    case 'P': return {K::TogglePrivacy};
    case 'R': return {K::ResetTotals};
    case 'w': return {K::NextWindow};
    case '?':
    case kKeyF1: return {K::ToggleHelp};
    case '<': return {K::SortPrev};
    case '>': return {K::SortNext};
    case 'r': return {K::SortReverse};
    case kKeyF6: return {K::SortMenu};
    case kKeyF2: return {K::ColumnsMenu};
    case '/': return {K::OpenFilter};
    case ' ': return {K::TogglePause};
    case '\n':
    case '\r':
    case kKeyEnter: return {K::Enter};
    case kEscAscii:
    case kKeyEscape:
      if (state.detail_open || state.pressure_open || state.sort_menu_open || state.columns_open) {
        return {K::Close};
      }
      return state.filter.empty() ? Command{K::None} : Command{K::ClearFilter};
    case '+':
    case '=': return {K::IntervalUp};
    case '-': return {K::IntervalDown};
    case kCtrlL:
    case kKeyResize: return {K::Redraw};
    default: return {K::None};
  }
}

Command prompt_key(std::int32_t key) {
  switch (key) {
    case '\n':
    case '\r':
    case kKeyEnter: return {K::FilterAccept};
    case kEscAscii:
    case kKeyEscape: return {K::FilterCancel};
    case kBackspaceAscii:
    case kDel:
    case kKeyBackspace: return {K::FilterBackspace};
    case kKeyDelete: return {K::FilterDelete};
    case kKeyLeft: return {K::FilterLeft};
    case kKeyRight: return {K::FilterRight};
    case kCtrlA:
    case kKeyHome: return {K::FilterHome};
    case kCtrlE:
    case kKeyEnd: return {K::FilterEnd};
    case kCtrlU: return {K::FilterKill};
    case kKeyResize:
    case kCtrlL: return {K::Redraw};
    default: return printable(key) ? Command{K::FilterInsert, key} : Command{K::None};
  }
}

Command confirm_key(std::int32_t key) {
  switch (key) {
    case 'y':
    case 'Y': return {K::ConfirmYes};
    case kKeyResize:
    case kCtrlL: return {K::Redraw};
    default: return {K::ConfirmNo};
  }
}

Command menu_key(std::int32_t key) {
  switch (key) {
    case kKeyUp:
    case 'k': return {K::SortMenuUp};
    case kKeyDown:
    case 'j': return {K::SortMenuDown};
    case '\n':
    case '\r':
    case kKeyEnter: return {K::SortMenuAccept};
    case kEscAscii:
    case kKeyEscape:
    case kKeyF6:
    case 'q': return {K::SortMenu};
    case 'r': return {K::SortReverse};
    case kKeyResize:
    case kCtrlL: return {K::Redraw};
    default: return {K::None};
  }
}

Command chooser_key(std::int32_t key) {
  switch (key) {
    case kKeyUp:
    case 'k': return {K::ColumnsUp};
    case kKeyDown:
    case 'j': return {K::ColumnsDown};
    case ' ':
    case '\n':
    case '\r':
    case kKeyEnter: return {K::ColumnsToggle};
    case '[':
    case '-': return {K::ColumnsMoveUp};
    case ']':
    case '+':
    case '=': return {K::ColumnsMoveDown};
    case kEscAscii:
    case kKeyEscape:
    case kKeyF2:
    case 'q': return {K::ColumnsMenu};
    case kKeyResize:
    case kCtrlL: return {K::Redraw};
    default: return {K::None};
  }
}

// The chooser's column list after a change, kept whole in the state (the order of hidden columns
// too).
void set_choice(ViewState& s, std::vector<ColumnChoice> choice) {
  s.columns[static_cast<std::size_t>(s.tab)] = std::move(choice);
  s.effects.persist = true;
}

void chooser(ViewState& s, const Command& cmd) {
  std::vector<ColumnChoice> choice = column_choice(s, s.tab);
  if (choice.empty()) {
    return;
  }
  std::size_t& i = s.columns_index;
  i = std::min(i, choice.size() - 1);
  switch (cmd.kind) {
    case K::ColumnsUp: i = i > 0 ? i - 1 : 0; break;
    case K::ColumnsDown: i = std::min(i + 1, choice.size() - 1); break;
    case K::ColumnsToggle: {
      const auto shown = std::count_if(choice.begin(), choice.end(),
                                       [](const ColumnChoice& c) { return c.shown; });
      if (choice[i].shown && shown <= 1) {
        s.message = "one column stays shown";
        return;
      }
      choice[i].shown = !choice[i].shown;
      set_choice(s, std::move(choice));
      break;
    }
    case K::ColumnsMoveUp:
      if (i > 0) {
        std::swap(choice[i], choice[i - 1]);
        --i;
        set_choice(s, std::move(choice));
      }
      break;
    case K::ColumnsMoveDown:
      if (i + 1 < choice.size()) {
        std::swap(choice[i], choice[i + 1]);
        ++i;
        set_choice(s, std::move(choice));
      }
      break;
    default: break;
  }
  s.h_scroll = std::min(s.h_scroll, shown_columns(s, s.tab).size() - 1);
}

}  // namespace

// A member, not static: the bindings may become configurable (flowtoprc).
// NOLINTNEXTLINE(readability-convert-member-functions-to-static)
Command KeyMap::lookup(const ViewState& state, const Input& in) const {
  if (in.key == kKeyF10) {
    return {K::Quit};
  }
  if (in.key == kKeyClick) {
    return {K::None};  // tui asks the frame: render::hit_test
  }
  if (state.help_open) {
    return in.key == kKeyResize ? Command{K::Redraw} : Command{K::ToggleHelp};
  }
  if (state.confirm_delete) {
    return confirm_key(in.key);
  }
  if (state.prompt.open) {
    return prompt_key(in.key);
  }
  if (state.columns_open) {
    return chooser_key(in.key);
  }
  if (state.sort_menu_open) {
    return menu_key(in.key);
  }
  return main_key(state, in.key);
}

std::span<const KeyHelp> KeyMap::help() {
  return kHelp;
}

ViewState apply(ViewState s, const Command& cmd) {
  const auto columns = columns_of(s.tab);
  if (cmd.kind != K::None && cmd.kind != K::Redraw) {
    s.message.clear();  // a note lasts until the next key
  }
  switch (cmd.kind) {
    case K::None:
    case K::Redraw: break;
    case K::Quit: s.effects.quit = true; break;
    case K::Track:
      if (s.read_only) {
        s.message = std::string(kReadOnlyMessage);
      } else {
        s.effects.track = true;
      }
      break;
    case K::DeleteFlow:
      if (s.read_only) {
        s.message = std::string(kReadOnlyMessage);
      } else if (s.tab != Tab::Flows) {
        s.message = "x deletes a flow: select one in the Flows tab";
      } else if (!s.current_cursor().flow) {
        s.message = "no flow selected";
      } else {
        s.confirm_delete = s.current_cursor().flow;
        s.help_open = false;
        s.sort_menu_open = false;
      }
      break;
    case K::TogglePrivacy:
      if (!s.redactor) {
        s.message = "privacy mode is not available";
      } else {
        s.redact = s.redact == core::RedactScope::Off ? s.redact_choice : core::RedactScope::Off;
      }
      break;
    case K::NextWindow:
      s.window = core::next_rate_window(s.window);
      s.effects.window_changed = true;
      break;
    case K::ConfirmYes:
      s.effects.delete_flow = s.confirm_delete;
      s.confirm_delete.reset();
      break;
    case K::ConfirmNo:
      if (s.confirm_delete) {
        s.message = "not deleted";
      }
      s.confirm_delete.reset();
      break;
    case K::ResetTotals: s.effects.reset_totals = true; break;
    case K::NextTab:
      set_tab(s, static_cast<Tab>((static_cast<std::size_t>(s.tab) + 1) % kTabCount));
      break;
    case K::PrevTab:
      set_tab(s, static_cast<Tab>((static_cast<std::size_t>(s.tab) + kTabCount - 1) % kTabCount));
      break;
    case K::SetTab:
      if (cmd.arg >= 0 && static_cast<std::size_t>(cmd.arg) < kTabCount) {
        set_tab(s, static_cast<Tab>(cmd.arg));
      }
      break;
    case K::Up: queue_move(s, PendingMove::Kind::By, -1); break;
    case K::Down: queue_move(s, PendingMove::Kind::By, 1); break;
    case K::PageUp: queue_move(s, PendingMove::Kind::Page, -1); break;
    case K::PageDown: queue_move(s, PendingMove::Kind::Page, 1); break;
    case K::Home: queue_move(s, PendingMove::Kind::Home, 0); break;
    case K::End: queue_move(s, PendingMove::Kind::End, 0); break;
    case K::MoveBy: queue_move(s, PendingMove::Kind::By, cmd.arg); break;
    case K::SelectRow:
      queue_move(s, PendingMove::Kind::Index, std::max<std::int64_t>(cmd.arg, 0));
      break;
    case K::ScrollLeft: s.h_scroll = s.h_scroll > 0 ? s.h_scroll - 1 : 0; break;
    case K::ScrollRight:
      s.h_scroll = std::min(s.h_scroll + 1, shown_columns(s, s.tab).size() - 1);
      break;
    case K::ToggleBits: toggle(s, s.bits); break;
    case K::ToggleFooter: toggle(s, s.footer); break;
    case K::ToggleActive: toggle(s, s.active_only); break;
    case K::ToggleSource: toggle(s, s.show_src); break;
    case K::ToggleTcp: toggle(s, s.selection.tcp); break;
    case K::ToggleUdp: toggle(s, s.selection.udp); break;
    case K::ToggleDccp: toggle(s, s.selection.dccp); break;
    case K::ToggleIcmp: toggle(s, s.selection.icmp); break;
    case K::ToggleSctp: toggle(s, s.selection.sctp); break;
    case K::ToggleLoopback: toggle(s, s.selection.loopback); break;
    case K::ToggleIpv4: toggle(s, s.selection.ipv4); break;
    case K::ToggleIpv6: toggle(s, s.selection.ipv6); break;
    case K::ToggleDns:
      toggle(s, s.dns);
      s.effects.dns_changed = true;
      break;
    case K::ToggleGeoip:
      toggle(s, s.geoip);
      s.effects.geoip_changed = true;
      break;
    case K::ToggleHelp:
      s.help_open = !s.help_open;
      s.sort_menu_open = false;
      s.columns_open = false;
      break;
    case K::TogglePressure:
      s.pressure_open = !s.pressure_open;
      s.detail_open = false;  // one pane at a time
      break;
    case K::SortPrev:
    case K::SortNext: {
      const std::size_t n = columns.size();
      const std::size_t i = column_index(s.tab, s.current_sort().column);
      const std::size_t next = cmd.kind == K::SortNext ? (i + 1) % n : (i + n - 1) % n;
      set_sort(s, columns[next], false);
      break;
    }
    case K::SortReverse:
      sort_of(s).descending = !sort_of(s).descending;
      s.effects.persist = true;
      break;
    case K::SortBy:
      if (cmd.arg >= 0 && static_cast<std::size_t>(cmd.arg) < kColumnCount) {
        set_sort(s, static_cast<Column>(cmd.arg), true);
      }
      break;
    case K::ColumnsMenu:
      s.columns_open = !s.columns_open;
      s.columns_index = 0;
      s.sort_menu_open = false;
      s.help_open = false;
      break;
    case K::ColumnsUp:
    case K::ColumnsDown:
    case K::ColumnsToggle:
    case K::ColumnsMoveUp:
    case K::ColumnsMoveDown:
      if (s.columns_open) {
        chooser(s, cmd);
      }
      break;
    case K::SortMenu:
      s.columns_open = false;
      s.sort_menu_open = !s.sort_menu_open;
      s.sort_menu_index = column_index(s.tab, s.current_sort().column);
      s.help_open = false;
      break;
    case K::SortMenuUp:
      s.sort_menu_index = s.sort_menu_index > 0 ? s.sort_menu_index - 1 : 0;
      break;
    case K::SortMenuDown:
      s.sort_menu_index = std::min(s.sort_menu_index + 1, columns.size() - 1);
      break;
    case K::SortMenuAccept:
      set_sort(s, columns[std::min(s.sort_menu_index, columns.size() - 1)], false);
      s.sort_menu_open = false;
      break;
    case K::OpenFilter:
      s.prompt = FilterPrompt{true, s.filter.text(), s.filter.text().size(), "", 0};
      s.help_open = false;
      s.sort_menu_open = false;
      break;
    case K::ClearFilter: s.filter = Filter{}; break;
    case K::FilterInsert:
    case K::FilterBackspace:
    case K::FilterDelete:
    case K::FilterLeft:
    case K::FilterRight:
    case K::FilterHome:
    case K::FilterEnd:
    case K::FilterKill:
      if (s.prompt.open) {
        edit_prompt(s, cmd);
      }
      break;
    case K::FilterAccept:
      if (s.prompt.open) {
        accept_filter(s);
      }
      break;
    case K::FilterCancel:
      s.prompt = FilterPrompt{};
      s.filter = Filter{};
      break;
    case K::TogglePause: s.paused = !s.paused; break;
    case K::Enter:
      if (s.tab == Tab::Flows) {
        s.detail_open = !s.detail_open;
        s.pressure_open = false;
        cursor_of(s).follow = true;  // the pane stays on the flow it shows
      } else if (const auto& group = s.current_cursor().group) {
        FilterResult r = compile_filter(group_filter(s.tab, *group));
        if (auto* f = std::get_if<Filter>(&r)) {
          s.filter = std::move(*f);
          set_tab(s, Tab::Flows);
          cursor_of(s) = Cursor{};
        }
      }
      break;
    case K::Close:
      s.columns_open = false;
      s.detail_open = false;
      s.pressure_open = false;
      s.sort_menu_open = false;
      s.help_open = false;
      break;
    case K::IntervalUp:
    case K::IntervalDown: {
      const double next = next_interval(s.interval_s, cmd.kind == K::IntervalUp ? 1 : -1);
      if (next != s.interval_s) {
        s.interval_s = next;
        s.effects.interval_changed = true;
        s.effects.persist = true;
      }
      break;
    }
  }
  return s;
}

}  // namespace flowtop::view
