#include "flowtop/sys/shared_state.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace flowtop::sys {
namespace {

namespace fs = std::filesystem;

class SharedStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "flowtop-shared-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/run/state";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_;
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

ino_t inode_of_fd(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

// True once /proc/locks shows a blocked flock request on inode `ino` (a "->" line).
bool wait_for_blocked_lock(ino_t ino, std::chrono::milliseconds timeout) {
  const std::string needle = ":" + std::to_string(ino) + " ";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream locks("/proc/locks");
    for (std::string line; std::getline(locks, line);) {
      if (line.find("->") != std::string::npos && line.find(needle) != std::string::npos) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST_F(SharedStateTest, SharedState_FirstInstanceCreatesDirectoryAndEmptyFile) {
  const SharedState st(path_);
  EXPECT_TRUE(st.first());
  EXPECT_FALSE(st.payload().has_value());
  EXPECT_TRUE(fs::is_regular_file(path_));
  EXPECT_TRUE(fs::is_directory(dir_ + "/run"));
  EXPECT_EQ(st.path(), path_);
  struct stat named {};
  ASSERT_EQ(::stat(path_.c_str(), &named), 0);
  EXPECT_EQ(inode_of_fd(st.fd()), named.st_ino);
}

TEST_F(SharedStateTest, SharedState_SecondInstanceSharesAndSeesPayload) {
  SharedState a(path_);
  ASSERT_TRUE(a.first());
  a.write("nf_conntrack_acct=0\n");
  a.share();

  const SharedState b(path_);
  EXPECT_FALSE(b.first());
  EXPECT_EQ(b.payload(), std::optional<std::string>("nf_conntrack_acct=0\n"));
  EXPECT_EQ(read_file(path_), "nf_conntrack_acct=0\n");
}

TEST_F(SharedStateTest, SharedState_WriteReplacesContent) {
  SharedState a(path_);
  a.write("a much longer first payload\n");
  a.write("short\n");
  EXPECT_EQ(a.payload(), std::optional<std::string>("short\n"));
  a.write("");
  EXPECT_FALSE(a.payload().has_value());
}

TEST_F(SharedStateTest, SharedState_SecondInstanceWaitsUntilFirstHasShared) {
  SharedState a(path_);
  ASSERT_TRUE(a.first());

  std::atomic<bool> done{false};
  std::optional<std::string> seen;
  bool b_first = true;
  std::thread t([&] {
    const SharedState b(path_);
    b_first = b.first();
    seen = b.payload();
    done = true;
  });
  // While `a` holds the exclusive lock, `b` must not get in (it would see a half-written payload).
  EXPECT_TRUE(wait_for_blocked_lock(inode_of_fd(a.fd()), std::chrono::seconds(5)));
  EXPECT_FALSE(done.load());
  a.write("complete\n");
  a.share();
  t.join();
  EXPECT_FALSE(b_first);
  EXPECT_EQ(seen, std::optional<std::string>("complete\n"));
}

TEST_F(SharedStateTest, SharedState_LastOnlyWhenAlone) {
  auto a = std::make_unique<SharedState>(path_);
  a->share();
  auto b = std::make_unique<SharedState>(path_);
  ASSERT_FALSE(b->first());
  EXPECT_FALSE(b->last());  // `a` is still counted
  b.reset();
  EXPECT_TRUE(a->last());
}

TEST_F(SharedStateTest, SharedState_SingleInstanceIsLast) {
  SharedState a(path_);
  a.share();
  EXPECT_TRUE(a.last());
}

TEST_F(SharedStateTest, SharedState_StaleFileFromKilledInstanceIsFirstWithPayload) {
  fs::create_directories(dir_ + "/run");
  std::ofstream(path_) << "nf_conntrack_acct=0\nnf_conntrack_timestamp=1\n";
  // Nobody holds a lock on it, as after a SIGKILL.
  const SharedState st(path_);
  EXPECT_TRUE(st.first());
  EXPECT_EQ(st.payload(),
            std::optional<std::string>("nf_conntrack_acct=0\nnf_conntrack_timestamp=1\n"));
}

TEST_F(SharedStateTest, SharedState_RemoveUnlinksAndNextInstanceStartsFresh) {
  {
    SharedState a(path_);
    a.write("x=1\n");
    a.share();
    ASSERT_TRUE(a.last());
    a.remove();
    EXPECT_FALSE(fs::exists(path_));
  }
  const SharedState b(path_);
  EXPECT_TRUE(b.first());
  EXPECT_FALSE(b.payload().has_value());
}

TEST_F(SharedStateTest, SharedState_WaiterOnRemovedFileRetriesOnTheNewFile) {
  auto a = std::make_unique<SharedState>(path_);
  ASSERT_TRUE(a->first());
  a->write("old\n");
  const ino_t old_ino = inode_of_fd(a->fd());

  bool b_first = false;
  std::optional<std::string> seen{"unset"};
  ino_t b_ino = 0;
  std::thread t([&] {
    const SharedState b(path_);
    b_first = b.first();
    seen = b.payload();
    b_ino = inode_of_fd(b.fd());
  });
  // `b` has opened the old file and waits for a shared lock on it; `a` is the last and leaves.
  EXPECT_TRUE(wait_for_blocked_lock(old_ino, std::chrono::seconds(5)));
  a->remove();
  a.reset();
  t.join();

  EXPECT_TRUE(b_first);
  EXPECT_FALSE(seen.has_value());
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(b_ino, st.st_ino);
}

TEST(SharedStateEnv, RunDir_FollowsEnvironment) {
  const char* saved = std::getenv("FLOWTOP_RUN_DIR");
  const std::string saved_value = saved != nullptr ? saved : "";
  ::setenv("FLOWTOP_RUN_DIR", "/tmp/somewhere", 1);
  EXPECT_EQ(run_dir(), "/tmp/somewhere");
  ::unsetenv("FLOWTOP_RUN_DIR");
  EXPECT_EQ(run_dir(), "/run/flowtop");
  if (saved != nullptr) {
    ::setenv("FLOWTOP_RUN_DIR", saved_value.c_str(), 1);
  }
}

TEST(SharedStateEnv, NetnsInode_IsTheNamespaceFileInode) {
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/ns/net", &st), 0);
  EXPECT_EQ(netns_inode(), static_cast<unsigned long>(st.st_ino));
}

}  // namespace
}  // namespace flowtop::sys
