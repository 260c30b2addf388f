#include "flowtop/enrich/work_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using flowtop::enrich::WorkQueue;
using Push = WorkQueue<int>::Push;
using Clock = std::chrono::steady_clock;

TEST(WorkQueue, PopsInPushOrder) {
  WorkQueue<int> q(8);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(q.push(i), Push::Queued);
  }
  EXPECT_EQ(q.size(), 3U);
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), 3);
  EXPECT_EQ(q.size(), 0U);
}

TEST(WorkQueue, HoldsEachItemOnce) {
  WorkQueue<int> q(8);
  EXPECT_EQ(q.push(7), Push::Queued);
  EXPECT_EQ(q.push(7), Push::Duplicate);
  EXPECT_EQ(q.size(), 1U);
  EXPECT_EQ(q.pop(), 7);
  // Once taken, the same item may be queued again (e.g. a retry).
  EXPECT_EQ(q.push(7), Push::Queued);
  EXPECT_EQ(q.dropped(), 0U);
}

TEST(WorkQueue, FullQueueDropsAndCountsWithoutBlocking) {
  WorkQueue<int> q(3);
  std::vector<Push> results;
  results.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    results.push_back(q.push(i));  // no consumer: a blocking push would hang here (ctest timeout)
  }
  EXPECT_EQ(results[0], Push::Queued);
  EXPECT_EQ(results[2], Push::Queued);
  EXPECT_EQ(results[3], Push::Full);
  EXPECT_EQ(results[999], Push::Full);
  EXPECT_EQ(q.size(), 3U);
  EXPECT_EQ(q.dropped(), 997U);
  // The queued ones are the first three, in order.
  EXPECT_EQ(q.pop(), 0);
  EXPECT_EQ(q.push(5000), Push::Queued);  // room again
}

TEST(WorkQueue, ProbablyFullFollowsTheItemsAndCountsWhatTheProducerSkips) {
  WorkQueue<int> q(2);
  EXPECT_FALSE(q.probably_full());
  q.push(1);
  EXPECT_FALSE(q.probably_full());
  q.push(2);
  EXPECT_TRUE(q.probably_full());
  q.count_dropped();  // a producer that saw it full and did not push
  EXPECT_EQ(q.dropped(), 1U);
  EXPECT_EQ(q.pop(), 1);
  EXPECT_FALSE(q.probably_full()) << "room again after a pop";
  q.push(3);
  q.close();
  EXPECT_FALSE(q.probably_full()) << "a closed queue holds nothing";
}

TEST(WorkQueue, CloseWakesBlockedConsumersAndRefusesPushes) {
  WorkQueue<int> q(4);
  std::atomic<int> woke{0};
  std::vector<std::thread> consumers;
  consumers.reserve(3);
  for (int i = 0; i < 3; ++i) {
    consumers.emplace_back([&] {
      if (!q.pop().has_value()) {
        woke.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.close();
  for (auto& t : consumers) {
    t.join();
  }
  EXPECT_EQ(woke.load(), 3);
  EXPECT_TRUE(q.closed());
  EXPECT_EQ(q.push(1), Push::Closed);
  EXPECT_FALSE(q.pop().has_value());
}

TEST(WorkQueue, PopUntilTimesOut) {
  WorkQueue<int> q(4);
  const auto t0 = Clock::now();
  EXPECT_FALSE(q.pop_until(t0 + std::chrono::milliseconds(30)).has_value());
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(30));
  q.push(9);
  EXPECT_EQ(q.pop_until(Clock::now() + std::chrono::seconds(5)), 9);
}

TEST(WorkQueue, PopBatchTakesUpToMaxAndReportsClose) {
  WorkQueue<int> q(16);
  for (int i = 0; i < 10; ++i) {
    q.push(i);
  }
  std::vector<int> out;
  ASSERT_TRUE(q.pop_batch(out, 4, Clock::now()));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3}));
  ASSERT_TRUE(q.pop_batch(out, 100, Clock::now()));
  EXPECT_EQ(out.size(), 10U);
  // Empty: waits until the deadline, then returns true with nothing.
  out.clear();
  ASSERT_TRUE(q.pop_batch(out, 100, Clock::now() + std::chrono::milliseconds(10)));
  EXPECT_TRUE(out.empty());
  q.close();
  EXPECT_FALSE(q.pop_batch(out, 100, Clock::now() + std::chrono::seconds(5)));
}

TEST(WorkQueue, WaitClosedUntilSleepsUnlessClosed) {
  WorkQueue<int> q(4);
  EXPECT_TRUE(q.wait_closed_until(Clock::now() + std::chrono::milliseconds(5)));
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.close();
  });
  // false: woken by the close, not by the 10 s deadline (which would say true).
  EXPECT_FALSE(q.wait_closed_until(Clock::now() + std::chrono::seconds(10)));
  closer.join();
}

// Duplicates can be decided on part of an item (the owner queue keys requests by flow).
struct Job {
  int key = 0;
  std::string payload;
};
struct JobHash {
  std::size_t operator()(const Job& j) const { return std::hash<int>{}(j.key); }
};
struct JobEq {
  bool operator()(const Job& a, const Job& b) const { return a.key == b.key; }
};

TEST(WorkQueue, DuplicatesDecidedByCustomKey) {
  WorkQueue<Job, JobHash, JobEq> q(4);
  using JPush = WorkQueue<Job, JobHash, JobEq>::Push;
  EXPECT_EQ(q.push({1, "first"}), JPush::Queued);
  EXPECT_EQ(q.push({1, "second"}), JPush::Duplicate);
  EXPECT_EQ(q.push({2, "other"}), JPush::Queued);
  EXPECT_EQ(q.pop()->payload, "first");
  EXPECT_EQ(q.pop()->payload, "other");
}

TEST(WorkQueue, ConcurrentProducersLoseNothingBelowTheLimit) {
  WorkQueue<int> q(100000);
  std::vector<std::thread> producers;
  producers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&q, t] {
      for (int i = 0; i < 5000; ++i) {
        q.push(t * 5000 + i);
        q.push(t * 5000 + i);  // a duplicate, or a re-push after a consumer took it
      }
    });
  }
  std::vector<bool> seen(20000, false);
  std::thread consumer([&] {
    std::size_t distinct = 0;
    while (distinct < seen.size()) {
      const auto v = q.pop();
      if (!v) {
        break;
      }
      if (!seen[static_cast<std::size_t>(*v)]) {
        seen[static_cast<std::size_t>(*v)] = true;
        ++distinct;
      }
    }
  });
  for (auto& p : producers) {
    p.join();
  }
  consumer.join();
  for (std::size_t i = 0; i < seen.size(); ++i) {
    ASSERT_TRUE(seen[i]) << "item " << i << " lost";
  }
  EXPECT_EQ(q.dropped(), 0U);
}

}  // namespace
