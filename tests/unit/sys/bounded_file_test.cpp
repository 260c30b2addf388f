#include "flowtop/sys/bounded_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

namespace flowtop::sys {
namespace {

namespace fs = std::filesystem;

class BoundedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "flowtop-bounded-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(BoundedFile, ReadsARegularFileUpToTheLimit) {
  std::ofstream(dir_ / "a.conf") << std::string(100, 'x');
  const FileText t = read_bounded_file((dir_ / "a.conf").string(), 100);
  ASSERT_TRUE(t.text.has_value()) << t.why;
  EXPECT_EQ(t.text->size(), 100U);
}

TEST_F(BoundedFile, ABiggerFileIsRefusedNotRead) {
  std::ofstream(dir_ / "big.conf") << std::string(101, 'x');
  const FileText t = read_bounded_file((dir_ / "big.conf").string(), 100);
  EXPECT_FALSE(t.text.has_value());
  EXPECT_EQ(t.error, EFBIG);
  EXPECT_EQ(t.why, "larger than 100 bytes");
  EXPECT_EQ(describe_limit(64 * 1024), "64 KiB");
  EXPECT_EQ(describe_limit(1 << 20), "1 MiB");
}

// Nobody writes to the FIFO: a blocking open or read would hang here.
TEST_F(BoundedFile, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ / "tcp.conf").c_str(), 0600), 0);
  const FileText t = read_bounded_file((dir_ / "tcp.conf").string(), 1 << 20);
  EXPECT_FALSE(t.text.has_value());
  EXPECT_EQ(t.why, "not a regular file");
}

TEST_F(BoundedFile, ADeviceIsRefusedNotRead) {
  const FileText t = read_bounded_file("/dev/zero", 1 << 20);
  EXPECT_FALSE(t.text.has_value());
  EXPECT_EQ(t.why, "not a regular file");
}

TEST_F(BoundedFile, NoFollowRefusesASymlink) {
  std::ofstream(dir_ / "real") << "x";
  fs::create_symlink(dir_ / "real", dir_ / "link");
  const FileText t = read_bounded_file((dir_ / "link").string(), 100, O_NOFOLLOW);
  EXPECT_FALSE(t.text.has_value());
  EXPECT_EQ(t.error, ELOOP);
  EXPECT_TRUE(read_bounded_file((dir_ / "link").string(), 100).text.has_value());
}

TEST_F(BoundedFile, AMissingFileSaysENOENT) {
  const FileText t = read_bounded_file((dir_ / "none").string(), 100);
  EXPECT_FALSE(t.text.has_value());
  EXPECT_EQ(t.error, ENOENT);
}

}  // namespace
}  // namespace flowtop::sys
