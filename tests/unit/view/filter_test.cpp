#include "flowtop/view/filter.hpp"

#include <gtest/gtest.h>

#include <string>

#include "unit/view/ends_fixture.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::view {
namespace {

using test::FlowSpec;
using test::kNowNs;

Filter compile(const std::string& text) {
  FilterResult r = compile_filter(text);
  if (const auto* e = std::get_if<FilterError>(&r)) {
    ADD_FAILURE() << "'" << text << "' does not compile: " << e->describe();
    return Filter{};
  }
  return std::get<Filter>(r);
}

FilterError error_of(const std::string& text) {
  FilterResult r = compile_filter(text);
  if (const auto* e = std::get_if<FilterError>(&r)) {
    return *e;
  }
  ADD_FAILURE() << "'" << text << "' compiled";
  return {};
}

// The sample world's flows by id, with their enrichment.
class FilterTest : public ::testing::Test {
 protected:
  bool match(const std::string& text, std::uint32_t id) {
    const Filter f = compile(text);
    for (const auto& rec : world_.flows) {
      if (rec.id == id) {
        const auto it = world_.enrichment.find(id);
        const core::Enrichment e = it != world_.enrichment.end() ? it->second : core::Enrichment{};
        return matches(f, rec, e, kNowNs);
      }
    }
    ADD_FAILURE() << "no flow " << id;
    return false;
  }
  // Ids of the flows `text` matches.
  std::vector<std::uint32_t> ids(const std::string& text) {
    const Filter f = compile(text);
    std::vector<std::uint32_t> out;
    for (const auto& rec : world_.flows) {
      const auto it = world_.enrichment.find(rec.id);
      const core::Enrichment e = it != world_.enrichment.end() ? it->second : core::Enrichment{};
      if (matches(f, rec, e, kNowNs)) {
        out.push_back(rec.id);
      }
    }
    return out;
  }
  test::FakeWorld world_ = test::sample_world();
};

using Ids = std::vector<std::uint32_t>;

TEST_F(FilterTest, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(compile("").empty());
  EXPECT_TRUE(compile("   \t ").empty());
  EXPECT_EQ(ids("").size(), world_.flows.size());
}

TEST_F(FilterTest, BareWordMatchesProcessNamesAndAddresses) {
  EXPECT_EQ(ids("curl"), Ids{1});
  EXPECT_EQ(ids("FIREFOX"), (Ids{2, 3}));     // case-insensitive, substring
  EXPECT_EQ(ids("example.com"), Ids{1});      // DNS name
  EXPECT_EQ(ids("198.51.100"), (Ids{4, 7}));  // address substring
  EXPECT_EQ(ids("2a00:1450"), Ids{3});        // IPv6 address
  EXPECT_EQ(ids("203.0.113.9"), Ids{4});      // the NAT address in the reply tuple
  EXPECT_EQ(ids("\"ns.example\""), Ids{5});   // quoted
  EXPECT_TRUE(ids("nothing-like-this").empty());
}

TEST_F(FilterTest, AndOrNotAndParentheses) {
  EXPECT_EQ(ids("firefox and proto=tcp"), (Ids{2, 3}));
  EXPECT_EQ(ids("firefox family=ipv6"), Ids{3});  // adjacent terms are and-ed
  EXPECT_EQ(ids("curl or sshd"), (Ids{1, 6}));
  EXPECT_EQ(ids("not proto=tcp"), (Ids{5, 7, 9}));
  EXPECT_EQ(ids("!proto=tcp"), (Ids{5, 7, 9}));
  // and binds tighter than or.
  EXPECT_EQ(ids("curl or firefox and family=ipv6"), (Ids{1, 3}));
  EXPECT_EQ(ids("(curl or firefox) and family=ipv4"), (Ids{1, 2}));
  EXPECT_EQ(ids("NOT (curl OR firefox) AND proto=TCP"), (Ids{4, 6, 8}));
}

TEST_F(FilterTest, TextTerms) {
  EXPECT_EQ(ids("proc=curl"), Ids{1});
  EXPECT_EQ(ids("process=CURL"), Ids{1});
  EXPECT_EQ(ids("proc!=curl"), (Ids{2, 3, 5, 6}));  // no process: unknown, never a match
  EXPECT_EQ(ids("proc~^fire"), (Ids{2, 3}));
  EXPECT_EQ(ids("user=root"), Ids{6});
  EXPECT_EQ(ids("user=1000"), (Ids{1, 2, 3, 5}));  // the uid works too
  EXPECT_EQ(ids("host=example.com"), Ids{1});
  EXPECT_EQ(ids("host~1e100\\.net$"), Ids{2});
  EXPECT_EQ(ids("service=https"), (Ids{1, 2, 3}));
  EXPECT_EQ(ids("country=us"), (Ids{1, 7}));
  EXPECT_EQ(ids("country=\"United Kingdom\""), Ids{2});
  EXPECT_EQ(ids("country=private"), (Ids{1, 6}));  // curl's source end, sshd's peer
  EXPECT_EQ(ids("city=london"), Ids{2});
  EXPECT_EQ(ids("city~frankfurt"), Ids{3});
  EXPECT_EQ(ids("org~google"), (Ids{2, 3}));
  EXPECT_EQ(ids("state=established"), (Ids{1, 2, 3, 4, 6, 8}));
  EXPECT_EQ(ids("state!=ESTABLISHED"), Ids{});  // UDP and ICMP have no state: unknown
  EXPECT_EQ(ids("state~time"), Ids{});
}

// Who fills the table: entries that never saw a reply (conntrack -L's [UNREPLIED]), and the
// other bracketed flags, are states too; unlike protocol states they are never unknown.
TEST(Filter, StateNamesTheStatusFlagsConntrackListShows) {
  auto flow = [](std::uint16_t status, std::uint8_t proto, std::uint8_t state) {
    core::FlowRecord r = test::make_flow({.proto = proto, .state = state});
    r.status = status;
    return r;
  };
  const auto syn_sent = flow(0x08, 6, 1);                // CONFIRMED, no reply yet
  const auto udp_unreplied = flow(0x08, 17, 0);          // CONFIRMED
  const auto established = flow(0x0E, 6, 3);             // SEEN_REPLY ASSURED CONFIRMED
  const auto offloaded = flow(0x0E | (1U << 14), 6, 3);  // ... OFFLOAD
  const auto hw = flow(0x0E | (1U << 14) | (1U << 15), 17, 0);
  auto m = [](const std::string& f, const core::FlowRecord& r) {
    return matches(std::get<Filter>(compile_filter(f)), r, {}, kNowNs);
  };
  EXPECT_TRUE(m("state=UNREPLIED", syn_sent));
  EXPECT_TRUE(m("state=unreplied", udp_unreplied));
  EXPECT_FALSE(m("state=UNREPLIED", established));
  EXPECT_TRUE(m("state!=UNREPLIED", established));
  EXPECT_FALSE(m("state!=UNREPLIED", udp_unreplied));
  EXPECT_TRUE(m("state=SYN-SENT", syn_sent));
  EXPECT_TRUE(m("state=UNREPLIED and proto=udp", udp_unreplied));
  EXPECT_TRUE(m("state=ASSURED", established));
  EXPECT_FALSE(m("state=ASSURED", syn_sent));
  EXPECT_TRUE(m("state=OFFLOAD", offloaded));
  EXPECT_FALSE(m("state=OFFLOAD", established));
  EXPECT_TRUE(m("state=HW_OFFLOAD", hw));
  EXPECT_TRUE(m("state=hw-offload", hw));
  EXPECT_FALSE(m("state=HW_OFFLOAD", offloaded));
  EXPECT_TRUE(m("state=ESTABLISHED", offloaded));  // the protocol state is still there
}

TEST_F(FilterTest, NumberTerms) {
  EXPECT_EQ(ids("pid=4242"), Ids{1});
  EXPECT_EQ(ids("pid>1000"), (Ids{1, 2, 3}));
  EXPECT_EQ(ids("pid<=900"), (Ids{5, 6}));
  EXPECT_EQ(ids("port=443"), (Ids{1, 2, 3}));
  EXPECT_EQ(ids("port=22"), (Ids{4, 6}));        // either end
  EXPECT_EQ(ids("port=https"), (Ids{1, 2, 3}));  // a service name: the flow's service
  EXPECT_EQ(ids("port<100 and proto=tcp"), (Ids{4, 6}));
  EXPECT_EQ(ids("port~^53"), (Ids{5, 9}));
  EXPECT_EQ(ids("asn=15169"), (Ids{2, 3}));
  EXPECT_EQ(ids("as=AS1136"), Ids{4});
  EXPECT_EQ(ids("mark=0x10"), Ids{4});
  EXPECT_EQ(ids("mark=16"), Ids{4});
  EXPECT_EQ(ids("mark!=0"), Ids{4});
  EXPECT_EQ(ids("zone=0").size(), world_.flows.size());
  EXPECT_EQ(ids("zone>0"), Ids{});
}

TEST_F(FilterTest, ProtoAndFamily) {
  EXPECT_EQ(ids("proto=udp"), (Ids{5, 9}));
  EXPECT_EQ(ids("proto=icmp"), Ids{7});
  EXPECT_EQ(ids("proto=17"), (Ids{5, 9}));
  EXPECT_EQ(ids("proto!=tcp"), (Ids{5, 7, 9}));
  EXPECT_EQ(ids("proto~^ud"), (Ids{5, 9}));
  EXPECT_EQ(ids("family=ipv6"), Ids{3});
  EXPECT_EQ(ids("family=4").size(), world_.flows.size() - 1);
  EXPECT_EQ(ids("family!=inet"), Ids{3});
}

TEST_F(FilterTest, UnitsOnBytesPacketsRatesAndAges) {
  EXPECT_EQ(ids("bytes>=10MB"), Ids{2});  // both directions: 935 MB
  EXPECT_EQ(ids("bytes>1GB"), Ids{});
  EXPECT_EQ(ids("bytes>900MiB"), Ids{});  // 935,000,000 < 943,718,400
  EXPECT_EQ(ids("bytes>890MiB"), Ids{2});
  EXPECT_EQ(ids("bytes.out>=4MB"), (Ids{2, 4}));
  EXPECT_EQ(ids("bytes.in<1kB"), (Ids{5, 7}));
  EXPECT_EQ(ids("packets>=600k"), Ids{2});
  EXPECT_EQ(ids("packets.in=1"), Ids{7});
  EXPECT_EQ(ids("rate>1MB/s"), Ids{2});
  EXPECT_EQ(ids("rate>=100kB/s"), (Ids{2, 4}));
  EXPECT_EQ(ids("rate>8Mbit/s"), Ids{2});  // 2.425 MB/s = 19.4 Mbit/s
  EXPECT_EQ(ids("rate>20Mbit/s"), Ids{});
  EXPECT_EQ(ids("rate.out>50kB/s"), Ids{4});
  EXPECT_EQ(ids("rate.in>=2MBps"), Ids{2});
  EXPECT_EQ(ids("age>5m"), (Ids{2, 4}));
  EXPECT_EQ(ids("age>1h"), (Ids{2, 4}));
  EXPECT_EQ(ids("age>1d"), Ids{4});
  EXPECT_EQ(ids("age<=5"), (Ids{5, 7}));
  EXPECT_EQ(ids("age<30s"), (Ids{5, 7}));
}

TEST_F(FilterTest, UnknownDataNeverSatisfiesAComparison) {
  // Flow 6 has no counters and no timestamp; flow 4 no process.
  EXPECT_FALSE(match("bytes>=0", 6));
  EXPECT_FALSE(match("bytes!=5", 6));
  EXPECT_FALSE(match("rate<1", 6));
  EXPECT_FALSE(match("age>=0", 6));
  EXPECT_FALSE(match("pid>=0", 4));
  EXPECT_FALSE(match("pid!=1", 4));
  EXPECT_TRUE(match("not pid>=0", 4));  // the drill-down filter for "no process"
}

TEST_F(FilterTest, NetworksWithCidr) {
  EXPECT_EQ(ids("addr=10.0.0.0/8"), (Ids{1, 2, 5, 6, 7, 9}));
  EXPECT_EQ(ids("addr=192.168.0.0/16"), Ids{4});
  EXPECT_EQ(ids("addr=198.51.100.7"), Ids{4});
  EXPECT_EQ(ids("addr=198.51.100.0/25"), Ids{4});
  EXPECT_EQ(ids("addr=198.51.100.128/25"), Ids{7});
  EXPECT_EQ(ids("addr=2001:db8::/32"), Ids{3});
  EXPECT_EQ(ids("addr=0.0.0.0/0").size(), world_.flows.size() - 1);  // every IPv4 flow
  EXPECT_EQ(ids("ip=203.0.113.9"), Ids{4});                          // the reply tuple counts (NAT)
  EXPECT_EQ(ids("addr!=10.0.0.0/8"), (Ids{3, 4, 8}));
  EXPECT_EQ(ids("addr~^127\\."), Ids{8});
}

TEST_F(FilterTest, NamesAndKeywordsAreCaseInsensitive) {
  EXPECT_EQ(ids("PROTO=UDP AND Family=IPv4"), (Ids{5, 9}));
  EXPECT_EQ(ids("Proc=CURL Or Proc=SSHD"), (Ids{1, 6}));
  EXPECT_EQ(ids("proto = udp"), (Ids{5, 9}));  // blanks around the operator
  EXPECT_EQ(ids("proto==udp"), (Ids{5, 9}));
}

TEST_F(FilterTest, RegexValueMayHoldParentheses) {
  EXPECT_EQ(ids("(proc~^(curl|sshd)$)"), (Ids{1, 6}));
  EXPECT_EQ(ids("proc~\"fire fox|curl\""), Ids{1});
}

struct ErrorCase {
  const char* text;
  std::size_t pos;
  const char* message_part;
};

// Ids of the flows of `w` that `text` matches, with their enrichment.
Ids ids_in(const test::FakeWorld& w, const std::string& text) {
  const Filter f = compile(text);
  Ids out;
  for (const auto& rec : w.flows) {
    const auto it = w.enrichment.find(rec.id);
    const core::Enrichment e = it != w.enrichment.end() ? it->second : core::Enrichment{};
    if (matches(f, rec, e, kNowNs)) {
      out.push_back(rec.id);
    }
  }
  return out;
}

// The server's flows 21-24, and one over loopback (a local flow: both ends are the server's).
test::FakeWorld server_with_loopback() {
  test::FakeWorld w = test::server_world();
  w.flows.push_back(test::classified(
      {.src = "127.0.0.1", .dst = "127.0.0.1", .sport = 40100, .dport = 631, .id = 25},
      test::server_facts()));
  return w;
}

TEST(FilterEnds, DirectionTerms) {
  const test::FakeWorld server = server_with_loopback();
  const test::FakeWorld router = test::router_world();
  EXPECT_EQ(ids_in(server, "dir=in"), (Ids{21, 22, 23}));
  EXPECT_EQ(ids_in(server, "dir=out"), Ids{24});
  EXPECT_EQ(ids_in(server, "dir=local"), Ids{25});
  EXPECT_TRUE(ids_in(server, "dir=fwd").empty());
  EXPECT_EQ(ids_in(server, "dir=in,local"), (Ids{21, 22, 23, 25}));
  EXPECT_EQ(ids_in(server, "dir!=in"), (Ids{24, 25}));
  EXPECT_EQ(ids_in(server, "direction=OUT"), Ids{24});
  EXPECT_EQ(ids_in(router, "dir=fwd"), (Ids{31, 32, 33, 35}));
  EXPECT_EQ(ids_in(router, "dir=forward"), (Ids{31, 32, 33, 35}));
  EXPECT_EQ(ids_in(router, "not dir=fwd"), Ids{34});
  EXPECT_TRUE(ids_in(router, "dir=in").empty());  // a port forward is forwarded, not inbound
}

TEST(FilterEnds, LocalAndRemoteAreTheEndsTheRowsShow) {
  const test::FakeWorld server = test::server_world();
  const test::FakeWorld router = test::router_world();
  // On the server: the local end is the server, the remote end the client, whoever opened it.
  EXPECT_EQ(ids_in(server, "local=192.0.2.10"), (Ids{21, 23, 24}));
  EXPECT_EQ(ids_in(server, "local=2001:db8:5::/64"), Ids{22});
  EXPECT_EQ(ids_in(server, "remote=198.51.100.23"), (Ids{21, 23}));
  EXPECT_EQ(ids_in(server, "remote=2001:db8:99::5"), Ids{22});
  EXPECT_TRUE(ids_in(server, "remote=192.0.2.10").empty());
  EXPECT_EQ(ids_in(server, "addr=192.0.2.10"), (Ids{21, 23, 24}));  // either end
  // On the router: the inside end of a forwarded flow is the LAN's.
  EXPECT_EQ(ids_in(router, "local=192.168.77.0/24"), (Ids{31, 32, 35}));
  EXPECT_EQ(ids_in(router, "local=192.168.77.10"), Ids{32});  // the port forward's target
  EXPECT_EQ(ids_in(router, "local=2001:db8:77::/64"), Ids{33});
  EXPECT_EQ(ids_in(router, "local=203.0.113.9"), Ids{34});
  EXPECT_EQ(ids_in(router, "remote=93.184.216.34"), (Ids{31, 34}));
  EXPECT_EQ(ids_in(router, "remote=198.51.100.99"), Ids{32});
  // The address a port forward was sent to, or a masquerade's, is neither end; addr= sees it.
  EXPECT_TRUE(ids_in(router, "remote=203.0.113.9").empty());
  EXPECT_EQ(ids_in(router, "addr=203.0.113.9"), (Ids{31, 32, 34, 35}));
  EXPECT_EQ(ids_in(router, "remote!=93.184.216.34"), (Ids{32, 33, 35}));
}

TEST(FilterEnds, NatTerms) {
  const test::FakeWorld router = test::router_world();
  EXPECT_EQ(ids_in(router, "nat"), (Ids{31, 32, 35}));  // bare: any translation
  EXPECT_EQ(ids_in(router, "NAT"), (Ids{31, 32, 35}));
  EXPECT_EQ(ids_in(router, "not nat"), (Ids{33, 34}));
  EXPECT_EQ(ids_in(router, "nat=snat"), (Ids{31, 35}));
  EXPECT_EQ(ids_in(router, "nat=dnat"), Ids{32});
  EXPECT_EQ(ids_in(router, "nat=snat,dnat"), (Ids{31, 32, 35}));
  EXPECT_EQ(ids_in(router, "nat!=dnat"), (Ids{31, 33, 34, 35}));
  EXPECT_EQ(ids_in(router, "nat=dnat and port=22"), Ids{32});
  EXPECT_TRUE(ids_in(test::server_world(), "nat").empty());
}

TEST(FilterEnds, MacIsTheLanDevicesOwner) {
  const test::FakeWorld router = test::router_world();
  EXPECT_EQ(ids_in(router, "mac=aa:bb:cc:00:00:23"), (Ids{31, 33}));
  EXPECT_EQ(ids_in(router, "mac=AA:BB:CC:00:00:10"), Ids{32});
  EXPECT_EQ(ids_in(router, "mac~^aa:bb"), (Ids{31, 32, 33}));
  EXPECT_TRUE(ids_in(router, "mac=aa:bb:cc:00:00:99").empty());
  EXPECT_EQ(ids_in(router, "dir=fwd and not mac~."), Ids{35});
}

TEST(FilterEnds, TermsOnTheRecordNeedNoEnrichment) {
  const auto needs = [](const char* text) {
    return std::get<Filter>(compile_filter(text)).needs();
  };
  EXPECT_EQ(needs("dir=in and local=10.0.0.0/8 and remote=192.0.2.1 and nat and nat=dnat"), 0);
  EXPECT_EQ(needs("mac=aa:bb:cc:dd:ee:ff"), core::kNeedProcess);
}

TEST(FilterEnds, Errors) {
  const ErrorCase cases[] = {
      {"dir=sideways", 4, "unknown direction 'sideways'"},
      {"dir=in,up", 4, "unknown direction 'up'"},
      {"dir>in", 3, "'dir' takes = !="},
      {"dir~in", 3, "'dir' takes = !="},
      {"nat=pat", 4, "unknown translation 'pat'"},
      {"nat~snat", 3, "'nat' takes = !="},
      {"local=laptop", 6, "not an address"},
      {"remote=10.0.0.0/40", 16, "bad prefix length"},
  };
  for (const ErrorCase& c : cases) {
    const FilterError e = error_of(c.text);
    EXPECT_EQ(e.pos, c.pos) << c.text << ": " << e.message;
    EXPECT_NE(e.message.find(c.message_part), std::string::npos) << c.text << ": " << e.message;
  }
}

TEST(Filter, NeedsEnrichmentOnlyForEnrichedTerms) {
  EXPECT_FALSE(
      std::get<Filter>(compile_filter("proto=tcp and port=443 and rate>1kB/s")).needs_enrichment());
  EXPECT_FALSE(std::get<Filter>(compile_filter("addr=10.0.0.0/8 or age>5m")).needs_enrichment());
  for (const char* text : {"curl", "proc=x", "pid=1", "user=a", "host=h", "service=s", "country=US",
                           "city=x", "asn=1", "org=x", "port=https"}) {
    EXPECT_TRUE(std::get<Filter>(compile_filter(text)).needs_enrichment()) << text;
  }
}

TEST(Filter, NamesTheEnrichmentFieldsItsTermsRead) {
  const auto needs = [](const char* text) {
    return std::get<Filter>(compile_filter(text)).needs();
  };
  EXPECT_EQ(needs("proto=tcp and port=443"), 0);
  EXPECT_EQ(needs("proc=curl or pid=3 or user=root"), core::kNeedProcess);
  EXPECT_EQ(needs("host~example"), core::kNeedNames);
  EXPECT_EQ(needs("country=SE and not asn=3"), core::kNeedGeo);
  EXPECT_EQ(needs("port=https"), core::kNeedService);
  EXPECT_EQ(needs("curl"), core::kNeedProcess | core::kNeedNames);
  EXPECT_EQ(needs("city=x or service=ssh"), core::kNeedGeo | core::kNeedService);
}

TEST(Filter, KeepsItsText) {
  EXPECT_EQ(std::get<Filter>(compile_filter("proto=udp")).text(), "proto=udp");
}

TEST(Filter, ErrorsNameThePosition) {
  const ErrorCase cases[] = {
      {"prot=tcp", 0, "unknown term 'prot'"},
      {"proto=tcp and bogus>3", 14, "unknown term 'bogus'"},
      {"rate>", 5, "expected a value after '>'"},
      {"rate>  ", 7, "expected a value"},
      {"rate>1XB/s", 6, "unknown unit 'XB/s'"},
      {"bytes>1MB/s", 7, "unknown unit 'MB/s'"},
      {"age>5w", 5, "unknown unit 'w'"},
      {"packets>3q", 9, "unknown unit 'q'"},
      {"pid=abc", 4, "needs a whole number"},
      {"rate>fast", 5, "needs a number"},
      {"proc<3", 4, "'proc' takes = != ~"},
      {"proc~(", 5, "bad regular expression"},
      {"(proto=tcp", 10, "missing ')'"},
      {"proto=tcp)", 9, "unexpected ')'"},
      {"()", 1, "expected a term before ')'"},
      {"curl and", 8, "expected a term"},
      {"and curl", 0, "expected a term before 'and'"},
      {"curl or or", 8, "expected a term before 'or'"},
      {"\"open", 0, "unterminated string"},
      {"addr=10.0.0.300", 5, "not an address"},
      {"addr=10.0.0.0/33", 14, "bad prefix length"},
      {"proto=foo", 6, "unknown protocol 'foo'"},
      {"family=ipv5", 7, "unknown family"},
      {"state=ESTAB", 6, "unknown state 'ESTAB'"},
      {"=3", 0, "expected a term before '='"},
      {"port<https", 5, "needs a number"},
      {"pid=\"\"", 4, "expected a value"},
  };
  for (const ErrorCase& c : cases) {
    const FilterError e = error_of(c.text);
    EXPECT_EQ(e.pos, c.pos) << c.text << ": " << e.message;
    EXPECT_NE(e.message.find(c.message_part), std::string::npos) << c.text << ": " << e.message;
  }
}

TEST(Filter, DescribeIsOneBased) {
  EXPECT_EQ(error_of("prot=tcp").describe(), "at 1: unknown term 'prot'");
}

TEST(Filter, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(5000, '(') + "curl" + std::string(5000, ')');
  EXPECT_NE(error_of(deep).message.find("too deeply nested"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) {
    nots += "not ";
  }
  EXPECT_NE(error_of(nots + "curl").message.find("too deeply nested"), std::string::npos);
}

TEST(Filter, CopiesShareTheCompiledTree) {
  const Filter a = std::get<Filter>(compile_filter("proto=udp"));
  const Filter b = a;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
  const auto udp = test::make_flow({.proto = 17, .state = 0});
  EXPECT_TRUE(matches(b, udp, {}, kNowNs));
  EXPECT_FALSE(matches(b, test::make_flow({}), {}, kNowNs));
}

}  // namespace
}  // namespace flowtop::view

namespace flowtop::view {
namespace {

// The fuzzer's out-of-memory input (CI, filter target): glibc's regcomp copies a repetition of a
// repetition exponentially; such regular expressions are refused before they are compiled.
TEST(FilterRegex, CostlyRegularExpressionsAreRefusedNotCompiled) {
  const std::string fuzzed =
      R"(host~"mple\\.com" or org~DT~"mple\\.++++++++++++++++++++++++++++++++com" or org~EG)";
  const FilterError e = error_of(fuzzed);
  EXPECT_NE(e.message.find("regular expression too costly: a repetition of a repetition"),
            std::string::npos)
      << e.describe();
  EXPECT_NE(error_of("host~a{50}{50}").message.find("repetition of a repetition"),
            std::string::npos);
  EXPECT_NE(error_of("host~a{101}").message.find("count over 100"), std::string::npos);
  EXPECT_NE(error_of("host~" + std::string(300, 'a')).message.find("longer than 256 bytes"),
            std::string::npos);
  // Repetitions of groups that hold repetitions: 2^20 copies, or 100 * 100.
  EXPECT_NE(error_of("host~((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+")
                .message.find("too many repetitions"),
            std::string::npos);
  EXPECT_NE(error_of("host~(a{100}){100}").message.find("too many repetitions"), std::string::npos);
  // Ordinary patterns, with quantifiers in brackets or escaped, still work.
  for (const char* ok : {"host~^[a-z+*]+\\.example\\.(com|net)$", "host~a\\+\\+b", "host~x{2,100}",
                         "org~[[:alpha:]]+ [*]?", "host~(ab)+c*"}) {
    EXPECT_TRUE(std::holds_alternative<Filter>(compile_filter(ok))) << ok;
  }
}

}  // namespace
}  // namespace flowtop::view
