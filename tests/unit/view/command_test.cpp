#include "flowtop/view/command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace flowtop::view {
namespace {

using K = Command::Kind;

Command key(const ViewState& s, std::int32_t k) {
  return KeyMap{}.lookup(s, Input{k});
}

ViewState press(ViewState s, std::int32_t k) {
  return apply(std::move(s), key(s, k));
}

ViewState type(ViewState s, const std::u32string& text) {
  for (const char32_t c : text) {
    s = press(std::move(s), static_cast<std::int32_t>(c));
  }
  return s;
}

TEST(KeyMap, TheOriginalKeysKeepTheirMeaning) {
  const ViewState s = default_view_state();
  EXPECT_EQ(key(s, '\t').kind, K::NextTab);
  EXPECT_EQ(key(s, kKeyTab).kind, K::NextTab);
  for (const std::int32_t k : {std::int32_t{kKeyUp}, std::int32_t{'k'}, std::int32_t{'u'}}) {
    EXPECT_EQ(key(s, k).kind, K::Up);
  }
  for (const std::int32_t k : {std::int32_t{kKeyDown}, std::int32_t{'j'}, std::int32_t{'d'}}) {
    EXPECT_EQ(key(s, k).kind, K::Down);
  }
  EXPECT_EQ(key(s, kKeyLeft).kind, K::ScrollLeft);
  EXPECT_EQ(key(s, 'h').kind, K::ScrollLeft);
  EXPECT_EQ(key(s, kKeyRight).kind, K::ScrollRight);
  EXPECT_EQ(key(s, 'l').kind, K::ScrollRight);
  EXPECT_EQ(key(s, 'b').kind, K::ToggleBits);
  EXPECT_EQ(key(s, 'F').kind, K::ToggleFooter);
  EXPECT_EQ(key(s, 'a').kind, K::ToggleActive);
  EXPECT_EQ(key(s, 's').kind, K::ToggleSource);
  EXPECT_EQ(key(s, 'T').kind, K::ToggleTcp);
  EXPECT_EQ(key(s, 'U').kind, K::ToggleUdp);
  EXPECT_EQ(key(s, 'D').kind, K::ToggleDccp);
  EXPECT_EQ(key(s, 'I').kind, K::ToggleIcmp);
  EXPECT_EQ(key(s, 'S').kind, K::ToggleSctp);
  EXPECT_EQ(key(s, '?').kind, K::ToggleHelp);
  EXPECT_EQ(key(s, 'q').kind, K::Quit);
}

TEST(KeyMap, AddedKeys) {
  const ViewState s = default_view_state();
  EXPECT_EQ(key(s, kKeyPageUp).kind, K::PageUp);
  EXPECT_EQ(key(s, kKeyPageDown).kind, K::PageDown);
  EXPECT_EQ(key(s, kKeyHome).kind, K::Home);
  EXPECT_EQ(key(s, kKeyEnd).kind, K::End);
  EXPECT_EQ(key(s, kKeyWheelUp), (Command{K::MoveBy, -3}));
  EXPECT_EQ(key(s, kKeyWheelDown), (Command{K::MoveBy, 3}));
  EXPECT_EQ(key(s, kKeyF1).kind, K::ToggleHelp);
  EXPECT_EQ(key(s, kKeyF10).kind, K::Quit);
  EXPECT_EQ(key(s, '<').kind, K::SortPrev);
  EXPECT_EQ(key(s, '>').kind, K::SortNext);
  EXPECT_EQ(key(s, kKeyF6).kind, K::SortMenu);
  EXPECT_EQ(key(s, 'r').kind, K::SortReverse);
  EXPECT_EQ(key(s, '/').kind, K::OpenFilter);
  EXPECT_EQ(key(s, ' ').kind, K::TogglePause);
  EXPECT_EQ(key(s, kKeyEnter).kind, K::Enter);
  EXPECT_EQ(key(s, '\n').kind, K::Enter);
  EXPECT_EQ(key(s, 'n').kind, K::ToggleDns);
  EXPECT_EQ(key(s, 'g').kind, K::ToggleGeoip);
  EXPECT_EQ(key(s, 'L').kind, K::ToggleLoopback);
  EXPECT_EQ(key(s, '4').kind, K::ToggleIpv4);
  EXPECT_EQ(key(s, '6').kind, K::ToggleIpv6);
  EXPECT_EQ(key(s, '+').kind, K::IntervalUp);
  EXPECT_EQ(key(s, '-').kind, K::IntervalDown);
  EXPECT_EQ(key(s, 'p').kind, K::TogglePressure);
  EXPECT_EQ(key(s, 'x').kind, K::DeleteFlow);
  EXPECT_EQ(key(s, 'P').kind, K::TogglePrivacy);
  EXPECT_EQ(key(s, 'X').kind, K::None);
  EXPECT_EQ(key(s, kKeyClick).kind, K::None);  // clicks go through render::hit_test
}

TEST(Reducer, ThePressurePaneAndTheDetailPaneTakeTurns) {
  ViewState s = default_view_state();
  s = apply(s, Command{K::TogglePressure});
  EXPECT_TRUE(s.pressure_open);
  EXPECT_EQ(key(s, kKeyEscape).kind, K::Close);  // even with no filter
  s = apply(s, Command{K::Enter});               // the flow's details replace it
  EXPECT_TRUE(s.detail_open);
  EXPECT_FALSE(s.pressure_open);
  s = apply(s, Command{K::TogglePressure});
  EXPECT_TRUE(s.pressure_open);
  EXPECT_FALSE(s.detail_open);
  s = apply(s, Command{K::NextTab});  // it stays on every tab
  EXPECT_TRUE(s.pressure_open);
  s = apply(s, Command{K::Close});
  EXPECT_FALSE(s.pressure_open);
  s = apply(apply(s, Command{K::TogglePressure}), Command{K::TogglePressure});
  EXPECT_FALSE(s.pressure_open);
}

TEST(KeyMap, EscapeClosesThePaneOrClearsTheFilter) {
  ViewState s = default_view_state();
  EXPECT_EQ(key(s, kKeyEscape).kind, K::None);
  s.filter = std::get<Filter>(compile_filter("curl"));
  EXPECT_EQ(key(s, kKeyEscape).kind, K::ClearFilter);
  EXPECT_EQ(key(s, 27).kind, K::ClearFilter);
  s.detail_open = true;
  EXPECT_EQ(key(s, kKeyEscape).kind, K::Close);
}

TEST(KeyMap, HelpClosesOnAnyKeyButF10StillQuits) {
  ViewState s = default_view_state();
  s.help_open = true;
  EXPECT_EQ(key(s, 'x').kind, K::ToggleHelp);
  EXPECT_EQ(key(s, 'q').kind, K::ToggleHelp);
  EXPECT_EQ(key(s, kKeyF10).kind, K::Quit);
  EXPECT_FALSE(press(s, 'j').help_open);
}

TEST(KeyMap, ThePromptTakesText) {
  ViewState s = press(default_view_state(), '/');
  ASSERT_TRUE(s.prompt.open);
  EXPECT_EQ(key(s, 'q'), (Command{K::FilterInsert, 'q'}));  // not quit
  EXPECT_EQ(key(s, 'j'), (Command{K::FilterInsert, 'j'}));
  EXPECT_EQ(key(s, kKeyBackspace).kind, K::FilterBackspace);
  EXPECT_EQ(key(s, 127).kind, K::FilterBackspace);
  EXPECT_EQ(key(s, kKeyDelete).kind, K::FilterDelete);
  EXPECT_EQ(key(s, kKeyLeft).kind, K::FilterLeft);
  EXPECT_EQ(key(s, kKeyRight).kind, K::FilterRight);
  EXPECT_EQ(key(s, kKeyHome).kind, K::FilterHome);
  EXPECT_EQ(key(s, 1).kind, K::FilterHome);   // Ctrl-A
  EXPECT_EQ(key(s, 5).kind, K::FilterEnd);    // Ctrl-E
  EXPECT_EQ(key(s, 21).kind, K::FilterKill);  // Ctrl-U
  EXPECT_EQ(key(s, kKeyEnter).kind, K::FilterAccept);
  EXPECT_EQ(key(s, kKeyEscape).kind, K::FilterCancel);
  EXPECT_EQ(key(s, 0x1B).kind, K::FilterCancel);
  EXPECT_EQ(key(s, 0x9B).kind, K::None);  // a C1 control is never text
  EXPECT_EQ(key(s, 7).kind, K::None);
}

TEST(KeyMap, TheSortMenuTakesArrows) {
  ViewState s = press(default_view_state(), kKeyF6);
  ASSERT_TRUE(s.sort_menu_open);
  EXPECT_EQ(key(s, kKeyUp).kind, K::SortMenuUp);
  EXPECT_EQ(key(s, kKeyDown).kind, K::SortMenuDown);
  EXPECT_EQ(key(s, kKeyEnter).kind, K::SortMenuAccept);
  EXPECT_EQ(key(s, kKeyEscape).kind, K::SortMenu);
  EXPECT_EQ(key(s, kKeyF6).kind, K::SortMenu);
}

TEST(KeyMap, HelpListsEveryMainKey) {
  std::string all;
  for (const KeyHelp& k : KeyMap::help()) {
    all += std::string(k.keys) + " ";
  }
  for (const char* k :
       {"Tab",   "Up", "k",   "u",         "Down", "j",  "d",    "Left", "h",     "Right", "l",
        "b",     "a",  "s",   "T U D I S", "?",    "q",  "PgUp", "PgDn", "Home",  "End",   "wheel",
        "click", "F1", "F10", "<",         ">",    "F6", "r",    "/",    "space", "Enter", "Esc",
        "n",     "g",  "L",   "4",         "6",    "+",  "-",    "p"}) {
    EXPECT_NE(all.find(k), std::string::npos) << k;
  }
}

TEST(Reducer, TogglesFlipAndAreRemembered) {
  struct Case {
    std::int32_t key;
    bool ViewState::*flag;
  };
  for (const Case& c : {Case{'b', &ViewState::bits}, Case{'a', &ViewState::active_only},
                        Case{'s', &ViewState::show_src}, Case{'F', &ViewState::footer}}) {
    const ViewState before = default_view_state();
    ViewState after = press(before, c.key);
    EXPECT_NE(after.*c.flag, before.*c.flag) << char(c.key);
    EXPECT_TRUE(take_effects(after).persist);
    EXPECT_EQ(press(press(before, c.key), c.key).*c.flag, before.*c.flag);
  }
  struct SelCase {
    std::int32_t key;
    bool Selection::*flag;
  };
  for (const SelCase& c : {SelCase{'T', &Selection::tcp}, SelCase{'U', &Selection::udp},
                           SelCase{'D', &Selection::dccp}, SelCase{'I', &Selection::icmp},
                           SelCase{'S', &Selection::sctp}, SelCase{'L', &Selection::loopback},
                           SelCase{'4', &Selection::ipv4}, SelCase{'6', &Selection::ipv6}}) {
    const ViewState before = default_view_state();
    const ViewState after = press(before, c.key);
    EXPECT_NE(after.selection.*c.flag, before.selection.*c.flag) << char(c.key);
    EXPECT_TRUE(after.effects.persist);
  }
}

TEST(Reducer, OutsideWorldCommandsAreEffects) {
  ViewState s = press(default_view_state(), 'n');
  EXPECT_FALSE(s.dns);
  EXPECT_TRUE(s.effects.dns_changed);
  s = press(s, 'g');
  EXPECT_FALSE(s.geoip);
  EXPECT_TRUE(s.effects.geoip_changed);
  s = press(s, 'q');
  const Effects e = take_effects(s);
  EXPECT_TRUE(e.quit);
  EXPECT_TRUE(e.dns_changed);
  EXPECT_TRUE(e.geoip_changed);
  EXPECT_FALSE(s.effects.any());  // taken
}

ViewState with_selected_flow(core::FlowKey* out = nullptr) {
  ViewState s = default_view_state();
  core::FlowKey k;
  k.proto = 6;
  k.orig.src = *core::IpAddr::parse("10.1.2.3");
  k.orig.dst = *core::IpAddr::parse("10.4.5.6");
  k.orig.sport = 5555;
  k.orig.dport = 80;
  s.cursor[static_cast<std::size_t>(Tab::Flows)].flow = k;
  if (out != nullptr) {
    *out = k;
  }
  return s;
}

TEST(Reducer, DeleteKeyAsksForConfirmationNamingTheSelectedFlow) {
  core::FlowKey k;
  ViewState s = press(with_selected_flow(&k), 'x');
  ASSERT_TRUE(s.confirm_delete.has_value());
  EXPECT_EQ(*s.confirm_delete, k);
  EXPECT_FALSE(s.effects.any()) << "nothing is deleted before y";
  // y deletes that flow and closes the prompt.
  ViewState yes = press(s, 'y');
  EXPECT_FALSE(yes.confirm_delete.has_value());
  const Effects e = take_effects(yes);
  ASSERT_TRUE(e.delete_flow.has_value());
  EXPECT_EQ(*e.delete_flow, k);
  EXPECT_FALSE(e.persist);
  EXPECT_EQ(key(s, 'Y').kind, K::ConfirmYes);
}

TEST(Reducer, AnyOtherKeyAtTheDeletePromptDeletesNothing) {
  const ViewState s = press(with_selected_flow(), 'x');
  for (const std::int32_t k : {std::int32_t{'n'}, std::int32_t{'N'}, std::int32_t{'\n'},
                               std::int32_t{kKeyEscape}, std::int32_t{'q'}, std::int32_t{'x'}}) {
    EXPECT_EQ(key(s, k).kind, K::ConfirmNo) << k;
    ViewState no = press(s, k);
    EXPECT_FALSE(no.confirm_delete.has_value());
    EXPECT_FALSE(no.effects.any()) << "q at the prompt says no, it does not quit";
    EXPECT_EQ(no.message, "not deleted");
  }
  EXPECT_EQ(key(s, kKeyF10).kind, K::Quit) << "F10 still quits";
  EXPECT_EQ(key(s, kKeyResize).kind, K::Redraw) << "a resize keeps the prompt";
}

TEST(Reducer, WCyclesTheRateWindowAndAsksForItsRates) {
  ViewState s = default_view_state();
  EXPECT_EQ(s.window, core::RateWindow::Off) << "by default the last interval's rates, as before";
  EXPECT_EQ(key(s, 'w').kind, K::NextWindow);
  for (const core::RateWindow want : {core::RateWindow::S2, core::RateWindow::S10,
                                      core::RateWindow::S40, core::RateWindow::Off}) {
    s = press(s, 'w');
    EXPECT_EQ(s.window, want);
    const Effects e = take_effects(s);
    EXPECT_TRUE(e.window_changed);
  }
}

TEST(Reducer, ReadOnlyRefusesEveryActionAndSaysSo) {
  ViewState s = with_selected_flow();
  s.read_only = true;
  for (const std::int32_t k : {std::int32_t{'x'}, std::int32_t{'t'}}) {
    ViewState after = press(s, k);
    EXPECT_FALSE(after.confirm_delete.has_value());
    EXPECT_FALSE(after.effects.any());
    EXPECT_EQ(after.message, kReadOnlyMessage);
    // The next key clears the note.
    EXPECT_EQ(press(after, 'j').message, "");
  }
}

TEST(Reducer, DeleteNeedsASelectedFlowOnTheFlowsTab) {
  ViewState none = press(default_view_state(), 'x');
  EXPECT_FALSE(none.confirm_delete.has_value());
  EXPECT_EQ(none.message, "no flow selected");
  ViewState owners = with_selected_flow();
  owners.tab = Tab::Owners;
  owners = press(owners, 'x');
  EXPECT_FALSE(owners.confirm_delete.has_value());
  EXPECT_NE(owners.message.find("Flows tab"), std::string::npos);
}

TEST(Reducer, TrackKeyAsksTheAppToTrackAndChangesNothingElse) {
  const ViewState before = default_view_state();
  EXPECT_EQ(key(before, 't'), Command{K::Track});
  EXPECT_EQ(key(before, 'T').kind, K::ToggleTcp) << "T stays the TCP toggle";
  ViewState after = press(before, 't');
  const Effects e = take_effects(after);
  EXPECT_TRUE(e.track);
  EXPECT_FALSE(e.persist) << "tracking is for this session only, never kept in flowtoprc";
  EXPECT_FALSE(e.quit);
  EXPECT_FALSE(after.effects.any());
  EXPECT_EQ(after.selection.tcp, before.selection.tcp);
  EXPECT_EQ(after.tab, before.tab);
  // At the filter prompt `t` is text, and with the help open it only closes the help.
  ViewState prompt = press(before, '/');
  EXPECT_EQ(key(prompt, 't'), (Command{K::FilterInsert, 't'}));
  ViewState help = press(before, '?');
  EXPECT_EQ(key(help, 't').kind, K::ToggleHelp);
  bool listed = false;
  for (const KeyHelp& k : KeyMap::help()) {
    listed = listed || k.keys.find(", t") != std::string_view::npos;
  }
  EXPECT_TRUE(listed) << "the help screen lists t";
}

TEST(Reducer, IntervalStepsWithinBounds) {
  ViewState s = default_view_state();
  s = press(s, '+');
  EXPECT_DOUBLE_EQ(s.interval_s, 2);
  EXPECT_TRUE(s.effects.interval_changed);
  s = press(press(press(s, '-'), '-'), '-');
  EXPECT_DOUBLE_EQ(s.interval_s, 0.2);
  s = press(press(s, '-'), '-');
  EXPECT_DOUBLE_EQ(s.interval_s, kMinInterval);
  take_effects(s);
  s = press(s, '-');
  EXPECT_FALSE(s.effects.interval_changed);  // already at the bottom
  EXPECT_DOUBLE_EQ(next_interval(3000, 1), kMaxInterval);
  EXPECT_DOUBLE_EQ(next_interval(kMaxInterval, 1), kMaxInterval);
  EXPECT_DOUBLE_EQ(next_interval(0.7, 1), 1);  // between steps: the next step
  EXPECT_DOUBLE_EQ(next_interval(0.7, -1), 0.5);
}

TEST(Reducer, TabsCycleBothWaysAndCloseTheDetailPane) {
  ViewState s = default_view_state();
  s.detail_open = true;
  s = press(s, '\t');
  EXPECT_EQ(s.tab, Tab::Owners);
  EXPECT_FALSE(s.detail_open);
  s = press(press(press(press(s, '\t'), '\t'), '\t'), '\t');
  EXPECT_EQ(s.tab, Tab::Flows);
  s = press(s, kKeyBackTab);
  EXPECT_EQ(s.tab, Tab::As);
  s = apply(s, Command{K::SetTab, 2});
  EXPECT_EQ(s.tab, Tab::Hosts);
  s = apply(s, Command{K::SetTab, 99});
  EXPECT_EQ(s.tab, Tab::Hosts);
}

TEST(Reducer, SortWalksTheColumnsAndReverses) {
  ViewState s = default_view_state();
  ASSERT_EQ(s.current_sort().column, Column::RateIn);
  s = press(s, '<');
  EXPECT_EQ(s.current_sort(), (SortSpec{Column::BytesIn, true}));
  s = press(press(s, '>'), '>');
  EXPECT_EQ(s.current_sort().column, Column::PacketsOut);
  s = press(press(s, '>'), '>');  // wraps around
  EXPECT_EQ(s.current_sort(), (SortSpec{Column::Process, false}));
  s = press(s, 'r');
  EXPECT_EQ(s.current_sort(), (SortSpec{Column::Process, true}));
  s = apply(s, Command{K::SortBy, static_cast<std::int64_t>(Column::Age)});
  EXPECT_EQ(s.current_sort(), (SortSpec{Column::Age, true}));
  s = apply(s, Command{K::SortBy, static_cast<std::int64_t>(Column::Age)});  // again: reverse
  EXPECT_EQ(s.current_sort(), (SortSpec{Column::Age, false}));
  s = apply(s, Command{K::SortBy, static_cast<std::int64_t>(Column::Org)});  // not on Flows
  EXPECT_EQ(s.current_sort().column, Column::Age);
  // Each tab has its own sort.
  s = press(s, '\t');
  EXPECT_EQ(s.current_sort().column, Column::RateIn);
}

TEST(Reducer, SortMenuChoosesAColumn) {
  ViewState s = press(default_view_state(), kKeyF6);
  EXPECT_EQ(columns_of(Tab::Flows)[s.sort_menu_index], Column::RateIn);
  s = press(press(s, kKeyUp), kKeyUp);
  s = press(s, kKeyEnter);
  EXPECT_FALSE(s.sort_menu_open);
  EXPECT_EQ(s.current_sort().column, Column::RateOut);
  s = press(s, kKeyF6);
  for (int i = 0; i < 40; ++i) {
    s = press(s, kKeyDown);  // clamps at the last entry
  }
  EXPECT_EQ(s.sort_menu_index, columns_of(Tab::Flows).size() - 1);
  s = press(s, kKeyEscape);
  EXPECT_FALSE(s.sort_menu_open);
  EXPECT_EQ(s.current_sort().column, Column::RateOut);
}

TEST(Reducer, FilterPromptEditing) {
  ViewState s = press(default_view_state(), '/');
  s = type(s, U"proto=udp");
  EXPECT_EQ(s.prompt.text, "proto=udp");
  EXPECT_EQ(s.prompt.cursor, 9U);
  s = press(press(press(s, kKeyLeft), kKeyLeft), kKeyLeft);  // before "udp"
  s = press(s, kKeyBackspace);                               // deletes '='
  EXPECT_EQ(s.prompt.text, "protoudp");
  s = press(s, '~');
  EXPECT_EQ(s.prompt.text, "proto~udp");
  s = press(s, kKeyDelete);
  EXPECT_EQ(s.prompt.text, "proto~dp");
  s = press(s, kKeyHome);
  s = type(s, U"ü");  // two bytes
  EXPECT_EQ(s.prompt.text, "üproto~dp");
  EXPECT_EQ(s.prompt.cursor, 2U);
  s = press(s, kKeyLeft);
  EXPECT_EQ(s.prompt.cursor, 0U);
  s = press(s, kKeyRight);
  EXPECT_EQ(s.prompt.cursor, 2U);  // over the whole code point
  s = press(s, kKeyBackspace);
  EXPECT_EQ(s.prompt.text, "proto~dp");
  s = type(s, U"日本");
  s = press(s, kKeyBackspace);
  EXPECT_EQ(s.prompt.text, "日proto~dp");
  s = press(s, kKeyEnd);
  EXPECT_EQ(s.prompt.cursor, s.prompt.text.size());
  s = press(s, 21);  // Ctrl-U
  EXPECT_EQ(s.prompt.text, "");
  EXPECT_EQ(s.prompt.cursor, 0U);
}

TEST(Reducer, AcceptedFilterApplies) {
  ViewState s = type(press(default_view_state(), '/'), U"proto=udp");
  s = press(s, kKeyEnter);
  EXPECT_FALSE(s.prompt.open);
  EXPECT_EQ(s.filter.text(), "proto=udp");
  // Reopening starts from the applied filter.
  s = press(s, '/');
  EXPECT_EQ(s.prompt.text, "proto=udp");
  EXPECT_EQ(s.prompt.cursor, 9U);
}

TEST(Reducer, FilterErrorKeepsThePreviousFilter) {
  ViewState s = press(type(press(default_view_state(), '/'), U"proto=udp"), kKeyEnter);
  s = press(press(s, '/'), kKeyBackspace);
  s = type(s, U"p and bogus>3");
  s = press(s, kKeyEnter);
  EXPECT_TRUE(s.prompt.open);
  EXPECT_EQ(s.filter.text(), "proto=udp");  // still applied
  EXPECT_EQ(s.prompt.error, "unknown term 'bogus'");
  EXPECT_EQ(s.prompt.error_pos, 14U);
  s = press(s, kKeyBackspace);  // editing clears the message
  EXPECT_TRUE(s.prompt.error.empty());
}

TEST(Reducer, EscapeClearsTheFilter) {
  ViewState s = press(type(press(default_view_state(), '/'), U"curl"), kKeyEnter);
  ASSERT_FALSE(s.filter.empty());
  s = press(s, kKeyEscape);
  EXPECT_TRUE(s.filter.empty());
  s = press(type(press(s, '/'), U"curl"), kKeyEscape);  // Esc in the prompt clears too
  EXPECT_FALSE(s.prompt.open);
  EXPECT_TRUE(s.filter.empty());
}

TEST(Reducer, MovesArePendingUntilRowsResolveThem) {
  ViewState s = press(press(default_view_state(), 'j'), 'j');
  EXPECT_EQ(s.current_cursor().move, (PendingMove{PendingMove::Kind::By, 2}));
  EXPECT_TRUE(s.current_cursor().follow);
  s = press(s, kKeyPageDown);  // two rows, then a page
  EXPECT_EQ(s.current_cursor().move, (PendingMove{PendingMove::Kind::Page, 1, 2, 0}));
  s = press(s, kKeyEnd);  // starts over
  EXPECT_EQ(s.current_cursor().move, (PendingMove{PendingMove::Kind::End, 0}));
  s = press(press(s, 'k'), kKeyPageUp);  // the end, a row up, a page up
  EXPECT_EQ(s.current_cursor().move, (PendingMove{PendingMove::Kind::End, 0, -1, -1}));
  s = apply(s, Command{K::SelectRow, 7});
  EXPECT_EQ(s.current_cursor().move, (PendingMove{PendingMove::Kind::Index, 7}));
}

TEST(Reducer, PauseAndDetail) {
  ViewState s = press(default_view_state(), ' ');
  EXPECT_TRUE(s.paused);
  s = press(s, kKeyEnter);
  EXPECT_TRUE(s.detail_open);
  s = press(s, kKeyEscape);
  EXPECT_FALSE(s.detail_open);
  EXPECT_FALSE(press(s, ' ').paused);
}

TEST(Reducer, EnterOnAGroupShowsItsFlows) {
  ViewState s = press(default_view_state(), '\t');
  ASSERT_EQ(s.tab, Tab::Owners);
  s.cursor[static_cast<std::size_t>(Tab::Owners)].group = GroupKey{.pid = 4242, .name = "curl"};
  s = press(s, kKeyEnter);
  EXPECT_EQ(s.tab, Tab::Flows);
  EXPECT_EQ(s.filter.text(), "pid=4242");
  s = press(press(press(s, '\t'), '\t'), '\t');
  ASSERT_EQ(s.tab, Tab::Countries);
  s.cursor[static_cast<std::size_t>(Tab::Countries)].group = GroupKey{.name = "US"};
  s = press(s, kKeyEnter);
  EXPECT_EQ(s.filter.text(), "country=\"US\"");
}

TEST(Reducer, HorizontalScrollStaysInRange) {
  ViewState s = press(default_view_state(), kKeyLeft);
  EXPECT_EQ(s.h_scroll, 0U);
  for (int i = 0; i < 50; ++i) {
    s = press(s, 'l');
  }
  EXPECT_EQ(s.h_scroll, columns_of(Tab::Flows).size() - 1);
}

TEST(Columns, NamesRoundTrip) {
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    const auto c = static_cast<Column>(i);
    EXPECT_EQ(parse_column(column_name(c)), c) << column_name(c);
  }
  EXPECT_EQ(parse_column("TIME"), Column::Age);
  EXPECT_EQ(parse_column("rate"), Column::RateIn);
  EXPECT_EQ(parse_column("bogus"), std::nullopt);
  for (std::size_t i = 0; i < kTabCount; ++i) {
    const auto t = static_cast<Tab>(i);
    EXPECT_EQ(parse_tab(tab_name(t)), t);
    EXPECT_FALSE(columns_of(t).empty());
  }
  EXPECT_EQ(parse_tab("processes"), Tab::Owners);
  EXPECT_EQ(parse_tab("as"), Tab::As);
  EXPECT_EQ(parse_tab("nope"), std::nullopt);
}

TEST(ColumnChooser, F2OpensItAndEscOrF2CloseIt) {
  ViewState s = press(default_view_state(), kKeyF2);
  ASSERT_TRUE(s.columns_open);
  EXPECT_EQ(s.columns_index, 0U);
  EXPECT_EQ(key(s, kKeyUp).kind, K::ColumnsUp);
  EXPECT_EQ(key(s, 'j').kind, K::ColumnsDown);
  EXPECT_EQ(key(s, ' ').kind, K::ColumnsToggle);
  EXPECT_EQ(key(s, kKeyEnter).kind, K::ColumnsToggle);
  EXPECT_EQ(key(s, '[').kind, K::ColumnsMoveUp);
  EXPECT_EQ(key(s, '-').kind, K::ColumnsMoveUp);
  EXPECT_EQ(key(s, ']').kind, K::ColumnsMoveDown);
  EXPECT_EQ(key(s, '+').kind, K::ColumnsMoveDown);
  EXPECT_FALSE(press(s, kKeyEscape).columns_open);
  EXPECT_FALSE(press(s, kKeyF2).columns_open);
  EXPECT_TRUE(press(s, kKeyTab).columns_open);  // Tab does nothing in the chooser
  EXPECT_EQ(press(s, kKeyTab).tab, Tab::Flows);
}

TEST(ColumnChooser, EveryColumnOfTheTabShownInRegistryOrderUntilChosen) {
  const ViewState s = default_view_state();
  for (std::size_t t = 0; t < kTabCount; ++t) {
    const auto tab = static_cast<Tab>(t);
    const std::vector<ColumnChoice> choice = column_choice(s, tab);
    ASSERT_EQ(choice.size(), columns_of(tab).size());
    for (std::size_t i = 0; i < choice.size(); ++i) {
      EXPECT_EQ(choice[i].column, columns_of(tab)[i]);
      EXPECT_TRUE(choice[i].shown);
    }
  }
}

TEST(ColumnChooser, SpaceHidesAndShowsTheHighlightedColumn) {
  ViewState s = press(press(default_view_state(), kKeyF2), kKeyDown);  // PID
  s = press(s, ' ');
  EXPECT_TRUE(s.effects.persist);
  std::vector<Column> shown = shown_columns(s, Tab::Flows);
  EXPECT_EQ(std::find(shown.begin(), shown.end(), Column::Pid), shown.end());
  EXPECT_EQ(shown.size(), columns_of(Tab::Flows).size() - 1);
  EXPECT_FALSE(column_choice(s, Tab::Flows)[1].shown);
  s = press(s, ' ');
  shown = shown_columns(s, Tab::Flows);
  EXPECT_EQ(shown.size(), columns_of(Tab::Flows).size());
  // The other tabs keep their own columns.
  s = press(s, ' ');
  EXPECT_EQ(shown_columns(s, Tab::Owners).size(), columns_of(Tab::Owners).size());
}

TEST(ColumnChooser, BracketsMoveTheHighlightedColumnAndTheCursorWithIt) {
  ViewState s = press(default_view_state(), kKeyF2);  // OWNER
  s = press(press(s, ']'), '+');
  EXPECT_EQ(s.columns_index, 2U);
  std::vector<Column> shown = shown_columns(s, Tab::Flows);
  EXPECT_EQ(shown[0], Column::Pid);
  EXPECT_EQ(shown[1], Column::Proto);
  EXPECT_EQ(shown[2], Column::Process);
  s = press(s, '[');
  EXPECT_EQ(shown_columns(s, Tab::Flows)[1], Column::Process);
  // At the top, [ does nothing.
  s = press(press(s, '['), '[');
  EXPECT_EQ(s.columns_index, 0U);
  EXPECT_EQ(shown_columns(s, Tab::Flows)[0], Column::Process);
  // A hidden column keeps its place in the list.
  s = press(press(s, kKeyDown), ' ');  // hide PID
  s = press(s, ']');
  EXPECT_EQ(column_choice(s, Tab::Flows)[2].column, Column::Pid);
  EXPECT_FALSE(column_choice(s, Tab::Flows)[2].shown);
}

TEST(ColumnChooser, OneColumnStaysShown) {
  ViewState s = press(default_view_state(), kKeyF2);
  const std::size_t n = columns_of(Tab::Flows).size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    s = press(press(s, ' '), kKeyDown);
  }
  s = press(s, ' ');  // the last one shown stays
  const std::vector<Column> shown = shown_columns(s, Tab::Flows);
  ASSERT_EQ(shown.size(), 1U);
  EXPECT_EQ(shown[0], columns_of(Tab::Flows).back());
  EXPECT_EQ(s.message, "one column stays shown");
  EXPECT_LE(s.h_scroll, 0U);
}

TEST(ColumnChooser, TheSortColumnMayBeHiddenAndStillSorts) {
  ViewState s = press(default_view_state(), kKeyF2);
  const auto cols = columns_of(Tab::Flows);
  const auto at =
      static_cast<std::size_t>(std::find(cols.begin(), cols.end(), Column::RateIn) - cols.begin());
  for (std::size_t i = 0; i < at; ++i) {
    s = press(s, kKeyDown);
  }
  s = press(s, ' ');
  const std::vector<Column> shown = shown_columns(s, Tab::Flows);
  EXPECT_EQ(std::find(shown.begin(), shown.end(), Column::RateIn), shown.end());
  EXPECT_EQ(s.current_sort().column, Column::RateIn);
}

TEST(ColumnChooser, UnknownOrDuplicateEntriesAreIgnored) {
  ViewState s = default_view_state();
  s.columns[static_cast<std::size_t>(Tab::Hosts)] = {
      {Column::Pid, true}, {Column::Address, true}, {Column::Address, false}, {Column::Geo, false}};
  const std::vector<Column> shown = shown_columns(s, Tab::Hosts);
  ASSERT_EQ(shown.size(), 1U);
  EXPECT_EQ(shown[0], Column::Address);
  // Nothing shown at all: every column shows.
  s.columns[static_cast<std::size_t>(Tab::Hosts)] = {{Column::Address, false}};
  EXPECT_EQ(shown_columns(s, Tab::Hosts).size(), columns_of(Tab::Hosts).size());
}

}  // namespace
}  // namespace flowtop::view
