#include "flowtop/tui/rc_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

namespace flowtop::tui {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "flowtop-rc-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ParseRc, KeyValueLinesCommentsAndBlanks) {
  const RcFile rc =
      parse_rc("# a comment\n\n  tab = hosts  \nbits=1\r\nsort.flows=age asc\n", "rc");
  EXPECT_TRUE(rc.errors.empty());
  ASSERT_EQ(rc.entries.size(), 3U);
  EXPECT_EQ(rc.entries[0].key, "tab");
  EXPECT_EQ(rc.entries[0].value, "hosts");
  EXPECT_EQ(rc.entries[0].line, 3);
  EXPECT_EQ(rc.entries[1].key, "bits");
  EXPECT_EQ(rc.entries[1].value, "1");  // CR of a CRLF file trimmed
  EXPECT_EQ(rc.entries[2].value, "age asc");
  EXPECT_EQ(rc.entries[2].line, 5);
}

TEST(ParseRc, BadLinesAreReportedWithFileAndLineAndTheRestIsUsed) {
  const RcFile rc = parse_rc("tab=flows\nthis is not a setting\n=1\nbad key=1\nbits=1\n", "/h/rc");
  ASSERT_EQ(rc.errors.size(), 3U);
  EXPECT_EQ(rc.errors[0], "/h/rc:2: expected key=value, got 'this is not a setting'");
  EXPECT_EQ(rc.errors[1], "/h/rc:3: bad key ''");
  EXPECT_EQ(rc.errors[2], "/h/rc:4: bad key 'bad key'");
  ASSERT_EQ(rc.entries.size(), 2U);
  EXPECT_EQ(rc.entries[1].key, "bits");
}

TEST(ParseRc, RepeatedKeyKeepsTheFirstAndSaysSo) {
  const RcFile rc = parse_rc("bits=1\nbits=0\n", "rc");
  ASSERT_EQ(rc.entries.size(), 1U);
  EXPECT_EQ(rc.entries[0].value, "1");
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_EQ(rc.errors[0], "rc:2: 'bits' is set twice; the first one is used");
}

TEST(ParseRc, HostileBytesNeverReachTheErrorText) {
  const RcFile rc = parse_rc("\x1b]0;pwned\x07 no equals sign\n", "rc");
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_EQ(rc.errors[0].find('\x1b'), std::string::npos);
  EXPECT_EQ(rc.errors[0].find('\x07'), std::string::npos);
}

TEST(ParseRc, ValueMayContainEquals) {
  const RcFile rc = parse_rc("k=a=b\n", "rc");
  ASSERT_EQ(rc.entries.size(), 1U);
  EXPECT_EQ(rc.entries[0].value, "a=b");
}

TEST(ReadRc, MissingFileIsEmptyWithoutError) {
  TempDir dir;
  const RcFile rc = read_rc((dir.path() / "nope" / "flowtoprc").string());
  EXPECT_TRUE(rc.entries.empty());
  EXPECT_TRUE(rc.errors.empty());
}

TEST(ReadRc, UnreadableFileIsOneError) {
  TempDir dir;
  // A directory where the file should be: open() works but read() fails with EISDIR.
  const fs::path p = dir.path() / "flowtoprc";
  fs::create_directory(p);
  const RcFile rc = read_rc(p.string());
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_NE(rc.errors[0].find("flowtoprc: cannot read: "), std::string::npos) << rc.errors[0];
}

TEST(WriteRc, CreatesDirectoriesAndReplacesAtomically) {
  TempDir dir;
  const fs::path p = dir.path() / ".config" / "flowtop" / "flowtoprc";
  write_rc(p.string(), "tab=hosts\n");
  EXPECT_EQ(slurp(p), "tab=hosts\n");
  EXPECT_EQ(fs::status(p.parent_path()).permissions() & fs::perms::all, fs::perms::owner_all);
  write_rc(p.string(), "tab=as\n");
  EXPECT_EQ(slurp(p), "tab=as\n");
  // No temporary file is left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(p.parent_path())) {
    ++files;
  }
  EXPECT_EQ(files, 1);
  const RcFile back = read_rc(p.string());
  ASSERT_EQ(back.entries.size(), 1U);
  EXPECT_EQ(back.entries[0].value, "as");
}

// A regular file where a directory should be: fails for root too (unlike a read-only directory).
TEST(WriteRc, FailureOnAFileInThePathThrowsWithThePath) {
  TempDir dir;
  const fs::path blocker = dir.path() / "file";
  std::ofstream(blocker) << "x";
  const std::string p = (blocker / "flowtop" / "flowtoprc").string();
  try {
    write_rc(p, "x=1\n");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("flowtop"), std::string::npos) << e.what();
  }
}

class RcPathEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    save("HOME", home_);
    save("XDG_CONFIG_HOME", xdg_);
  }
  void TearDown() override {
    restore("HOME", home_);
    restore("XDG_CONFIG_HOME", xdg_);
  }

 private:
  static void save(const char* name, std::optional<std::string>& out) {
    if (const char* v = std::getenv(name)) {
      out = v;
    }
  }
  static void restore(const char* name, const std::optional<std::string>& v) {
    if (v) {
      ::setenv(name, v->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  std::optional<std::string> home_, xdg_;
};

TEST_F(RcPathEnv, HomeConfigByDefault) {
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/alice", 1);
  EXPECT_EQ(rc_path(), "/home/alice/.config/flowtop/flowtoprc");
}

TEST_F(RcPathEnv, XdgConfigHomeWhenAbsolute) {
  ::setenv("HOME", "/home/alice", 1);
  ::setenv("XDG_CONFIG_HOME", "/cfg", 1);
  EXPECT_EQ(rc_path(), "/cfg/flowtop/flowtoprc");
  ::setenv("XDG_CONFIG_HOME", "relative/dir", 1);  // the spec says absolute only
  EXPECT_EQ(rc_path(), "/home/alice/.config/flowtop/flowtoprc");
}

TEST_F(RcPathEnv, NoUsableHomeMeansNoFile) {
  ::unsetenv("XDG_CONFIG_HOME");
  ::unsetenv("HOME");
  EXPECT_EQ(rc_path(), "");
  ::setenv("HOME", "", 1);
  EXPECT_EQ(rc_path(), "");
}

}  // namespace
}  // namespace flowtop::tui
