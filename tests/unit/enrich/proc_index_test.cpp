#include "flowtop/enrich/proc_index.hpp"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "flowtop/sys/unique_fd.hpp"

namespace {

namespace fs = std::filesystem;
using flowtop::enrich::ProcIndex;
using flowtop::enrich::socket_inode;

TEST(SocketInode, ParsesOnlySocketLinks) {
  EXPECT_EQ(socket_inode("socket:[12345]"), 12345U);
  EXPECT_EQ(socket_inode("socket:[4294967296]"), 4294967296U);
  EXPECT_FALSE(socket_inode("socket:[]").has_value());
  EXPECT_FALSE(socket_inode("socket:[12a]").has_value());
  EXPECT_FALSE(socket_inode("socket:[12").has_value());
  EXPECT_FALSE(socket_inode("pipe:[12345]").has_value());
  EXPECT_FALSE(socket_inode("/dev/null").has_value());
  EXPECT_FALSE(socket_inode("anon_inode:[eventfd]").has_value());
}

/// A fake /proc: pid directories with fd symlinks, comm and cmdline.
class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("flowtop-proc-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void process(int pid, const std::string& comm, const std::string& cmdline,
               const std::vector<std::pair<int, std::string>>& fds) {
    const fs::path dir = root_ / std::to_string(pid);
    fs::create_directories(dir / "fd");
    std::ofstream(dir / "comm") << comm << "\n";
    std::ofstream(dir / "cmdline", std::ios::binary) << cmdline;
    for (const auto& [fd, target] : fds) {
      fs::create_symlink(target, dir / "fd" / std::to_string(fd));
    }
  }
  fs::path root_;
};

TEST_F(FakeProc, MapsSocketInodesToPids) {
  process(100, "curl", std::string("curl\0-s\0https://example.com\0", 28),
          {{0, "/dev/null"}, {3, "socket:[555]"}, {4, "pipe:[9]"}, {5, "socket:[556]"}});
  process(200, "nginx", std::string("nginx: worker\0", 14), {{7, "socket:[777]"}});
  ProcIndex idx(root_.string());
  ASSERT_TRUE(idx.rebuild());
  EXPECT_EQ(idx.size(), 3U);
  EXPECT_EQ(idx.pid_of(555), 100);
  EXPECT_EQ(idx.pid_of(556), 100);
  EXPECT_EQ(idx.pid_of(777), 200);
  EXPECT_FALSE(idx.pid_of(9).has_value()) << "a pipe is not a socket";
  std::string comm;
  std::string cmdline;
  ASSERT_TRUE(idx.read_process(100, comm, cmdline));
  EXPECT_EQ(comm, "curl");
  EXPECT_EQ(cmdline, "curl -s https://example.com");
  ASSERT_TRUE(idx.read_process(200, comm, cmdline));
  EXPECT_EQ(cmdline, "nginx: worker");
  EXPECT_FALSE(idx.read_process(300, comm, cmdline)) << "no such process";
}

TEST_F(FakeProc, SharedSocketGoesToTheLowestPid) {
  process(4000, "child", "", {{3, "socket:[42]"}});
  process(12, "parent", "", {{3, "socket:[42]"}});
  process(900, "other", "", {{3, "socket:[42]"}});
  ProcIndex idx(root_.string());
  idx.rebuild();
  EXPECT_EQ(idx.pid_of(42), 12);
}

TEST_F(FakeProc, SkipsVanishedProcessesAndNonPidEntries) {
  process(100, "alive", "", {{3, "socket:[1]"}});
  fs::create_directories(root_ / "150");  // exited between readdir and opening its fd directory
  fs::create_directories(root_ / "self" / "fd");
  fs::create_symlink("socket:[2]", root_ / "self" / "fd" / "3");
  fs::create_directories(root_ / "0042x" / "fd");
  std::ofstream(root_ / "uptime") << "1.0 1.0\n";
  ProcIndex idx(root_.string());
  ASSERT_TRUE(idx.rebuild());
  EXPECT_EQ(idx.pid_of(1), 100);
  EXPECT_FALSE(idx.pid_of(2).has_value()) << "only numeric directories are processes";
  EXPECT_EQ(idx.size(), 1U);
  std::string comm;
  std::string cmdline;
  EXPECT_FALSE(idx.read_process(150, comm, cmdline));
}

TEST_F(FakeProc, ARebuildForgetsClosedSockets) {
  process(100, "p", "", {{3, "socket:[1]"}});
  ProcIndex idx(root_.string());
  idx.rebuild();
  ASSERT_TRUE(idx.pid_of(1).has_value());
  fs::remove(root_ / "100" / "fd" / "3");
  fs::create_symlink("socket:[2]", root_ / "100" / "fd" / "4");
  idx.rebuild();
  EXPECT_FALSE(idx.pid_of(1).has_value());
  EXPECT_EQ(idx.pid_of(2), 100);
}

TEST_F(FakeProc, StopsEarlyWhenAskedTo) {
  for (int pid = 1; pid <= 50; ++pid) {
    process(pid, "p", "", {{3, "socket:[" + std::to_string(pid) + "]"}});
  }
  ProcIndex idx(root_.string());
  const std::atomic<bool> stop{true};
  EXPECT_FALSE(idx.rebuild(&stop));
  EXPECT_LT(idx.size(), 50U);
}

TEST(ProcIndexReal, FindsThisProcesssSocket) {
  const flowtop::sys::UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  struct stat st {};
  ASSERT_EQ(fstat(fd.get(), &st), 0);
  ProcIndex idx;
  ASSERT_TRUE(idx.rebuild());
  EXPECT_EQ(idx.pid_of(st.st_ino), getpid());
  std::string comm;
  std::string cmdline;
  ASSERT_TRUE(idx.read_process(getpid(), comm, cmdline));
  EXPECT_EQ(comm, std::string("proc_index_test").substr(0, 15));
  EXPECT_NE(cmdline.find("proc_index_test"), std::string::npos) << cmdline;
}

TEST(ProcIndexReal, ToleratesProcessesExitingDuringScans) {
  const flowtop::sys::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct stat st {};
  ASSERT_EQ(fstat(fd.get(), &st), 0);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    // Short-lived processes appear and vanish while the index is rebuilt.
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    while (!stop.load()) {
      pid_t pid = 0;
      if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) == 0) {
        waitpid(pid, nullptr, 0);
      }
    }
  });
  ProcIndex idx;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(idx.rebuild());
    ASSERT_EQ(idx.pid_of(st.st_ino), getpid()) << "scan " << i;
  }
  stop.store(true);
  churn.join();
}

TEST(UserName, NamesKnownUidsAndNumbersTheRest) {
  EXPECT_EQ(flowtop::enrich::user_name(0), "root");
  EXPECT_EQ(flowtop::enrich::user_name(3999999999U), "3999999999");
}

}  // namespace
