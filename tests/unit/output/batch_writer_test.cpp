#include "flowtop/output/batch_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

namespace flowtop::output {
namespace {

using core::FlowRecord;

constexpr std::int64_t kSecond = 1'000'000'000;
// 2026-11-27 12:37:50 UTC
constexpr std::int64_t kNow = 1'795'783'070 * kSecond;

core::IpAddr ip(const char* text) {
  return *core::IpAddr::parse(text);
}

FlowRecord tcp_v4() {
  FlowRecord r;
  r.key.orig = {ip("10.0.0.2"), ip("93.184.216.34"), 51234, 443};
  r.key.family = core::Family::V4;
  r.key.proto = 6;
  r.reply = {ip("93.184.216.34"), ip("192.0.2.1"), 443, 51234};
  r.state = 3;
  r.flags = FlowRecord::kHasCounters | FlowRecord::kHasTimestamp | FlowRecord::kHasState |
            FlowRecord::kHasPorts;
  r.orig_ctr = {12, 1200};
  r.reply_ctr = {40, 53000};
  r.start_ns = static_cast<std::uint64_t>(kNow - 93 * kSecond);
  r.rate_orig_bytes = 120.0F;
  r.rate_reply_bytes = 5300.0F;
  return r;
}

FlowRecord icmp_v6() {
  FlowRecord r;
  r.key.orig = {ip("2001:db8::2"), ip("2001:db8::1"), 77, 0};
  r.key.family = core::Family::V6;
  r.key.proto = 58;
  r.key.icmp_type = 128;
  r.key.icmp_code = 0;
  r.reply = {r.key.orig.dst, r.key.orig.src, 77, 0};
  r.flags = FlowRecord::kHasTimestamp;  // no counters
  r.start_ns = static_cast<std::uint64_t>(kNow - 5 * kSecond);
  return r;
}

FlowRecord gre_v4() {
  FlowRecord r;
  r.key.orig = {ip("10.0.0.2"), ip("198.51.100.7"), 0x11, 0x22};
  r.key.family = core::Family::V4;
  r.key.proto = 47;
  r.reply = {r.key.orig.dst, r.key.orig.src, 0x22, 0x11};
  r.flags = FlowRecord::kHasCounters;  // counters present but zero; no timestamp
  return r;
}

class BatchWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);  // NOLINT(concurrency-mt-unsafe): single-threaded test
    tzset();
    status_.frame = 3;
    status_.realtime_ns = kNow;
    status_.tracked = 40;
    status_.version = "0.1.0";
  }

  [[nodiscard]] std::vector<std::string> lines(const std::vector<const FlowRecord*>& shown) const {
    std::istringstream in(batch_frame(shown, status_, opts_));
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) {
      out.push_back(l);
    }
    return out;
  }

  FrameStatus status_;
  BatchOptions opts_;
};

TEST_F(BatchWriter, TitleAndStatusLines) {
  status_.counts.shown = 1;
  status_.counts.loopback = 30;
  status_.counts.dns = 7;
  const FlowRecord r = tcp_v4();
  const auto l = lines({&r});
  EXPECT_EQ(l[0], "flowtop 0.1.0 - 12:37:50 - frame 3");
  EXPECT_EQ(l[1], "Flows: 1 shown, 40 tracked, 37 hidden (loopback 30, DNS 7)");
}

TEST_F(BatchWriter, StatusNamesEveryNonZeroReasonInOrder) {
  status_.counts = {0, 4, 3, 2, 1};  // shown, family, protocol, loopback, dns
  const FlowRecord r = tcp_v4();
  EXPECT_EQ(lines({&r})[1],
            "Flows: 1 shown, 40 tracked, 10 hidden (loopback 2, DNS 1, protocol 3, family 4)");
  status_.counts = {};
  EXPECT_EQ(lines({&r})[1], "Flows: 1 shown, 40 tracked, 0 hidden");
}

TEST_F(BatchWriter, TitleWithoutVersion) {
  status_.version.clear();
  status_.frame = 12;
  const FlowRecord r = tcp_v4();
  EXPECT_EQ(lines({&r})[0], "flowtop - 12:37:50 - frame 12");
}

TEST_F(BatchWriter, HealthLinesFollowTheStatusSanitised) {
  status_.health = {"accounting was off", "events lost: \x1b[2Jresync"};
  const FlowRecord r = tcp_v4();
  const auto l = lines({&r});
  EXPECT_EQ(l[2], "accounting was off");
  EXPECT_EQ(l[3], "events lost: ?[2Jresync");
  EXPECT_TRUE(l[4].starts_with("PROCESS")) << l[4];
}

TEST_F(BatchWriter, GoldenFrame) {
  status_.counts.shown = 3;
  const FlowRecord a = tcp_v4();
  const FlowRecord b = icmp_v6();
  const FlowRecord c = gre_v4();
  const std::string expected =
      "flowtop 0.1.0 - 12:37:50 - frame 3\n"
      "Flows: 3 shown, 40 tracked, 0 hidden\n"
      "PROCESS PID PROTO STATE       TIME ADDRESS       PORT  GEO BYTES-OUT   RATE-OUT BYTES-IN "
      "   RATE-IN\n"
      "-         - tcp4  ESTABLISHED   1m 93.184.216.34 443   -      1.2 kB    120 B/s  53.0 kB "
      "  5.3 kB/s\n"
      "-         - icmp6               5s 2001:db8::1   128/0 -           -          -        - "
      "         -\n"
      "-         - gre4                 - 198.51.100.7        -\n"
      "\n";
  EXPECT_EQ(batch_frame({&a, &b, &c}, status_, opts_), expected);
}

// Where a column starts in the header line.
std::size_t column_of(const std::vector<std::string>& l, const std::string& name) {
  for (const auto& line : l) {
    if (line.starts_with("PROCESS")) {
      return line.find(name);
    }
  }
  return std::string::npos;
}

TEST_F(BatchWriter, RowsFollowTheHeaderColumns) {
  const FlowRecord a = tcp_v4();
  const FlowRecord b = icmp_v6();
  const auto l = lines({&a, &b});
  const std::size_t addr = column_of(l, "ADDRESS");
  const std::size_t port = column_of(l, "PORT");
  EXPECT_EQ(l[3].substr(addr, 13), "93.184.216.34");
  EXPECT_EQ(l[3].substr(port, 4), "443 ");
  EXPECT_EQ(l[4].substr(addr, 11), "2001:db8::1");
  EXPECT_EQ(l[4].substr(port, 5), "128/0");
  // Right-aligned numbers end where their header ends.
  const std::size_t bytes_in_end = column_of(l, "BYTES-IN") + std::string("BYTES-IN").size();
  EXPECT_EQ(l[3].substr(bytes_in_end - 7, 7), "53.0 kB");
}

TEST_F(BatchWriter, UnknownIsDashZeroIsBlank) {
  const FlowRecord c = gre_v4();
  const FlowRecord b = icmp_v6();
  const auto l = lines({&b, &c});
  const std::size_t out = column_of(l, "BYTES-OUT");
  // ICMP: no counters -> "-" in every byte/rate column.
  EXPECT_EQ(l[3].substr(out).find_first_not_of(" -"), std::string::npos) << l[3];
  EXPECT_NE(l[3].find('-', out), std::string::npos);
  // GRE: counters known and zero -> blank (the line ends at GEO).
  EXPECT_LT(l[4].size(), out) << l[4];
  // No timestamp -> "-" in TIME.
  const std::size_t time_end = column_of(l, "TIME") + 4;
  EXPECT_EQ(l[4][time_end - 1], '-');
}

TEST_F(BatchWriter, StartAfterTheFrameIsAgeZero) {
  FlowRecord a = tcp_v4();
  a.start_ns = UINT64_MAX;  // clocks disagree, or a wild value
  const auto l = lines({&a});
  const std::size_t time_end = column_of(l, "TIME") + 4;
  EXPECT_EQ(l[3].substr(time_end - 4, 4), "  0s") << l[3];
}

TEST_F(BatchWriter, BitsSwitchTheRateUnit) {
  opts_.bits = true;
  const FlowRecord a = tcp_v4();
  const auto l = lines({&a});
  EXPECT_NE(l[3].find("960 bit/s"), std::string::npos) << l[3];
  EXPECT_NE(l[3].find("42.4 kbit/s"), std::string::npos) << l[3];
  EXPECT_NE(l[3].find("53.0 kB"), std::string::npos);  // byte counts stay bytes
}

TEST_F(BatchWriter, ShowSourceAddsASecondRowUnderAddress) {
  opts_.show_src = true;
  const FlowRecord a = tcp_v4();
  const FlowRecord b = icmp_v6();
  FlowRecord v6 = tcp_v4();
  v6.key.family = core::Family::V6;
  v6.key.orig.src = ip("2001:db8::2");
  v6.key.orig.dst = ip("2001:db8::443");
  const auto l = lines({&a, &b, &v6});
  const std::size_t addr = column_of(l, "ADDRESS");
  ASSERT_GE(l.size(), 9U);
  EXPECT_EQ(l[4], std::string(addr, ' ') + "from 10.0.0.2:51234");
  EXPECT_EQ(l[6], std::string(addr, ' ') + "from 2001:db8::2");  // ICMP: no port
  EXPECT_EQ(l[8], std::string(addr, ' ') + "from [2001:db8::2]:51234");
  EXPECT_NE(l[7].find("tcp6"), std::string::npos);
}

TEST_F(BatchWriter, EmptyTableSaysWhy) {
  status_.counts = {0, 0, 30, 7, 0};
  status_.tracked = 37;
  opts_.selection.udp = true;
  const auto l = lines({});
  EXPECT_EQ(l[2], "no flows match TCP+UDP, IPv4+IPv6 (37 hidden)");
  EXPECT_EQ(l.size(), 4U);  // title, status, message, blank

  status_.tracked = 0;
  status_.counts = {};
  EXPECT_EQ(lines({})[2], "conntrack is not tracking in this namespace: try --track");
}

TEST_F(BatchWriter, FrameEndsWithABlankLine) {
  const FlowRecord a = tcp_v4();
  const std::string f = batch_frame({&a}, status_, opts_);
  EXPECT_TRUE(f.ends_with("\n\n"));
  EXPECT_FALSE(f.ends_with("\n\n\n"));
}

TEST_F(BatchWriter, AddressShrinksBeforeAnyColumnDrops) {
  FlowRecord a = tcp_v4();
  a.key.orig.dst = ip("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");  // 38 columns
  opts_.width = 200;
  const auto wide = lines({&a});
  const std::size_t full = wide[3].size();
  opts_.width = full - 10;
  const auto l = lines({&a});
  // Same columns (none dropped), ADDRESS 10 narrower and cut with a '~'.
  const auto names = [](const std::string& header) {
    std::istringstream in(header);
    std::vector<std::string> out;
    for (std::string w; in >> w;) {
      out.push_back(w);
    }
    return out;
  };
  EXPECT_EQ(names(l[2]), names(wide[2]));
  EXPECT_EQ(l[3].size(), opts_.width);
  EXPECT_NE(l[3].find(" 2001:db8:aaaa:bbbb:cccc:ddd~ 443"), std::string::npos) << l[3];
}

TEST_F(BatchWriter, EveryWidthFitsAndNeverCutsNumbers) {
  FlowRecord a = tcp_v4();
  a.reply_ctr.bytes = 123'456'789;
  a.rate_orig_bytes = 987'654.0F;
  const FlowRecord b = icmp_v6();
  const FlowRecord c = gre_v4();
  opts_.show_src = true;
  for (std::size_t width = 13; width <= 160; ++width) {
    opts_.width = width;
    const auto l = lines({&a, &b, &c});
    for (std::size_t i = 2; i < l.size(); ++i) {
      EXPECT_LE(l[i].size(), width) << "width " << width << ": " << l[i];
    }
    const std::string& header = l[2];
    const std::string& row = l[3];
    if (header.find("BYTES-IN") != std::string::npos) {
      EXPECT_NE(row.find("123.5 MB"), std::string::npos) << width << ": " << row;
    }
    if (header.find("RATE-OUT") != std::string::npos) {
      EXPECT_NE(row.find("987.7 kB/s"), std::string::npos) << width << ": " << row;
    }
    if (header.find("PORT") != std::string::npos) {
      EXPECT_NE(row.find("443"), std::string::npos) << width << ": " << row;
    }
    EXPECT_TRUE(header.starts_with("PROCESS") || width < 99) << width;
    EXPECT_NE(header.find("PROTO"), std::string::npos) << width;
    EXPECT_NE(header.find("ADDRESS"), std::string::npos) << width;
  }
}

TEST_F(BatchWriter, ColumnsDropLeastImportantFirst) {
  const FlowRecord a = tcp_v4();
  bool geo_gone_before_rate = true;
  for (std::size_t width = 160; width >= 13; --width) {
    opts_.width = width;
    const std::string header = lines({&a})[2];
    if (header.find("RATE-IN") == std::string::npos && header.find("GEO") != std::string::npos) {
      geo_gone_before_rate = false;
    }
  }
  EXPECT_TRUE(geo_gone_before_rate);
  opts_.width = 13;
  EXPECT_EQ(lines({&a})[2], "PROTO ADDRESS");
}

}  // namespace
}  // namespace flowtop::output

namespace flowtop::output {
namespace {

TEST(BatchWriterEnrichment, ColumnsShowProcessNameServiceAndCountry) {
  const FlowRecord r = tcp_v4();
  std::vector<const FlowRecord*> shown{&r};
  std::vector<core::Enrichment> enr(1);
  enr[0].process = core::Lookup<core::ProcessInfo>::ready({4242, 0, "cu\x1b[31mrl", "alice", ""});
  enr[0].dst_name = core::Lookup<std::string>::ready("example.com");
  enr[0].service = "https";
  core::GeoInfo g;
  g.country = "US";
  enr[0].dst_geo = core::Lookup<core::GeoInfo>::ready(g);
  FrameStatus st;
  st.tracked = 1;
  st.counts.shown = 1;
  BatchOptions opts;
  opts.width = 160;
  const std::string text = batch_frame(shown, st, opts, &enr);
  EXPECT_NE(text.find("4242"), std::string::npos) << text;
  EXPECT_NE(text.find("example.com"), std::string::npos) << text;
  EXPECT_NE(text.find("https"), std::string::npos) << text;
  EXPECT_NE(text.find(" US "), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "a hostile process name is sanitised";
}

}  // namespace
}  // namespace flowtop::output
