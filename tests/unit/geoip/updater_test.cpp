// The `flowtop -u` install/keep logic on local files (file:// sources): unpacking, validation,
// the month before, alternatives, permissions, and that nothing bad or half-written is ever
// installed or left behind.
#include "flowtop/geoip/updater.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flowtop/sys/unique_fd.hpp"
#include "geoip/download_client.hpp"
#include "geoip/update_progress.hpp"
#include "geoip/update_text.hpp"
#include "geoip/update_unpack.hpp"

namespace flowtop::geoip {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::string kData = std::string(FLOWTOP_TEST_DATA) + "/geoip/";
const std::string kCity = kData + "GeoLite2-City-Test.mmdb";
const std::string kAsn = kData + "GeoLite2-ASN-Test.mmdb";
const std::string kDbipAsn = kData + "dbip-asn/DBIP-ASN-Lite-Test.mmdb";
const std::string kDbipCountry = kData + "DBIP-Country-Lite-Test.mmdb";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, std::string_view data) {
  std::ofstream(path, std::ios::binary) << data;
}

void write_gz(const std::string& path, std::string_view data) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())),
            static_cast<int>(data.size()));
  gzclose(f);
}

void write_tar_gz(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& members) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& [name, data] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "updater_test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  [[nodiscard]] std::string operator/(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

/// Names of the updater's temporary files left in `dir`.
std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) {
    return out;
  }
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(".")) {
      out.push_back(name);
    }
  }
  return out;
}

struct Result {
  UpdateSummary summary;
  std::string out;
  std::string err;
};

class Updater : public ::testing::Test {
 protected:
  Updater() {
    fs::create_directories(src_);
    options_.dir = dir_;
    options_.month = {2026, 11};
  }

  Result update(const std::string& conf_text) {
    const GeoipConf conf = parse_geoip_conf(conf_text, "geoip.conf");
    EXPECT_THAT(conf.errors, IsEmpty());
    std::ostringstream out;
    std::ostringstream err;
    Result r;
    r.summary = update_databases(conf, options_, out, err);
    r.out = out.str();
    r.err = err.str();
    EXPECT_THAT(temp_files(options_.dir), IsEmpty()) << r.out << r.err;
    return r;
  }

  /// A good database already installed, dated an hour ago.
  void install_existing(const std::string& name, const std::string& fixture) {
    fs::create_directories(dir_);
    fs::copy_file(fixture, dir_ + "/" + name);
    old_mtime_ = fs::last_write_time(dir_ + "/" + name) - std::chrono::hours(1);
    fs::last_write_time(dir_ + "/" + name, old_mtime_);
  }

  void expect_kept(const std::string& name, const std::string& fixture) {
    EXPECT_EQ(read_file(dir_ + "/" + name), read_file(fixture)) << name << " was replaced";
    EXPECT_EQ(fs::last_write_time(dir_ + "/" + name), old_mtime_);
  }

  TempDir tmp_;
  std::string src_ = tmp_ / "src";
  std::string dir_ = tmp_ / "geoip";
  UpdateOptions options_;
  fs::file_time_type old_mtime_;
};

TEST_F(Updater, InstallsGzipTarGzAndPlainFilesWithSaneModes) {
  write_gz(src_ + "/dbip-city-lite-2026-11.mmdb.gz", read_file(kCity));
  write_tar_gz(src_ + "/GeoLite2-ASN_20261127.tar.gz",
               {{"GeoLite2-ASN_20261127/COPYRIGHT.txt", "(c) test"},
                {"GeoLite2-ASN_20261127/GeoLite2-ASN.mmdb", read_file(kAsn)},
                {"GeoLite2-ASN_20261127/LICENSE.txt", "licence"}});
  fs::copy_file(kDbipCountry, src_ + "/My-Country.mmdb");
  options_.dir = tmp_ / "deeper/geoip";  // missing, with a missing parent
  const mode_t old_umask = ::umask(077);
  const Result r =
      update("file://" + src_ + "/dbip-city-lite-{YYYY}-{MM}.mmdb.gz\n" + "file://" + src_ +
             "/GeoLite2-ASN_20261127.tar.gz\n" + "file://" + src_ + "/My-Country.mmdb\n");
  ::umask(old_umask);
  EXPECT_EQ(r.summary.exit_status(), 0) << r.err;
  EXPECT_THAT(r.summary.installed, ::testing::ElementsAre("dbip-city-lite.mmdb",
                                                          "GeoLite2-ASN.mmdb", "My-Country.mmdb"));
  EXPECT_THAT(r.summary.failed, IsEmpty());
  EXPECT_EQ(r.err, "");
  const std::string dir = options_.dir;
  EXPECT_EQ(read_file(dir + "/dbip-city-lite.mmdb"), read_file(kCity));
  EXPECT_EQ(read_file(dir + "/GeoLite2-ASN.mmdb"), read_file(kAsn));
  EXPECT_EQ(read_file(dir + "/My-Country.mmdb"), read_file(kDbipCountry));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755U);
  ASSERT_EQ(::stat((tmp_ / "deeper").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755U);
  for (const char* name : {"dbip-city-lite.mmdb", "GeoLite2-ASN.mmdb", "My-Country.mmdb"}) {
    ASSERT_EQ(::stat((dir + "/" + name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644U) << name;
  }
  EXPECT_THAT(r.out, HasSubstr("created " + dir + "\n"));
  EXPECT_THAT(r.out, HasSubstr("dbip-city-lite.mmdb: installed " + dir +
                               "/dbip-city-lite.mmdb (GeoLite2-City, built 2023-11-14, 3.6 kB)\n"));
  EXPECT_THAT(r.out, HasSubstr("flowtop: 3 installed, 0 up to date, 0 failed in " + dir + "\n"));
  // DBIP-Country-Lite is DB-IP data: the attribution its licence asks for.
  EXPECT_TRUE(r.summary.dbip);
  EXPECT_THAT(r.out, HasSubstr(std::string(kDbipAttribution) + "\n"));
}

TEST_F(Updater, InstalledFileKeepsTheSourcesTime) {
  fs::copy_file(kCity, src_ + "/city.mmdb");
  const auto when = fs::file_time_type::clock::now() - std::chrono::hours(48);
  fs::last_write_time(src_ + "/city.mmdb", when);
  const Result r = update("file://" + src_ + "/city.mmdb\n");
  ASSERT_EQ(r.summary.exit_status(), 0) << r.err;
  struct stat source {};
  struct stat installed {};
  ASSERT_EQ(::stat((src_ + "/city.mmdb").c_str(), &source), 0);
  ASSERT_EQ(::stat((dir_ + "/city.mmdb").c_str(), &installed), 0);
  EXPECT_EQ(installed.st_mtime, source.st_mtime);
}

TEST_F(Updater, NoAttributionWithoutDbipData) {
  fs::copy_file(kCity, src_ + "/dbip-city-lite.mmdb");  // named like DB-IP, holds GeoLite2 data
  const Result r = update("file://" + src_ + "/dbip-city-lite.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 0) << r.err;
  EXPECT_FALSE(r.summary.dbip);
  EXPECT_THAT(r.out, Not(HasSubstr("DB-IP")));
}

TEST_F(Updater, DbipAsnDatabaseGetsTheAttribution) {
  write_gz(src_ + "/dbip-asn-lite-2026-11.mmdb.gz", read_file(kDbipAsn));
  const Result r = update("file://" + src_ + "/dbip-asn-lite-{YYYY}-{MM}.mmdb.gz\n");
  EXPECT_EQ(r.summary.exit_status(), 0) << r.err;
  EXPECT_TRUE(r.summary.dbip);
  EXPECT_THAT(r.out, HasSubstr("IP Geolocation by DB-IP"));
}

TEST_F(Updater, PreviousMonthWhenThisMonthIsMissing) {
  write_gz(src_ + "/dbip-city-lite-2026-12.mmdb.gz", read_file(kCity));
  options_.month = {2027, 1};
  const Result r = update("file://" + src_ + "/dbip-city-lite-{YYYY}-{MM}.mmdb.gz\n");
  EXPECT_EQ(r.summary.exit_status(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dbip-city-lite.mmdb: reading " + src_ +
                               "/dbip-city-lite-2027-01.mmdb.gz\n"
                               "dbip-city-lite.mmdb: no such file for 2027-01; trying 2026-12\n"
                               "dbip-city-lite.mmdb: reading " +
                               src_ + "/dbip-city-lite-2026-12.mmdb.gz\n"));
  EXPECT_EQ(read_file(dir_ + "/dbip-city-lite.mmdb"), read_file(kCity));
}

TEST_F(Updater, ThisMonthIsPreferredOverThePrevious) {
  write_gz(src_ + "/dbip-asn-lite-2026-10.mmdb.gz", read_file(kAsn));
  write_gz(src_ + "/dbip-asn-lite-2026-11.mmdb.gz", read_file(kDbipAsn));
  const Result r = update("file://" + src_ + "/dbip-asn-lite-{YYYY}-{MM}.mmdb.gz\n");
  EXPECT_EQ(r.summary.exit_status(), 0) << r.err;
  EXPECT_EQ(read_file(dir_ + "/dbip-asn-lite.mmdb"), read_file(kDbipAsn));
}

TEST_F(Updater, NeitherMonthIsAFailureNamingBoth) {
  install_existing("dbip-city-lite.mmdb", kCity);
  const Result r = update("file://" + src_ + "/dbip-city-lite-{YYYY}-{MM}.mmdb.gz\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_THAT(r.err, HasSubstr("flowtop: dbip-city-lite.mmdb: file://" + src_ +
                               "/dbip-city-lite-{YYYY}-{MM}.mmdb.gz: no such file for 2026-11 "
                               "and 2026-10\n"
                               "flowtop: dbip-city-lite.mmdb not updated; the existing file is "
                               "kept\n"));
  EXPECT_THAT(r.err, HasSubstr("flowtop: 0 installed, 0 up to date, 1 failed in " + dir_));
  ASSERT_EQ(r.summary.failed.size(), 1U);
  EXPECT_EQ(r.summary.failed[0], "dbip-city-lite.mmdb: no such file for 2026-11 and 2026-10");
  expect_kept("dbip-city-lite.mmdb", kCity);
}

struct BadCase {
  const char* name;
  const char* file;  // the source's file name
  std::function<void(const std::string& path)> make;
  const char* why;  // expected in the message
};

class BadDownload : public Updater, public ::testing::WithParamInterface<BadCase> {};

TEST_P(BadDownload, NeverReplacesAGoodDatabase) {
  const BadCase& c = GetParam();
  install_existing("dbip-city-lite.mmdb", kCity);
  c.make(src_ + "/" + c.file);
  // The source installs dbip-city-lite.mmdb whatever its packing.
  std::string conf = "file://" + src_ + "/" + c.file + "\n";
  const Result r = update(conf);
  EXPECT_EQ(r.summary.exit_status(), 1) << r.out;
  EXPECT_THAT(r.summary.installed, IsEmpty());
  EXPECT_THAT(r.err, HasSubstr(c.why));
  EXPECT_THAT(r.err, HasSubstr("not updated; the existing file is kept"));
  expect_kept("dbip-city-lite.mmdb", kCity);
}

std::string half(const std::string& path) {
  const std::string all = read_file(path);
  return all.substr(0, all.size() / 2);
}

INSTANTIATE_TEST_SUITE_P(
    Updater, BadDownload,
    ::testing::Values(
        BadCase{"RandomBytes", "dbip-city-lite.mmdb",
                [](const std::string& p) { write_file(p, std::string(5000, '\x5a')); },
                "not a usable database: not a MaxMind DB file, or truncated"},
        BadCase{"TruncatedMmdb", "dbip-city-lite.mmdb",
                [](const std::string& p) { write_file(p, half(kCity)); }, "not a usable database"},
        BadCase{"EmptyFile", "dbip-city-lite.mmdb", [](const std::string& p) { write_file(p, ""); },
                "empty file"},
        BadCase{"TruncatedGzip", "dbip-city-lite.mmdb.gz",
                [](const std::string& p) {
                  write_gz(p + ".full", read_file(kCity));
                  write_file(p, half(p + ".full"));
                },
                "cannot unpack: truncated gzip data (unexpected end of file)"},
        BadCase{"CorruptGzip", "dbip-city-lite.mmdb.gz",
                [](const std::string& p) {
                  write_gz(p + ".full", read_file(kCity));
                  std::string gz = read_file(p + ".full");
                  for (std::size_t i = 20; i < gz.size() - 10; i += 7) {
                    gz[i] = static_cast<char>(gz[i] ^ 0x55);
                  }
                  write_file(p, gz);
                },
                "cannot unpack: corrupt gzip data"},
        BadCase{"NotGzip", "dbip-city-lite.mmdb.gz",
                [](const std::string& p) { write_file(p, read_file(kCity)); },
                "cannot unpack: not gzip data"},
        BadCase{"GzipOfGarbage", "dbip-city-lite.mmdb.gz",
                [](const std::string& p) { write_gz(p, "<html>404 page</html>"); },
                "not a usable database"},
        BadCase{"WrongKind", "dbip-city-lite.mmdb",
                [](const std::string& p) { fs::copy_file(kAsn, p); },
                "it is a ASN database ('GeoLite2-ASN'), not the City database its name says"},
        BadCase{"TarWithoutMmdb", "dbip-city-lite.tar.gz",
                [](const std::string& p) {
                  write_tar_gz(p, {{"d/README", "x"}});
                },
                "cannot unpack: the archive holds no .mmdb file (only README)"},
        BadCase{"TarWithTwoMmdb", "dbip-city-lite.tar.gz",
                [](const std::string& p) {
                  write_tar_gz(p, {{"a/GeoLite2-City.mmdb", read_file(kCity)},
                                   {"b/Other-City.mmdb", read_file(kCity)}});
                },
                "more than one .mmdb file (GeoLite2-City.mmdb and Other-City.mmdb)"},
        BadCase{"TruncatedTar", "dbip-city-lite.tar.gz",
                [](const std::string& p) {
                  write_tar_gz(p + ".full", {{"d/dbip-city-lite.mmdb", read_file(kCity)}});
                  write_file(p, half(p + ".full"));
                },
                "cannot unpack: truncated archive (truncated gzip input)"},
        BadCase{"NotATar", "dbip-city-lite.tar.gz",
                [](const std::string& p) { write_file(p, "plain text, not an archive\n"); },
                "cannot unpack: not a .tar.gz archive"}),
    [](const ::testing::TestParamInfo<BadCase>& param) { return param.param.name; });

TEST_F(Updater, HostileArchiveMemberNameIsRefusedAndSanitised) {
  install_existing("GeoLite2-City.mmdb", kCity);
  write_tar_gz(src_ + "/GeoLite2-City.tar.gz", {{"d/evil\x1b[2J.mmdb", read_file(kCity)}});
  const Result r = update("file://" + src_ + "/GeoLite2-City.tar.gz\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_THAT(r.err, HasSubstr("unsafe name 'evil?[2J.mmdb'"));
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos);
  expect_kept("GeoLite2-City.mmdb", kCity);
}

TEST_F(Updater, AlternativesAreTriedInOrder) {
  fs::create_directories(src_ + "/mirror");
  write_gz(src_ + "/mirror/dbip-city-lite-2026-11.mmdb.gz", read_file(kCity));
  write_gz(src_ + "/mirror/dbip-asn-lite-2026-11.mmdb.gz", read_file(kDbipAsn));
  write_file(src_ + "/dbip-asn-lite-2026-11.mmdb.gz", "corrupt");
  const Result r = update("file://" + src_ + "/primary/dbip-city-lite.mmdb.gz\n" +     // missing
                          "file://" + src_ + "/dbip-asn-lite-{YYYY}-{MM}.mmdb.gz\n" +  // corrupt
                          "mirror file://" + src_ + "/mirror\n");
  EXPECT_EQ(r.summary.exit_status(), 0) << r.err;
  EXPECT_THAT(r.summary.installed,
              ::testing::ElementsAre("dbip-city-lite.mmdb", "dbip-asn-lite.mmdb"));
  EXPECT_THAT(r.out, HasSubstr("dbip-city-lite.mmdb: trying the next source (geoip.conf:3)\n"));
  EXPECT_THAT(r.err, HasSubstr("flowtop: dbip-city-lite.mmdb: file://" + src_ +
                               "/primary/dbip-city-lite.mmdb.gz: no such file\n"));
  EXPECT_THAT(r.err, HasSubstr("flowtop: dbip-asn-lite.mmdb: file://" + src_ +
                               "/dbip-asn-lite-{YYYY}-{MM}.mmdb.gz: cannot unpack: not gzip data"));
  EXPECT_EQ(read_file(dir_ + "/dbip-city-lite.mmdb"), read_file(kCity));
  EXPECT_EQ(read_file(dir_ + "/dbip-asn-lite.mmdb"), read_file(kDbipAsn));
}

TEST_F(Updater, OneFailureAmongSeveralIsStatusOne) {
  fs::copy_file(kCity, src_ + "/city.mmdb");
  const Result r = update("file://" + src_ + "/city.mmdb\nfile://" + src_ + "/missing-asn.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_THAT(r.summary.installed, ::testing::ElementsAre("city.mmdb"));
  ASSERT_EQ(r.summary.failed.size(), 1U);
  EXPECT_EQ(r.summary.failed[0], "missing-asn.mmdb: no such file");
  EXPECT_THAT(r.err, HasSubstr("missing-asn.mmdb not updated; no database installed"));
  EXPECT_FALSE(fs::exists(dir_ + "/missing-asn.mmdb"));
}

TEST_F(Updater, DirectoryThatIsAFileIsFatal) {
  write_file(tmp_ / "file", "x");
  options_.dir = tmp_ / "file";
  fs::copy_file(kCity, src_ + "/city.mmdb");
  Result r = update("file://" + src_ + "/city.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_EQ(r.summary.fatal, options_.dir + " is not a directory");
  EXPECT_EQ(r.err, "flowtop: " + options_.dir + " is not a directory\n");
  options_.dir = tmp_ / "file/sub";
  r = update("file://" + src_ + "/city.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_THAT(r.summary.fatal, HasSubstr("cannot use " + options_.dir + ": Not a directory"));
  EXPECT_THAT(r.summary.installed, IsEmpty());
}

TEST_F(Updater, StopRequestStopsCleanly) {
  fs::copy_file(kCity, src_ + "/city.mmdb");
  std::atomic<bool> stop{true};
  options_.stop = &stop;
  const Result r = update("file://" + src_ + "/city.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_TRUE(r.summary.interrupted);
  EXPECT_THAT(r.summary.installed, IsEmpty());
  EXPECT_THAT(r.err, HasSubstr("flowtop: interrupted; no partial file is left in " + dir_));
  EXPECT_FALSE(fs::exists(dir_ + "/city.mmdb"));
}

TEST_F(Updater, StaleTemporaryFilesOfAKilledRunAreRemoved) {
  fs::create_directories(dir_);
  const std::string stale = dir_ + "/.flowtop-city.mmdb-AbC123.part";
  write_file(stale, "half a download");
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(5));
  const std::string other = dir_ + "/.hidden-user-file";
  write_file(other, "not ours");
  fs::copy_file(kCity, src_ + "/city.mmdb");
  const GeoipConf conf = parse_geoip_conf("file://" + src_ + "/city.mmdb\n", "geoip.conf");
  std::ostringstream out;
  std::ostringstream err;
  const UpdateSummary s = update_databases(conf, options_, out, err);
  EXPECT_EQ(s.exit_status(), 0) << err.str();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(other));
}

TEST(UpdaterProgress, LineFitsTheTerminalAndShowsTheNumbers) {
  EXPECT_EQ(detail::ProgressBar::line("dbip-city-lite.mmdb", 27100000, 60200000, 3200000, 80),
            "dbip-city-lite.mmdb  [##########-------------]  45% 27.1 MB / 60.2 MB  3.2 MB/s");
  EXPECT_EQ(detail::ProgressBar::line("x.mmdb", 1500, 0, 0, 80), "x.mmdb  1.5 kB");
  for (int cols = 20; cols <= 300; ++cols) {
    const std::string l = detail::ProgressBar::line("GeoLite2-City.mmdb", 5, 10, 99, cols);
    EXPECT_LE(static_cast<int>(l.size()), cols - 1) << cols;
    EXPECT_EQ(l.find('\n'), std::string::npos);
  }
}

TEST(UpdaterProgress, BarIsDrawnInPlaceAndFinishedWithANewline) {
  std::ostringstream out;
  {
    detail::ProgressBar bar(out, "a.mmdb", 60);
    bar.update(50, 100);
    bar.finish(100, 100);
  }
  EXPECT_THAT(out.str(), ::testing::StartsWith("\ra.mmdb  ["));
  EXPECT_THAT(out.str(), ::testing::EndsWith("100% 100 B / 100 B\x1b[K\n"));
  const std::string drawn = out.str();
  EXPECT_EQ(std::count(drawn.begin(), drawn.end(), '\r'), 2);
  std::ostringstream same;
  {
    detail::ProgressBar bar(same, "a.mmdb", 60);
    bar.update(100, 100);
    bar.finish(100, 100);  // nothing new: just ends the line
  }
  const std::string once = same.str();
  EXPECT_EQ(std::count(once.begin(), once.end(), '\r'), 1);
  EXPECT_THAT(same.str(), ::testing::EndsWith("100 B\x1b[K\n"));
  std::ostringstream failed;
  {
    detail::ProgressBar bar(failed, "a.mmdb", 60);
    bar.update(50, 100);
  }  // not finished: erased
  EXPECT_THAT(failed.str(), ::testing::EndsWith("\r\x1b[K"));
}

TEST(UpdaterText, SanitiseRemovesControlsAndInvalidUtf8) {
  EXPECT_EQ(detail::sanitize_text("a\x1b[31mb\x07\x7f\xc2\x9b"), "a?[31mb???");  // C1 CSI: one
  EXPECT_EQ(detail::sanitize_text("Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac"),
            "Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac");
  const std::string r = "\xef\xbf\xbd";  // U+FFFD, one per broken sequence
  EXPECT_EQ(detail::sanitize_text("\xff\xc0\xaf\xed\xa0\x80"), r + r + r + r + r + r);
  EXPECT_EQ(detail::sanitize_text(std::string(300, 'x'), 10), "xxxxxxx...");
}

TEST(UpdaterText, UrlsAreShownWithoutCredentials) {
  EXPECT_EQ(detail::display_url("https://42:secret@example.org/a.mmdb"),
            "https://example.org/a.mmdb");
  EXPECT_EQ(detail::display_url("https://example.org/a@b.mmdb"), "https://example.org/a@b.mmdb");
}

TEST(UpdaterHttp, StatusMessagesSayWhatWentWrong) {
  EXPECT_EQ(detail::http_status_message(404, false), "not found (HTTP 404 Not Found)");
  EXPECT_EQ(detail::http_status_message(401, true),
            "authentication failed (HTTP 401 Unauthorized): check the account id and licence key");
  EXPECT_EQ(detail::http_status_message(401, false),
            "the server wants a login (HTTP 401 Unauthorized)");
  EXPECT_EQ(detail::http_status_message(503, false), "server error (HTTP 503 Service Unavailable)");
  EXPECT_EQ(detail::http_status_message(429, false),
            "too many downloads (HTTP 429 Too Many Requests): the server limits them, try later");
  EXPECT_EQ(detail::http_status_message(418, false), "unexpected answer (HTTP 418)");
}

// --- The GeoIP directory: one descriptor, and nobody else may write it ----------------------

TEST_F(Updater, ADirectoryOthersMayWriteIsRefused) {
  fs::copy_file(kCity, src_ + "/city.mmdb");
  for (const mode_t mode : {0775, 0757, 0777}) {
    fs::create_directories(dir_);
    ASSERT_EQ(::chmod(dir_.c_str(), mode), 0);
    const Result r = update("file://" + src_ + "/city.mmdb\n");
    EXPECT_EQ(r.summary.exit_status(), 1);
    EXPECT_THAT(r.summary.fatal, HasSubstr("group or others may write it")) << std::oct << mode;
    EXPECT_FALSE(fs::exists(dir_ + "/city.mmdb")) << "installed into a writable directory";
  }
}

TEST_F(Updater, ADirectoryOfAnotherUserIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give the directory to another user";
  }
  fs::copy_file(kCity, src_ + "/city.mmdb");
  fs::create_directories(dir_);
  ASSERT_EQ(::chown(dir_.c_str(), 65534, 65534), 0);
  const Result r = update("file://" + src_ + "/city.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_THAT(r.summary.fatal, HasSubstr("belongs to uid 65534"));
  EXPECT_FALSE(fs::exists(dir_ + "/city.mmdb"));
}

TEST_F(Updater, ASymlinkedDirectoryIsNotFollowed) {
  fs::copy_file(kCity, src_ + "/city.mmdb");
  const std::string real = tmp_ / "elsewhere";
  fs::create_directories(real);
  fs::create_directory_symlink(real, dir_);
  const Result r = update("file://" + src_ + "/city.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 1);
  EXPECT_THAT(r.summary.fatal, HasSubstr("is a symbolic link: not followed"));
  EXPECT_TRUE(fs::is_empty(real));
}

// A source only root may read is read by root; the unpacking and validation run as nobody on the
// descriptors it was given.
TEST_F(Updater, ASourceOnlyRootMayReadIsStillInstalled) {
  fs::copy_file(kCity, src_ + "/city.mmdb");
  ::chmod((src_ + "/city.mmdb").c_str(), 0600);
  ::chmod(src_.c_str(), 0700);
  const Result r = update("file://" + src_ + "/city.mmdb\n");
  EXPECT_EQ(r.summary.exit_status(), 0) << r.err;
  EXPECT_EQ(read_file(dir_ + "/city.mmdb"), read_file(kCity));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/city.mmdb").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid()) << "installed file still belongs to the worker";
  EXPECT_EQ(st.st_mode & 07777, 0644U);
}

// --- Unpacking: limits that hold inside an archive member --------------------------------------

// A member that is not the database (COPYRIGHT.txt) is read block by block too: a stop request is
// seen in the middle of it, not after libarchive has decompressed all of it.
TEST(Unpack, AStopRequestInterruptsInsideAMember) {
  TempDir tmp;
  write_tar_gz(tmp / "a.tar.gz", {{"X/COPYRIGHT.txt", std::string(8 << 20, 'c')},
                                  {"X/GeoLite2-City.mmdb", read_file(kCity)}});
  const sys::UniqueFd in(::open((tmp / "a.tar.gz").c_str(), O_RDONLY | O_CLOEXEC));
  const sys::UniqueFd out(::open((tmp / "out").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  int calls = 0;
  const detail::StopFn stop = [&calls] { return ++calls > 20; };
  EXPECT_THROW(detail::untar_mmdb(in.get(), out.get(), stop), detail::Interrupted);
  EXPECT_EQ(calls, 21) << "stopped at once";
  EXPECT_EQ(::lseek(out.get(), 0, SEEK_END), 0) << "the database was reached";
}

// What every member unpacks to counts: a gzip bomb named COPYRIGHT.txt is stopped at 1 GiB.
TEST(Unpack, AHugeMemberThatIsNotTheDatabaseHitsTheSizeLimit) {
  TempDir tmp;
  {
    archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_filter_option(a, "gzip", "compression-level", "1");
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, (tmp / "bomb.tar.gz").c_str()), ARCHIVE_OK);
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "X/COPYRIGHT.txt");
    const std::uint64_t size = detail::kMaxUnpackedBytes + (1 << 20);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    const std::string block(1 << 20, '\0');
    for (std::uint64_t done = 0; done < size; done += block.size()) {
      archive_write_data(a, block.data(), block.size());
    }
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
  }
  const sys::UniqueFd in(::open((tmp / "bomb.tar.gz").c_str(), O_RDONLY | O_CLOEXEC));
  const sys::UniqueFd out(::open((tmp / "out").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  try {
    detail::untar_mmdb(in.get(), out.get(), nullptr);
    ADD_FAILURE() << "unpacked more than 1 GiB";
  } catch (const detail::SourceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unpacks to more than 1 GiB"));
  }
}

}  // namespace
}  // namespace flowtop::geoip
