#include "flowtop/core/flow.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_sctp.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "flowtop/core/hash_seed.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::core {
namespace {

FlowKey seed_probe_key() {
  FlowKey k;
  k.family = Family::V6;
  k.proto = 6;
  k.orig.src = *IpAddr::parse("2001:db8::1");
  k.orig.dst = *IpAddr::parse("2001:db8::2");
  k.orig.sport = 40000;
  k.orig.dport = 443;
  return k;
}

// Run again as a child (see HashSeed.DiffersBetweenProcesses): print the probe key's and an
// address's hash, then leave before any test runs.
const bool kPrintedForParent = [] {
  if (std::getenv("FLOWTOP_PRINT_HASHES") == nullptr) {  // NOLINT(concurrency-mt-unsafe)
    return false;
  }
  std::printf("%zx %zx\n", seed_probe_key().hash(), SeededIpHash{}(*IpAddr::parse("2001:db8::2")));
  std::fflush(stdout);
  std::_Exit(0);
}();

std::string hashes_of_a_new_process() {
  char self[4096] = {};
  if (::readlink("/proc/self/exe", self, sizeof self - 1) <= 0) {
    return "";
  }
  const std::string cmd = std::string("FLOWTOP_PRINT_HASHES=1 '") + self + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return "";
  }
  char buf[128] = {};
  const bool got = std::fgets(buf, sizeof buf, p) != nullptr;
  ::pclose(p);
  return got ? buf : "";
}

// Attackers choose ports and IPv6 addresses: with a fixed hash they could aim every flow at one
// bucket. The seed makes the hashes of one key differ from run to run.
TEST(HashSeed, DiffersBetweenProcesses) {
  (void)kPrintedForParent;
  const std::string a = hashes_of_a_new_process();
  const std::string b = hashes_of_a_new_process();
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_NE(a.substr(0, a.find(' ')), b.substr(0, b.find(' '))) << "flow key hash " << a;
  EXPECT_NE(a.substr(a.find(' ')), b.substr(b.find(' '))) << "address hash " << a;
  EXPECT_EQ(seed_probe_key().hash(), seed_probe_key().hash());  // stable within a process
  EXPECT_EQ(hash_seed(), hash_seed());
}

FlowKey tcp_key() {
  FlowKey k;
  k.family = Family::V4;
  k.proto = static_cast<std::uint8_t>(L4Proto::Tcp);
  k.orig.src = *IpAddr::parse("10.0.0.1");
  k.orig.dst = *IpAddr::parse("10.0.0.2");
  k.orig.sport = 40000;
  k.orig.dport = 443;
  return k;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

// ---- FlowKey ----

TEST(FlowKey, EqualKeysHashEqual) {
  const FlowKey a = tcp_key();
  const FlowKey b = tcp_key();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(FlowKeyHash{}(a), a.hash());
}

TEST(FlowKey, EveryFieldIsPartOfIdentityAndHash) {
  const FlowKey base = tcp_key();
  std::vector<std::function<void(FlowKey&)>> changes = {
      [](FlowKey& k) { k.orig.src = *IpAddr::parse("10.0.0.3"); },
      [](FlowKey& k) { k.orig.dst = *IpAddr::parse("10.0.0.3"); },
      [](FlowKey& k) { k.orig.sport = 40001; },
      [](FlowKey& k) { k.orig.dport = 80; },
      [](FlowKey& k) { k.zone = 1; },
      [](FlowKey& k) { k.family = Family::V6; },
      [](FlowKey& k) { k.proto = static_cast<std::uint8_t>(L4Proto::Udp); },
      [](FlowKey& k) { k.icmp_type = 8; },
      [](FlowKey& k) { k.icmp_code = 1; },
      [](FlowKey& k) { std::swap(k.orig.src, k.orig.dst); },
      [](FlowKey& k) { std::swap(k.orig.sport, k.orig.dport); },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    FlowKey k = base;
    changes[i](k);
    EXPECT_NE(k, base) << "change " << i;
    EXPECT_NE(k.hash(), base.hash()) << "change " << i;
  }
}

TEST(FlowKey, HashesOfManyNearbyKeysAreDistinct) {
  std::unordered_set<std::size_t> hashes;
  std::unordered_set<std::size_t> low_bits;  // the bucket index of a 4096-bucket table
  for (std::uint32_t host = 0; host < 64; ++host) {
    for (std::uint16_t port = 0; port < 256; ++port) {
      FlowKey k = tcp_key();
      k.orig.src = IpAddr::from_v4_be(htonl(0x0a000000U + host));
      k.orig.sport = static_cast<std::uint16_t>(30000 + port);
      hashes.insert(k.hash());
      low_bits.insert(k.hash() & 4095U);
    }
  }
  EXPECT_EQ(hashes.size(), 64U * 256U);
  // 16384 keys into 4096 buckets: a good hash leaves almost no bucket empty (expected ~75).
  EXPECT_GT(low_bits.size(), 3900U);
}

// ---- protocols ----

TEST(Proto, Names) {
  EXPECT_EQ(proto_name(6), "tcp");
  EXPECT_EQ(proto_name(17), "udp");
  EXPECT_EQ(proto_name(136), "udplite");
  EXPECT_EQ(proto_name(132), "sctp");
  EXPECT_EQ(proto_name(33), "dccp");
  EXPECT_EQ(proto_name(1), "icmp");
  EXPECT_EQ(proto_name(58), "icmpv6");
  EXPECT_EQ(proto_name(47), "gre");
  EXPECT_EQ(proto_name(0), "unknown");
  EXPECT_EQ(proto_name(2), "unknown");
  EXPECT_EQ(proto_name(255), "unknown");
}

TEST(Proto, PortsAndIcmp) {
  for (const std::uint8_t p : std::initializer_list<std::uint8_t>{6, 17, 136, 132, 33}) {
    EXPECT_TRUE(proto_has_ports(p)) << int{p};
    EXPECT_FALSE(proto_is_icmp(p)) << int{p};
  }
  for (const std::uint8_t p : std::initializer_list<std::uint8_t>{1, 58, 47, 0, 2, 255}) {
    EXPECT_FALSE(proto_has_ports(p)) << int{p};
  }
  EXPECT_TRUE(proto_is_icmp(1));
  EXPECT_TRUE(proto_is_icmp(58));
  EXPECT_FALSE(proto_is_icmp(47));
}

// ---- states, as the original flowtop names them, in kernel numbering ----

TEST(StateName, TcpMatchesSpecInKernelOrder) {
  const auto names = words(
      "NONE SYN-SENT SYN-RECV ESTABLISHED FIN-WAIT CLOSE-WAIT LAST-ACK TIME-WAIT CLOSE SYN-SENT2");
  ASSERT_EQ(names.size(), static_cast<std::size_t>(TCP_CONNTRACK_MAX));
  for (unsigned s = 0; s < names.size(); ++s) {
    EXPECT_EQ(state_name(6, static_cast<std::uint8_t>(s)), names[s]) << s;
  }
  EXPECT_EQ(state_name(6, TCP_CONNTRACK_ESTABLISHED), "ESTABLISHED");
  EXPECT_EQ(state_name(6, TCP_CONNTRACK_TIME_WAIT), "TIME-WAIT");
  EXPECT_EQ(state_name(6, TCP_CONNTRACK_SYN_SENT2), "SYN-SENT2");
  EXPECT_EQ(state_name(6, TCP_CONNTRACK_MAX), "UNKNOWN");
  EXPECT_EQ(state_name(6, 255), "UNKNOWN");
}

TEST(StateName, SctpMatchesSpecInKernelOrder) {
  const auto names = words(
      "NONE CLOSED COOKIE-WAIT COOKIE-ECHO ESTABLISHED SHUTD-SENT SHUTD-RCVD SHUTD-ACK HB-SENT "
      "HB-ACKED");
  ASSERT_EQ(names.size(), static_cast<std::size_t>(SCTP_CONNTRACK_MAX));
  for (unsigned s = 0; s < names.size(); ++s) {
    EXPECT_EQ(state_name(132, static_cast<std::uint8_t>(s)), names[s]) << s;
  }
  EXPECT_EQ(state_name(132, SCTP_CONNTRACK_COOKIE_ECHOED), "COOKIE-ECHO");
  EXPECT_EQ(state_name(132, SCTP_CONNTRACK_SHUTDOWN_ACK_SENT), "SHUTD-ACK");
  EXPECT_EQ(state_name(132, SCTP_CONNTRACK_MAX), "UNKNOWN");
}

TEST(StateName, DccpMatchesSpec) {
  // Kernel numbering (net/netfilter/nf_conntrack_proto_dccp.c): NONE=0 ... INVALID=9.
  const auto names =
      words("NONE REQUEST RESPOND PARTOPEN OPEN CLOSE-REQ CLOSING TIME-WAIT IGNORE INVALID");
  ASSERT_EQ(names.size(), 10U);
  for (unsigned s = 0; s < names.size(); ++s) {
    EXPECT_EQ(state_name(33, static_cast<std::uint8_t>(s)), names[s]) << s;
  }
  EXPECT_EQ(state_name(33, 10), "UNKNOWN");
}

TEST(StateName, BlankForStatelessProtocols) {
  for (const std::uint8_t p : std::initializer_list<std::uint8_t>{17, 136, 1, 58, 47, 0, 99}) {
    EXPECT_TRUE(state_name(p, 0).empty()) << int{p};
    EXPECT_TRUE(state_name(p, 3).empty()) << int{p};
  }
}

// ---- status bits, by the kernel's bit numbers ----

std::vector<std::string_view> status_names(std::uint32_t status) {
  std::vector<std::string_view> out;
  for_each_status_name(status, [&out](std::string_view n) { out.push_back(n); });
  return out;
}

TEST(StatusName, KernelBitsHaveTheirNames) {
  EXPECT_EQ(status_bit_name(IPS_EXPECTED_BIT), "EXPECTED");
  EXPECT_EQ(status_bit_name(IPS_SEEN_REPLY_BIT), "SEEN_REPLY");
  EXPECT_EQ(status_bit_name(IPS_ASSURED_BIT), "ASSURED");
  EXPECT_EQ(status_bit_name(IPS_CONFIRMED_BIT), "CONFIRMED");
  EXPECT_EQ(status_bit_name(IPS_SRC_NAT_BIT), "SRC_NAT");
  EXPECT_EQ(status_bit_name(IPS_DST_NAT_BIT), "DST_NAT");
  EXPECT_EQ(status_bit_name(IPS_SEQ_ADJUST_BIT), "SEQ_ADJUST");
  EXPECT_EQ(status_bit_name(IPS_SRC_NAT_DONE_BIT), "SRC_NAT_DONE");
  EXPECT_EQ(status_bit_name(IPS_DST_NAT_DONE_BIT), "DST_NAT_DONE");
  EXPECT_EQ(status_bit_name(IPS_DYING_BIT), "DYING");
  EXPECT_EQ(status_bit_name(IPS_FIXED_TIMEOUT_BIT), "FIXED_TIMEOUT");
  EXPECT_EQ(status_bit_name(IPS_TEMPLATE_BIT), "TEMPLATE");
  EXPECT_EQ(status_bit_name(12), "NAT_CLASH");  // IPS_NAT_CLASH_BIT (was IPS_UNTRACKED_BIT)
  EXPECT_EQ(status_bit_name(IPS_HELPER_BIT), "HELPER");
  EXPECT_EQ(status_bit_name(IPS_OFFLOAD_BIT), "OFFLOAD");
  EXPECT_EQ(status_bit_name(IPS_HW_OFFLOAD_BIT), "HW_OFFLOAD");
  EXPECT_EQ(status_bit_name(__IPS_MAX_BIT), "");
  EXPECT_EQ(status_bit_name(31), "");
  EXPECT_EQ(status_bit_name(1000), "");
}

TEST(StatusName, ForEachListsSetBitsInBitOrder) {
  EXPECT_EQ(status_names(IPS_ASSURED | IPS_SEEN_REPLY | IPS_CONFIRMED),
            (std::vector<std::string_view>{"SEEN_REPLY", "ASSURED", "CONFIRMED"}));
  EXPECT_TRUE(status_names(0).empty());
  // Unnamed high bits are skipped.
  EXPECT_EQ(status_names(IPS_DYING | (1U << 20) | (1U << 31)),
            (std::vector<std::string_view>{"DYING"}));
  EXPECT_EQ(status_names(0xffffU).size(), 16U);
}

// ---- merge_sample ----

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kWindow = kSecond;

FlowRecord sample(std::uint32_t id, std::int64_t at_ns, Counters orig, Counters reply) {
  FlowRecord r;
  r.key = tcp_key();
  r.id = id;
  r.flags = FlowRecord::kHasCounters;
  r.sample_ns = at_ns;
  r.orig_ctr = orig;
  r.reply_ctr = reply;
  return r;
}

TEST(MergeSample, FirstSampleOpensAWindow) {
  FlowRecord r = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, r, kWindow);
  EXPECT_EQ(r.rate_base_ns, 5 * kSecond);
  EXPECT_EQ(rate_base(r, false), (Counters{10, 1000}));
  EXPECT_EQ(rate_base(r, true), (Counters{20, 4000}));
  EXPECT_FALSE(r.has(FlowRecord::kHasRates));
  const Rates rates = rates_of(r);
  EXPECT_EQ(rates.orig_bytes, 0.0);
  EXPECT_EQ(rates.reply_bytes, 0.0);
  EXPECT_EQ(rates.orig_packets, 0.0);
  EXPECT_EQ(rates.reply_packets, 0.0);
}

// ---- first-sight and final rates ----

TEST(MergeSample, FirstSightWithTimestampGetsTheRateOfItsLifetime) {
  FlowRecord r = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  r.flags |= FlowRecord::kHasTimestamp;
  r.start_ns = 1'780'000'000'000'000'000ULL;
  // Received half a second after it started: younger than one interval.
  merge_sample(nullptr, r, MergeContext{kWindow, kWindow, 1'780'000'000'500'000'000LL});
  ASSERT_TRUE(rates_known(r));
  EXPECT_FLOAT_EQ(r.rate_orig_bytes, 2000.0F);
  EXPECT_FLOAT_EQ(r.rate_reply_bytes, 8000.0F);
  EXPECT_FLOAT_EQ(r.rate_reply_packets, 40.0F);
  // Younger than one window: the window opens at its start, with zero counters.
  EXPECT_EQ(r.rate_base_ns, 5 * kSecond - kSecond / 2);
  EXPECT_EQ(rate_base(r, false), (Counters{}));
  EXPECT_EQ(counter_state(r), CounterState::Ok);
}

TEST(MergeSample, FirstSightOfAnOldFlowOpensTheWindowAtTheSample) {
  FlowRecord r = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  r.flags |= FlowRecord::kHasTimestamp;
  r.start_ns = 1'780'000'000'000'000'000ULL;
  // Received 10 s after it started: its lifetime rate, and the next window starts here.
  merge_sample(nullptr, r, MergeContext{kWindow, kWindow, 1'780'000'010'000'000'000LL});
  EXPECT_FLOAT_EQ(r.rate_reply_bytes, 400.0F);
  EXPECT_EQ(r.rate_base_ns, 5 * kSecond);
  EXPECT_EQ(rate_base(r, true), (Counters{20, 4000}));
}

// A short flow completed by a GET after it moved all its bytes, then destroyed within the same
// interval: the frame after its end still shows those bytes as a rate (they moved in that
// interval), not 0.
TEST(MergeSample, AShortFlowSampledAfterItsBytesEndsWithThemInItsFinalRate) {
  FlowRecord got = sample(7, 5 * kSecond, {10, 1000}, {20, 100'000});
  got.flags |= FlowRecord::kHasTimestamp;
  got.start_ns = 1'780'000'000'000'000'000ULL;
  const MergeContext at_get{kWindow, kWindow, 1'780'000'000'100'000'000LL};  // 100 ms old
  merge_sample(nullptr, got, at_get);
  FlowRecord end = sample(7, 5 * kSecond + kSecond / 5, {10, 1000}, {20, 100'000});
  end.flags |= FlowRecord::kHasTimestamp;
  end.start_ns = got.start_ns;
  end.life |= FlowRecord::kEnded;
  end.stop_ns = got.start_ns + 300'000'000;
  merge_sample(&got, end, MergeContext{kWindow, kWindow, 1'780'000'000'300'000'000LL});
  ASSERT_TRUE(rates_known(end));
  // 100,000 bytes over its 0.3 s, spread over at least one window (kWindow).
  EXPECT_FLOAT_EQ(end.rate_reply_bytes,
                  static_cast<float>(100'000.0 / (static_cast<double>(kWindow) / 1e9)));
  EXPECT_GT(end.rate_orig_bytes, 0.0F);
}

TEST(MergeSample, FirstSightWithoutTimestampIsPendingNotZero) {
  FlowRecord r = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, r, MergeContext{kWindow, kWindow, 1'780'000'000'500'000'000LL});
  EXPECT_FALSE(rates_known(r));
  EXPECT_EQ(counter_state(r), CounterState::Pending);
}

TEST(CounterState, EventOnlyIsPendingAndAFullViewWithoutCountersIsOff) {
  FlowRecord r;
  r.key = tcp_key();
  EXPECT_EQ(counter_state(r), CounterState::Pending) << "a NEW event carries no counters";
  r.life = FlowRecord::kSampled;
  EXPECT_EQ(counter_state(r), CounterState::Off);
  EXPECT_EQ(counter_state_name(CounterState::Off), "off");
}

TEST(MergeSample, EndedFlowCountsItsBytesSinceTheLastSampleOverAtLeastAnInterval) {
  FlowRecord prev = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, prev, kWindow);
  FlowRecord end = sample(7, 5 * kSecond + kSecond / 4, {15, 1500}, {40, 104'000});
  end.life = FlowRecord::kEnded | FlowRecord::kSampled;
  end.stop_ns = 1'780'000'000'250'000'000ULL;
  merge_sample(&prev, end, MergeContext{kWindow * 9 / 10, kWindow, 0});
  ASSERT_TRUE(rates_known(end));
  // 100,000 bytes in a quarter second, spread over one interval: they count in this interval.
  EXPECT_FLOAT_EQ(end.rate_reply_bytes, 100'000.0F);
  EXPECT_FLOAT_EQ(end.rate_orig_bytes, 500.0F);
  EXPECT_EQ(end.stop_ns, 1'780'000'000'250'000'000ULL);
  EXPECT_EQ(end.reply_ctr.bytes, 104'000U) << "the final counters";
}

TEST(MergeSample, FlowNeverSampledThatEndedCountsAllItsBytes) {
  FlowRecord end = sample(9, 5 * kSecond, {6, 600}, {8, 100'000});
  end.flags |= FlowRecord::kHasTimestamp;
  end.life = FlowRecord::kEnded | FlowRecord::kSampled;
  end.start_ns = 1'780'000'000'000'000'000ULL;
  end.stop_ns = 1'780'000'002'000'000'000ULL;  // lived 2 s: longer than the interval
  merge_sample(nullptr, end, MergeContext{kWindow * 9 / 10, kWindow, 0});
  ASSERT_TRUE(rates_known(end));
  EXPECT_FLOAT_EQ(end.rate_reply_bytes, 50'000.0F);
  EXPECT_EQ(duration_ns(end), std::optional<std::uint64_t>(2 * kSecond));
}

TEST(MergeSample, StaleSampleAfterTheEndKeepsTheEndedRecord) {
  FlowRecord end = sample(9, 5 * kSecond, {6, 600}, {8, 100'000});
  end.life = FlowRecord::kEnded | FlowRecord::kSampled;
  merge_sample(nullptr, end, kWindow);
  FlowRecord stale = sample(9, 6 * kSecond, {5, 500}, {7, 90'000});
  merge_sample(&end, stale, kWindow);
  EXPECT_TRUE(stale.ended());
  EXPECT_EQ(stale.reply_ctr.bytes, 100'000U);
}

TEST(MergeSample, WindowNotReachedKeepsOldRatesAndBase) {
  FlowRecord prev = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, prev, kWindow);
  prev.rate_orig_bytes = 123.0F;  // as if an earlier window had closed
  prev.rate_reply_packets = 4.0F;
  prev.flags |= FlowRecord::kHasRates;

  FlowRecord next = sample(7, 5 * kSecond + kWindow - 1, {15, 1500}, {25, 5000});
  merge_sample(&prev, next, kWindow);
  EXPECT_EQ(next.orig_ctr, (Counters{15, 1500}));  // the fresh counters are shown
  EXPECT_EQ(next.rate_base_ns, 5 * kSecond);
  EXPECT_EQ(rate_base(next, false), (Counters{10, 1000}));
  EXPECT_EQ(rate_base(next, true), (Counters{20, 4000}));
  EXPECT_EQ(next.rate_orig_bytes, 123.0F);
  EXPECT_EQ(next.rate_reply_packets, 4.0F);
  EXPECT_TRUE(next.has(FlowRecord::kHasRates));
}

TEST(MergeSample, ClosingAWindowComputesRatesPerSecond) {
  FlowRecord prev = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, prev, kWindow);
  FlowRecord next = sample(7, 7 * kSecond, {30, 9000}, {60, 12000});  // 2 s later
  merge_sample(&prev, next, kWindow);
  ASSERT_TRUE(next.has(FlowRecord::kHasRates));
  EXPECT_EQ(next.rate_orig_bytes, 4000.0F);   // (9000 - 1000) / 2
  EXPECT_EQ(next.rate_orig_packets, 10.0F);   // (30 - 10) / 2
  EXPECT_EQ(next.rate_reply_bytes, 4000.0F);  // (12000 - 4000) / 2
  EXPECT_EQ(next.rate_reply_packets, 20.0F);  // (60 - 20) / 2
  const Rates rates = rates_of(next);
  EXPECT_EQ(rates.orig_bytes, 4000.0);
  EXPECT_EQ(rates.reply_packets, 20.0);
  // The next window starts at this sample.
  EXPECT_EQ(next.rate_base_ns, 7 * kSecond);
  EXPECT_EQ(rate_base(next, false), (Counters{30, 9000}));
  EXPECT_EQ(rate_base(next, true), (Counters{60, 12000}));

  // Exactly one window later closes again, from the new base.
  FlowRecord third = sample(7, 8 * kSecond, {31, 9500}, {60, 12000});
  merge_sample(&next, third, kWindow);
  EXPECT_EQ(third.rate_orig_bytes, 500.0F);
  EXPECT_EQ(third.rate_orig_packets, 1.0F);
  EXPECT_EQ(third.rate_reply_bytes, 0.0F);
  EXPECT_EQ(third.rate_base_ns, 8 * kSecond);
}

TEST(MergeSample, ShortSamplesAccumulateIntoOneWindow) {
  FlowRecord r = sample(7, 0, {0, 0}, {0, 0});
  merge_sample(nullptr, r, kWindow);
  // Samples every 250 ms: the window closes on the fourth, over the whole second.
  for (int i = 1; i <= 4; ++i) {
    FlowRecord next = sample(7, i * kWindow / 4, {0, 250U * static_cast<unsigned>(i)}, {0, 0});
    merge_sample(&r, next, kWindow);
    EXPECT_EQ(next.has(FlowRecord::kHasRates), i == 4) << i;
    r = next;
  }
  EXPECT_EQ(r.rate_orig_bytes, 1000.0F);
}

TEST(MergeSample, DifferentIdStartsAfresh) {
  FlowRecord prev = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, prev, kWindow);
  FlowRecord closed = sample(7, 7 * kSecond, {30, 9000}, {60, 12000});
  merge_sample(&prev, closed, kWindow);
  closed.flags |= FlowRecord::kHasTimestamp;
  closed.start_ns = 42;

  // The tuple was reused by a new kernel entry: nothing carries over.
  FlowRecord next = sample(8, 8 * kSecond, {1, 60}, {0, 0});
  merge_sample(&closed, next, kWindow);
  EXPECT_EQ(next.orig_ctr, (Counters{1, 60}));
  EXPECT_EQ(next.rate_base_ns, 8 * kSecond);
  EXPECT_EQ(rate_base(next, false), (Counters{1, 60}));
  EXPECT_FALSE(next.has(FlowRecord::kHasRates));
  EXPECT_EQ(next.rate_orig_bytes, 0.0F);
  EXPECT_FALSE(next.has(FlowRecord::kHasTimestamp));
  EXPECT_EQ(next.start_ns, 0U);

  // Even when the new entry's counters are lower (they are not "older").
  FlowRecord lower = sample(9, 9 * kSecond, {0, 0}, {0, 0});
  merge_sample(&closed, lower, kWindow);
  EXPECT_EQ(lower.orig_ctr, (Counters{0, 0}));
  EXPECT_EQ(lower.sample_ns, 9 * kSecond);
}

TEST(MergeSample, OlderSampleNeverMovesCountersBackwards) {
  FlowRecord prev = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, prev, kWindow);
  FlowRecord newer = sample(7, 6 * kSecond, {30, 9000}, {60, 12000});
  merge_sample(&prev, newer, kWindow);
  const float rate = newer.rate_orig_bytes;
  ASSERT_GT(rate, 0.0F);

  // A late event with counters from before `newer` (in any one counter).
  for (int which = 0; which < 4; ++which) {
    FlowRecord late = sample(7, 6 * kSecond + 1, {30, 9000}, {60, 12000});
    Counters* c[] = {&late.orig_ctr, &late.orig_ctr, &late.reply_ctr, &late.reply_ctr};
    if (which % 2 == 0) {
      c[which]->bytes -= 1;
    } else {
      c[which]->packets -= 1;
    }
    merge_sample(&newer, late, kWindow);
    EXPECT_EQ(late.orig_ctr, newer.orig_ctr) << which;
    EXPECT_EQ(late.reply_ctr, newer.reply_ctr) << which;
    EXPECT_EQ(late.sample_ns, newer.sample_ns) << which;
    EXPECT_EQ(late.rate_orig_bytes, rate) << which;
    EXPECT_EQ(late.rate_base_ns, newer.rate_base_ns) << which;
  }
}

TEST(MergeSample, SampleWithoutCountersKeepsPrevs) {
  FlowRecord prev = sample(7, 5 * kSecond, {10, 1000}, {20, 4000});
  merge_sample(nullptr, prev, kWindow);
  FlowRecord closed = sample(7, 7 * kSecond, {30, 9000}, {60, 12000});
  merge_sample(&prev, closed, kWindow);
  closed.flags |= FlowRecord::kHasTimestamp;
  closed.start_ns = 1234;

  // An event without the accounting or timestamp extensions (e.g. a state change).
  FlowRecord event;
  event.key = closed.key;
  event.id = 7;
  event.state = 4;
  event.flags = FlowRecord::kHasState;
  event.sample_ns = 9 * kSecond;
  merge_sample(&closed, event, kWindow);
  EXPECT_TRUE(event.has(FlowRecord::kHasCounters));
  EXPECT_TRUE(event.has(FlowRecord::kHasState));
  EXPECT_EQ(event.state, 4);
  EXPECT_EQ(event.orig_ctr, closed.orig_ctr);
  EXPECT_EQ(event.reply_ctr, closed.reply_ctr);
  EXPECT_EQ(event.sample_ns, closed.sample_ns);
  EXPECT_TRUE(event.has(FlowRecord::kHasRates));
  EXPECT_EQ(event.rate_orig_bytes, closed.rate_orig_bytes);
  EXPECT_EQ(event.rate_base_ns, closed.rate_base_ns);
  EXPECT_EQ(rate_base(event, false), rate_base(closed, false));
  EXPECT_TRUE(event.has(FlowRecord::kHasTimestamp));
  EXPECT_EQ(event.start_ns, 1234U);
}

TEST(MergeSample, NoCountersEverMeansNoRates) {
  FlowRecord a;
  a.id = 3;
  merge_sample(nullptr, a, kWindow);
  FlowRecord b;
  b.id = 3;
  b.sample_ns = 10 * kSecond;
  merge_sample(&a, b, kWindow);
  EXPECT_FALSE(b.has(FlowRecord::kHasCounters));
  EXPECT_FALSE(b.has(FlowRecord::kHasRates));
  EXPECT_EQ(rates_of(b).orig_bytes, 0.0);
}

TEST(MergeSample, CountersAppearingLaterOpenTheFirstWindow) {
  // Accounting turned on after the first sight: the first sample with counters opens the window.
  FlowRecord a;
  a.id = 3;
  merge_sample(nullptr, a, kWindow);
  FlowRecord b = sample(3, 10 * kSecond, {5, 500}, {0, 0});
  merge_sample(&a, b, kWindow);
  EXPECT_EQ(b.rate_base_ns, 10 * kSecond);
  EXPECT_EQ(rate_base(b, false), (Counters{5, 500}));
  EXPECT_FALSE(b.has(FlowRecord::kHasRates));
}

}  // namespace
}  // namespace flowtop::core

namespace flowtop::core {
namespace {

// A flow sampled once a second on an injected clock (the samples' steady times): each step()
// adds the bytes sent in that second and merges the sample as the collector does, with the
// moving average's time constant of the window chosen at that moment.
class SampledFlow {
 public:
  static constexpr std::int64_t kSec = 1'000'000'000;

  SampledFlow() {
    rec_.key.proto = 6;
    rec_.id = 9;
    rec_.flags = FlowRecord::kHasCounters;
    rec_.sample_ns = kSec;
    merge_sample(nullptr, rec_, context(RateWindow::Off));
  }

  // `seconds` seconds at `bytes_per_second`, averaged over `window`.
  void run(int seconds, std::uint64_t bytes_per_second, RateWindow window) {
    for (int i = 0; i < seconds; ++i) {
      bytes_ += bytes_per_second;
      FlowRecord next = rec_;
      next.flags = FlowRecord::kHasCounters;
      next.sample_ns = rec_.sample_ns + kSec;
      next.orig_ctr = {bytes_ / 100, bytes_};
      next.reply_ctr = {bytes_ / 1000, bytes_ / 10};
      merge_sample(&rec_, next, context(window));
      rec_ = next;
    }
  }

  [[nodiscard]] const FlowRecord& rec() const { return rec_; }
  [[nodiscard]] double avg() const { return avg_rates_of(rec_).orig_bytes; }

 private:
  static MergeContext context(RateWindow w) {
    return {kSec * 9 / 10, kSec, 0, std::int64_t{rate_window_seconds(w)} * kSec};
  }

  FlowRecord rec_;
  std::uint64_t bytes_ = 0;
};

TEST(RateWindows, TheFirstRateSeedsTheAverage) {
  SampledFlow f;
  EXPECT_FALSE(rates_known(f.rec())) << "no rate yet: shown as -, never 0";
  f.run(1, 3000, RateWindow::S40);
  ASSERT_TRUE(rates_known(f.rec()));
  EXPECT_DOUBLE_EQ(f.avg(), 3000.0) << "not 3000 * (1 - e^(-1/40)) from a zero start";
  EXPECT_DOUBLE_EQ(avg_rates_of(f.rec()).reply_bytes, 300.0);
}

TEST(RateWindows, AConstantRateFlowConvergesToItsRate) {
  SampledFlow f;
  f.run(5, 20'000, RateWindow::S10);  // seeds at 20 kB/s
  f.run(10, 5000, RateWindow::S10);   // one window at 5 kB/s: 1 - 1/e of the way
  EXPECT_NEAR(f.avg(), 5000.0 + 15'000.0 * std::exp(-1.0), 1.0);
  f.run(50, 5000, RateWindow::S10);  // six windows: e^-6 of the gap is left
  EXPECT_NEAR(f.avg(), 5000.0, 40.0);
  EXPECT_DOUBLE_EQ(rates_of(f.rec()).orig_bytes, 5000.0) << "the last interval's rate stays";
}

TEST(RateWindows, ABurstDecaysWithTheWindowsTimeConstant) {
  for (const RateWindow w : {RateWindow::S2, RateWindow::S10, RateWindow::S40}) {
    const int tau = rate_window_seconds(w);
    SampledFlow f;
    f.run(30, 10'000, w);
    f.run(tau, 0, w);  // silent for one window: 1/e of the burst is left
    EXPECT_NEAR(f.avg(), 10'000.0 * std::exp(-1.0), 1.0) << tau;
    EXPECT_EQ(rates_of(f.rec()).orig_bytes, 0.0) << "the last second was silent";
  }
}

TEST(RateWindows, OffIsTheLastIntervalsRate) {
  SampledFlow f;
  f.run(10, 10'000, RateWindow::Off);
  f.run(1, 0, RateWindow::Off);
  EXPECT_EQ(f.avg(), 0.0);
  f.run(1, 7000, RateWindow::Off);
  EXPECT_DOUBLE_EQ(f.avg(), 7000.0);
  EXPECT_EQ(f.avg(), rates_of(f.rec()).orig_bytes);
}

TEST(RateWindows, SwitchingWindowsChangesTheTimeConstantFromThenOn) {
  SampledFlow f;
  f.run(20, 10'000, RateWindow::S40);
  f.run(5, 0, RateWindow::S40);
  const double slow = 10'000.0 * std::exp(-5.0 / 40);
  EXPECT_NEAR(f.avg(), slow, 1.0) << "40 s: a slow decay";
  f.run(4, 0, RateWindow::S2);  // `w` to 2 s: the same average, now decaying fast
  EXPECT_NEAR(f.avg(), slow * std::exp(-4.0 / 2), 1.0);
  f.run(3, 6000, RateWindow::Off);  // off: the last rate at once
  EXPECT_DOUBLE_EQ(f.avg(), 6000.0);
}

TEST(RateWindows, UseAvgRatesPutsTheAverageWhereRatesAreRead) {
  SampledFlow f;
  f.run(10, 10'000, RateWindow::S10);
  f.run(2, 0, RateWindow::S10);
  FlowRecord r = f.rec();
  use_avg_rates(r);
  EXPECT_EQ(rates_of(r).orig_bytes, f.avg());
  EXPECT_EQ(rates_of(r).reply_bytes, avg_rates_of(f.rec()).reply_bytes);
  EXPECT_EQ(rates_of(r).orig_packets, rates_of(f.rec()).orig_packets);
}

TEST(RateWindows, TheWindowBaseKeepsPacketsPast32Bits) {
  // The base keeps its packets' low 32 bits (room for the average in 200 bytes): rebuilt against
  // the record's counters, a flow past 2^32 packets still gets its packet rate.
  FlowRecord r;
  const std::uint64_t big = (std::uint64_t{1} << 32) + 5;
  r.orig_ctr = {big + 1000, 1};
  r.reply_ctr = {7, 2};
  set_rate_base(r, {big, 1}, {3, 2});
  EXPECT_EQ(rate_base(r, false), (Counters{big, 1}));
  EXPECT_EQ(rate_base(r, true), (Counters{3, 2}));
  r.orig_ctr.packets = (std::uint64_t{1} << 33) + 2;  // the low 32 bits wrapped in the window
  set_rate_base(r, {(std::uint64_t{1} << 33) - 10, 1}, {3, 2});
  EXPECT_EQ(rate_base(r, false).packets, (std::uint64_t{1} << 33) - 10);
}

TEST(RateWindows, ParseAndCycle) {
  EXPECT_EQ(parse_rate_window("2"), RateWindow::S2);
  EXPECT_EQ(parse_rate_window("10"), RateWindow::S10);
  EXPECT_EQ(parse_rate_window("40"), RateWindow::S40);
  EXPECT_EQ(parse_rate_window("off"), RateWindow::Off);
  for (const char* bad : {"5", "", "10s", "x", "-2"}) {
    EXPECT_FALSE(parse_rate_window(bad).has_value()) << bad;
  }
  RateWindow w = RateWindow::Off;
  std::string seen;
  for (int i = 0; i < 4; ++i) {
    w = next_rate_window(w);
    seen += std::to_string(rate_window_seconds(w)) + " ";
  }
  EXPECT_EQ(seen, "2 10 40 0 ");
}

}  // namespace
}  // namespace flowtop::core
