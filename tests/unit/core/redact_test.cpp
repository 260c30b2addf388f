// Privacy mode's pseudonyms: consistent within a run, different across runs, prefix-preserving.
#include "flowtop/core/redact.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace flowtop::core {
namespace {

Redactor::Key key_of(std::uint8_t seed) {
  Redactor::Key k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>(seed + i * 7);
  }
  return k;
}

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

// Leading bits two addresses of one family share (IPv4: of its 32 bits).
std::size_t common_prefix(const IpAddr& a, const IpAddr& b) {
  const std::size_t from = a.is_v4() ? 12 : 0;
  std::size_t n = 0;
  for (std::size_t i = from * 8; i < 128; ++i, ++n) {
    const auto bit = [i](const IpAddr& x) { return (x.bytes[i / 8] >> (7 - i % 8)) & 1; };
    if (bit(a) != bit(b)) {
      break;
    }
  }
  return n;
}

TEST(Redactor, TheSameAddressGetsTheSameMaskWithinARun) {
  const Redactor r(key_of(1));
  for (const char* a : {"10.1.2.3", "192.168.1.10", "2001:db8::1", "fd00:91:1::2"}) {
    const IpAddr once = r.address(ip(a));
    EXPECT_NE(once, ip(a)) << a;
    EXPECT_EQ(r.address(ip(a)), once) << a;
    // Not from memory only: another redactor with the same key agrees.
    EXPECT_EQ(Redactor(key_of(1)).address(ip(a)), once) << a;
  }
}

TEST(Redactor, AnotherRunGetsOtherMasks) {
  const Redactor one(key_of(1));
  const Redactor two(key_of(2));
  EXPECT_NE(one.address(ip("10.1.2.3")), two.address(ip("10.1.2.3")));
  EXPECT_NE(one.name("laptop.lan"), two.name("laptop.lan"));
  EXPECT_NE(Redactor::random_key(), Redactor::random_key());
}

TEST(Redactor, FamiliesStayAndPrefixLengthsAreKept) {
  const Redactor r(key_of(3));
  EXPECT_TRUE(r.address(ip("10.1.2.3")).is_v4());
  EXPECT_FALSE(r.address(ip("2001:db8::1")).is_v4());
  // Addresses that share their first n bits get masks that share exactly their first n bits.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    IpAddr a{};
    IpAddr b{};
    const bool v4 = i % 2 == 0;
    if (v4) {
      a = IpAddr::from_v4_be(static_cast<std::uint32_t>(rng()));
      b = IpAddr::from_v4_be(static_cast<std::uint32_t>(rng()));
      // b shares a's first (i % 33) bits
      const std::size_t n = static_cast<std::size_t>(i) % 33;
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t bit = 96 + k;
        const auto mask = static_cast<std::uint8_t>(1U << (7 - bit % 8));
        b.bytes[bit / 8] =
            static_cast<std::uint8_t>((b.bytes[bit / 8] & ~mask) | (a.bytes[bit / 8] & mask));
      }
    } else {
      for (auto& byte : a.bytes) {
        byte = static_cast<std::uint8_t>(rng());
      }
      b = a;
      b.bytes[static_cast<std::size_t>(i) % 16] ^= static_cast<std::uint8_t>(1U << (i % 8));
      a.bytes[0] |= 0x20;  // never ::ffff:0:0/96 (v4-mapped)
      b.bytes[0] |= 0x20;
    }
    EXPECT_EQ(common_prefix(r.address(a), r.address(b)), common_prefix(a, b))
        << a.to_string() << " " << b.to_string();
  }
  // A /24 stays a /24: every host of 10.1.2.0/24 maps into one /24, all of them different.
  std::set<std::string> hosts;
  const IpAddr first = r.address(ip("10.1.2.0"));
  for (int h = 0; h < 256; ++h) {
    const IpAddr m = r.address(ip(("10.1.2." + std::to_string(h)).c_str()));
    EXPECT_GE(common_prefix(m, first), 24U);
    hosts.insert(m.to_string());
  }
  EXPECT_EQ(hosts.size(), 256U);
}

TEST(Redactor, NamesUsersAndMacsBecomeReadableTokens) {
  const Redactor r(key_of(4));
  const std::string n = r.name("laptop.lan");
  EXPECT_EQ(n.rfind("name-", 0), 0U) << n;
  EXPECT_EQ(n.size(), 11U) << n;
  EXPECT_EQ(r.name("laptop.lan"), n);
  EXPECT_NE(r.name("phone.lan"), n);
  const std::string u = r.user("alice");
  EXPECT_EQ(u.rfind("user-", 0), 0U) << u;
  EXPECT_NE(u, r.user("bob"));
  EXPECT_NE(r.user("alice").substr(5), r.name("alice").substr(5)) << "separate hash domains";
  const std::string m = r.mac("aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(m.size(), 17U) << m;
  EXPECT_EQ(m.rfind("02:", 0), 0U) << m;
  EXPECT_EQ(r.mac("aa:bb:cc:dd:ee:ff"), m);
}

TEST(Redactor, ScopesParseByName) {
  EXPECT_EQ(parse_redact_scope("local"), RedactScope::Local);
  EXPECT_EQ(parse_redact_scope("remote"), RedactScope::Remote);
  EXPECT_EQ(parse_redact_scope("all"), RedactScope::All);
  EXPECT_EQ(parse_redact_scope("off"), RedactScope::Off);
  EXPECT_FALSE(parse_redact_scope("everything").has_value());
  EXPECT_EQ(redact_scope_name(RedactScope::Remote), "remote");
  EXPECT_TRUE(redacts_local(RedactScope::All));
  EXPECT_FALSE(redacts_local(RedactScope::Remote));
}

}  // namespace
}  // namespace flowtop::core
