// DHCP lease files (dnsmasq, ISC dhcpd, Kea, odhcpd) → names of LAN hosts: each format as the
// servers write it, hostile and broken input, and LeaseIndex on real files.
#include "flowtop/enrich/leases.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace flowtop::enrich {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

core::IpAddr ip(std::string_view text) {
  return core::IpAddr::parse(text).value();
}

/// "addr=name" per lease, in order: what a user would see.
std::vector<std::string> names(const std::vector<Lease>& leases) {
  std::vector<std::string> out;
  out.reserve(leases.size());
  for (const Lease& l : leases) {
    out.push_back(l.addr.to_string() + "=" + l.name);
  }
  return out;
}

// ---- dnsmasq ----

constexpr std::string_view kDnsmasq =
    "1765112400 3c:22:fb:12:9a:01 192.168.1.23 macbook-air 01:3c:22:fb:12:9a:01\n"
    "1765113011 b8:27:eb:4f:00:2c 192.168.1.50 raspberrypi ff:eb:4f:00:2c:00:01:00:01:2b:1c\n"
    "0 00:11:32:aa:bb:cc 192.168.1.2 nas *\n"
    "1765112999 da:a1:19:00:00:01 192.168.1.77 * 01:da:a1:19:00:00:01\n"
    "duid 00:01:00:01:2c:9b:11:0e:00:0d:b9:5e:11:40\n"
    "1765114000 27411034 fd00:1::23 macbook-air 00:01:00:01:2a:3b:4c:5d:3c:22:fb:12:9a:01\n"
    "1765114000 T11042 fd00:1::99 * 00:04:5e:8b:4f:2a\n";

TEST(ParseLeases, DnsmasqReadsIpv4AndIpv6Leases) {
  const auto leases = parse_leases(kDnsmasq, LeaseFormat::Dnsmasq);
  EXPECT_THAT(names(leases),
              ElementsAre("192.168.1.23=macbook-air", "192.168.1.50=raspberrypi", "192.168.1.2=nas",
                          "192.168.1.77=", "fd00:1::23=macbook-air", "fd00:1::99="))
      << "'*' is no name; the duid line is no lease";
  ASSERT_TRUE(leases[0].mac.has_value());
  EXPECT_EQ(*leases[0].mac, (MacAddr{0x3c, 0x22, 0xfb, 0x12, 0x9a, 0x01}));
  EXPECT_FALSE(leases[4].mac.has_value()) << "an IPv6 line has the IAID where IPv4 has the MAC";
}

TEST(ParseLeases, DnsmasqAcceptsCrlfAndSkipsACutLastLine) {
  const auto leases = parse_leases(
      "1765112400 3c:22:fb:12:9a:01 192.168.1.23 laptop *\r\n"
      "1765112400 3c:22:fb:12:9a:02 192.168.1.24 phone *\r\n"
      "1765112400 3c:22:fb:12:9a:03 192.168.1.25 tabl",  // dnsmasq was writing it
      LeaseFormat::Dnsmasq);
  EXPECT_THAT(names(leases), ElementsAre("192.168.1.23=laptop", "192.168.1.24=phone"));
}

TEST(ParseLeases, DnsmasqKeepsACompleteLastLineWithoutNewline) {
  EXPECT_THAT(names(parse_leases("1765112400 3c:22:fb:12:9a:01 192.168.1.23 laptop *",
                                 LeaseFormat::Dnsmasq)),
              ElementsAre("192.168.1.23=laptop"));
}

TEST(ParseLeases, DnsmasqSkipsGarbageLines) {
  const auto leases = parse_leases(
      "\n"
      "garbage\n"
      "1765112400 3c:22:fb:12:9a:01 192.168.1.300 bad-ip *\n"
      "soon 3c:22:fb:12:9a:01 192.168.1.5 bad-expiry *\n"
      "1765112400 3c:22:fb:12:9a:01\n"
      "1765112400 not-a-mac 192.168.1.6 odd-hw *\n"
      "\x01\x02\xff\xfe\n"
      "1765112400 3c:22:fb:12:9a:07 192.168.1.7 good *\n",
      LeaseFormat::Dnsmasq);
  EXPECT_THAT(names(leases), ElementsAre("192.168.1.6=odd-hw", "192.168.1.7=good"));
  EXPECT_FALSE(leases[0].mac.has_value()) << "an unreadable hardware address is no MAC";
}

TEST(ParseLeases, DnsmasqLaterLineWins) {
  EXPECT_THAT(names(parse_leases("1 aa:bb:cc:dd:ee:01 10.0.0.9 old-name *\n"
                                 "2 aa:bb:cc:dd:ee:02 10.0.0.9 new-name *\n",
                                 LeaseFormat::Dnsmasq)),
              ElementsAre("10.0.0.9=new-name"));
}

// ---- ISC dhcpd ----

constexpr std::string_view kIscV4 =
    R"(# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3-P1

# authoring-byte-order entry is generated, DO NOT DELETE
authoring-byte-order little-endian;

server-duid "\000\001\000\001,\233\021\016\000\015\271^\021@";

lease 192.168.10.100 {
  starts 4 2026/12/03 18:02:11;
  ends 4 2026/12/03 20:02:11;
  tstp 4 2026/12/03 20:02:11;
  cltt 4 2026/12/03 18:02:11;
  binding state free;
  hardware ethernet 08:00:27:dc:ba:37;
  uid "\001\010\000'\334\2727";
}
lease 192.168.10.101 {
  starts 6 2026/12/05 09:15:40;
  ends 6 2026/12/05 21:15:40;
  cltt 6 2026/12/05 09:15:40;
  binding state active;
  next binding state free;
  rewind binding state free;
  hardware ethernet 08:00:27:dc:ba:38;
  uid "\001\010\000'\334\2728";
  set vendor-class-identifier = "MSFT 5.0";
  client-hostname "DESKTOP-7QK2M1B";
}
lease 192.168.10.102 {
  starts 6 2026/12/05 10:00:00;
  ends 6 2026/12/05 22:00:00;
  binding state active;
  next binding state free;
  hardware ethernet 3c:22:fb:12:9a:01;
  set ddns-fwd-name = "macbook.home.example.";
}
lease 192.168.10.103 {
  starts 2 2026/12/01 10:00:00;
  ends 2 2026/12/01 22:00:00;
  binding state expired;
  hardware ethernet 3c:22:fb:12:9a:03;
  client-hostname "gone";
}
lease 192.168.10.104 {
  binding state abandoned;
  client-hostname "conflict";
}
lease 192.168.10.100 {
  starts 0 2026/12/06 08:00:00;
  ends 0 2026/12/06 20:00:00;
  binding state active;
  next binding state free;
  hardware ethernet 08:00:27:dc:ba:37;
  client-hostname "printer";
}
)";

TEST(ParseLeases, IscTakesActiveLeasesAndTheLaterRecordWins) {
  const auto leases = parse_leases(kIscV4, LeaseFormat::IscDhcpd);
  EXPECT_THAT(names(leases),
              ElementsAre("192.168.10.101=DESKTOP-7QK2M1B", "192.168.10.102=macbook.home.example",
                          "192.168.10.100=printer"))
      << "free, expired and abandoned leases name nobody; the later .100 record is active";
  ASSERT_TRUE(leases[2].mac.has_value());
  EXPECT_EQ(*leases[2].mac, (MacAddr{0x08, 0x00, 0x27, 0xdc, 0xba, 0x37}));
}

TEST(ParseLeases, IscALaterFreeRecordHidesTheActiveOne) {
  const auto leases = parse_leases(
      "lease 10.1.1.5 { binding state active; client-hostname \"tv\"; }\n"
      "lease 10.1.1.5 { binding state free; }\n"
      "lease 10.1.1.6 { client-hostname \"old-dhcpd-without-states\"; }\n",
      LeaseFormat::IscDhcpd);
  EXPECT_THAT(names(leases), ElementsAre("10.1.1.6=old-dhcpd-without-states"));
}

TEST(ParseLeases, IscUnescapesQuotedStrings) {
  const auto leases = parse_leases(
      "lease 10.1.1.1 { binding state active; client-hostname \"Ren\\303\\251e's \\\"PC\\\"\"; }\n"
      "lease 10.1.1.2 { binding state active; client-hostname \"back\\\\slash\\x41\"; }\n"
      "lease 10.1.1.3 { binding state active; client-hostname \"semi;brace{}#hash\"; }\n"
      "lease 10.1.1.4 { # a comment with \"quotes\" and { braces\n"
      "  binding state active; client-hostname \"after-comment\"; }\n",
      LeaseFormat::IscDhcpd);
  EXPECT_THAT(names(leases), ElementsAre("10.1.1.1=Ren\xc3\xa9"
                                         "e's \"PC\"",
                                         "10.1.1.2=back\\slashA", "10.1.1.3=semi;brace{}#hash",
                                         "10.1.1.4=after-comment"));
}

TEST(ParseLeases, IscReadsIpv6IaNaAddresses) {
  constexpr std::string_view kIscV6 = R"(# This lease file was written by isc-dhcp-4.4.3-P1
authoring-byte-order little-endian;
server-duid "\000\001\000\001,\233\021\016\000\015\271^\021@";

ia-na "\001\000\000\000\000\001\000\001+\322\017\223\010\000'\334\2727" {
  cltt 6 2026/12/05 09:15:40;
  iaaddr 2001:db8:0:1::1a5 {
    binding state active;
    preferred-life 27000;
    max-life 43200;
    ends 6 2026/12/05 21:15:40;
    set ddns-fwd-name = "host6.home.example";
  }
}
ia-na "\002\000\000\000\000\001\000\001+\322\017\223\010\000'\334\2728" {
  cltt 6 2026/12/05 09:15:40;
  iaaddr 2001:db8:0:1::1a6 {
    binding state expired;
    ends 6 2026/12/05 10:15:40;
  }
}
ia-ta "\003\000\000\000\000\001\000\001" {
  iaaddr 2001:db8:0:1::77 {
    binding state active;
  }
}
ia-pd "\004\000\000\000\000\001\000\001" {
  iaprefix 2001:db8:100::/56 {
    binding state active;
    client-hostname "router-behind";
  }
}
)";
  EXPECT_THAT(names(parse_leases(kIscV6, LeaseFormat::IscDhcpd)),
              ElementsAre("2001:db8:0:1::1a5=host6.home.example", "2001:db8:0:1::77="))
      << "expired addresses and delegated prefixes name no host";
}

TEST(ParseLeases, IscSkipsARecordCutShort) {
  EXPECT_THAT(names(parse_leases("lease 10.0.0.1 {\n  binding state active;\n"
                                 "  client-hostname \"whole\";\n}\n"
                                 "lease 10.0.0.2 {\n  binding state active;\n"
                                 "  client-hostname \"half",
                                 LeaseFormat::IscDhcpd)),
              ElementsAre("10.0.0.1=whole"));
}

TEST(ParseLeases, IscSurvivesStrayBracesAndGarbage) {
  const auto leases = parse_leases(
      "}}} ;;; lease { } lease not-an-ip { client-hostname \"x\"; }\n"
      "host fixed { hardware ethernet 00:11:22:33:44:55; fixed-address 10.0.0.8; }\n"
      "lease 10.0.0.9 { on expiry { set x = \"y\"; } binding state active; "
      "client-hostname \"ok\"; }\n",
      LeaseFormat::IscDhcpd);
  EXPECT_THAT(names(leases), ElementsAre("10.0.0.9=ok"));
}

// ---- Kea ----

TEST(ParseLeases, KeaReadsAnIpv4File) {
  const auto leases = parse_leases(
      "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,"
      "user_context,pool_id\n"
      "192.168.50.10,08:00:27:aa:bb:cc,01:08:00:27:aa:bb:cc,3600,1796590800,1,0,0,printer.lan.,0,,"
      "0\n"
      "192.168.50.11,08:00:27:aa:bb:cd,,3600,1796590800,1,0,0,,0,,0\n"
      "192.168.50.12,08:00:27:aa:bb:ce,,3600,1796590800,1,0,0,declined-host,1,,0\n"
      "192.168.50.13,08:00:27:aa:bb:cf,,3600,1796590800,1,0,0,reclaimed,2,,0\n"
      "192.168.50.14,08:00:27:aa:bb:d0,,3600,1796590800,1,0,0,phone,0,"
      "{ \"comment\": \"a&#x2c b\" },0\n"
      "192.168.50.14,08:00:27:aa:bb:d0,,0,1796587200,1,0,0,phone,0,,0\n"
      "192.168.50.15,08:00:27:aa:bb:d1,,3600,1796590800,1,0,0,tablet,0,,0\n",
      LeaseFormat::Kea);
  EXPECT_THAT(names(leases),
              ElementsAre("192.168.50.10=printer.lan", "192.168.50.11=", "192.168.50.15=tablet"))
      << "declined (1) and reclaimed (2) are not active; a later row with valid_lifetime 0 "
         "deletes .14";
  ASSERT_TRUE(leases[0].mac.has_value());
  EXPECT_EQ(*leases[0].mac, (MacAddr{0x08, 0x00, 0x27, 0xaa, 0xbb, 0xcc}));
}

TEST(ParseLeases, KeaReadsAnIpv6FileAndSkipsPrefixes) {
  const auto leases = parse_leases(
      "address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,"
      "fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source,pool_id\r\n"
      "2001:db8:1::100,00:03:00:01:08:00:27:aa:bb:cc,7200,1796594400,1,3600,0,1,128,0,0,"
      "phone.home.,08:00:27:aa:bb:cc,0,,1,2,0\r\n"
      "2001:db8:8000::,00:03:00:01:08:00:27:aa:bb:cc,7200,1796594400,1,3600,2,2,56,0,0,"
      "phone.home.,,0,,1,2,0\r\n",
      LeaseFormat::Kea);
  EXPECT_THAT(names(leases), ElementsAre("2001:db8:1::100=phone.home"));
  EXPECT_TRUE(leases[0].mac.has_value());
}

TEST(ParseLeases, KeaFindsColumnsByTheHeaderInAnyOrder) {
  EXPECT_THAT(names(parse_leases("hostname,state,address,hwaddr\n"
                                 "nas,0,10.9.0.2,00:11:32:aa:bb:cc\n"
                                 "old,2,10.9.0.3,00:11:32:aa:bb:cd\n",
                                 LeaseFormat::Kea)),
              ElementsAre("10.9.0.2=nas"));
  EXPECT_THAT(
      names(parse_leases(" Address , HostName \n10.9.0.4,no-state-column\n", LeaseFormat::Kea)),
      ElementsAre("10.9.0.4=no-state-column"))
      << "an older file without a state column: every lease is active";
}

TEST(ParseLeases, KeaWithoutHeaderOrWithACutRowNamesNothingWrong) {
  EXPECT_THAT(parse_leases("10.9.0.2,00:11:32:aa:bb:cc,nas\n", LeaseFormat::Kea), IsEmpty());
  EXPECT_THAT(names(parse_leases("address,hwaddr,hostname,state\n"
                                 "10.9.0.2,00:11:32:aa:bb:cc,nas,0\n"
                                 "10.9.0.3,00:11:32:aa:bb:cd,cut-sh",
                                 LeaseFormat::Kea)),
              ElementsAre("10.9.0.2=nas"));
}

// ---- odhcpd ----

TEST(ParseLeases, OdhcpdReadsTheHostsFile) {
  EXPECT_THAT(names(parse_leases("fd2a:b5c0:11::1a3\tmacbook.lan\tmacbook\n"
                                 "192.168.1.138\tandroid-5f1c.lan\tandroid-5f1c\n"
                                 "192.168.1.139\tbare-name\n"
                                 "# a comment\n"
                                 "192.168.1.140 with-comment # trailing comment\n"
                                 "not-an-address name\n"
                                 "192.168.1.141\n",
                                 LeaseFormat::Odhcpd)),
              ElementsAre("fd2a:b5c0:11::1a3=macbook", "192.168.1.138=android-5f1c",
                          "192.168.1.139=bare-name", "192.168.1.140=with-comment"));
}

TEST(ParseLeases, OdhcpdReadsItsStateLines) {
  const auto leases = parse_leases(
      "# br-lan 000100012b2c3d4e5f6a7b8c 4d2a1f3 macbook 1796590800 1a3 128 "
      "fd2a:b5c0:11::1a3/128 2001:db8:0:1::1a3/128\n"
      "fd2a:b5c0:11::1a3\tmacbook.lan\tmacbook\n"
      "2001:db8:0:1::1a3\tmacbook.lan\tmacbook\n"
      "# br-lan 0001000127aa 1 - 1796590800 2 128 fd2a:b5c0:11::2/128\n"
      "# br-lan 0001000127ab 2 broken\\x20na\\x01me 1796590800 3 128 fd2a:b5c0:11::3/128\n"
      "# br-lan 0001000127ac 3 router2 -1 4 60 2001:db8:0:40::/60\n"
      "# br-lan 3c22fb129a01 ipv4 iphone 1796590800 c0a80105 32 192.168.1.5/32\n"
      "192.168.1.5\tiphone.lan\tiphone\n"
      "# this is just a comment that happens to have nine or more words in it\n",
      LeaseFormat::Odhcpd);
  EXPECT_THAT(names(leases),
              ElementsAre("fd2a:b5c0:11::1a3=macbook", "2001:db8:0:1::1a3=macbook",
                          "fd2a:b5c0:11::2=", "fd2a:b5c0:11::3=", "192.168.1.5=iphone"))
      << "'-' and a broken name are no name; a delegated /60 is not a host";
}

// ---- names ----

TEST(ParseLeases, HostileNamesAreKeptRawButCapped) {
  const std::string esc =
      "evil\x1b[2J\xe2\x80\xae"
      "gpj.exe";  // ESC, CSI, RLO: kept raw
  const std::string long_name(300, 'a');
  std::string utf8_edge(252, 'b');
  utf8_edge += "\xc3\xa9\xc3\xa9";  // é straddles byte 253
  const std::string text =
      "1 aa:bb:cc:dd:ee:01 10.0.0.1 " + esc + " *\n" + "1 aa:bb:cc:dd:ee:02 10.0.0.2 " + long_name +
      " *\n" + "1 aa:bb:cc:dd:ee:03 10.0.0.3 " + utf8_edge + " *\n" +
      "1 aa:bb:cc:dd:ee:04 10.0.0.4 trailing.dot. *\n" + "1 aa:bb:cc:dd:ee:05 10.0.0.5 . *\n" +
      "1 aa:bb:cc:dd:ee:06 10.0.0.6 dots... *\n" + "1 aa:bb:cc:dd:ee:07 10.0.0.7 " +
      std::string(252, 'c') + ".d *\n";
  const auto leases = parse_leases(text, LeaseFormat::Dnsmasq);
  ASSERT_EQ(leases.size(), 7U);
  EXPECT_EQ(leases[0].name, esc) << "the renderer sanitises; the parser keeps the bytes";
  EXPECT_EQ(leases[1].name, std::string(kMaxLeaseNameBytes, 'a'));
  EXPECT_EQ(leases[2].name, std::string(252, 'b')) << "never cut inside a UTF-8 sequence";
  EXPECT_EQ(leases[3].name, "trailing.dot");
  EXPECT_EQ(leases[4].name, "") << "'.' alone is no name";
  EXPECT_EQ(leases[5].name, "dots");
  EXPECT_EQ(leases[6].name, std::string(252, 'c')) << "cut to 253 bytes, then the dot is dropped";

  const auto isc = parse_leases(
      "lease 10.0.0.6 { binding state active; client-hostname \"bell\\007nul\\000cr\\015\"; }\n"
      "lease 10.0.0.7 { binding state active; client-hostname \"" +
          std::string(5000, 'x') + "\"; }\n",
      LeaseFormat::IscDhcpd);
  ASSERT_EQ(isc.size(), 2U);
  EXPECT_EQ(isc[0].name, std::string("bell\anul\0cr\r", 12)) << "octal escapes become the bytes";
  EXPECT_EQ(isc[1].name.size(), kMaxLeaseNameBytes);
}

// Found by leases_fuzz: a cut name ending in several dots kept one of them.
TEST(ParseLeases, OdhcpdNameWithManyTrailingDotsEndsInNone) {
  const auto leases =
      parse_leases("# br-lan 0001 4d2a1f3 )outer2....... 1796590800 1a3 128 fd2a::2a3/128\n",
                   LeaseFormat::Odhcpd);
  EXPECT_THAT(names(leases), ElementsAre("fd2a::2a3=)outer2"));
}

TEST(ParseMac, ReadsColonAndDashForms) {
  EXPECT_EQ(parse_mac("3C:22:fb:12:9a:01"), (MacAddr{0x3c, 0x22, 0xfb, 0x12, 0x9a, 0x01}));
  EXPECT_EQ(parse_mac("3c-22-fb-12-9a-1"), (MacAddr{0x3c, 0x22, 0xfb, 0x12, 0x9a, 0x01}));
  EXPECT_EQ(parse_mac("3c:22:fb:12:9a"), std::nullopt);
  EXPECT_EQ(parse_mac("3c:22:fb:12:9a:01:02"), std::nullopt);
  EXPECT_EQ(parse_mac("3c:22-fb:12:9a:01"), std::nullopt);
  EXPECT_EQ(parse_mac("06-3c:22:fb:12:9a:01"), std::nullopt) << "dnsmasq's non-Ethernet form";
  EXPECT_EQ(parse_mac(""), std::nullopt);
  EXPECT_EQ(parse_mac("3c:22:fb:12:9a:0g"), std::nullopt);
}

TEST(LeaseFormat, ByFileName) {
  EXPECT_EQ(lease_format_of_path("/var/lib/misc/dnsmasq.leases"), LeaseFormat::Dnsmasq);
  EXPECT_EQ(lease_format_of_path("/tmp/dhcp.leases"), LeaseFormat::Dnsmasq);
  EXPECT_EQ(lease_format_of_path("/tmp/hosts/odhcpd"), LeaseFormat::Odhcpd);
  EXPECT_EQ(lease_format_of_path("/tmp/odhcpd.leases"), LeaseFormat::Odhcpd);
  EXPECT_EQ(lease_format_of_path("/var/lib/dhcp/dhcpd.leases"), LeaseFormat::IscDhcpd);
  EXPECT_EQ(lease_format_of_path("/var/lib/dhcp/dhcpd6.leases"), LeaseFormat::IscDhcpd);
  EXPECT_EQ(lease_format_of_path("/var/lib/kea/kea-leases4.csv"), LeaseFormat::Kea);
  EXPECT_EQ(lease_format_of_path("/srv/my-leases"), std::nullopt);
  EXPECT_EQ(lease_format_of_path("/var/lib/kea/kea-leases4.csv.2"), std::nullopt);
}

TEST(LeaseFormat, SniffedFromTheText) {
  EXPECT_EQ(sniff_lease_format(kDnsmasq), LeaseFormat::Dnsmasq);
  EXPECT_EQ(sniff_lease_format(kIscV4), LeaseFormat::IscDhcpd);
  EXPECT_EQ(sniff_lease_format("address,hwaddr,client_id\n"), LeaseFormat::Kea);
  EXPECT_EQ(sniff_lease_format("# hosts\n192.168.1.5\tphone\n"), LeaseFormat::Odhcpd);
  EXPECT_EQ(sniff_lease_format("# br-lan 3c22fb129a01 ipv4 iphone 1796590800 c0a80105 32 "
                               "192.168.1.5/32\n"),
            LeaseFormat::Odhcpd);
  EXPECT_EQ(sniff_lease_format(""), LeaseFormat::Dnsmasq);
}

TEST(ParseLeases, RandomBytesNeverThrowOrNameOutsideTheRules) {
  std::mt19937 rng(12345);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible on purpose
  const std::string alphabet = "lease {};\"\\#\n\r\t :,./0123456789abcdef-*active binding state";
  for (int round = 0; round < 2000; ++round) {
    std::string text(rng() % 400, ' ');
    for (char& c : text) {
      c = (rng() % 4 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    for (const LeaseFormat f :
         {LeaseFormat::Dnsmasq, LeaseFormat::IscDhcpd, LeaseFormat::Kea, LeaseFormat::Odhcpd}) {
      for (const Lease& l : parse_leases(text, f)) {
        EXPECT_LE(l.name.size(), kMaxLeaseNameBytes);
        EXPECT_NE(l.name, "*");
        EXPECT_FALSE(l.name.ends_with('.'));
      }
    }
  }
}

// ---- LeaseIndex on real files ----

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "leases_test.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] std::string path(const std::string& name) const { return (path_ / name).string(); }
  /// Writes `text` to `name` in place (same inode when it exists).
  [[nodiscard]] std::string write(const std::string& name, std::string_view text) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    return p;
  }
  /// Writes a new file and renames it over `name`, as ISC dhcpd, Kea and odhcpd do.
  [[nodiscard]] std::string replace(const std::string& name, std::string_view text) const {
    const std::string tmp = write("." + name + ".tmp", text);
    fs::rename(tmp, path(name));
    return path(name);
  }
  [[nodiscard]] const fs::path& dir() const { return path_; }

 private:
  fs::path path_;
};

/// A wall clock an hour after now: every file written by the test has settled.
class LeaseIndexTest : public ::testing::Test {
 protected:
  core::FakeClock clock_{1'000'000'000, core::realtime_ns() + 3'600'000'000'000};
  TempDir tmp_;
};

TEST_F(LeaseIndexTest, NamesHostsFromEveryFormat) {
  LeaseIndex index({tmp_.write("dnsmasq.leases", kDnsmasq), tmp_.write("dhcpd.leases", kIscV4),
                    tmp_.write("kea-leases4.csv",
                               "address,hwaddr,hostname,state\n10.9.0.2,00:11:32:aa:bb:cc,nas,0\n"),
                    tmp_.write("odhcpd", "192.168.1.138\tandroid.lan\tandroid\n")},
                   clock_);
  EXPECT_EQ(index.name_of(ip("10.9.0.2")), std::nullopt) << "nothing before the first refresh";
  EXPECT_TRUE(index.refresh());
  EXPECT_EQ(index.name_of(ip("192.168.1.23")), "macbook-air");
  EXPECT_EQ(index.name_of(ip("fd00:1::23")), "macbook-air");
  EXPECT_EQ(index.name_of(ip("192.168.10.101")), "DESKTOP-7QK2M1B");
  EXPECT_EQ(index.name_of(ip("192.168.10.103")), std::nullopt) << "expired";
  EXPECT_EQ(index.name_of(ip("10.9.0.2")), "nas");
  EXPECT_EQ(index.name_of(ip("192.168.1.138")), "android");
  EXPECT_EQ(index.name_of(ip("192.168.1.77")), std::nullopt) << "a lease without a name";
  EXPECT_EQ(index.name_of_mac({0xb8, 0x27, 0xeb, 0x4f, 0x00, 0x2c}), "raspberrypi");
  EXPECT_EQ(index.name_of_mac({0x3c, 0x22, 0xfb, 0x12, 0x9a, 0x01}), "macbook.home.example")
      << "dnsmasq and dhcpd both know this MAC: the later file (dhcpd.leases) wins";
  EXPECT_EQ(index.name_of_mac({0x00, 0x11, 0x32, 0xaa, 0xbb, 0xcc}), "nas");
  EXPECT_EQ(index.name_of_mac({0x00, 0x00, 0x00, 0x00, 0x00, 0x01}), std::nullopt);
  EXPECT_THAT(index.problems(), IsEmpty());
  EXPECT_EQ(index.reads(), 4U);
}

TEST_F(LeaseIndexTest, UnchangedFilesAreNotReadAgain) {
  LeaseIndex index({tmp_.write("dhcp.leases", kDnsmasq)}, clock_);
  EXPECT_TRUE(index.refresh());
  EXPECT_FALSE(index.refresh());
  EXPECT_FALSE(index.refresh());
  EXPECT_EQ(index.reads(), 1U);
  EXPECT_EQ(index.name_of(ip("192.168.1.50")), "raspberrypi");
}

TEST_F(LeaseIndexTest, ReReadsAFileRewrittenInPlaceOrReplaced) {
  const std::string p = tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 laptop *\n");
  LeaseIndex index({p}, clock_);
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "laptop");

  // dnsmasq rewrites its file in place.
  (void)tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 laptop-renamed *\n");
  EXPECT_TRUE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "laptop-renamed");
  EXPECT_EQ(index.reads(), 2U);

  // ISC dhcpd, Kea and odhcpd write a new file and rename it into place: a new inode.
  (void)tmp_.replace("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 laptop-newfile *\n");
  EXPECT_TRUE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "laptop-newfile");

  // Same size, same inode, only the timestamp differs (a renewal changes the expiry digits).
  (void)tmp_.write("dhcp.leases", "2 aa:bb:cc:dd:ee:01 10.0.0.9 laptop-newfile *\n");
  const timespec later[2] = {{0, UTIME_OMIT}, {1'700'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), later, 0), 0);
  EXPECT_FALSE(index.refresh()) << "read again, but the names are the same";
  EXPECT_EQ(index.reads(), 4U);
}

TEST_F(LeaseIndexTest, AFileChangedWithinATimestampTickIsReadAgainUntilItSettles) {
  const std::string p = tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 first *\n");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  const std::int64_t mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  core::FakeClock clock(1'000'000'000, mtime_ns);  // "now" is the moment of the write
  LeaseIndex index({p}, clock);
  ASSERT_TRUE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "first");

  // A second write in the same tick: same size, same inode, and (forced here) the same times.
  (void)tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 secnd *\n");
  const timespec same[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), same, 0), 0);
  EXPECT_TRUE(index.refresh()) << "a file that had not settled is read again";
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "secnd");

  clock.advance(kLeaseRacyNs + 1'000'000'000);  // ctime (set by utimensat) is now settled
  EXPECT_FALSE(index.refresh());
  const std::uint64_t reads = index.reads();
  EXPECT_FALSE(index.refresh());
  EXPECT_EQ(index.reads(), reads) << "settled: not read again";
}

TEST_F(LeaseIndexTest, MissingFilesAreSilentlyFine) {
  const std::string p = tmp_.path("dhcp.leases");
  LeaseIndex index({p, tmp_.path("no-such-dir/kea-leases4.csv")}, clock_);
  EXPECT_FALSE(index.refresh());
  EXPECT_THAT(index.problems(), IsEmpty());
  EXPECT_EQ(index.size(), 0U);

  (void)tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 laptop *\n");
  EXPECT_TRUE(index.refresh()) << "a file that appears is read";
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "laptop");

  fs::remove(p);
  EXPECT_TRUE(index.refresh()) << "a file that vanishes takes its names with it";
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), std::nullopt);
  EXPECT_THAT(index.problems(), IsEmpty());
}

TEST_F(LeaseIndexTest, RefusesASymbolicLink) {
  const std::string target = tmp_.write("real.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 laptop *\n");
  const std::string link = tmp_.path("dhcp.leases");
  fs::create_symlink(target, link);
  LeaseIndex index({link}, clock_);
  EXPECT_FALSE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), std::nullopt);
  EXPECT_THAT(index.problems(), ElementsAre(link + ": is a symbolic link (not followed)"));
}

TEST_F(LeaseIndexTest, RefusesAFifoWithoutBlocking) {
  const std::string fifo = tmp_.path("dhcp.leases");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  LeaseIndex index({fifo}, clock_);
  EXPECT_FALSE(index.refresh()) << "returns at once: nothing ever writes to this FIFO";
  EXPECT_THAT(index.problems(), ElementsAre(fifo + ": not a regular file"));
  EXPECT_EQ(index.reads(), 0U);
}

TEST_F(LeaseIndexTest, RefusesAnOversizedFileAndKeepsSayingSo) {
  std::string big;
  while (big.size() <= 4096) {
    big += "1 aa:bb:cc:dd:ee:01 10.0.0.9 laptop *\n";
  }
  const std::string p = tmp_.write("dhcp.leases", big);
  LeaseIndex index({p}, clock_, 4096);
  EXPECT_FALSE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), std::nullopt);
  EXPECT_THAT(index.problems(), ElementsAre(p + ": larger than 4 KiB"));
  EXPECT_FALSE(index.refresh());
  EXPECT_THAT(index.problems(), ElementsAre(p + ": larger than 4 KiB")) << "until it changes";

  (void)tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 laptop *\n");
  EXPECT_TRUE(index.refresh());
  EXPECT_THAT(index.problems(), IsEmpty());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "laptop");
}

TEST_F(LeaseIndexTest, ADirectoryOrAnUnreadableFileIsAProblem) {
  fs::create_directory(tmp_.path("dhcpd.leases"));
  LeaseIndex index({tmp_.path("dhcpd.leases")}, clock_);
  EXPECT_FALSE(index.refresh());
  EXPECT_THAT(index.problems(), ElementsAre(HasSubstr("is a directory")));
}

TEST_F(LeaseIndexTest, TheLaterFileWinsForTheSameAddress) {
  const std::string a = tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 from-dnsmasq *\n");
  const std::string b = tmp_.write("odhcpd", "10.0.0.9\tfrom-odhcpd\n");
  LeaseIndex ab({a, b}, clock_);
  LeaseIndex ba({b, a}, clock_);
  ab.refresh();
  ba.refresh();
  EXPECT_EQ(ab.name_of(ip("10.0.0.9")), "from-odhcpd");
  EXPECT_EQ(ba.name_of(ip("10.0.0.9")), "from-dnsmasq");
}

TEST_F(LeaseIndexTest, AUserGivenFileIsSniffed) {
  LeaseIndex index(
      {tmp_.write("router-leases.txt", kIscV4), tmp_.write("v6.dump", "fd00::5 tv.lan tv\n")},
      clock_);
  EXPECT_TRUE(index.refresh());
  EXPECT_EQ(index.name_of(ip("192.168.10.100")), "printer");
  EXPECT_EQ(index.name_of(ip("fd00::5")), "tv");
}

TEST_F(LeaseIndexTest, RepeatedPathsAreReadOnce) {
  const std::string p = tmp_.write("dhcp.leases", kDnsmasq);
  LeaseIndex index({p, p}, clock_);
  index.refresh();
  EXPECT_EQ(index.reads(), 1U);
}

TEST_F(LeaseIndexTest, DistrustsAnotherUsersFileInAWorldWritableDirectory) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give the file to another user";
  }
  ASSERT_EQ(::chmod(tmp_.dir().c_str(), 01777), 0);  // like /tmp
  const std::string p = tmp_.write("dhcp.leases", "1 aa:bb:cc:dd:ee:01 10.0.0.9 spoofed *\n");
  ASSERT_EQ(::chown(p.c_str(), 4242, 4242), 0);
  LeaseIndex index({p}, clock_);
  EXPECT_FALSE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), std::nullopt);
  EXPECT_THAT(index.problems(), ElementsAre(HasSubstr("owned by uid 4242")));

  ASSERT_EQ(::chown(p.c_str(), 0, 0), 0);  // root's file in /tmp: OpenWrt's /tmp/dhcp.leases
  EXPECT_TRUE(index.refresh());
  EXPECT_EQ(index.name_of(ip("10.0.0.9")), "spoofed");
  EXPECT_THAT(index.problems(), IsEmpty());
}

TEST(LeaseIndexPaths, DefaultsAreTheWellKnownFiles) {
  EXPECT_THAT(LeaseIndex::default_paths(),
              ElementsAre("/var/lib/misc/dnsmasq.leases", "/var/lib/dnsmasq/dnsmasq.leases",
                          "/tmp/dhcp.leases", "/tmp/hosts/odhcpd", "/var/lib/dhcp/dhcpd.leases",
                          "/var/lib/dhcp/dhcpd6.leases", "/var/lib/kea/kea-leases4.csv",
                          "/var/lib/kea/kea-leases6.csv"));
  for (const std::string& p : LeaseIndex::default_paths()) {
    EXPECT_TRUE(lease_format_of_path(p).has_value()) << p << ": a default path needs no sniffing";
  }
}

}  // namespace
}  // namespace flowtop::enrich
