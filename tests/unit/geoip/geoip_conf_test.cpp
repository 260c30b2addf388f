// geoip.conf for `flowtop -u`: every line kind, bad lines as file:line: reason, placeholders and
// the month before, MaxMind accounts from geoip.conf or geoipupdate's GeoIP.conf.
#include "flowtop/geoip/geoip_conf.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace flowtop::geoip {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

GeoipConf parse(std::string_view text) {
  return parse_geoip_conf(text, "geoip.conf");
}

std::string source_root() {
  return fs::path(FLOWTOP_TEST_DATA).parent_path().parent_path();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "geoip_conf_test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name, const std::string& text) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

 private:
  fs::path path_;
};

TEST(GeoipConf, ShippedFileHasTheDbipLiteDefaults) {
  const GeoipConf conf = read_geoip_conf(source_root() + "/conf/geoip.conf");
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_EQ(conf.sources.size(), 2U);
  const Source& city = conf.sources[0];
  EXPECT_EQ(city.kind, Source::Kind::Url);
  EXPECT_EQ(city.location, "https://download.db-ip.com/free/dbip-city-lite-{YYYY}-{MM}.mmdb.gz");
  EXPECT_EQ(city.target, "dbip-city-lite.mmdb");
  EXPECT_EQ(city.expected, DbKind::City);
  EXPECT_EQ(city.packaging, Packaging::Gzip);
  EXPECT_TRUE(city.dated);
  EXPECT_TRUE(city.dbip);
  EXPECT_FALSE(city.auth);
  const Source& asn = conf.sources[1];
  EXPECT_EQ(asn.location, "https://download.db-ip.com/free/dbip-asn-lite-{YYYY}-{MM}.mmdb.gz");
  EXPECT_EQ(asn.target, "dbip-asn-lite.mmdb");
  EXPECT_EQ(asn.expected, DbKind::Asn);
  EXPECT_FALSE(conf.account.has_value());
}

TEST(GeoipConf, UrlLinesByEnding) {
  const GeoipConf conf = parse(
      "http://10.0.0.1:8080/geo/My-Country.mmdb\n"
      "https://example.org/x/GeoLite2-ASN_20261127.tar.gz?token=abc\n"
      "https://example.org/x/city-{YYYY}{MM}.MMDB.GZ\n"
      "https://example.org/pack.tgz\n");
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_EQ(conf.sources.size(), 4U);
  EXPECT_EQ(conf.sources[0].packaging, Packaging::Mmdb);
  EXPECT_EQ(conf.sources[0].target, "My-Country.mmdb");
  EXPECT_EQ(conf.sources[0].expected, DbKind::Country);
  EXPECT_FALSE(conf.sources[0].dated);
  EXPECT_FALSE(conf.sources[0].dbip);
  EXPECT_EQ(conf.sources[1].packaging, Packaging::TarGz);
  EXPECT_EQ(conf.sources[1].location,
            "https://example.org/x/GeoLite2-ASN_20261127.tar.gz?token=abc");
  EXPECT_EQ(conf.sources[1].expected, DbKind::Asn);
  EXPECT_EQ(conf.sources[2].packaging, Packaging::Gzip);
  EXPECT_EQ(conf.sources[2].target, "city.mmdb");
  EXPECT_TRUE(conf.sources[2].dated);
  EXPECT_EQ(conf.sources[3].packaging, Packaging::TarGz);
  EXPECT_EQ(conf.sources[3].expected, DbKind::Unknown);
  for (std::size_t i = 0; i < conf.sources.size(); ++i) {
    EXPECT_EQ(conf.sources[i].line, static_cast<int>(i) + 1);
  }
}

TEST(GeoipConf, FileUrlsAreLocalPaths) {
  const GeoipConf conf = parse(
      "file:///srv/geo/dbip-country-lite-{YYYY}-{MM}.mmdb.gz\n"
      "file://localhost/srv/my%20dir/GeoLite2-City.mmdb\n");
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_EQ(conf.sources.size(), 2U);
  EXPECT_EQ(conf.sources[0].kind, Source::Kind::File);
  EXPECT_EQ(conf.sources[0].location, "/srv/geo/dbip-country-lite-{YYYY}-{MM}.mmdb.gz");
  EXPECT_EQ(conf.sources[0].target, "dbip-country-lite.mmdb");
  EXPECT_TRUE(conf.sources[0].dated);
  EXPECT_TRUE(conf.sources[0].dbip);
  EXPECT_EQ(conf.sources[1].location, "/srv/my dir/GeoLite2-City.mmdb");
  EXPECT_EQ(conf.sources[1].expected, DbKind::City);
}

TEST(GeoipConf, MirrorFetchesTheDefaultNamesFromItsBase) {
  const GeoipConf conf = parse("  mirror   https://mirror.example/geoip/  # local copy\n");
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_EQ(conf.sources.size(), 2U);
  EXPECT_EQ(conf.sources[0].location,
            "https://mirror.example/geoip/dbip-city-lite-{YYYY}-{MM}.mmdb.gz");
  EXPECT_EQ(conf.sources[0].target, "dbip-city-lite.mmdb");
  EXPECT_EQ(conf.sources[1].location,
            "https://mirror.example/geoip/dbip-asn-lite-{YYYY}-{MM}.mmdb.gz");
  EXPECT_EQ(conf.sources[1].target, "dbip-asn-lite.mmdb");
  EXPECT_EQ(conf.sources[1].line, 1);
  const GeoipConf local = parse("mirror file:///var/cache/geo\n");
  ASSERT_THAT(local.errors, IsEmpty());
  EXPECT_EQ(local.sources[0].kind, Source::Kind::File);
  EXPECT_EQ(local.sources[0].location, "/var/cache/geo/dbip-city-lite-{YYYY}-{MM}.mmdb.gz");
}

TEST(GeoipConf, MaxMindLinesAndAccount) {
  const GeoipConf conf = parse(
      "AccountID 123456\n"
      "LicenseKey abc_DEF-123\n"
      "maxmind GeoLite2-City GeoLite2-ASN\n"
      "EditionIDs GeoLite2-Country\n");
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_TRUE(conf.account.has_value());
  EXPECT_EQ(conf.account->account_id, "123456");
  EXPECT_EQ(conf.account->license_key, "abc_DEF-123");
  EXPECT_EQ(conf.account->origin, "geoip.conf:1");
  ASSERT_EQ(conf.sources.size(), 3U);
  const Source& city = conf.sources[0];
  EXPECT_EQ(city.kind, Source::Kind::MaxMind);
  EXPECT_EQ(city.location,
            "https://download.maxmind.com/geoip/databases/GeoLite2-City/download?suffix=tar.gz");
  EXPECT_EQ(city.target, "GeoLite2-City.mmdb");
  EXPECT_EQ(city.expected, DbKind::City);
  EXPECT_EQ(city.packaging, Packaging::TarGz);
  EXPECT_TRUE(city.auth);
  EXPECT_FALSE(city.dated);
  EXPECT_EQ(conf.sources[1].expected, DbKind::Asn);
  EXPECT_EQ(conf.sources[2].edition, "GeoLite2-Country");
  EXPECT_EQ(conf.sources[2].line, 4);
}

TEST(GeoipConf, CommentsBlankLinesAndCrlf) {
  const GeoipConf conf = parse(
      "# a comment\r\n"
      "\r\n"
      "   \t\n"
      "https://example.org/a.mmdb#frag  # comment after a blank\r\n"
      "https://example.org/b.mmdb\t# tab before the comment\n");
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_EQ(conf.sources.size(), 2U);
  EXPECT_EQ(conf.sources[0].location, "https://example.org/a.mmdb#frag");
  EXPECT_EQ(conf.sources[0].line, 4);
  EXPECT_EQ(conf.sources[1].target, "b.mmdb");
}

TEST(GeoipConf, BadLinesAreReportedWithFileAndLineAndTheRestIsParsed) {
  const GeoipConf conf = parse(
      "download everything\n"                          // 1
      "ftp://example.org/a.mmdb\n"                     // 2
      "https:///a.mmdb\n"                              // 3
      "https://example.org/a.zip\n"                    // 4
      "https://example.org/a-{YY}.mmdb\n"              // 5
      "https://example.org/a.mmdb https://b/c.mmdb\n"  // 6
      "AccountID twelve\n"                             // 7
      "file://relative/a.mmdb\n"                       // 8
      "mirror\n"                                       // 9
      "maxmind GeoLite2-City ../etc\n"                 // 10
      "https://example.org/a%zz.mmdb\n"                // 11
      "https://example.org/%2e%2e.mmdb\n"              // 12
      "https://example.org/ok.mmdb\n"                  // 13
      "LicenseKey\n"                                   // 14
      "mirror gopher://x\n");                          // 15
  EXPECT_THAT(
      conf.errors,
      ElementsAre(
          "geoip.conf:1: unknown keyword 'download' (expected a URL, a file:// path, mirror, "
          "maxmind, AccountID or LicenseKey)",
          "geoip.conf:2: unsupported URL scheme 'ftp' (use https://, http:// or file://)",
          "geoip.conf:3: 'https:///a.mmdb' has no host name",
          "geoip.conf:4: 'a.zip' is not a .mmdb, .mmdb.gz or .tar.gz file",
          "geoip.conf:5: unknown placeholder '{YY}' (only {YYYY} and {MM})",
          "geoip.conf:6: one URL per line (unexpected 'https://b/c.mmdb')",
          "geoip.conf:7: AccountID 'twelve' is not a number",
          "geoip.conf:8: a file:// URL needs an absolute path (file:///path/to/file.mmdb)",
          "geoip.conf:9: mirror takes one base URL (mirror https://example.org/geoip)",
          "geoip.conf:10: '../etc' is not a MaxMind edition id (like GeoLite2-City)",
          "geoip.conf:11: bad %-escape in 'https://example.org/a%zz.mmdb'",
          "geoip.conf:12: cannot make a safe file name from '...mmdb' (use letters, digits, . _ -)",
          "geoip.conf:14: LicenseKey takes one key",
          "geoip.conf:15: mirror base 'gopher://x' is not an http://, https:// or file:// URL"));
  ASSERT_EQ(conf.sources.size(), 1U);
  EXPECT_EQ(conf.sources[0].target, "ok.mmdb");
  EXPECT_EQ(conf.sources[0].line, 13);
}

TEST(GeoipConf, HalfAnAccountIsAnError) {
  EXPECT_THAT(parse("\nAccountID 42\n").errors,
              ElementsAre("geoip.conf:2: AccountID without a LicenseKey line"));
  EXPECT_THAT(parse("LicenseKey k\n").errors,
              ElementsAre("geoip.conf:1: LicenseKey without an AccountID line"));
}

TEST(GeoipConf, HostileTextInErrorsIsSanitised) {
  const GeoipConf conf = parse("\x1b]0;pwned\x07 x\n");
  ASSERT_EQ(conf.errors.size(), 1U);
  EXPECT_EQ(conf.errors[0].find('\x1b'), std::string::npos);
  EXPECT_EQ(conf.errors[0].find('\x07'), std::string::npos);
  EXPECT_THAT(conf.errors[0], HasSubstr("'?]0;pwned?'"));
}

TEST(GeoipConf, UnreadableFileIsOneError) {
  const GeoipConf conf = read_geoip_conf("/nonexistent/geoip.conf");
  EXPECT_THAT(conf.errors,
              ElementsAre("/nonexistent/geoip.conf: cannot read: No such file or directory"));
}

TEST(GeoipConfMonths, PlaceholdersExpandToYearAndTwoDigitMonth) {
  EXPECT_EQ(expand_placeholders("dbip-city-lite-{YYYY}-{MM}.mmdb.gz", {2026, 3}),
            "dbip-city-lite-2026-03.mmdb.gz");
  EXPECT_EQ(expand_placeholders("{MM}/{YYYY}{MM}{x}", {2026, 11}), "11/202611{x}");
  EXPECT_EQ(expand_placeholders("no placeholders", {2026, 11}), "no placeholders");
}

TEST(GeoipConfMonths, PreviousMonthCrossesTheYear) {
  EXPECT_EQ(previous_month({2026, 11}), (YearMonth{2026, 10}));
  EXPECT_EQ(previous_month({2027, 1}), (YearMonth{2026, 12}));
  EXPECT_EQ(to_string(previous_month({2027, 1})), "2026-12");
  EXPECT_EQ(expand_placeholders("{YYYY}-{MM}", previous_month({2000, 1})), "1999-12");
}

TEST(GeoipConfMonths, CurrentMonthIsTodayInUtc) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  const YearMonth ym = current_month_utc();
  EXPECT_EQ(ym.year, tm.tm_year + 1900);
  EXPECT_EQ(ym.month, tm.tm_mon + 1);
}

TEST(GeoipConf, KindFromName) {
  EXPECT_EQ(kind_from_name("dbip-city-lite"), DbKind::City);
  EXPECT_EQ(kind_from_name("GeoLite2-Country"), DbKind::Country);
  EXPECT_EQ(kind_from_name("GeoLite2-ASN"), DbKind::Asn);
  EXPECT_EQ(kind_from_name("whatever"), DbKind::Unknown);
}

TEST(GeoipUpdateConf, ReadsAccountAndEditions) {
  const GeoipUpdateConf c = parse_geoipupdate_conf(
      "# GeoIP.conf\nAccountID 999\nLicenseKey sEcReT\nEditionIDs GeoLite2-Country GeoLite2-ASN\n"
      "DatabaseDirectory /var/lib/GeoIP\n",
      "/etc/GeoIP.conf");
  ASSERT_TRUE(c.account.has_value());
  EXPECT_EQ(c.account->account_id, "999");
  EXPECT_EQ(c.account->license_key, "sEcReT");
  EXPECT_EQ(c.account->origin, "/etc/GeoIP.conf");
  EXPECT_THAT(c.editions, ElementsAre("GeoLite2-Country", "GeoLite2-ASN"));
}

TEST(GeoipUpdateConf, DebiansPlaceholderAccountIsNoAccount) {
  const GeoipUpdateConf c =
      parse_geoipupdate_conf("AccountID 0\nLicenseKey 000000000000\n", "/etc/GeoIP.conf");
  EXPECT_FALSE(c.account.has_value());
}

TEST(ResolveMaxMind, AccountFromGeoipConfWins) {
  TempDir dir;
  const std::string system =
      dir.file("GeoIP.conf", "AccountID 1\nLicenseKey other\nEditionIDs GeoLite2-Country\n");
  GeoipConf conf = parse("AccountID 7\nLicenseKey mine\nmaxmind\n");
  resolve_maxmind(conf, system);
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_TRUE(conf.account.has_value());
  EXPECT_EQ(conf.account->license_key, "mine");
  // Without editions: GeoIP.conf's EditionIDs.
  ASSERT_EQ(conf.sources.size(), 1U);
  EXPECT_EQ(conf.sources[0].edition, "GeoLite2-Country");
  EXPECT_EQ(conf.sources[0].target, "GeoLite2-Country.mmdb");
  EXPECT_EQ(conf.sources[0].line, 3);
}

TEST(ResolveMaxMind, AccountFromGeoipUpdateConf) {
  TempDir dir;
  const std::string system = dir.file("GeoIP.conf", "AccountID 31337\nLicenseKey fromfile\n");
  GeoipConf conf = parse("https://example.org/a.mmdb\nmaxmind\n");
  resolve_maxmind(conf, system);
  ASSERT_THAT(conf.errors, IsEmpty());
  ASSERT_TRUE(conf.account.has_value());
  EXPECT_EQ(conf.account->account_id, "31337");
  EXPECT_EQ(conf.account->origin, system);
  ASSERT_EQ(conf.sources.size(), 3U);  // no EditionIDs: the default editions
  EXPECT_EQ(conf.sources[0].target, "a.mmdb");
  EXPECT_EQ(conf.sources[1].edition, "GeoLite2-City");
  EXPECT_EQ(conf.sources[2].edition, "GeoLite2-ASN");
}

TEST(ResolveMaxMind, WithoutAccountEachMaxMindLineIsAnError) {
  GeoipConf conf = parse("maxmind GeoLite2-City GeoLite2-ASN\nhttps://example.org/a.mmdb\n");
  resolve_maxmind(conf, "/nonexistent/GeoIP.conf");
  EXPECT_THAT(conf.errors,
              ElementsAre("geoip.conf:1: maxmind needs a MaxMind account: add 'AccountID N' and "
                          "'LicenseKey KEY' lines to geoip.conf or to /nonexistent/GeoIP.conf "
                          "(free GeoLite2 account at maxmind.com)"));
}

TEST(ResolveMaxMind, NoMaxMindLinesLeaveTheConfAlone) {
  GeoipConf conf = parse("https://example.org/a.mmdb\n");
  resolve_maxmind(conf, "/nonexistent/GeoIP.conf");
  EXPECT_THAT(conf.errors, IsEmpty());
  EXPECT_EQ(conf.sources.size(), 1U);
}

TEST(GeoipUpdateConfPath, EnvironmentOverridesEtc) {
  ::unsetenv("FLOWTOP_GEOIPUPDATE_CONF");
  EXPECT_EQ(geoipupdate_conf_path(), "/etc/GeoIP.conf");
  ::setenv("FLOWTOP_GEOIPUPDATE_CONF", "/tmp/x.conf", 1);
  EXPECT_EQ(geoipupdate_conf_path(), "/tmp/x.conf");
  ::unsetenv("FLOWTOP_GEOIPUPDATE_CONF");
}

}  // namespace
}  // namespace flowtop::geoip
