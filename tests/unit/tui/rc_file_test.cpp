#include "flowtop/tui/rc_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

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

// A bad line is quoted only as a short excerpt: a file that is not a flowtoprc (a secret linked in
// place of it, a huge line) never reaches the terminal in full.
TEST(ParseRc, BadLinesAreQuotedAsAShortExcerpt) {
  const std::string secret =
      "root:$6$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ:19000:0:99999:7:::";
  const RcFile rc = parse_rc(secret + "\n", "rc");
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_EQ(rc.errors[0].find(secret), std::string::npos) << rc.errors[0];
  const auto open = rc.errors[0].find('\'');
  const auto close = rc.errors[0].rfind('\'');
  ASSERT_LT(open, close);
  const std::string quoted = rc.errors[0].substr(open + 1, close - open - 1);
  EXPECT_EQ(quoted, secret.substr(0, 39) + "\u2026");
  EXPECT_EQ(rc_excerpt("short"), "short");
  EXPECT_EQ(rc_excerpt(std::string(1000, 'k')).size(), 39U + 3U);  // 39 columns and "…"
}

TEST(ParseRc, ValueMayContainEquals) {
  const RcFile rc = parse_rc("k=a=b\n", "rc");
  ASSERT_EQ(rc.entries.size(), 1U);
  EXPECT_EQ(rc.entries[0].value, "a=b");
}

RcLocation location_in(const fs::path& home, uid_t uid, gid_t gid) {
  RcLocation loc;
  loc.base = home.string();
  loc.subdirs = {".config", "flowtop"};
  loc.uid = uid;
  loc.gid = gid;
  return loc;
}

// The tests below act as the test's own user.
class RcSelf : public ::testing::Test {
 protected:
  RcSelf()
      : files_(::geteuid(), ::getegid()),
        loc_(location_in(dir_.path(), ::geteuid(), ::getegid())) {}
  TempDir dir_;
  sys::UserFiles files_;
  RcLocation loc_;
};

TEST_F(RcSelf, MissingFileIsEmptyWithoutError) {
  const RcFile rc = read_rc(loc_, files_);
  EXPECT_TRUE(rc.entries.empty());
  EXPECT_TRUE(rc.errors.empty());
  EXPECT_FALSE(fs::exists(dir_.path() / ".config")) << "reading created a directory";
}

TEST_F(RcSelf, ADirectoryInPlaceOfTheFileIsOneError) {
  fs::create_directories(dir_.path() / ".config" / "flowtop" / "flowtoprc");
  fs::permissions(dir_.path() / ".config", fs::perms::owner_all, fs::perm_options::replace);
  fs::permissions(dir_.path() / ".config" / "flowtop", fs::perms::owner_all,
                  fs::perm_options::replace);
  const RcFile rc = read_rc(loc_, files_);
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_NE(rc.errors[0].find("flowtoprc: not read: "), std::string::npos) << rc.errors[0];
}

TEST_F(RcSelf, WriteCreatesDirectoriesAndReplacesAtomically) {
  const fs::path p = loc_.path();
  write_rc(loc_, "tab=hosts\n", files_);
  EXPECT_EQ(slurp(p), "tab=hosts\n");
  EXPECT_EQ(fs::status(p.parent_path()).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(p.parent_path().parent_path()).permissions() & fs::perms::all,
            fs::perms::owner_all);
  write_rc(loc_, "tab=as\n", files_);
  EXPECT_EQ(slurp(p), "tab=as\n");
  // No temporary file is left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(p.parent_path())) {
    ++files;
  }
  EXPECT_EQ(files, 1);
  const RcFile back = read_rc(loc_, files_);
  ASSERT_EQ(back.entries.size(), 1U);
  EXPECT_EQ(back.entries[0].value, "as");
}

// A regular file where a directory should be: fails for root too.
TEST_F(RcSelf, FailureOnAFileInThePathThrowsWithThePath) {
  std::ofstream(dir_.path() / ".config") << "x";
  try {
    write_rc(loc_, "x=1\n", files_);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(".config"), std::string::npos) << e.what();
  }
}

TEST_F(RcSelf, AFileLargerThan64KiBIsNotRead) {
  fs::create_directories(dir_.path() / ".config" / "flowtop");
  std::ofstream(loc_.path()) << "tab=hosts\n" << std::string(kMaxRcBytes, '#');
  const RcFile rc = read_rc(loc_, files_);
  EXPECT_TRUE(rc.entries.empty());
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_NE(rc.errors[0].find("larger than 64 KiB"), std::string::npos) << rc.errors[0];
}

// The attacks of a user who may run only flowtop with sudo, and whose environment sudo kept. Each
// runs the real file work as that user (nobody) on a home directory the user owns.
class RcAsAnotherUser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: acts as user nobody";
    }
    ::chmod(dir_.path().c_str(), 0755);
    home_ = dir_.path() / "home";
    fs::create_directories(home_ / ".config" / "flowtop");
    for (const fs::path& p : {home_, home_ / ".config", home_ / ".config" / "flowtop"}) {
      ASSERT_EQ(::chown(p.c_str(), kNobody, kNobody), 0);
      ::chmod(p.c_str(), 0700);
    }
    secret_ = dir_.path() / "secret";  // root's, 0600: like /etc/shadow
    std::ofstream(secret_) << "root:$6$hash-that-must-not-leak:19000:0:99999:7:::\n";
    ::chmod(secret_.c_str(), 0600);
    files_ = std::make_unique<sys::UserFiles>(kNobody, kNobody);
    loc_ = location_in(home_, kNobody, kNobody);
  }

  static constexpr uid_t kNobody = 65534;
  TempDir dir_;
  fs::path home_;
  fs::path secret_;
  std::unique_ptr<sys::UserFiles> files_;
  RcLocation loc_;
};

TEST_F(RcAsAnotherUser, ASymlinkToASecretIsNotFollowed) {
  fs::create_symlink(secret_, loc_.path());
  const RcFile rc = read_rc(loc_, *files_);
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_NE(rc.errors[0].find("symbolic link"), std::string::npos) << rc.errors[0];
  EXPECT_EQ(rc.errors[0].find("hash-that-must-not-leak"), std::string::npos) << rc.errors[0];
}

TEST_F(RcAsAnotherUser, AFileOwnedBySomeoneElseIsNotRead) {
  std::ofstream(loc_.path()) << "tab=hosts\nnot a line of the user's\n";  // root's file
  const RcFile rc = read_rc(loc_, *files_);
  EXPECT_TRUE(rc.entries.empty());
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_NE(rc.errors[0].find("belongs to uid 0"), std::string::npos) << rc.errors[0];
}

TEST_F(RcAsAnotherUser, AFifoIsRefusedNotReadForever) {
  ASSERT_EQ(::mkfifo(loc_.path().c_str(), 0600), 0);
  ASSERT_EQ(::chown(loc_.path().c_str(), kNobody, kNobody), 0);
  const RcFile rc = read_rc(loc_, *files_);  // returns: a blocking read would hang the test
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_NE(rc.errors[0].find("not a regular file"), std::string::npos) << rc.errors[0];
}

TEST_F(RcAsAnotherUser, ASymlinkToADeviceIsRefused) {
  fs::create_symlink("/dev/zero", loc_.path());
  const RcFile rc = read_rc(loc_, *files_);
  ASSERT_EQ(rc.errors.size(), 1U);
  EXPECT_NE(rc.errors[0].find("symbolic link"), std::string::npos) << rc.errors[0];
}

// ~/.config/flowtop pointing at a root directory (such as /etc/sudoers.d): nothing is written
// there.
TEST_F(RcAsAnotherUser, AConfigDirectoryLinkedToARootDirectoryIsNotWritten) {
  const fs::path target = dir_.path() / "sudoers.d";
  fs::create_directory(target);
  ::chmod(target.c_str(), 0755);
  fs::remove(home_ / ".config" / "flowtop");
  fs::create_directory_symlink(target, home_ / ".config" / "flowtop");
  EXPECT_THROW(write_rc(loc_, "tab=hosts\n", *files_), std::system_error);
  EXPECT_TRUE(fs::is_empty(target)) << "a file was written through the link";
}

// Missing directories are created by the user, not by root.
TEST_F(RcAsAnotherUser, MissingDirectoriesAreCreatedAsTheUser) {
  fs::remove_all(home_ / ".config");
  write_rc(loc_, "tab=hosts\n", *files_);
  for (const fs::path& p :
       {home_ / ".config", home_ / ".config" / "flowtop", fs::path(loc_.path())}) {
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_uid, kNobody) << p;
  }
  EXPECT_EQ(slurp(loc_.path()), "tab=hosts\n");
  const RcFile back = read_rc(loc_, *files_);
  ASSERT_EQ(back.entries.size(), 1U);
}

// The kernel checks paths as the user: a directory the user may not enter stays closed, even
// though flowtop runs as root.
TEST_F(RcAsAnotherUser, ADirectoryTheUserCannotEnterStaysClosed) {
  const fs::path closed = dir_.path() / "closed";
  fs::create_directories(closed / ".config" / "flowtop");
  ::chmod(closed.c_str(), 0700);  // root's
  std::ofstream(closed / ".config" / "flowtop" / "flowtoprc") << "tab=hosts\n";
  RcLocation loc = location_in(closed, kNobody, kNobody);
  const RcFile rc = read_rc(loc, *files_);
  EXPECT_TRUE(rc.entries.empty());
  EXPECT_THROW(write_rc(loc, "tab=as\n", *files_), std::system_error);
}

TEST(RcLocation, UnderSudoTheHomeComesFromThePasswordDatabase) {
  sys::InvokingUser user;
  user.uid = 1000;
  user.home = "/home/alice";
  user.config_home = "/tmp/evil";  // ignored: the environment is not trusted
  user.env_trusted = false;
  EXPECT_EQ(rc_location(user).path(), "/home/alice/.config/flowtop/flowtoprc");
  user.env_trusted = true;
  EXPECT_EQ(rc_location(user).path(), "/tmp/evil/flowtop/flowtoprc");
}

class InvokingUserEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"HOME", "XDG_CONFIG_HOME", "SUDO_UID", "PKEXEC_UID"}) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v != nullptr ? std::optional<std::string>(v) : std::nullopt);
    }
  }
  void TearDown() override {
    for (const auto& [name, v] : saved_) {
      if (v) {
        ::setenv(name.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// `sudo -E flowtop`: HOME and XDG_CONFIG_HOME are the caller's choice; they are ignored.
TEST_F(InvokingUserEnv, SudoUidWinsOverThePreservedEnvironment) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "sudo's variables count only for root";
  }
  ::setenv("SUDO_UID", "65534", 1);
  ::setenv("HOME", "/tmp/attacker", 1);
  ::setenv("XDG_CONFIG_HOME", "/etc/sudoers.d", 1);
  const auto user = sys::invoking_user();
  const passwd* pw = ::getpwuid(65534);
  ASSERT_NE(pw, nullptr);
  if (pw->pw_dir == nullptr || pw->pw_dir[0] != '/') {
    EXPECT_FALSE(user.has_value());
    return;
  }
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->uid, 65534U);
  EXPECT_FALSE(user->env_trusted);
  EXPECT_EQ(user->home, pw->pw_dir);
  EXPECT_EQ(rc_location(*user).path(), std::string(pw->pw_dir) + "/.config/flowtop/flowtoprc");
}

TEST_F(InvokingUserEnv, WithoutSudoTheOwnEnvironmentIsUsed) {
  ::unsetenv("SUDO_UID");
  ::unsetenv("PKEXEC_UID");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/alice", 1);
  auto user = sys::invoking_user();
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(rc_location(*user).path(), "/home/alice/.config/flowtop/flowtoprc");
  ::setenv("XDG_CONFIG_HOME", "/cfg", 1);
  user = sys::invoking_user();
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(rc_location(*user).path(), "/cfg/flowtop/flowtoprc");
  ::setenv("XDG_CONFIG_HOME", "relative/dir", 1);  // absolute only
  user = sys::invoking_user();
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(rc_location(*user).path(), "/home/alice/.config/flowtop/flowtoprc");
}

}  // namespace
}  // namespace flowtop::tui
