#include "flowtop/tui/latency.hpp"

#include <gtest/gtest.h>

namespace flowtop::tui {
namespace {

TEST(Latency, EmptyIsAllZeroAndSaysNoSamples) {
  const LatencyRecorder r;
  const auto s = r.summary();
  EXPECT_EQ(s.count, 0U);
  EXPECT_EQ(s.max, 0);
  EXPECT_EQ(format_latency("frame-time", s, "frames"), "frame-time: no samples");
}

TEST(Latency, NearestRankPercentiles) {
  LatencyRecorder r;
  for (int i = 100; i >= 1; --i) {  // 1..100 ms, added out of order
    r.add(std::int64_t{i} * 1'000'000);
  }
  const auto s = r.summary();
  EXPECT_EQ(s.count, 100U);
  EXPECT_EQ(s.p50, 50'000'000);
  EXPECT_EQ(s.p90, 90'000'000);
  EXPECT_EQ(s.p99, 99'000'000);
  EXPECT_EQ(s.max, 100'000'000);
  EXPECT_EQ(format_latency("frame-time", s, "frames"),
            "frame-time p50=50.00 ms p90=90.00 ms p99=99.00 ms max=100.00 ms (100 frames)");
}

TEST(Latency, OneSampleIsEveryPercentile) {
  LatencyRecorder r;
  r.add(1'500'000);
  const auto s = r.summary();
  EXPECT_EQ(s.p50, 1'500'000);
  EXPECT_EQ(s.p99, 1'500'000);
  EXPECT_EQ(s.max, 1'500'000);
}

TEST(Latency, NegativeDurationsCountAsZero) {
  LatencyRecorder r;
  r.add(-5);
  EXPECT_EQ(r.summary().max, 0);
}

TEST(Latency, BoundedMemoryKeepsExactMaxAndRepresentativePercentiles) {
  LatencyRecorder r(1000);
  // 100,000 samples: 99% at 1 ms, 1% at 50 ms, interleaved; one outlier of 2 s.
  for (int i = 0; i < 100'000; ++i) {
    r.add(i % 100 == 0 ? 50'000'000 : 1'000'000);
  }
  r.add(2'000'000'000);
  const auto s = r.summary();
  EXPECT_EQ(s.count, 100'001U);
  EXPECT_EQ(r.seen(), 100'001U);
  EXPECT_EQ(s.max, 2'000'000'000);  // exact even though the sample may not be kept
  EXPECT_EQ(s.p50, 1'000'000);
  EXPECT_EQ(s.p90, 1'000'000);
}

}  // namespace
}  // namespace flowtop::tui
