#include "flowtop/sys/sysctl_guard.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "flowtop/sys/shared_state.hpp"
#include "flowtop/sys/test_hooks.hpp"

namespace flowtop::sys {
namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

// Trimmed content, as a sysctl reader sees it.
std::string value_of(const std::string& path) {
  std::string v = read_file(path);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) {
    v.pop_back();
  }
  return v;
}

// Fake /proc/sys/net/netfilter and run directory: the real ones are never touched.
class SysctlGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sys::test_hooks_built()) {
      FAIL() << "needs a build with -DFLOWTOP_TEST_HOOKS=ON (FLOWTOP_RUN_DIR keeps /run/flowtop "
                "untouched; scripts/bootstrap configures one)";
    }
    std::string tmpl = (fs::temp_directory_path() / "flowtop-sysctl-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    proc_ = dir_ + "/proc";
    fs::create_directories(proc_);
    const char* saved = std::getenv("FLOWTOP_RUN_DIR");
    saved_run_dir_ = saved != nullptr ? std::optional<std::string>(saved) : std::nullopt;
    ::setenv("FLOWTOP_RUN_DIR", (dir_ + "/run").c_str(), 1);
    state_file_ = dir_ + "/run/sysctl-" + netns_name().name;
  }
  void TearDown() override {
    if (saved_run_dir_) {
      ::setenv("FLOWTOP_RUN_DIR", saved_run_dir_->c_str(), 1);
    } else {
      ::unsetenv("FLOWTOP_RUN_DIR");
    }
    fs::remove_all(dir_);
  }

  void set_values(const std::string& acct, const std::string& timestamp) {
    write_file(acct_path(), acct);
    write_file(timestamp_path(), timestamp);
  }
  [[nodiscard]] std::string acct_path() const { return proc_ + "/nf_conntrack_acct"; }
  [[nodiscard]] std::string timestamp_path() const { return proc_ + "/nf_conntrack_timestamp"; }
  [[nodiscard]] std::string acct() const { return value_of(acct_path()); }
  [[nodiscard]] std::string timestamp() const { return value_of(timestamp_path()); }

  std::string dir_;
  std::string proc_;
  std::string state_file_;
  std::optional<std::string> saved_run_dir_;
};

TEST_F(SysctlGuardTest, SysctlGuard_TurnsOnOffValuesAndRestoresThemOnDestruction) {
  set_values("0\n", "1\n");
  {
    const SysctlGuard guard(proc_);
    EXPECT_EQ(guard.result().turned_on, Names{"nf_conntrack_acct"});
    EXPECT_TRUE(guard.result().failed.empty());
    EXPECT_EQ(acct(), "1");
    EXPECT_EQ(timestamp(), "1");
    EXPECT_EQ(read_file(state_file_), "nf_conntrack_acct=0\nnf_conntrack_timestamp=1\n");
  }
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(read_file(timestamp_path()), "1\n");  // unchanged: never rewritten
  EXPECT_FALSE(fs::exists(state_file_));
}

TEST_F(SysctlGuardTest, SysctlGuard_LeavesValuesAloneWhenAlreadyOn) {
  set_values("1\n", "1\n");
  {
    const SysctlGuard guard(proc_);
    EXPECT_TRUE(guard.result().turned_on.empty());
    EXPECT_TRUE(guard.result().failed.empty());
  }
  EXPECT_EQ(read_file(acct_path()), "1\n");
  EXPECT_EQ(read_file(timestamp_path()), "1\n");
}

TEST_F(SysctlGuardTest, SysctlGuard_RestoreIsIdempotent) {
  set_values("0\n", "0\n");
  SysctlGuard guard(proc_);
  EXPECT_EQ(guard.result().turned_on, (Names{"nf_conntrack_acct", "nf_conntrack_timestamp"}));
  guard.restore();
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(timestamp(), "0");
  // Someone turns them on again: a second restore() (and the destructor) must not touch them.
  set_values("1\n", "1\n");
  guard.restore();
  EXPECT_EQ(acct(), "1");
  EXPECT_EQ(timestamp(), "1");
}

TEST_F(SysctlGuardTest, SysctlGuard_FirstToLeaveKeepsThemOnSecondRestores) {
  set_values("0\n", "0\n");
  auto first = std::make_unique<SysctlGuard>(proc_);
  auto second = std::make_unique<SysctlGuard>(proc_);
  EXPECT_EQ(first->result().turned_on, (Names{"nf_conntrack_acct", "nf_conntrack_timestamp"}));
  EXPECT_TRUE(second->result().turned_on.empty());

  first.reset();
  EXPECT_EQ(acct(), "1");
  EXPECT_EQ(timestamp(), "1");
  EXPECT_TRUE(fs::exists(state_file_));

  second.reset();
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(timestamp(), "0");
  EXPECT_FALSE(fs::exists(state_file_));
}

TEST_F(SysctlGuardTest, SysctlGuard_SecondInstanceRestoresTheFirstsOriginals) {
  set_values("0\n", "1\n");
  auto first = std::make_unique<SysctlGuard>(proc_);
  auto second = std::make_unique<SysctlGuard>(proc_);
  second.reset();  // not the last
  EXPECT_EQ(acct(), "1");
  first.reset();
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(timestamp(), "1");
}

TEST_F(SysctlGuardTest, SysctlGuard_StaleStateFileRestoresOriginalsNotCurrentValues) {
  // A killed instance turned both on and left its state file behind.
  set_values("1\n", "1\n");
  fs::create_directories(dir_ + "/run");
  write_file(state_file_, "nf_conntrack_acct=0\nnf_conntrack_timestamp=0\n");
  {
    const SysctlGuard guard(proc_);
    EXPECT_TRUE(guard.result().turned_on.empty());
    EXPECT_EQ(read_file(state_file_), "nf_conntrack_acct=0\nnf_conntrack_timestamp=0\n");
  }
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(timestamp(), "0");
  EXPECT_FALSE(fs::exists(state_file_));
}

TEST_F(SysctlGuardTest, SysctlGuard_StateFileWithGarbageIsNotWrittenBack) {
  set_values("1\n", "0\n");
  fs::create_directories(dir_ + "/run");
  write_file(state_file_, "nf_conntrack_acct=0; reboot\n/etc/passwd=x\nnf_conntrack_timestamp=0\n");
  {
    const SysctlGuard guard(proc_);
    EXPECT_EQ(guard.result().turned_on, Names{"nf_conntrack_timestamp"});
  }
  EXPECT_EQ(acct(), "1");  // the bad line is ignored: the current value is the original
  EXPECT_EQ(timestamp(), "0");
}

// Drops CAP_DAC_OVERRIDE from the effective set for its lifetime, so that root is refused a write
// to a read-only file as anyone else would be.
class WithoutDacOverride {
 public:
  WithoutDacOverride() {
    if (::syscall(SYS_capget, &header_, saved_) != 0) {
      return;
    }
    __user_cap_data_struct reduced[2] = {saved_[0], saved_[1]};
    reduced[0].effective &= ~(1U << CAP_DAC_OVERRIDE);
    dropped_ = ::syscall(SYS_capset, &header_, reduced) == 0;
  }
  ~WithoutDacOverride() {
    if (dropped_) {
      ::syscall(SYS_capset, &header_, saved_);
    }
  }
  WithoutDacOverride(const WithoutDacOverride&) = delete;
  WithoutDacOverride& operator=(const WithoutDacOverride&) = delete;

 private:
  __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved_[2]{};
  bool dropped_ = false;
};

TEST_F(SysctlGuardTest, SysctlGuard_FailedWriteIsReportedNotThrown) {
  set_values("0\n", "0\n");
  fs::permissions(acct_path(),
                  fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  {
    const WithoutDacOverride no_override;
    const SysctlGuard guard(proc_);
    EXPECT_EQ(guard.result().failed, Names{"nf_conntrack_acct: Permission denied"});
    EXPECT_EQ(guard.result().turned_on, Names{"nf_conntrack_timestamp"});
    EXPECT_EQ(acct(), "0");
    EXPECT_EQ(timestamp(), "1");
  }
  EXPECT_EQ(timestamp(), "0");
}

TEST_F(SysctlGuardTest, SysctlGuard_MissingSettingIsReported) {
  write_file(acct_path(), "0\n");
  {
    const SysctlGuard guard(proc_);
    EXPECT_EQ(guard.result().failed, Names{"nf_conntrack_timestamp: No such file or directory"});
    EXPECT_EQ(guard.result().turned_on, Names{"nf_conntrack_acct"});
    EXPECT_EQ(read_file(state_file_), "nf_conntrack_acct=0\n");
  }
  EXPECT_EQ(acct(), "0");
  EXPECT_FALSE(fs::exists(timestamp_path()));
}

enum class Crash { RaiseSegv, Abort, RaiseBus };

// Forks a child that builds a guard (which must turn something on when `alone`) and crashes;
// returns the wait status.
int crash_child_with_guard(const std::string& proc, Crash how, bool alone = true) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    const SysctlGuard guard(proc);
    if (guard.result().turned_on.empty() == alone) {
      ::_exit(3);
    }
    switch (how) {
      case Crash::RaiseSegv: ::raise(SIGSEGV); break;
      case Crash::Abort: std::abort();
      case Crash::RaiseBus: ::raise(SIGBUS); break;
    }
    ::_exit(4);  // survived the signal: wrong
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

TEST_F(SysctlGuardTest, SysctlGuard_EmergencyActionRestoresOnSigsegv) {
  set_values("0\n", "0\n");
  const int status = crash_child_with_guard(proc_, Crash::RaiseSegv);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(timestamp(), "0");
  EXPECT_FALSE(fs::exists(state_file_));
}

TEST_F(SysctlGuardTest, SysctlGuard_EmergencyActionRestoresOnAbort) {
  set_values("0\n", "1\n");
  const int status = crash_child_with_guard(proc_, Crash::Abort);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(timestamp(), "1");
  EXPECT_FALSE(fs::exists(state_file_));
}

TEST_F(SysctlGuardTest, SysctlGuard_EmergencyActionRestoresOnSigbus) {
  set_values("1\n", "0\n");
  const int status = crash_child_with_guard(proc_, Crash::RaiseBus);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGBUS);
  EXPECT_EQ(acct(), "1");
  EXPECT_EQ(timestamp(), "0");
}

TEST_F(SysctlGuardTest, SysctlGuard_EmergencyActionKeepsValuesOnWhileOthersRun) {
  set_values("0\n", "0\n");
  auto mine = std::make_unique<SysctlGuard>(proc_);  // the child inherits it, must not restore it
  const int status = crash_child_with_guard(proc_, Crash::RaiseSegv, /*alone=*/false);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  EXPECT_EQ(acct(), "1");
  EXPECT_EQ(timestamp(), "1");
  EXPECT_TRUE(fs::exists(state_file_));
  mine.reset();
  EXPECT_EQ(acct(), "0");
  EXPECT_EQ(timestamp(), "0");
  EXPECT_FALSE(fs::exists(state_file_));
}

}  // namespace
}  // namespace flowtop::sys
