// One writer and several readers on a FlowTable: readers must never see a torn record.
// Every record carries a checksum over its other fields (in start_ns); readers verify it on every
// record they copy out. Run under TSan by the concurrency job.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/ip_addr.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/table/flow_table.hpp"

namespace flowtop::table {
namespace {

using core::FlowKey;
using core::FlowRecord;

constexpr std::uint32_t kFlows = 2048;
constexpr int kReaders = 3;
constexpr auto kWriterTime = std::chrono::milliseconds(1000);

std::uint64_t fold(std::uint64_t h, std::uint64_t v) {
  h ^= v;
  h *= 0x100000001b3ULL;
  h ^= h >> 29;
  return h;
}

std::uint64_t fold_addr(std::uint64_t h, const core::IpAddr& a) {
  for (auto b : a.bytes) {
    h = fold(h, b);
  }
  return h;
}

std::uint64_t fold_float(std::uint64_t h, float f) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof bits);
  return fold(h, bits);
}

// Over every field but start_ns, which holds it.
std::uint64_t checksum(const FlowRecord& r) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = fold_addr(h, r.key.orig.src);
  h = fold_addr(h, r.key.orig.dst);
  h = fold(h, r.key.orig.sport);
  h = fold(h, r.key.orig.dport);
  h = fold(h, r.key.zone);
  h = fold(h, static_cast<std::uint64_t>(r.key.family));
  h = fold(h, r.key.proto);
  h = fold(h, r.key.icmp_type);
  h = fold(h, r.key.icmp_code);
  h = fold_addr(h, r.reply.src);
  h = fold_addr(h, r.reply.dst);
  h = fold(h, r.reply.sport);
  h = fold(h, r.reply.dport);
  h = fold(h, r.state);
  h = fold(h, r.flags);
  h = fold(h, r.id);
  h = fold(h, r.status);
  h = fold(h, r.life);
  h = fold(h, r.mark);
  h = fold(h, r.timeout);
  h = fold(h, r.orig_ctr.packets);
  h = fold(h, r.orig_ctr.bytes);
  h = fold(h, r.reply_ctr.packets);
  h = fold(h, r.reply_ctr.bytes);
  h = fold(h, static_cast<std::uint64_t>(r.sample_ns));
  h = fold(h, static_cast<std::uint64_t>(r.rate_base_ns));
  h = fold(h, r.rate_base_orig_packets);
  h = fold(h, r.rate_base_orig_bytes);
  h = fold(h, r.rate_base_reply_packets);
  h = fold(h, r.rate_base_reply_bytes);
  h = fold_float(h, r.rate_orig_bytes);
  h = fold_float(h, r.rate_reply_bytes);
  h = fold_float(h, r.rate_orig_packets);
  h = fold_float(h, r.rate_reply_packets);
  return h;
}

void seal(FlowRecord& r) {
  r.start_ns = checksum(r);
}
bool intact(const FlowRecord& r) {
  return r.start_ns == checksum(r);
}

FlowKey key_of(std::uint32_t flow) {
  FlowKey k;
  k.proto = static_cast<std::uint8_t>(core::L4Proto::Udp);
  k.orig.src = core::IpAddr::from_v4_be(htonl(0x0a010000U | flow));
  k.orig.dst = core::IpAddr::from_v4_be(htonl(0x0a020000U | (flow * 7 % 65536)));
  k.orig.sport = static_cast<std::uint16_t>(20000 + flow);
  k.orig.dport = 53;
  return k;
}

// A record whose every field depends on (flow, seq), sealed.
FlowRecord record_of(std::uint32_t flow, std::uint64_t seq) {
  FlowRecord r;
  r.key = key_of(flow);
  r.reply = {r.key.orig.dst, r.key.orig.src, r.key.orig.dport, r.key.orig.sport};
  r.id = flow * 1000 + static_cast<std::uint32_t>(seq % 1000);
  r.status = static_cast<std::uint16_t>(seq * 2654435761U);
  r.life = static_cast<std::uint8_t>(seq % 2);  // kSampled or not: never ended (swept)
  r.mark = static_cast<std::uint32_t>(seq >> 3);
  r.timeout = static_cast<std::uint32_t>(seq % 120);
  r.state = static_cast<std::uint8_t>(seq % 11);
  r.flags = FlowRecord::kHasCounters;
  r.orig_ctr = {seq, seq * 1500};
  r.reply_ctr = {seq * 2, seq * 3000};
  r.sample_ns = static_cast<std::int64_t>(seq * 1'000'000);
  r.rate_base_ns = static_cast<std::int64_t>(seq * 999'999);
  core::set_rate_base(r, {seq / 2, seq * 700}, {seq / 3, seq * 900});
  r.rate_orig_bytes = static_cast<float>(seq) * 1.5F;
  r.rate_reply_bytes = static_cast<float>(seq) * 2.5F;
  r.rate_orig_packets = static_cast<float>(seq) * 0.25F;
  r.rate_reply_packets = static_cast<float>(seq) * 0.75F;
  seal(r);
  return r;
}

struct ReaderResult {
  std::uint64_t iterations = 0;
  std::uint64_t records = 0;
  std::uint64_t torn = 0;
  std::uint64_t wrong_key = 0;
};

TEST(FlowTableStress, ReadersNeverSeeTornRecordsWhileOneWriterChurns) {
  const rcu::Thread writer_registration;  // this thread is the writer
  FlowTable table(64);                    // small start: resizes run while readers read
  std::atomic<bool> writer_done{false};
  std::atomic<int> readers_ready{0};
  std::atomic<std::uint64_t> writer_ops{0};
  std::atomic<std::uint64_t> merge_torn{0};
  std::vector<ReaderResult> results(kReaders);

  std::vector<std::thread> readers;
  readers.reserve(kReaders);
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      const rcu::Thread rcu;
      std::mt19937 rng(static_cast<std::uint32_t>(r) + 1);
      ReaderResult& res = results[static_cast<std::size_t>(r)];
      std::vector<FlowRecord> snap;
      readers_ready.fetch_add(1);
      auto check = [&res](const FlowRecord& rec) {
        ++res.records;
        if (!intact(rec)) {
          ++res.torn;
        }
      };
      do {
        switch (res.iterations % 3) {
          case 0:
            table.snapshot(snap);
            for (const auto& rec : snap) {
              check(rec);
            }
            break;
          case 1: table.for_each(check); break;
          default:
            for (int i = 0; i < 64; ++i) {
              const auto flow = static_cast<std::uint32_t>(rng() % kFlows);
              if (auto rec = table.find(key_of(flow))) {
                check(*rec);
                if (!(rec->key == key_of(flow))) {
                  ++res.wrong_key;
                }
              }
            }
            break;
        }
        ++res.iterations;
      } while (!writer_done.load(std::memory_order_acquire));
    });
  }

  {
    while (readers_ready.load() < kReaders) {
      std::this_thread::yield();
    }
    std::mt19937 rng(12345);
    std::uint64_t seq = 1;
    const auto merge = [&merge_torn](const FlowRecord* prev, FlowRecord& next) {
      if (prev != nullptr) {
        if (!intact(*prev)) {
          merge_torn.fetch_add(1);
        }
        next.orig_ctr.packets += prev->orig_ctr.packets % 7;  // carry something over
        seal(next);
      }
    };
    const auto deadline = std::chrono::steady_clock::now() + kWriterTime;
    std::uint64_t ops = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      for (int batch = 0; batch < 256; ++batch, ++ops) {
        const auto flow = static_cast<std::uint32_t>(rng() % kFlows);
        const auto dice = static_cast<unsigned>(rng() % 100);
        if (dice < 70) {
          table.upsert(record_of(flow, seq++), merge);
        } else if (dice < 80) {
          table.erase(key_of(flow));
        } else if (dice < 90) {
          // A stale DESTROY: the id may or may not match.
          table.erase(key_of(flow), static_cast<std::uint32_t>(flow * 1000 + rng() % 1000));
        } else if (dice < 99) {
          table.upsert(record_of(flow, seq++));
        } else {
          // A dump that sees about half the flows.
          table.begin_resync();
          for (std::uint32_t f = rng() % 2; f < kFlows; f += 2) {
            table.upsert(record_of(f, seq++), merge);
          }
          table.end_resync();
        }
      }
    }
    writer_ops.store(ops);
    writer_done.store(true, std::memory_order_release);
    for (auto& t : readers) {
      t.join();
    }
  }

  EXPECT_GT(writer_ops.load(), 0U);
  EXPECT_EQ(merge_torn.load(), 0U);
  for (int r = 0; r < kReaders; ++r) {
    const auto& res = results[static_cast<std::size_t>(r)];
    EXPECT_GT(res.iterations, 3U) << "reader " << r;
    EXPECT_GT(res.records, 0U) << "reader " << r;
    EXPECT_EQ(res.torn, 0U) << "reader " << r;
    EXPECT_EQ(res.wrong_key, 0U) << "reader " << r;
    std::printf("reader %d: %llu iterations, %llu records checked\n", r,
                static_cast<unsigned long long>(res.iterations),
                static_cast<unsigned long long>(res.records));
  }
  std::printf("writer: %llu operations\n", static_cast<unsigned long long>(writer_ops.load()));

  // The table is consistent afterwards: every entry intact, size matches.
  std::vector<FlowRecord> snap;
  table.snapshot(snap);
  EXPECT_EQ(snap.size(), table.size());
  for (const auto& rec : snap) {
    EXPECT_TRUE(intact(rec));
  }
}

}  // namespace
}  // namespace flowtop::table
