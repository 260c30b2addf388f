#include "flowtop/geoip/database.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <maxminddb.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::geoip {
namespace {

namespace fs = std::filesystem;
using core::GeoInfo;
using core::IpAddr;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kData = std::string(FLOWTOP_TEST_DATA) + "/geoip";
const std::string kCity = kData + "/GeoLite2-City-Test.mmdb";
const std::string kAsn = kData + "/GeoLite2-ASN-Test.mmdb";
const std::string kCountry = kData + "/DBIP-Country-Lite-Test.mmdb";
const std::string kDbipAsn = kData + "/dbip-asn/DBIP-ASN-Lite-Test.mmdb";
const std::string kTorDir = kData + "/tor";
const std::string kNoDatabase =
    "no GeoIP database found: run 'flowtop -u' to download one (DB-IP Lite, free)";

IpAddr ip(const char* text) {
  const auto a = IpAddr::parse(text);
  if (!a) {
    throw std::invalid_argument(std::string("bad test address ") + text);
  }
  return *a;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "flowtop-geoip-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// Copies a fixture in, under its own name unless `name` is given.
  void copy(const std::string& from, std::string name = "") const {
    if (name.empty()) {
      name = fs::path(from).filename().string();
    }
    fs::copy_file(from, file(name), fs::copy_options::overwrite_existing);
  }

 private:
  std::string path_;
};

/// The message of the std::runtime_error thrown by Database(path), or "" when none is thrown.
std::string open_error(const std::string& path) {
  try {
    Database db(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// --- Database on each fixture -------------------------------------------------------------

TEST(Database, CityFixtureMetadata) {
  Database db(kCity);
  EXPECT_EQ(db.kind(), DbKind::City);
  EXPECT_EQ(db.type(), "GeoLite2-City");
  EXPECT_EQ(db.path(), kCity);
  EXPECT_FALSE(db.is_dbip());
  EXPECT_EQ(db.build_epoch(), 1700000000U);
}

TEST(Database, CityLooksUpIpv4CountryAndCity) {
  Database db(kCity);
  GeoInfo g;
  ASSERT_TRUE(db.lookup(ip("81.2.69.142"), g));
  EXPECT_EQ(g.kind, GeoInfo::Kind::Located);
  EXPECT_EQ(g.country, "GB");
  EXPECT_EQ(g.country_name, "United Kingdom");
  EXPECT_EQ(g.city, "London");
  EXPECT_EQ(g.asn, 0U);  // a City database knows no AS
  EXPECT_EQ(g.org, "");
}

TEST(Database, CityNamesAreUtf8) {
  Database db(kCity);
  GeoInfo linkoping;
  ASSERT_TRUE(db.lookup(ip("89.160.20.112"), linkoping));
  EXPECT_EQ(linkoping.city, "Link\xc3\xb6ping");
  EXPECT_EQ(linkoping.country, "SE");
  GeoInfo sao_paulo;
  ASSERT_TRUE(db.lookup(ip("200.160.2.3"), sao_paulo));
  EXPECT_EQ(sao_paulo.city, "S\xc3\xa3o Paulo");
  GeoInfo tokyo;
  ASSERT_TRUE(db.lookup(ip("2001:218::1"), tokyo));
  EXPECT_EQ(tokyo.city, "\xe6\x9d\xb1\xe4\xba\xac");
  EXPECT_EQ(tokyo.country, "JP");
  EXPECT_EQ(tokyo.country_name, "Japan");
}

TEST(Database, CityLooksUpIpv6NetworkEnds) {
  Database db(kCity);
  for (const char* addr :
       {"2a02:cf40::", "2a02:cf44:1234::5", "2a02:cf47:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    GeoInfo g;
    ASSERT_TRUE(db.lookup(ip(addr), g)) << addr;
    EXPECT_EQ(g.country, "CH") << addr;
    EXPECT_EQ(g.country_name, "Switzerland") << addr;
    EXPECT_EQ(g.city, "Z\xc3\xbcrich") << addr;
  }
}

TEST(Database, CityRecordWithoutCityLeavesCityEmpty) {
  Database db(kCity);
  GeoInfo g;
  ASSERT_TRUE(db.lookup(ip("216.160.83.56"), g));
  EXPECT_EQ(g.country, "US");
  EXPECT_EQ(g.country_name, "United States");
  EXPECT_EQ(g.city, "");
}

TEST(Database, Ipv4InIpv6DatabaseAnyNotation) {
  Database db(kCity);
  GeoInfo dotted;
  GeoInfo mapped;
  ASSERT_TRUE(db.lookup(ip("175.16.199.7"), dotted));
  ASSERT_TRUE(db.lookup(ip("::ffff:175.16.199.7"), mapped));
  EXPECT_EQ(dotted.country, "CN");
  EXPECT_EQ(dotted.city, "Changchun");
  EXPECT_EQ(mapped.country, dotted.country);
  EXPECT_EQ(mapped.city, dotted.city);
  // Both ends of the /24.
  GeoInfo low;
  GeoInfo high;
  EXPECT_TRUE(db.lookup(ip("81.2.69.0"), low));
  EXPECT_TRUE(db.lookup(ip("81.2.69.255"), high));
  EXPECT_EQ(low.city, "London");
  EXPECT_EQ(high.city, "London");
}

TEST(Database, NotFoundIsFalseAndLeavesTheRecordAlone) {
  Database db(kCity);
  for (const char* addr : {"81.2.68.255", "81.2.70.0", "8.8.8.8",
                           "2a02:cf48::", "2a02:cf3f:ffff::1", "2001:4860::8888", "1.128.0.1"}) {
    GeoInfo g;
    g.country = "keep";
    EXPECT_FALSE(db.lookup(ip(addr), g)) << addr;
    EXPECT_EQ(g.country, "keep") << addr;
    EXPECT_EQ(g.city, "") << addr;
  }
}

TEST(Database, AsnFixtureLooksUpIpv4AndIpv6) {
  Database db(kAsn);
  EXPECT_EQ(db.kind(), DbKind::Asn);
  EXPECT_EQ(db.type(), "GeoLite2-ASN");
  EXPECT_FALSE(db.is_dbip());
  GeoInfo v4;
  ASSERT_TRUE(db.lookup(ip("81.2.69.1"), v4));
  EXPECT_EQ(v4.asn, 20712U);
  EXPECT_EQ(v4.org, "Andrews & Arnold Ltd");
  EXPECT_EQ(v4.country, "");  // an ASN database knows no location
  GeoInfo v6;
  ASSERT_TRUE(db.lookup(ip("2001:218:ab::1"), v6));
  EXPECT_EQ(v6.asn, 2914U);
  EXPECT_EQ(v6.org, "NTT America, Inc.");
  GeoInfo utf8;
  ASSERT_TRUE(db.lookup(ip("2001:12ff::53"), utf8));
  EXPECT_EQ(utf8.org,
            "N\xc3\xba"
            "cleo de Inf. e Coord. do Ponto BR");
  // A network only the ASN database has, and just past it.
  GeoInfo telstra;
  ASSERT_TRUE(db.lookup(ip("1.159.255.255"), telstra));
  EXPECT_EQ(telstra.asn, 1221U);
  GeoInfo none;
  EXPECT_FALSE(db.lookup(ip("1.160.0.0"), none));
  EXPECT_EQ(none.asn, 0U);
}

TEST(Database, DbipCountryFixture) {
  Database db(kCountry);
  EXPECT_EQ(db.kind(), DbKind::Country);
  EXPECT_EQ(db.type(), "DBIP-Country-Lite");
  EXPECT_TRUE(db.is_dbip());
  GeoInfo v4;
  ASSERT_TRUE(db.lookup(ip("41.0.0.200"), v4));
  EXPECT_EQ(v4.country, "ZA");
  EXPECT_EQ(v4.country_name, "South Africa");
  EXPECT_EQ(v4.city, "");
  GeoInfo v6;
  ASSERT_TRUE(db.lookup(ip("2a02:cf40::1"), v6));
  EXPECT_EQ(v6.country, "CH");
  EXPECT_EQ(v6.city, "");
  GeoInfo mapped;
  ASSERT_TRUE(db.lookup(ip("::ffff:89.160.20.1"), mapped));
  EXPECT_EQ(mapped.country, "SE");
}

TEST(Database, DbipAsnUsesTheGeoLite2Keys) {
  Database db(kDbipAsn);
  EXPECT_EQ(db.kind(), DbKind::Asn);
  EXPECT_EQ(db.type(), "DBIP-ASN-Lite (compat=GeoLite2-ASN)");
  EXPECT_TRUE(db.is_dbip());
  GeoInfo g;
  ASSERT_TRUE(db.lookup(ip("2a02:cf40::1"), g));
  EXPECT_EQ(g.asn, 559U);
  EXPECT_EQ(g.org, "SWITCH, Swiss Education and Research Network (DB-IP)");
}

// --- Bad files ------------------------------------------------------------------------------

TEST(Database, MissingFileNamesTheFile) {
  TempDir dir;
  const std::string path = dir.file("GeoLite2-City.mmdb");
  const std::string msg = open_error(path);
  EXPECT_THAT(msg, StartsWith(path + ": "));
  EXPECT_THAT(msg, HasSubstr("No such file or directory"));
}

TEST(Database, EmptyGarbageAndDirectoryAreRejectedByName) {
  TempDir dir;
  write_file(dir.file("empty.mmdb"), "");
  write_file(dir.file("text.mmdb"), std::string(5000, 'x'));
  fs::create_directory(dir.file("dir.mmdb"));
  EXPECT_EQ(open_error(dir.file("empty.mmdb")), dir.file("empty.mmdb") + ": empty file");
  EXPECT_THAT(open_error(dir.file("text.mmdb")), StartsWith(dir.file("text.mmdb") + ": "));
  EXPECT_THAT(open_error(dir.file("text.mmdb")), HasSubstr("not a MaxMind DB file"));
  EXPECT_EQ(open_error(dir.file("dir.mmdb")), dir.file("dir.mmdb") + ": not a regular file");
}

// Found by the mmdb fuzz target: metadata whose description map is malformed. libmaxminddb 1.7.1
// refuses it but leaks the entry list it built on the way (4.6 KB per open, inside the library:
// suppressed for LeakSanitizer in .ci/lsan.supp); flowtop must refuse the file by name.
TEST(Database, MalformedMetadataFoundByFuzzingIsRefusedByName) {
  const std::string path = kData + "/fuzz/metadata-description-leak.mmdb";
  const std::string msg = open_error(path);
  EXPECT_THAT(msg, StartsWith(path + ": "));
}

TEST(Database, TruncatedCopiesAreRejectedByName) {
  const std::string full = read_file(kCity);
  ASSERT_GT(full.size(), 1000U);
  TempDir dir;
  const std::string path = dir.file("GeoLite2-City.mmdb");
  for (const std::size_t keep : {std::size_t{1}, std::size_t{16}, std::size_t{100}, full.size() / 2,
                                 full.size() - 200, full.size() - 20, full.size() - 1}) {
    write_file(path, full.substr(0, keep));
    const std::string msg = open_error(path);
    EXPECT_THAT(msg, StartsWith(path + ": ")) << "kept " << keep << " bytes";
    EXPECT_THAT(msg, HasSubstr("truncated")) << "kept " << keep << " bytes";
  }
}

TEST(Database, CutDataSectionThatMmdbOpenAcceptsIsRejected) {
  // A file with part of its data section cut out but the metadata intact: libmaxminddb opens
  // it (it reads only the metadata); the probe must notice.
  const std::string full = read_file(kCity);
  const std::string marker = "\xab\xcd\xefMaxMind.com";
  const std::size_t meta = full.rfind(marker);
  ASSERT_NE(meta, std::string::npos);
  TempDir dir;
  const std::string path = dir.file("cut.mmdb");
  int opened_by_libmaxminddb = 0;
  for (const std::size_t cut : {8, 32, 100, 300, 600}) {
    write_file(path, full.substr(0, meta - cut) + full.substr(meta));
    MMDB_s raw{};
    const bool opened = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &raw) == MMDB_SUCCESS;
    if (opened) {
      ++opened_by_libmaxminddb;
      MMDB_close(&raw);
    }
    const std::string msg = open_error(path);
    EXPECT_THAT(msg, StartsWith(path + ": ")) << "cut " << cut;
    EXPECT_THAT(msg, HasSubstr(opened ? "truncated or corrupt (" : "truncated")) << "cut " << cut;
  }
  EXPECT_GT(opened_by_libmaxminddb, 0) << "no case exercised the probe";
}

TEST(Database, UnsupportedTypeIsRejected) {
  std::string bytes = read_file(kCity);
  int replaced = 0;  // database_type, and the description that names it
  for (auto at = bytes.find("GeoLite2-City"); at != std::string::npos;
       at = bytes.find("GeoLite2-City", at)) {
    bytes.replace(at, 13, "GeoLite2-Xity");
    ++replaced;
  }
  ASSERT_GT(replaced, 0);
  TempDir dir;
  write_file(dir.file("x.mmdb"), bytes);
  EXPECT_EQ(
      open_error(dir.file("x.mmdb")),
      dir.file("x.mmdb") +
          ": unsupported database type 'GeoLite2-Xity' (need a City, Country or ASN database)");
}

// --- reserved_kind --------------------------------------------------------------------------

struct ReservedCase {
  const char* addr;
  std::optional<GeoInfo::Kind> kind;
};

TEST(ReservedKind, EachClassAndItsBoundaries) {
  using K = GeoInfo::Kind;
  const std::optional<K> pub;
  const ReservedCase cases[] = {
      // private
      {"10.0.0.0", K::Private},
      {"10.255.255.255", K::Private},
      {"9.255.255.255", pub},
      {"11.0.0.0", pub},
      {"172.16.0.0", K::Private},
      {"172.31.255.255", K::Private},
      {"172.15.255.255", pub},
      {"172.32.0.0", pub},
      {"192.168.0.0", K::Private},
      {"192.168.255.255", K::Private},
      {"192.167.255.255", pub},
      {"192.169.0.0", pub},
      {"100.64.0.0", K::Private},
      {"100.127.255.255", K::Private},
      {"100.63.255.255", pub},
      {"100.128.0.0", pub},
      {"::ffff:10.1.2.3", K::Private},
      {"fc00::", K::Private},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", K::Private},
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", pub},
      {"fe00::", pub},
      // loopback
      {"127.0.0.0", K::Loopback},
      {"127.0.0.1", K::Loopback},
      {"127.255.255.255", K::Loopback},
      {"126.255.255.255", pub},
      {"128.0.0.0", pub},
      {"::1", K::Loopback},
      {"::2", pub},
      // link-local
      {"169.254.0.0", K::LinkLocal},
      {"169.254.255.255", K::LinkLocal},
      {"169.253.255.255", pub},
      {"169.255.0.0", pub},
      {"fe80::1", K::LinkLocal},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", K::LinkLocal},
      {"fec0::", pub},
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", pub},
      // multicast
      {"224.0.0.0", K::Multicast},
      {"239.255.255.255", K::Multicast},
      {"223.255.255.255", pub},
      {"ff00::", K::Multicast},
      {"ff02::1", K::Multicast},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", K::Multicast},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", pub},
      // reserved
      {"0.0.0.0", K::Reserved},
      {"0.255.255.255", K::Reserved},
      {"1.0.0.0", pub},
      {"192.0.0.0", K::Reserved},
      {"192.0.0.255", K::Reserved},
      {"192.0.1.0", pub},
      {"192.0.2.0", K::Reserved},
      {"192.0.2.255", K::Reserved},
      {"192.0.3.0", pub},
      {"198.18.0.0", K::Reserved},
      {"198.19.255.255", K::Reserved},
      {"198.17.255.255", pub},
      {"198.20.0.0", pub},
      {"198.51.100.0", K::Reserved},
      {"198.51.100.255", K::Reserved},
      {"198.51.99.255", pub},
      {"198.51.101.0", pub},
      {"203.0.113.0", K::Reserved},
      {"203.0.113.255", K::Reserved},
      {"203.0.112.255", pub},
      {"203.0.114.0", pub},
      {"240.0.0.0", K::Reserved},
      {"255.255.255.255", K::Reserved},
      {"::", K::Reserved},
      {"2001:db8::", K::Reserved},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", K::Reserved},
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", pub},
      {"2001:db9::", pub},
      {"100::", K::Reserved},
      {"100::ffff:ffff:ffff:ffff", K::Reserved},
      {"100:0:0:1::", pub},
      {"64:ff9b:1::", K::Reserved},
      {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", K::Reserved},
      {"64:ff9b:2::", pub},
      {"64:ff9b::8.8.8.8", pub},
      // public
      {"8.8.8.8", pub},
      {"81.2.69.142", pub},
      {"2a02:cf40::1", pub},
      {"2001:218::1", pub},
  };
  for (const ReservedCase& c : cases) {
    const auto got = reserved_kind(ip(c.addr));
    EXPECT_EQ(got, c.kind) << c.addr << " -> " << (got ? core::geo_kind_label(*got) : "public")
                           << ", want " << (c.kind ? core::geo_kind_label(*c.kind) : "public");
  }
}

// --- GeoDatabases ---------------------------------------------------------------------------

TEST(GeoDatabases, MergesCityAndAsn) {
  TempDir dir;
  dir.copy(kCity);
  dir.copy(kAsn);
  const GeoDatabases geo({dir.path()}, "");
  EXPECT_TRUE(geo.any());
  EXPECT_FALSE(geo.uses_dbip());
  EXPECT_EQ(geo.source_label(), "GeoLite2-City + GeoLite2-ASN");
  EXPECT_THAT(geo.warnings(), ElementsAre());
  const auto london = geo.lookup(ip("81.2.69.142"));
  ASSERT_TRUE(london.has_value());
  EXPECT_EQ(london->kind, GeoInfo::Kind::Located);
  EXPECT_EQ(london->country, "GB");
  EXPECT_EQ(london->country_name, "United Kingdom");
  EXPECT_EQ(london->city, "London");
  EXPECT_EQ(london->asn, 20712U);
  EXPECT_EQ(london->org, "Andrews & Arnold Ltd");
  const auto zurich = geo.lookup(ip("2a02:cf40::443"));
  ASSERT_TRUE(zurich.has_value());
  EXPECT_EQ(zurich->city, "Z\xc3\xbcrich");
  EXPECT_EQ(zurich->asn, 559U);
  // Known only to the ASN database.
  const auto telstra = geo.lookup(ip("1.128.0.1"));
  ASSERT_TRUE(telstra.has_value());
  EXPECT_EQ(telstra->country, "");
  EXPECT_EQ(telstra->asn, 1221U);
  EXPECT_FALSE(geo.lookup(ip("8.8.8.8")).has_value());
  EXPECT_FALSE(geo.lookup(ip("2001:4860::8888")).has_value());
}

TEST(GeoDatabases, ReservedAddressesAreNeverLookedUp) {
  TempDir dir;
  dir.copy(kCity);
  const GeoDatabases geo({dir.path()}, "");
  const auto priv = geo.lookup(ip("192.168.1.1"));
  ASSERT_TRUE(priv.has_value());
  EXPECT_EQ(priv->kind, GeoInfo::Kind::Private);
  EXPECT_EQ(priv->country, "");
  EXPECT_EQ(geo.lookup(ip("::1"))->kind, GeoInfo::Kind::Loopback);
  EXPECT_EQ(geo.lookup(ip("fe80::1"))->kind, GeoInfo::Kind::LinkLocal);
  EXPECT_EQ(geo.lookup(ip("239.1.2.3"))->kind, GeoInfo::Kind::Multicast);
  EXPECT_EQ(geo.lookup(ip("2001:db8::1"))->kind, GeoInfo::Kind::Reserved);
}

TEST(GeoDatabases, CorruptFileIsSkippedWithAWarningAndTheOthersAreUsed) {
  TempDir dir;
  const std::string full = read_file(kCity);
  write_file(dir.file("A-broken.mmdb"), full.substr(0, full.size() / 2));
  dir.copy(kCity);
  dir.copy(kAsn);
  const GeoDatabases geo({dir.path()}, "");
  ASSERT_EQ(geo.warnings().size(), 1U);
  EXPECT_THAT(geo.warnings()[0], StartsWith(dir.file("A-broken.mmdb") + ": "));
  EXPECT_THAT(geo.warnings()[0], HasSubstr("truncated"));
  EXPECT_EQ(geo.source_label(), "GeoLite2-City + GeoLite2-ASN");
  const auto g = geo.lookup(ip("89.160.20.112"));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->city, "Link\xc3\xb6ping");
  EXPECT_EQ(g->asn, 29518U);
}

TEST(GeoDatabases, NothingFoundWarnsToRunUpdate) {
  TempDir empty;
  TempDir no_tor;
  const GeoDatabases geo({empty.path(), empty.file("does-not-exist")}, no_tor.path());
  EXPECT_FALSE(geo.any());
  EXPECT_FALSE(geo.uses_dbip());
  EXPECT_EQ(geo.source_label(), "");
  EXPECT_THAT(geo.warnings(), ElementsAre(kNoDatabase));
  EXPECT_FALSE(geo.lookup(ip("81.2.69.142")).has_value());
  EXPECT_EQ(geo.lookup(ip("10.0.0.1"))->kind, GeoInfo::Kind::Private);
}

TEST(GeoDatabases, AMissingGeoipDirIsNamed) {
  TempDir dir;
  EXPECT_EQ(geoip_dir_problem(""), "");
  EXPECT_EQ(geoip_dir_problem(dir.path()), "");
  EXPECT_EQ(geoip_dir_problem(dir.file("nope")),
            "--geoip-dir " + dir.file("nope") + ": no such directory");
  std::ofstream(dir.file("plain")) << "x";
  EXPECT_EQ(geoip_dir_problem(dir.file("plain")),
            "--geoip-dir " + dir.file("plain") + ": not a directory");
  // A hostile name never reaches the screen raw.
  EXPECT_EQ(geoip_dir_problem(dir.file("a\x1b[2Jb")).find('\x1b'), std::string::npos);
}

TEST(GeoDatabases, OnlyACorruptFileWarnsTwice) {
  TempDir dir;
  write_file(dir.file("GeoLite2-City.mmdb"), "garbage");
  const GeoDatabases geo({dir.path()}, "");
  EXPECT_FALSE(geo.any());
  ASSERT_EQ(geo.warnings().size(), 2U);
  EXPECT_THAT(geo.warnings()[0], StartsWith(dir.file("GeoLite2-City.mmdb") + ": "));
  EXPECT_EQ(geo.warnings()[1], kNoDatabase);
}

TEST(GeoDatabases, TorFallbackIpv4AndIpv6) {
  TempDir empty;
  const GeoDatabases geo({empty.path()}, kTorDir);
  EXPECT_TRUE(geo.any());
  EXPECT_FALSE(geo.uses_dbip());
  EXPECT_EQ(geo.source_label(), "tor-geoipdb (countries only)");
  EXPECT_THAT(geo.warnings(), ElementsAre());
  for (const char* addr : {"81.2.69.0", "81.2.69.142", "81.2.69.255", "::ffff:81.2.69.9"}) {
    const auto g = geo.lookup(ip(addr));
    ASSERT_TRUE(g.has_value()) << addr;
    EXPECT_EQ(g->kind, GeoInfo::Kind::Located);
    EXPECT_EQ(g->country, "GB") << addr;
    EXPECT_EQ(g->city, "") << addr;
    EXPECT_EQ(g->asn, 0U) << addr;
  }
  EXPECT_EQ(geo.lookup(ip("41.0.0.1"))->country, "ZA");        // the lowest range
  EXPECT_EQ(geo.lookup(ip("216.160.83.255"))->country, "US");  // the highest
  for (const char* addr : {"81.2.68.255", "81.2.70.0", "41.0.1.0", "216.160.84.0", "1.1.1.1"}) {
    EXPECT_FALSE(geo.lookup(ip(addr)).has_value()) << addr;
  }
  EXPECT_EQ(geo.lookup(ip("2a02:cf40::"))->country, "CH");
  EXPECT_EQ(geo.lookup(ip("2a02:cf47:ffff:ffff:ffff:ffff:ffff:ffff"))->country, "CH");
  EXPECT_EQ(geo.lookup(ip("2001:218::1"))->country, "JP");
  EXPECT_EQ(geo.lookup(ip("2c0e:2000::1"))->country, "EG");
  for (const char* addr :
       {"2a02:cf48::", "2a02:cf3f:ffff:ffff:ffff:ffff:ffff:ffff", "2001:219::"}) {
    EXPECT_FALSE(geo.lookup(ip(addr)).has_value()) << addr;
  }
}

TEST(GeoDatabases, TorFallbackIsNotUsedBesideALocationDatabase) {
  TempDir dir;
  dir.copy(kCity);
  const GeoDatabases geo({dir.path()}, kTorDir);
  EXPECT_EQ(geo.source_label(), "GeoLite2-City");
  EXPECT_FALSE(geo.lookup(ip("41.0.0.1")).has_value());  // only the tor file has it
}

TEST(GeoDatabases, TorFallbackCompletesAnAsnOnlySetup) {
  TempDir dir;
  dir.copy(kAsn);
  const GeoDatabases geo({dir.path()}, kTorDir);
  EXPECT_EQ(geo.source_label(), "tor-geoipdb (countries only) + GeoLite2-ASN");
  EXPECT_THAT(geo.warnings(), ElementsAre());
  const auto g = geo.lookup(ip("81.2.69.1"));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->country, "GB");
  EXPECT_EQ(g->asn, 20712U);
}

TEST(GeoDatabases, AsnOnlyWarnsAboutTheMissingLocation) {
  TempDir dir;
  dir.copy(kAsn);
  const GeoDatabases geo({dir.path()}, "");
  EXPECT_TRUE(geo.any());
  EXPECT_THAT(geo.warnings(),
              ElementsAre("no GeoIP city or country database found: run 'flowtop -u' to download "
                          "one (DB-IP Lite, free)"));
}

// A FIFO in place of a tor-geoipdb file is a warning, never read (a read would block forever).
TEST(GeoDatabases, TorFileThatIsAFifoIsWarnedAboutNotRead) {
  TempDir tor;
  ASSERT_EQ(::mkfifo(tor.file("geoip").c_str(), 0600), 0);
  TempDir empty;
  const GeoDatabases geo({empty.path()}, tor.path());
  EXPECT_THAT(geo.warnings(), Contains(tor.file("geoip") + ": cannot open (not a regular file)"));
}

TEST(GeoDatabases, TorBadLinesAreReportedAndSkipped) {
  TempDir tor;
  write_file(tor.file("geoip"),
             "# comment\n"
             "\n"
             "1359103232,1359103487,GB\n"
             "1.2.3.4,1.2.3.5,XX\n"
             "1503663359,1503663104,SE\n"
             "2937112320,2937112575\n"
             "2937112320,2937112575,C\n"
             "3634385664,3634385919,US\r\n");
  write_file(tor.file("geoip6"),
             "2001:218::,zzz,JP\n2a02:cf40::,2a02:cf47:ffff:ffff:ffff:ffff:ffff:ffff,ch\n");
  TempDir empty;
  const GeoDatabases geo({empty.path()}, tor.path());
  EXPECT_THAT(geo.warnings(),
              ElementsAre(tor.file("geoip") + ":4: bad IPv4 range (expected integers)",
                          tor.file("geoip") + ":5: bad IPv4 range (expected integers)",
                          tor.file("geoip") + ":6: expected LOW,HIGH,CC",
                          tor.file("geoip") + ": 1 more bad lines skipped",
                          tor.file("geoip6") + ":1: bad IPv6 range"));
  EXPECT_EQ(geo.lookup(ip("81.2.69.1"))->country, "GB");
  EXPECT_EQ(geo.lookup(ip("216.160.83.1"))->country, "US");  // CRLF line
  EXPECT_EQ(geo.lookup(ip("2a02:cf40::1"))->country, "CH");  // lower case code
  EXPECT_FALSE(geo.lookup(ip("89.160.20.1")).has_value());
  EXPECT_FALSE(geo.lookup(ip("2001:218::1")).has_value());
}

TEST(GeoDatabases, EarlierDirectoryWinsForTheSameKind) {
  TempDir maxmind;
  TempDir dbip;
  maxmind.copy(kAsn);
  dbip.copy(kDbipAsn);
  {
    const GeoDatabases geo({dbip.path(), maxmind.path()}, "");
    EXPECT_EQ(geo.source_label(), "DBIP-ASN-Lite (compat=GeoLite2-ASN)");
    EXPECT_TRUE(geo.uses_dbip());
    EXPECT_EQ(geo.lookup(ip("81.2.69.1"))->org, "Andrews & Arnold Ltd (DB-IP)");
  }
  {
    const GeoDatabases geo({maxmind.path(), dbip.path()}, "");
    EXPECT_EQ(geo.source_label(), "GeoLite2-ASN");
    EXPECT_FALSE(geo.uses_dbip());
    EXPECT_EQ(geo.lookup(ip("81.2.69.1"))->org, "Andrews & Arnold Ltd");
  }
}

TEST(GeoDatabases, CityBeatsCountryWhateverTheOrder) {
  TempDir country;
  TempDir city;
  country.copy(kCountry);
  city.copy(kCity);
  const GeoDatabases geo({country.path(), city.path()}, "");
  EXPECT_EQ(geo.source_label(), "GeoLite2-City");
  EXPECT_FALSE(geo.uses_dbip());
  EXPECT_EQ(geo.lookup(ip("81.2.69.1"))->city, "London");

  const GeoDatabases country_only({country.path()}, "");
  EXPECT_EQ(country_only.source_label(), "DBIP-Country-Lite");
  EXPECT_TRUE(country_only.uses_dbip());
  EXPECT_EQ(country_only.lookup(ip("41.0.0.1"))->country_name, "South Africa");
  EXPECT_EQ(country_only.lookup(ip("81.2.69.1"))->city, "");
}

TEST(GeoDatabases, FixtureDirectoryAsIntegrationTestsSeeIt) {
  // tests/data/geoip/README.md promises this to tests that pass --geoip-dir tests/data/geoip.
  const GeoDatabases geo({kData}, "");
  EXPECT_EQ(geo.source_label(), "GeoLite2-City + GeoLite2-ASN");
  EXPECT_FALSE(geo.uses_dbip());
  EXPECT_THAT(geo.warnings(), ElementsAre());
}

TEST(DefaultDirs, GeoipDirFirstThenTheStandardOnes) {
  EXPECT_THAT(default_dirs(""),
              ElementsAre("/var/lib/flowtop", "/usr/share/GeoIP", "/var/lib/GeoIP"));
  EXPECT_THAT(default_dirs("/opt/geo"),
              ElementsAre("/opt/geo", "/var/lib/flowtop", "/usr/share/GeoIP", "/var/lib/GeoIP"));
  EXPECT_THAT(default_dirs("/usr/share/GeoIP"),
              ElementsAre("/usr/share/GeoIP", "/var/lib/flowtop", "/var/lib/GeoIP"));
}

}  // namespace
}  // namespace flowtop::geoip
