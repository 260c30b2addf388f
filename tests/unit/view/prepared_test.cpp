// prepare() + the window step: the same rows as a whole build, the window step touching only the
// visible rows, and PrepKey telling which state changes need a new prepare().
#include <gtest/gtest.h>

#include <vector>

#include "flowtop/view/command.hpp"
#include "flowtop/view/rows.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::view {
namespace {

using test::FakeWorld;

std::vector<std::uint32_t> ids(const Rows& r) {
  std::vector<std::uint32_t> out;
  for (const FlowRow& f : r.flows) {
    out.push_back(f.rec.id);
  }
  return out;
}

std::vector<std::string> labels(const Rows& r) {
  std::vector<std::string> out;
  for (const GroupRow& g : r.groups) {
    out.push_back(g.label + "/" + std::to_string(g.flows));
  }
  return out;
}

void expect_same(const Rows& a, const Rows& b) {
  EXPECT_EQ(ids(a), ids(b));
  EXPECT_EQ(labels(a), labels(b));
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.selected, b.selected);
  EXPECT_EQ(a.counts.shown, b.counts.shown);
  EXPECT_EQ(a.counts.filtered, b.counts.filtered);
  EXPECT_EQ(a.counts.hidden_total(), b.counts.hidden_total());
  EXPECT_EQ(a.empty_reason, b.empty_reason);
}

TEST(Prepared, OnePrepareServesEveryCursorMoveWithTheRowsOfAWholeBuild) {
  const FakeWorld w = test::random_world(3000, 11);
  const Snapshot snap = w.snapshot();
  for (const Tab tab : {Tab::Flows, Tab::Owners, Tab::Hosts, Tab::Countries, Tab::As}) {
    SCOPED_TRACE(static_cast<int>(tab));
    ViewState a = default_view_state();
    a.tab = tab;
    a.selection.udp = true;
    ViewState b = a;  // a: whole build each frame; b: one prepare, then windows
    const Prepared prep = prepare(snap, b);
    const std::vector<Command> keys = {
        Command{Command::Kind::Down},     Command{Command::Kind::Down},
        Command{Command::Kind::PageDown}, Command{Command::Kind::PageDown},
        Command{Command::Kind::Up},       Command{Command::Kind::End},
        Command{Command::Kind::PageUp},   Command{Command::Kind::Home}};
    for (const Command& k : keys) {
      a = apply(a, k);
      b = apply(b, k);
      ASSERT_EQ(prep.key, prep_key(b)) << "a cursor move needs no new prepare";
      const Rows ra = build_rows(snap, a, 17);
      const Rows rb = build_rows(prep, snap, b, 17);
      expect_same(ra, rb);
      settle(a, ra);
      settle(b, rb);
    }
  }
}

TEST(Prepared, TheWindowStepEnrichesOnlyTheVisibleRows) {
  const FakeWorld w = test::random_world(5000, 3);
  const Snapshot snap = w.snapshot();
  ViewState s = default_view_state();
  s.sort[static_cast<std::size_t>(Tab::Flows)] = {Column::Process, false};
  w.enrich_calls = 0;
  const Prepared prep = prepare(snap, s);
  EXPECT_EQ(w.enrich_calls, prep.counts.shown);  // once per shown flow, for its sort key
  ASSERT_GT(prep.total(), 40U);
  for (int i = 0; i < 5; ++i) {
    s = apply(s, Command{Command::Kind::PageDown});
    w.enrich_calls = 0;
    const Rows rows = build_rows(prep, snap, s, 20);
    EXPECT_EQ(w.enrich_calls, 20U);
    EXPECT_EQ(rows.flows.size(), 20U);
    settle(s, rows);
  }
}

TEST(Prepared, TheSelectionFollowsItsFlowIntoANewSnapshot) {
  FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  Rows rows = build_rows(prepare(w.snapshot(), s), w.snapshot(), s, 10);
  settle(s, rows);
  s = apply(s, Command{Command::Kind::Down});
  rows = build_rows(prepare(w.snapshot(), s), w.snapshot(), s, 10);
  settle(s, rows);
  ASSERT_EQ(rows.selected_flow()->rec.id, 1U);
  // Flow 1 becomes the biggest receiver in the next snapshot: the index finds it at the top.
  for (auto& r : w.flows) {
    if (r.id == 1) {
      r.rate_reply_bytes = 1e9F;
    }
  }
  const Snapshot next = w.snapshot();
  rows = build_rows(prepare(next, s), next, s, 10);
  EXPECT_EQ(rows.selected, 0U);
  EXPECT_EQ(rows.selected_flow()->rec.id, 1U);
}

TEST(PrepKey, ChangesWithWhatIsShownNotWithTheCursorOrPanes) {
  const ViewState base = default_view_state();
  const PrepKey k = prep_key(base);
  ViewState s = base;
  for (const auto kind : {Command::Kind::Down, Command::Kind::PageDown, Command::Kind::End}) {
    s = apply(s, Command{kind});
  }
  s.detail_open = true;
  s.help_open = true;
  s.paused = true;
  s.h_scroll = 3;
  s.bits = true;
  s.show_src = true;
  EXPECT_EQ(prep_key(s), k);
  // Another tab's sort does not matter; this tab's does.
  s = base;
  s.sort[static_cast<std::size_t>(Tab::Hosts)].descending = false;
  EXPECT_EQ(prep_key(s), k);
  s.sort[static_cast<std::size_t>(Tab::Flows)].descending = false;
  EXPECT_NE(prep_key(s), k);
  s = base;
  s.tab = Tab::Hosts;
  EXPECT_NE(prep_key(s), k);
  s = base;
  s.selection.udp = !s.selection.udp;
  EXPECT_NE(prep_key(s), k);
  s = base;
  s.active_only = true;
  EXPECT_NE(prep_key(s), k);
  s = base;
  s.filter = std::get<Filter>(compile_filter("port=443"));
  EXPECT_NE(prep_key(s), k);
  s = base;
  s.dns = !s.dns;
  EXPECT_NE(prep_key(s), k);
}

TEST(PrepKey, WithKeyShowsTheOlderKeysRowsAndKeepsTheCursorAndPanes) {
  // The state the screen shows while a newer key is being prepared: everything the key covers
  // from the older key, everything else (cursor, panes, units) from the present state.
  ViewState older = default_view_state();
  older.filter = std::get<Filter>(compile_filter("port=443"));
  older.selection.udp = false;
  const PrepKey old_key = prep_key(older);

  ViewState now = older;
  now = apply(now, Command{Command::Kind::Down});
  now.tab = Tab::Countries;
  now.sort[static_cast<std::size_t>(Tab::Flows)] = {Column::Age, false};
  now.filter = std::get<Filter>(compile_filter("proto=udp"));
  now.selection.udp = true;
  now.active_only = true;
  now.dns = false;
  now.help_open = true;
  now.bits = true;
  ASSERT_NE(prep_key(now), old_key);

  const ViewState shown = with_key(now, old_key);
  EXPECT_EQ(prep_key(shown), old_key);
  EXPECT_EQ(shown.tab, Tab::Flows);
  EXPECT_EQ(shown.current_sort(), (SortSpec{Column::RateIn, true}));
  EXPECT_EQ(shown.filter.text(), "port=443");
  EXPECT_FALSE(shown.filter.empty()) << "the older filter is compiled again, not only named";
  EXPECT_TRUE(shown.help_open);
  EXPECT_TRUE(shown.bits);
  EXPECT_EQ(shown.current_cursor().move.kind, PendingMove::Kind::By) << "the pending Down stays";
  // And back: the newer key over the shown state is the present key again.
  EXPECT_EQ(prep_key(with_key(shown, prep_key(now))), prep_key(now));
}

}  // namespace
}  // namespace flowtop::view
