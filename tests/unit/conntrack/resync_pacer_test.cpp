#include "conntrack/resync_pacer.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace flowtop::conntrack {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kS = 1'000 * kMs;

// One resync: owed when events are lost, allowed min_gap after the last dump, paid by the dump.
TEST(ResyncPacer, OneLossOwesOneResyncAfterTheMinimumGap) {
  ResyncPacer p(100 * kMs, 60 * kS, 0.10);
  p.dumped(1 * kS, 1 * kMs, false);  // the initial dump: cheap
  EXPECT_FALSE(p.pending());
  p.lost(1 * kS + 10 * kMs);
  EXPECT_TRUE(p.pending());
  EXPECT_EQ(p.due(), 1 * kS + 100 * kMs);
  EXPECT_TRUE(p.begin_dump());
  EXPECT_FALSE(p.pending());
  EXPECT_FALSE(p.begin_dump()) << "paid once";
}

// A storm: losses right after every resync. The gaps between resyncs double up to the limit
// instead of a full dump every 100 ms.
TEST(ResyncPacer, RepeatedLossesBackOffExponentially) {
  ResyncPacer p(100 * kMs, 6400 * kMs, 0.10);
  std::int64_t now = 0;
  p.dumped(now, kMs, false);
  std::int64_t expected_gap = 100 * kMs;
  for (int i = 0; i < 10; ++i) {
    p.lost(now + kMs);
    ASSERT_TRUE(p.pending());
    const std::int64_t start = p.due();
    EXPECT_EQ(start - now, expected_gap) << "resync " << i;
    ASSERT_TRUE(p.begin_dump());
    now = start + kMs;
    p.dumped(now, kMs, true);
    expected_gap = std::min<std::int64_t>(expected_gap * 2, 6400 * kMs);
    if (i > 0) {
      EXPECT_GE(p.gap(), 200 * kMs);
    }
  }
  EXPECT_EQ(p.gap(), 6400 * kMs) << "capped";
}

// A resync costs what a full dump costs: it keeps to the same CPU budget.
TEST(ResyncPacer, AnExpensiveDumpKeepsToTheCpuBudget) {
  ResyncPacer p(100 * kMs, 60 * kS, 0.10);
  p.dumped(10 * kS, 2 * kS, false);  // a 2 s dump of a huge table
  p.lost(10 * kS + kMs);
  EXPECT_EQ(p.due(), 10 * kS + 20 * kS) << "2 s at 10% of a core: 20 s later";
}

// A loss long after the storm ended starts from the minimum gap again.
TEST(ResyncPacer, QuietPeriodResetsTheBackOff) {
  ResyncPacer p(100 * kMs, 60 * kS, 0.10);
  std::int64_t now = 0;
  for (int i = 0; i < 5; ++i) {
    p.lost(now);
    now = p.due();
    p.begin_dump();
    p.dumped(now, kMs, true);
  }
  ASSERT_EQ(p.gap(), 3200 * kMs) << "five resyncs in a storm";
  now += 4 * p.gap();
  p.lost(now);
  EXPECT_EQ(p.gap(), 100 * kMs);
}

// Events lost while the resync dump runs call for another one.
TEST(ResyncPacer, LossDuringTheDumpOwesAnother) {
  ResyncPacer p(100 * kMs, 60 * kS, 0.10);
  p.lost(0);
  ASSERT_TRUE(p.begin_dump());
  p.lost(50 * kMs);  // drained between batches of the dump
  p.dumped(100 * kMs, 100 * kMs, true);
  EXPECT_TRUE(p.pending());
  EXPECT_EQ(p.due(), 100 * kMs + 1 * kS) << "100 ms of dump at 10%";
}

}  // namespace
}  // namespace flowtop::conntrack
