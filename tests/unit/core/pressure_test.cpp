#include "flowtop/core/pressure.hpp"

#include <gtest/gtest.h>

#include "flowtop/core/stats.hpp"

namespace flowtop::core {
namespace {

CtStatsSample sample(std::int64_t t_ns, std::vector<CtCpuStats> cpus) {
  CtStatsSample s;
  s.cpus = std::move(cpus);
  s.steady_ns = t_ns;
  return s;
}

TEST(Pressure, RatesAreTheDifferenceOverTheSamplesOwnTime) {
  const auto a = sample(1'000'000'000, {{.cpu = 0, .drop = 10, .early_drop = 1},
                                        {.cpu = 1, .insert_failed = 5, .error = 2}});
  const auto b = sample(3'000'000'000, {{.cpu = 0, .drop = 30, .early_drop = 1},
                                        {.cpu = 1, .insert_failed = 9, .error = 2}});
  const CtPressure p = pressure_between(a, b);
  EXPECT_EQ(p.totals.drop, 30);
  EXPECT_EQ(p.totals.insert_failed, 9);
  ASSERT_TRUE(p.rate.has_value());
  EXPECT_DOUBLE_EQ(p.rate->drop, 10.0);  // 20 over 2 s
  EXPECT_DOUBLE_EQ(p.rate->insert_failed, 2.0);
  EXPECT_DOUBLE_EQ(p.rate->early_drop, 0.0);
  EXPECT_DOUBLE_EQ(p.rate->error, 0.0);
  EXPECT_TRUE(p.rate->any());
}

TEST(Pressure, A32BitWrapBetweenSamplesIsNotANegativeRate) {
  const auto a = sample(0, {{.cpu = 0, .drop = 0xfffffff0U}});
  const auto b = sample(1'000'000'000, {{.cpu = 0, .drop = 0x10U}});
  const CtPressure p = pressure_between(a, b);
  ASSERT_TRUE(p.rate.has_value());
  EXPECT_DOUBLE_EQ(p.rate->drop, 32.0);
}

TEST(Pressure, NoRatesWithoutTwoComparableSamples) {
  const auto one = sample(1, {{.cpu = 0, .drop = 1}});
  EXPECT_FALSE(pressure_between(CtStatsSample{}, one).rate.has_value());  // the first sample
  EXPECT_FALSE(pressure_between(one, one).rate.has_value());              // no time passed
  const auto two_cpus = sample(5, {{.cpu = 0}, {.cpu = 1}});
  EXPECT_FALSE(pressure_between(one, two_cpus).rate.has_value());  // CPUs came online
  const auto other_cpu = sample(5, {{.cpu = 3, .drop = 9}});
  EXPECT_FALSE(pressure_between(one, other_cpu).rate.has_value());
  EXPECT_EQ(pressure_between(one, other_cpu).totals.drop, 9);
}

TEST(Pressure, FillPercent) {
  EXPECT_FALSE(table_fill_percent(10, 0).has_value());  // no limit
  EXPECT_DOUBLE_EQ(*table_fill_percent(0, 100), 0.0);
  EXPECT_DOUBLE_EQ(*table_fill_percent(80, 100), 80.0);
  EXPECT_DOUBLE_EQ(*table_fill_percent(262144, 262144), 100.0);
}

TEST(Pressure, CollectorStatsKeepTheTwoNewestSamples) {
  CollectorStats stats;
  EXPECT_TRUE(stats.pressure().now.cpus.empty());
  stats.publish_ct_stats(sample(0, {{.cpu = 0, .early_drop = 1}}));
  EXPECT_FALSE(stats.pressure().rate.has_value());
  stats.publish_ct_stats(sample(500'000'000, {{.cpu = 0, .early_drop = 3}}));
  stats.publish_ct_stats(sample(1'000'000'000, {{.cpu = 0, .early_drop = 4}}));
  const CtPressure p = stats.pressure();
  ASSERT_TRUE(p.rate.has_value());
  EXPECT_DOUBLE_EQ(p.rate->early_drop, 2.0);  // 1 over the last 0.5 s
  EXPECT_EQ(p.totals.early_drop, 4);
}

}  // namespace
}  // namespace flowtop::core
