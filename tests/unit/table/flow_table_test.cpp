#include "flowtop/table/flow_table.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/ip_addr.hpp"
#include "flowtop/rcu/rcu.hpp"

namespace flowtop::table {
namespace {

using core::FlowKey;
using core::FlowRecord;

// A distinct TCP/IPv4 key per index.
FlowKey key_of(std::uint32_t i) {
  FlowKey k;
  k.family = core::Family::V4;
  k.proto = static_cast<std::uint8_t>(core::L4Proto::Tcp);
  k.orig.src = core::IpAddr::from_v4_be(htonl(0x0a000000U | (i & 0xffffffU)));  // 10.x.y.z
  k.orig.dst = core::IpAddr::from_v4_be(htonl(0x7f000001U));
  k.orig.sport = static_cast<std::uint16_t>(1024 + (i % 50000));
  k.orig.dport = 443;
  return k;
}

FlowRecord record_of(std::uint32_t i, std::uint64_t bytes = 0) {
  FlowRecord r;
  r.key = key_of(i);
  r.reply.src = r.key.orig.dst;
  r.reply.dst = r.key.orig.src;
  r.reply.sport = r.key.orig.dport;
  r.reply.dport = r.key.orig.sport;
  r.id = 1000 + i;
  r.status = 0x6;
  r.state = 3;
  r.flags = FlowRecord::kHasCounters | FlowRecord::kHasState;
  r.orig_ctr = {bytes / 100 + 1, bytes};
  r.reply_ctr = {bytes / 50 + 1, bytes * 2};
  return r;
}

bool same_record(const FlowRecord& a, const FlowRecord& b) {
  return a.key == b.key && a.reply == b.reply && a.id == b.id && a.status == b.status &&
         a.mark == b.mark && a.timeout == b.timeout && a.state == b.state && a.flags == b.flags &&
         a.orig_ctr == b.orig_ctr && a.reply_ctr == b.reply_ctr && a.start_ns == b.start_ns &&
         a.sample_ns == b.sample_ns;
}

std::set<std::uint32_t> ids_in(const FlowTable& t) {
  std::vector<FlowRecord> snap;
  t.snapshot(snap);
  std::set<std::uint32_t> ids;
  for (const auto& r : snap) {
    ids.insert(r.id);
  }
  return ids;
}

// The process's resident memory (the table's slabs are mapped outside the heap).
[[maybe_unused]] std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) {
    return 0;
  }
  unsigned long size = 0;
  unsigned long resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

class FlowTableTest : public ::testing::Test {
 protected:
  rcu::Thread rcu_;  // the test thread is the writer and a reader
};

TEST_F(FlowTableTest, UpsertAddsThenReplacesSameKey) {
  FlowTable t;
  EXPECT_EQ(t.size(), 0U);
  EXPECT_EQ(t.upsert(record_of(1, 100)), FlowTable::Upserted::Added);
  EXPECT_EQ(t.size(), 1U);
  auto got = t.find(key_of(1));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(same_record(*got, record_of(1, 100)));

  EXPECT_EQ(t.upsert(record_of(1, 500)), FlowTable::Upserted::Replaced);
  EXPECT_EQ(t.size(), 1U);
  got = t.find(key_of(1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->orig_ctr.bytes, 500U);
  EXPECT_TRUE(same_record(*got, record_of(1, 500)));
}

TEST_F(FlowTableTest, FindMissingKeyReturnsNothing) {
  FlowTable t;
  EXPECT_FALSE(t.find(key_of(7)).has_value());
  t.upsert(record_of(1));
  EXPECT_FALSE(t.find(key_of(7)).has_value());
  // Keys differing in one field only are different entries.
  FlowKey k = key_of(1);
  k.zone = 1;
  EXPECT_FALSE(t.find(k).has_value());
  k = key_of(1);
  k.orig.dport = 80;
  EXPECT_FALSE(t.find(k).has_value());
}

TEST_F(FlowTableTest, MergeSeesPreviousRecordAndItsChangesArePublished) {
  FlowTable t;
  std::vector<const FlowRecord*> seen_prev;
  FlowRecord prev_copy;
  auto merge = [&](const FlowRecord* prev, FlowRecord& next) {
    seen_prev.push_back(prev);
    if (prev != nullptr) {
      prev_copy = *prev;
      next.mark = prev->mark + 1;
    } else {
      next.mark = 10;
    }
  };
  EXPECT_EQ(t.upsert(record_of(3, 100), merge), FlowTable::Upserted::Added);
  ASSERT_EQ(seen_prev.size(), 1U);
  EXPECT_EQ(seen_prev[0], nullptr);
  EXPECT_EQ(t.find(key_of(3))->mark, 10U);

  EXPECT_EQ(t.upsert(record_of(3, 200), merge), FlowTable::Upserted::Replaced);
  ASSERT_EQ(seen_prev.size(), 2U);
  ASSERT_NE(seen_prev[1], nullptr);
  EXPECT_EQ(prev_copy.orig_ctr.bytes, 100U);  // the previously published record
  EXPECT_EQ(prev_copy.mark, 10U);
  const auto got = t.find(key_of(3));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->mark, 11U);
  EXPECT_EQ(got->orig_ctr.bytes, 200U);
}

TEST_F(FlowTableTest, MergeSampleComputesRatesAcrossUpserts) {
  FlowTable t;
  constexpr std::int64_t kWindow = 1'000'000'000;
  auto merge = [](const FlowRecord* prev, FlowRecord& next) {
    core::merge_sample(prev, next, kWindow);
  };
  FlowRecord a = record_of(5);
  a.orig_ctr = {10, 1000};
  a.sample_ns = 5'000'000'000;
  t.upsert(a, merge);
  FlowRecord b = a;
  b.orig_ctr = {30, 5000};
  b.sample_ns = 7'000'000'000;  // 2 s later
  t.upsert(b, merge);
  const auto got = t.find(a.key);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->has(FlowRecord::kHasRates));
  EXPECT_FLOAT_EQ(got->rate_orig_bytes, 2000.0F);
  EXPECT_FLOAT_EQ(got->rate_orig_packets, 10.0F);
}

TEST_F(FlowTableTest, MergeCannotMoveTheKey) {
  FlowTable t;
  t.upsert(record_of(1), [](const FlowRecord*, FlowRecord& next) { next.key = key_of(2); });
  EXPECT_TRUE(t.find(key_of(1)).has_value());
  EXPECT_FALSE(t.find(key_of(2)).has_value());
}

TEST_F(FlowTableTest, EraseWithoutIdRemovesEntry) {
  FlowTable t;
  t.upsert(record_of(1));
  t.upsert(record_of(2));
  EXPECT_TRUE(t.erase(key_of(1)));
  EXPECT_FALSE(t.find(key_of(1)).has_value());
  EXPECT_TRUE(t.find(key_of(2)).has_value());
  EXPECT_EQ(t.size(), 1U);
  EXPECT_FALSE(t.erase(key_of(1)));  // already gone
  EXPECT_FALSE(t.erase(key_of(9)));  // never there
  EXPECT_EQ(t.size(), 1U);
}

TEST_F(FlowTableTest, EraseWithIdRemovesOnlyTheMatchingEntry) {
  FlowTable t;
  FlowRecord r = record_of(1);
  r.id = 42;
  t.upsert(r);
  // A DESTROY for an older entry with the same tuple must not remove the newer one.
  EXPECT_FALSE(t.erase(r.key, 41U));
  ASSERT_TRUE(t.find(r.key).has_value());
  EXPECT_EQ(t.size(), 1U);
  EXPECT_TRUE(t.erase(r.key, 42U));
  EXPECT_FALSE(t.find(r.key).has_value());
  EXPECT_EQ(t.size(), 0U);
}

TEST_F(FlowTableTest, ResyncRemovesVanishedFlowsAndKeepsSeenOnes) {
  FlowTable t;
  for (std::uint32_t i = 0; i < 10; ++i) {
    t.upsert(record_of(i));
  }
  t.begin_resync();
  for (std::uint32_t i = 0; i < 5; ++i) {
    t.upsert(record_of(i, 77));  // seen again by the dump
  }
  t.upsert(record_of(20));  // new during the dump
  std::set<std::uint32_t> removed_ports;
  const std::size_t removed =
      t.end_resync([&](const FlowKey& k) { removed_ports.insert(k.orig.sport); });
  EXPECT_EQ(removed, 5U);
  std::set<std::uint32_t> want_removed;
  for (std::uint32_t i = 5; i < 10; ++i) {
    want_removed.insert(key_of(i).orig.sport);
  }
  EXPECT_EQ(removed_ports, want_removed);
  EXPECT_EQ(ids_in(t), (std::set<std::uint32_t>{1000, 1001, 1002, 1003, 1004, 1020}));
  EXPECT_EQ(t.size(), 6U);
  EXPECT_EQ(t.find(key_of(0))->orig_ctr.bytes, 77U);

  // A generation that sees nothing removes everything; one that sees everything removes nothing.
  t.begin_resync();
  for (std::uint32_t i : {0U, 1U, 2U, 3U, 4U, 20U}) {
    t.upsert(record_of(i));
  }
  EXPECT_EQ(t.end_resync(), 0U);
  EXPECT_EQ(t.size(), 6U);
  t.begin_resync();
  EXPECT_EQ(t.end_resync(), 6U);
  EXPECT_EQ(t.size(), 0U);
  EXPECT_TRUE(ids_in(t).empty());
}

TEST_F(FlowTableTest, EntryErasedAndReAddedDuringResyncSurvives) {
  FlowTable t;
  t.upsert(record_of(1));
  t.upsert(record_of(2));
  t.begin_resync();
  EXPECT_TRUE(t.erase(key_of(1)));
  t.upsert(record_of(1));
  EXPECT_EQ(t.end_resync(), 1U);
  EXPECT_EQ(ids_in(t), (std::set<std::uint32_t>{1001}));
}

TEST_F(FlowTableTest, ClearRemovesEverythingAndTableStaysUsable) {
  FlowTable t;
  for (std::uint32_t i = 0; i < 100; ++i) {
    t.upsert(record_of(i));
  }
  t.clear();
  EXPECT_EQ(t.size(), 0U);
  EXPECT_TRUE(ids_in(t).empty());
  EXPECT_FALSE(t.find(key_of(3)).has_value());
  EXPECT_EQ(t.upsert(record_of(3)), FlowTable::Upserted::Added);
  EXPECT_EQ(t.size(), 1U);
}

TEST_F(FlowTableTest, SnapshotCopiesEveryRecordExactlyOnce) {
  FlowTable t(16);  // small start: the table must grow
  constexpr std::uint32_t kN = 5000;
  for (std::uint32_t i = 0; i < kN; ++i) {
    t.upsert(record_of(i, i));
  }
  for (std::uint32_t i = 0; i < kN; i += 3) {
    t.upsert(record_of(i, i + 1));  // replace a third
  }
  std::vector<FlowRecord> snap(3, record_of(99999));  // snapshot clears what was there
  t.snapshot(snap);
  ASSERT_EQ(snap.size(), kN);
  std::sort(snap.begin(), snap.end(),
            [](const FlowRecord& a, const FlowRecord& b) { return a.id < b.id; });
  for (std::uint32_t i = 0; i < kN; ++i) {
    const std::uint64_t bytes = i % 3 == 0 ? i + 1 : i;
    ASSERT_TRUE(same_record(snap[i], record_of(i, bytes))) << "flow " << i;
  }
  EXPECT_EQ(t.size(), kN);
}

TEST_F(FlowTableTest, ForEachVisitsEveryRecordOnce) {
  FlowTable t;
  for (std::uint32_t i = 0; i < 300; ++i) {
    t.upsert(record_of(i));
  }
  t.erase(key_of(7));
  std::multiset<std::uint32_t> ids;
  t.for_each([&](const FlowRecord& r) { ids.insert(r.id); });
  EXPECT_EQ(ids.size(), 299U);
  EXPECT_EQ(std::set<std::uint32_t>(ids.begin(), ids.end()).size(), 299U);
  EXPECT_EQ(ids.count(1007), 0U);
}

TEST_F(FlowTableTest, EntryRemovedAndAddedAgainDuringACopyIsCopiedOnce) {
  // A copy scans the slots in memory order; an entry removed and added again meanwhile takes a
  // new slot, which may lie ahead of the scan: it must not be copied a second time.
  FlowTable t;
  for (std::uint32_t i = 0; i < 100; ++i) {
    t.upsert(record_of(i));
  }
  std::optional<FlowKey> churned;
  std::uint32_t churned_id = 0;
  std::vector<FlowRecord> seen;
  t.for_each([&](const FlowRecord& r) {
    if (!churned) {
      churned = r.key;
      churned_id = r.id;
      ASSERT_TRUE(t.erase(r.key));
      FlowRecord again = r;
      again.id += 1;  // a new kernel entry with the same tuple
      t.upsert(again);
    }
    seen.push_back(r);
  });
  ASSERT_TRUE(churned);
  EXPECT_EQ(std::count_if(seen.begin(), seen.end(),
                          [&](const FlowRecord& r) { return r.key == *churned; }),
            1);
  EXPECT_EQ(seen.size(), 100U);
  std::vector<FlowRecord> after;
  t.snapshot(after);  // the next copy has the new entry
  ASSERT_EQ(after.size(), 100U);
  const auto it = std::find_if(after.begin(), after.end(),
                               [&](const FlowRecord& r) { return r.key == *churned; });
  ASSERT_NE(it, after.end());
  EXPECT_EQ(it->id, churned_id + 1);
}

TEST_F(FlowTableTest, RemovedEntriesSlotsAreReusedAfterAGracePeriod) {
  // The table's memory is that of its largest size, not of every entry it ever held.
  FlowTable t;
  constexpr std::uint32_t kN = 20'000;
  for (std::uint32_t i = 0; i < kN; ++i) {
    t.upsert(record_of(i));
  }
  std::size_t before = 0;
  for (int round = 0; round < 6; ++round) {
    if (round == 1) {  // after one round: liburcu's call_rcu thread and the batches exist
      before = resident_bytes();
      ASSERT_GT(before, 0U) << "cannot read /proc/self/statm";
    }
    for (std::uint32_t i = 0; i < kN; ++i) {
      ASSERT_TRUE(t.erase(key_of(i + static_cast<std::uint32_t>(round) * kN)));
    }
    rcu::barrier();  // the grace period of the removed slots has ended
    for (std::uint32_t i = 0; i < kN; ++i) {
      t.upsert(record_of(i + static_cast<std::uint32_t>(round + 1) * kN));
    }
  }
  EXPECT_EQ(t.size(), kN);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  static_cast<void>(before);  // a sanitizer's allocator keeps freed memory aside
#else
  // Five more tables' worth of entries went through it: without reuse that is ~4.6 MB (a slab
  // of 464 KiB per 2,048 entries) a round, 23 MB in all.
  EXPECT_LT(resident_bytes(), before + 2'000'000);
#endif
}

TEST_F(FlowTableTest, UpsertsInAnyOrderUpdateTheirOwnEntry) {
  // A refresh lists the entries in the order the first dump added them, and the writer checks
  // the slot after the last one it updated before looking a key up: every order must land each
  // record on its own entry, across slab boundaries, removed slots and reused ones.
  FlowTable t;
  constexpr std::uint32_t kN = 5'000;  // more than two slabs
  for (std::uint32_t i = 0; i < kN; ++i) {
    ASSERT_EQ(t.upsert(record_of(i, 1)), FlowTable::Upserted::Added);
  }
  auto expect_bytes = [&t](std::uint32_t i, std::uint64_t bytes) {
    const auto got = t.find(key_of(i));
    ASSERT_TRUE(got.has_value()) << i;
    EXPECT_TRUE(same_record(*got, record_of(i, bytes))) << i;
  };
  for (std::uint32_t i = 0; i < kN; ++i) {  // the order the slots were filled in
    ASSERT_EQ(t.upsert(record_of(i, 2)), FlowTable::Upserted::Replaced) << i;
  }
  for (std::uint32_t i = kN; i-- > 0;) {  // the reverse
    ASSERT_EQ(t.upsert(record_of(i, 3)), FlowTable::Upserted::Replaced) << i;
  }
  for (std::uint32_t i = 0; i < kN; ++i) {
    expect_bytes(i, 3);
  }
  // The slot after the last one updated holds a removed entry: its key must not be matched.
  ASSERT_TRUE(t.erase(key_of(101)));
  ASSERT_EQ(t.upsert(record_of(100, 4)), FlowTable::Upserted::Replaced);
  EXPECT_EQ(t.upsert(record_of(101, 4)), FlowTable::Upserted::Added);
  EXPECT_EQ(t.size(), kN);
  expect_bytes(100, 4);
  expect_bytes(101, 4);
  // Every third entry removed and added again (after a grace period: into reused slots), then
  // all updated in the first order.
  for (std::uint32_t i = 0; i < kN; i += 3) {
    ASSERT_TRUE(t.erase(key_of(i)));
  }
  rcu::barrier();
  for (std::uint32_t i = kN; i-- > 0;) {
    if (i % 3 == 0) {
      ASSERT_EQ(t.upsert(record_of(i, 5)), FlowTable::Upserted::Added) << i;
    }
  }
  for (std::uint32_t i = 0; i < kN; ++i) {
    ASSERT_EQ(t.upsert(record_of(i, 6)), FlowTable::Upserted::Replaced) << i;
  }
  EXPECT_EQ(t.size(), kN);
  std::vector<FlowRecord> snap;
  t.snapshot(snap);
  ASSERT_EQ(snap.size(), kN);
  std::set<std::uint32_t> ids;
  for (const FlowRecord& r : snap) {
    EXPECT_EQ(r.orig_ctr.bytes, 6U) << r.id;
    ids.insert(r.id);
  }
  EXPECT_EQ(ids.size(), kN);  // each entry once
}

TEST_F(FlowTableTest, SizeTracksAddsReplacesAndRemovals) {
  FlowTable t;
  for (std::uint32_t i = 0; i < 50; ++i) {
    t.upsert(record_of(i));
  }
  EXPECT_EQ(t.size(), 50U);
  for (std::uint32_t i = 0; i < 50; ++i) {
    t.upsert(record_of(i, 5));
  }
  EXPECT_EQ(t.size(), 50U);
  for (std::uint32_t i = 0; i < 20; ++i) {
    t.erase(key_of(i));
  }
  EXPECT_EQ(t.size(), 30U);
  t.begin_resync();
  t.upsert(record_of(40));
  t.end_resync();
  EXPECT_EQ(t.size(), 1U);
}

TEST_F(FlowTableTest, ReaderThreadSeesPublishedRecords) {
  FlowTable t;
  for (std::uint32_t i = 0; i < 100; ++i) {
    t.upsert(record_of(i, i));
  }
  std::size_t seen = 0;
  std::optional<FlowRecord> found;
  std::thread reader([&] {
    const rcu::Thread rcu;
    std::vector<FlowRecord> snap;
    t.snapshot(snap);
    seen = snap.size();
    found = t.find(key_of(42));
  });
  reader.join();
  EXPECT_EQ(seen, 100U);
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(same_record(*found, record_of(42, 42)));
}

TEST_F(FlowTableTest, MemoryFootprintPerFlowAtMost256Bytes) {
  // Record + hash chaining + rcu head, as malloc hands it out.
  const std::size_t node = FlowTable::bytes_per_entry();
  EXPECT_GE(node, sizeof(FlowRecord) + 16);
  // cds_lfht's bucket index is one 16-byte node per bucket, and with node accounting the table
  // grows to as many buckets as entries once entries reach 8x the buckets: at most 16 B a flow.
  const std::size_t bound = node + 16;
  std::printf(
      "FlowTable per-flow footprint: record %zu B, node %zu B (slot in a slab), "
      "node + bucket index <= %zu B\n",
      sizeof(FlowRecord), node, bound);
  EXPECT_LE(bound, 256U);

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::printf("measured footprint skipped: sanitizer allocator\n");
#else
  // Measured: heap growth for the table of a busy host (KERNEL-NOTES: 250k flows).
  constexpr std::uint32_t kFlows = 250'000;
  const std::size_t before = resident_bytes();
  ASSERT_GT(before, 0U) << "cannot read /proc/self/statm";
  std::size_t measured = 0;
  {
    FlowTable t;
    for (std::uint32_t i = 0; i < kFlows; ++i) {
      t.upsert(record_of(i));
    }
    ASSERT_EQ(t.size(), kFlows);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let a lazy resize finish
    const std::size_t after = resident_bytes();
    ASSERT_GT(after, before);
    measured = (after - before + kFlows - 1) / kFlows;
  }
  std::printf("measured at %u flows: %zu B per flow (resident: slabs + bucket tables)\n", kFlows,
              measured);
  EXPECT_LE(measured, 256U);
#endif
}

}  // namespace
}  // namespace flowtop::table
