// The health lines about conntrack pressure: the table's fill from 80% of nf_conntrack_max, and
// the drop counters when they rose over the last interval.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/frame_source.hpp"

namespace flowtop::app {
namespace {

core::CtPressure with_rates(double drop, double early_drop, double insert_failed, double error) {
  core::CtPressure p;
  p.rate = core::CtDropCounters{insert_failed, drop, early_drop, error};
  return p;
}

bool contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines) {
    if (l.find(part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(Health, FillLineFromEightyPercent) {
  EXPECT_EQ(fill_line(209714, 262144), "");  // 79.99%
  EXPECT_EQ(fill_line(209716, 262144),
            "the conntrack table is 80% full (209716 of nf_conntrack_max 262144): when full, new "
            "flows are dropped");
  EXPECT_EQ(fill_line(80, 100),
            "the conntrack table is 80% full (80 of nf_conntrack_max 100): when full, new flows "
            "are dropped");
  EXPECT_EQ(fill_line(100, 100),
            "the conntrack table is 100% full (100 of nf_conntrack_max 100): when full, new "
            "flows are dropped");
  // Entries counted while the limit was lowered can exceed it: never more than 100%.
  EXPECT_NE(fill_line(150, 100).find(" 100% full (150 of"), std::string::npos);
  EXPECT_EQ(fill_line(5, 0), "");  // no limit
  EXPECT_EQ(fill_line(0, 0), "");
}

TEST(Health, DropLineOnlyWhenACounterRose) {
  EXPECT_EQ(drop_line(core::CtPressure{}), "");  // one sample: no rates yet
  EXPECT_EQ(drop_line(with_rates(0, 0, 0, 0)), "");
  EXPECT_EQ(drop_line(with_rates(12, 0, 0, 0)), "conntrack is dropping: drop 12/s");
  EXPECT_EQ(drop_line(with_rates(0.5, 3, 1, 2.25)),
            "conntrack is dropping: drop 0.5/s, early_drop 3.0/s, insert_failed 1.0/s, error "
            "2.2/s");
  // Totals alone (an old burst) say nothing: the pane shows them.
  core::CtPressure old = with_rates(0, 0, 0, 0);
  old.totals.drop = 1000;
  EXPECT_EQ(drop_line(old), "");
}

TEST(Health, LinesUseTheKernelsCountAndLimit) {
  core::CollectorStats stats;
  stats.initial_dump_done = true;
  stats.flows = 10;  // what flowtop's table holds
  stats.ct_max = 100;
  core::CtPressure p = with_rates(0, 4, 0, 0);
  p.now.entries = 85;  // the kernel also counts entries not yet confirmed
  const auto lines = health_lines(stats, p, nullptr, true);
  EXPECT_TRUE(contains(lines, "the conntrack table is 85% full (85 of nf_conntrack_max 100)"));
  EXPECT_TRUE(contains(lines, "conntrack is dropping: early_drop 4.0/s"));
  // Without the kernel's count, flowtop's own.
  stats.flows = 90;
  const auto own = health_lines(stats, core::CtPressure{}, nullptr, true);
  EXPECT_TRUE(contains(own, "90% full (90 of nf_conntrack_max 100)"));
  stats.flows = 79;
  EXPECT_TRUE(health_lines(stats, core::CtPressure{}, nullptr, true).empty());
}

// A big table's full refreshes are spaced out within the CPU budget: the line says how stale the
// counters (and so the rates and aggregates) can be, and why; at the interval it says nothing.
TEST(Health, AStretchedRefreshSaysHowOftenCountersRefresh) {
  core::CollectorStats stats;
  stats.initial_dump_done = true;
  stats.ct_max = 1'000'000;
  stats.flows = 250'000;
  stats.last_dump_ns = 410'000'000;
  stats.refresh_period_ns = 8'200'000'000;
  EXPECT_FALSE(contains(health_lines(stats, core::CtPressure{}, nullptr, true), "refresh"));
  stats.dump_stretched = true;
  EXPECT_TRUE(contains(health_lines(stats, core::CtPressure{}, nullptr, true),
                       "counters refresh every 8.2 s, not each interval: a full dump of this "
                       "table takes 410 ms"));
}

}  // namespace
}  // namespace flowtop::app
