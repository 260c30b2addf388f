#include "flowtop/sys/shared_state.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "flowtop/sys/test_hooks.hpp"

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

// Polls `cond` until it holds or `timeout` passes.
template <class Cond>
bool wait_until(Cond cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
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
  std::atomic<bool> waiting{false};
  std::optional<std::string> seen;
  bool b_first = true;
  std::thread t([&] {
    const SharedState b(path_, LockWait{std::chrono::seconds(60), [&] { waiting = true; }});
    b_first = b.first();
    seen = b.payload();
    done = true;
  });
  // While `a` holds the exclusive lock, `b` must not get in (it would see a half-written payload).
  EXPECT_TRUE(wait_until([&] { return waiting.load(); }, std::chrono::seconds(30)));
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
  std::atomic<bool> waiting{false};
  std::thread t([&] {
    const SharedState b(path_, LockWait{std::chrono::seconds(60), [&] { waiting = true; }});
    b_first = b.first();
    seen = b.payload();
    b_ino = inode_of_fd(b.fd());
  });
  // `b` has opened the old file and waits for a shared lock on it; `a` is the last and leaves.
  EXPECT_TRUE(wait_until([&] { return waiting.load(); }, std::chrono::seconds(30)));
  (void)old_ino;
  a->remove();
  a.reset();
  t.join();

  EXPECT_TRUE(b_first);
  EXPECT_FALSE(seen.has_value());
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(b_ino, st.st_ino);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Other users must not be able to open the state file at all: a shared flock taken by anyone
// would otherwise keep the last instance from restoring the sysctls, forever.
TEST_F(SharedStateTest, SharedState_DirectoryAndFileArePrivateToTheOwner) {
  const SharedState st(path_);
  EXPECT_EQ(mode_of(dir_ + "/run"), 0700U);
  EXPECT_EQ(mode_of(path_), 0600U);
  if (::geteuid() != 0) {
    return;  // the rest acts as another user
  }
  ::chmod(dir_.c_str(), 0755);  // the test's own temporary parent: let others reach run/
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(2);
    }
    const int fd = ::open(path_.c_str(), O_RDONLY);
    ::_exit(fd < 0 && errno == EACCES ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "user nobody could open the state file (status " << status << ")";
}

TEST_F(SharedStateTest, SharedState_OlderOpenModesAreTightened) {
  fs::create_directories(dir_ + "/run");
  ::chmod((dir_ + "/run").c_str(), 0755);
  std::ofstream(path_) << "nf_conntrack_acct=0\n";
  ::chmod(path_.c_str(), 0644);
  const SharedState st(path_);
  EXPECT_EQ(mode_of(dir_ + "/run"), 0700U);
  EXPECT_EQ(mode_of(path_), 0600U);
  EXPECT_EQ(st.payload(), std::optional<std::string>("nf_conntrack_acct=0\n"));
}

TEST_F(SharedStateTest, SharedState_ASymlinkInPlaceOfTheFileIsNotFollowed) {
  fs::create_directories(dir_ + "/run");
  ::chmod((dir_ + "/run").c_str(), 0700);
  const std::string target = dir_ + "/elsewhere";
  std::ofstream(target) << "precious\n";
  fs::create_symlink(target, path_);
  try {
    const SharedState st(path_);
    ADD_FAILURE() << "a symlink was opened";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ELOOP) << e.what();
  }
  EXPECT_EQ(read_file(target), "precious\n");
}

TEST_F(SharedStateTest, SharedState_ADirectoryOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give the directory to another user";
  }
  fs::create_directories(dir_ + "/run");
  ASSERT_EQ(::chown((dir_ + "/run").c_str(), 65534, 65534), 0);
  try {
    const SharedState st(path_);
    ADD_FAILURE() << "a directory of user 65534 was used";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EPERM) << e.what();
    EXPECT_NE(std::string(e.what()).find("owned by another user"), std::string::npos) << e.what();
  }
}

// A holder that never lets go (a stuck instance) makes the next one give up, not hang.
TEST_F(SharedStateTest, SharedState_LockWaitIsBounded) {
  const SharedState a(path_);  // keeps its exclusive lock
  ASSERT_TRUE(a.first());
  try {
    const SharedState b(path_, LockWait{std::chrono::milliseconds(300), {}});
    ADD_FAILURE() << "got the lock another instance holds exclusively";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ETIMEDOUT) << e.what();
  }
}

// flowtop blocks SIGINT/SIGTERM and reads them from a signalfd: a pending one ends the wait.
TEST_F(SharedStateTest, SharedState_PendingTerminationSignalEndsTheWait) {
  const SharedState a(path_);
  ASSERT_TRUE(a.first());
  std::string what;
  int code = 0;
  std::thread t([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    const LockWait wait{std::chrono::seconds(600),
                        [] { ::pthread_kill(::pthread_self(), SIGTERM); }};
    try {
      const SharedState b(path_, wait);
    } catch (const std::system_error& e) {
      code = e.code().value();
      what = e.what();
    }
    timespec zero{};
    sigtimedwait(&set, nullptr, &zero);  // consume it
  });
  t.join();
  EXPECT_EQ(code, EINTR) << what;
}

TEST_F(SharedStateTest, SharedState_OversizedPayloadIsNotRead) {
  fs::create_directories(dir_ + "/run");
  ::chmod((dir_ + "/run").c_str(), 0700);
  std::ofstream(path_) << std::string(SharedState::kMaxPayload + 1, 'x');
  SharedState st(path_);
  EXPECT_FALSE(st.payload().has_value());
  EXPECT_THROW(st.write(std::string(SharedState::kMaxPayload + 1, 'y')), std::system_error);
}

// The state files are named by the namespace cookie, which the kernel never reuses (inode numbers
// of namespaces are reused once a namespace is gone).
TEST(NetnsName, CookieNamesDifferPerNamespace) {
  const NetnsName here = netns_name();
  if (here.by_inode) {
    GTEST_SKIP() << "this kernel has no SO_NETNS_COOKIE (Linux < 5.14): names are inodes";
  }
  ASSERT_EQ(here.name.front(), 'c');
  EXPECT_EQ(netns_name().name, here.name);
  if (::geteuid() != 0) {
    return;
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::string name = ::unshare(CLONE_NEWNET) == 0 ? netns_name().name : "unshare failed";
    [[maybe_unused]] const ssize_t n = ::write(fds[1], name.data(), name.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[64] = {};
  const ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf), here.name);
  EXPECT_EQ(buf[0], 'c') << buf;
}

TEST(SharedStateEnv, RunDir_FollowsEnvironment) {
  if (!test_hooks_built()) {
    FAIL() << "needs a build with -DFLOWTOP_TEST_HOOKS=ON (scripts/bootstrap does it)";
  }
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
