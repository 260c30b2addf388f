#include "flowtop/core/ip_addr.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace flowtop::core {
namespace {

using namespace std::string_view_literals;

TEST(IpAddr, ParsesDottedIpv4AsV4Mapped) {
  const auto a = IpAddr::parse("192.0.2.33");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->family(), Family::V4);
  EXPECT_EQ(a->v4_be(), htonl(0xc0000221U));
  const std::array<std::uint8_t, 16> want{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 33};
  EXPECT_EQ(a->bytes, want);
  EXPECT_EQ(*a, IpAddr::from_v4_be(htonl(0xc0000221U)));
}

TEST(IpAddr, ParsesIpv6) {
  const auto a = IpAddr::parse("2001:db8::1");
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->is_v4());
  EXPECT_EQ(a->family(), Family::V6);
  std::array<std::uint8_t, 16> want{};
  want[0] = 0x20;
  want[1] = 0x01;
  want[2] = 0x0d;
  want[3] = 0xb8;
  want[15] = 1;
  EXPECT_EQ(a->bytes, want);
  EXPECT_EQ(*a, IpAddr::from_v6(want.data()));
}

TEST(IpAddr, V4MappedIpv6TextIsAnIpv4Address) {
  const auto a = IpAddr::parse("::ffff:10.1.2.3");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a, IpAddr::parse("10.1.2.3"));
  EXPECT_EQ(a->to_string(), "10.1.2.3");
}

TEST(IpAddr, RejectsAnythingElse) {
  for (std::string_view bad :
       {""sv, "1.2.3"sv, "256.1.1.1"sv, "1.2.3.4.5"sv, "abc"sv, " 1.2.3.4"sv, "1.2.3.4 "sv,
        "1.2.3.4/24"sv, "2001:db8::1::2"sv, "2001:db8:::1"sv, "fe80::1%eth0"sv, "[::1]"sv,
        "12345::"sv, "localhost"sv, "1.2.3.4\0junk"sv, "::1\0"sv}) {
    EXPECT_FALSE(IpAddr::parse(bad).has_value()) << "accepted \"" << std::string(bad) << '"';
  }
  // Longer than any address text.
  EXPECT_FALSE(IpAddr::parse(std::string(64, '1')).has_value());
  EXPECT_FALSE(IpAddr::parse("0000:0000:0000:0000:0000:ffff:255.255.255.255:1").has_value());
}

TEST(IpAddr, ParseAcceptsAViewIntoALongerString) {
  const std::string text = "10.0.0.1,10.0.0.2";
  const auto a = IpAddr::parse(std::string_view(text).substr(0, 8));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->to_string(), "10.0.0.1");
}

TEST(IpAddr, ToStringRoundTrips) {
  for (std::string_view text :
       {"0.0.0.0"sv, "10.0.0.1"sv, "255.255.255.255"sv, "127.0.0.1"sv, "::"sv, "::1"sv,
        "2001:db8::1"sv, "fe80::1:2"sv, "2001:db8:85a3::8a2e:370:7334"sv}) {
    const auto a = IpAddr::parse(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_EQ(a->to_string(), text);
  }
  // The canonical (compressed, lower-case) form.
  EXPECT_EQ(IpAddr::parse("2001:0DB8:0000:0000:0000:0000:0000:0001")->to_string(), "2001:db8::1");
}

TEST(IpAddr, DefaultIsTheIpv6UnspecifiedAddress) {
  const IpAddr a;
  EXPECT_FALSE(a.is_v4());
  EXPECT_EQ(a.to_string(), "::");
  EXPECT_FALSE(a.is_loopback());
}

TEST(IpAddr, Loopback) {
  EXPECT_TRUE(IpAddr::parse("127.0.0.1")->is_loopback());
  EXPECT_TRUE(IpAddr::parse("127.255.255.254")->is_loopback());
  EXPECT_TRUE(IpAddr::parse("::1")->is_loopback());
  EXPECT_TRUE(IpAddr::parse("::ffff:127.0.0.9")->is_loopback());
  EXPECT_FALSE(IpAddr::parse("128.0.0.1")->is_loopback());
  EXPECT_FALSE(IpAddr::parse("126.255.255.255")->is_loopback());
  EXPECT_FALSE(IpAddr::parse("10.127.0.1")->is_loopback());
  EXPECT_FALSE(IpAddr::parse("::2")->is_loopback());
  EXPECT_FALSE(IpAddr::parse("::")->is_loopback());
  EXPECT_FALSE(IpAddr::parse("1::1")->is_loopback());
}

TEST(IpAddr, IsV4OnlyForTheMappedPrefix) {
  EXPECT_TRUE(IpAddr::parse("0.0.0.0")->is_v4());
  EXPECT_FALSE(IpAddr::parse("::")->is_v4());
  EXPECT_FALSE(IpAddr::parse("::1.2.3.4")->is_v4());  // deprecated v4-compatible: not mapped
  EXPECT_FALSE(IpAddr::parse("::fffe:1.2.3.4")->is_v4());
  EXPECT_FALSE(IpAddr::parse("64:ff9b::1.2.3.4")->is_v4());
}

TEST(IpAddr, OrdersByBytes) {
  const auto a = *IpAddr::parse("10.0.0.1");
  const auto b = *IpAddr::parse("10.0.0.2");
  const auto c = *IpAddr::parse("2001:db8::1");
  EXPECT_LT(a, b);
  EXPECT_LT(a, c);  // the v4-mapped prefix starts with zero bytes
  EXPECT_NE(a, b);
  EXPECT_EQ(a, *IpAddr::parse("10.0.0.1"));
}

// The packed sort keys compare these words: they must order as the bytes do, and carry them all.
TEST(IpAddr, OrderedWordsOrderAsTheBytesDo) {
  const std::array<const char*, 7> texts{"::",       "::1",         "10.0.0.1",      "10.0.0.2",
                                         "10.1.0.0", "2001:db8::1", "2001:db8:0:1::"};
  for (const char* x : texts) {
    for (const char* y : texts) {
      const IpAddr a = *IpAddr::parse(x);
      const IpAddr b = *IpAddr::parse(y);
      EXPECT_EQ(a < b, a.ordered_words() < b.ordered_words()) << x << " " << y;
      EXPECT_EQ(a == b, a.ordered_words() == b.ordered_words()) << x << " " << y;
    }
  }
  EXPECT_EQ(IpAddr::parse("10.1.2.3")->ordered_words(),
            std::make_pair(std::uint64_t{0}, std::uint64_t{0x0000ffff0a010203ULL}));
  EXPECT_EQ(IpAddr::parse("2001:db8::ff")->ordered_words(),
            std::make_pair(std::uint64_t{0x20010db800000000ULL}, std::uint64_t{0xffULL}));
}

TEST(IpAddr, Ipv4TextIsInetNtopsForEveryOctetValue) {
  // to_string() formats IPv4 itself: the same text as inet_ntop, octets 0-255 in every place.
  for (std::uint32_t i = 0; i < 4096; ++i) {
    const std::uint32_t host = (i * 2654435761U) ^ (i << 24U) ^ i;  // spread over all octets
    const std::uint32_t be = htonl(host);
    char want[INET_ADDRSTRLEN] = {};
    ASSERT_NE(inet_ntop(AF_INET, &be, want, sizeof want), nullptr);
    EXPECT_EQ(IpAddr::from_v4_be(be).to_string(), want);
  }
  EXPECT_EQ(IpAddr::from_v4_be(0).to_string(), "0.0.0.0");
  EXPECT_EQ(IpAddr::from_v4_be(0xffffffffU).to_string(), "255.255.255.255");
}

}  // namespace
}  // namespace flowtop::core
