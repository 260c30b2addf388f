// Table cells: zero is blank, unknown is "-", units are never cut.
#include "flowtop/view/cells.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "flowtop/core/text.hpp"

namespace flowtop::view {
using core::format_count;
namespace {

TEST(FormatCount, ThousandsSeparators) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1000), "1,000");
  EXPECT_EQ(format_count(1204), "1,204");
  EXPECT_EQ(format_count(1234567), "1,234,567");
  EXPECT_EQ(format_count(18446744073709551615ULL), "18,446,744,073,709,551,615");
}

TEST(Cells, FlowTextNamesTheEntryAsConntrackDoes) {
  core::FlowKey k;
  k.proto = 6;
  k.orig.src = *core::IpAddr::parse("10.1.2.3");
  k.orig.dst = *core::IpAddr::parse("10.4.5.6");
  k.orig.sport = 5555;
  k.orig.dport = 80;
  EXPECT_EQ(flow_text(k), "tcp 10.1.2.3:5555 → 10.4.5.6:80");
  EXPECT_EQ(flow_text(k, true), "tcp 10.1.2.3:5555 -> 10.4.5.6:80");
  k.zone = 7;
  EXPECT_EQ(flow_text(k), "tcp 10.1.2.3:5555 → 10.4.5.6:80 zone 7");
  core::FlowKey v6;
  v6.family = core::Family::V6;
  v6.proto = 17;
  v6.orig.src = *core::IpAddr::parse("2001:db8::1");
  v6.orig.dst = *core::IpAddr::parse("2001:db8::2");
  v6.orig.sport = 1000;
  v6.orig.dport = 53;
  EXPECT_EQ(flow_text(v6), "udp [2001:db8::1]:1000 → [2001:db8::2]:53");
  core::FlowKey icmp;
  icmp.proto = 1;
  icmp.orig.src = *core::IpAddr::parse("10.0.0.1");
  icmp.orig.dst = *core::IpAddr::parse("10.0.0.2");
  icmp.orig.sport = 77;
  icmp.icmp_type = 8;
  EXPECT_EQ(flow_text(icmp), "icmp 10.0.0.1 → 10.0.0.2 type 8 code 0 id 77");
}

TEST(Cells, DeleteOutcomeTellsDeletedGoneAndErrors) {
  core::FlowKey k;
  k.proto = 17;
  k.orig.src = *core::IpAddr::parse("10.1.2.3");
  k.orig.dst = *core::IpAddr::parse("10.4.5.6");
  k.orig.sport = 1;
  k.orig.dport = 2;
  EXPECT_EQ(delete_outcome_text(k, 0), "deleted udp 10.1.2.3:1 → 10.4.5.6:2");
  EXPECT_EQ(delete_outcome_text(k, ENOENT), "already gone: udp 10.1.2.3:1 → 10.4.5.6:2");
  EXPECT_EQ(delete_outcome_text(k, EPERM),
            "cannot delete udp 10.1.2.3:1 → 10.4.5.6:2: Operation not permitted (needs "
            "CAP_NET_ADMIN)");
}

TEST(Cells, ZeroIsBlankUnknownIsDash) {
  EXPECT_EQ(bytes_cell(true, 0), "");
  EXPECT_EQ(bytes_cell(false, 0), "-");
  EXPECT_EQ(bytes_cell(false, 1234), "-");
  EXPECT_EQ(bytes_cell(true, 1234), "1.2 kB");
  EXPECT_EQ(rate_cell(true, 0, false), "");
  EXPECT_EQ(rate_cell(true, 0.4, false), "");  // rounds to nothing
  EXPECT_EQ(rate_cell(true, 0.6, false), "1 B/s");
  EXPECT_EQ(rate_cell(false, 5, false), "-");
  EXPECT_EQ(rate_cell(true, 1500, false), "1.5 kB/s");
  EXPECT_EQ(rate_cell(true, 1500, true), "12.0 kbit/s");
  EXPECT_EQ(rate_cell(true, 0.05, true), "");
  EXPECT_EQ(packets_cell(true, 0), "");
  EXPECT_EQ(packets_cell(false, 3), "-");
  EXPECT_EQ(packets_cell(true, 9999), "9999");
  EXPECT_EQ(packets_cell(true, 10000), "10.0k");
  EXPECT_EQ(packets_cell(true, 640000), "640.0k");
  EXPECT_EQ(packets_cell(true, 9'999'500), "10.0M");
  EXPECT_EQ(packets_cell(true, 18446744073709551615ULL), "18.4E");
}

TEST(Cells, WidestValuesFitTheirColumns) {
  // The table gives bytes 8 columns, rates 10 (12 in bits): the widest value of each unit fits,
  // so a unit is never cut.
  for (std::uint64_t v = 1; v < 18'000'000'000'000'000'000ULL / 7; v = v * 7 + 3) {
    EXPECT_LE(bytes_cell(true, v).size(), 8U) << v;
    EXPECT_LE(rate_cell(true, static_cast<double>(v), false).size(), 10U) << v;
    EXPECT_LE(rate_cell(true, static_cast<double>(v), true).size(), 12U) << v;
    EXPECT_LE(packets_cell(true, v).size(), 6U) << v;
    EXPECT_LE(count_cell(v).size(), 6U) << v;  // FLOWS: six wide
  }
  EXPECT_EQ(count_cell(1), "1");
  EXPECT_EQ(count_cell(99'999), "99,999");
  EXPECT_EQ(count_cell(103'000), "103.0k");
  EXPECT_EQ(count_cell(1'240'000), "1.2M");
  EXPECT_EQ(rate_cell(true, 999'949, false), "999.9 kB/s");
  EXPECT_EQ(rate_cell(true, 124'987, true), "999.9 kbit/s");
}

}  // namespace
}  // namespace flowtop::view
