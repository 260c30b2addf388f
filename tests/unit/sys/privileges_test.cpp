#include "flowtop/sys/privileges.hpp"

#include <gtest/gtest.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

namespace flowtop::sys {
namespace {

// A field of /proc/self/task/TID/status ("CapEff", "NoNewPrivs"), as the kernel shows it.
std::string status_field(pid_t tid, const std::string& field) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string v = line.substr(field.size() + 1);
      return v.substr(v.find_first_not_of(" \t"));
    }
  }
  return "";
}

std::uint64_t caps(pid_t tid, const std::string& field) {
  return std::stoull(status_field(tid, field), nullptr, 16);
}

constexpr std::uint64_t kNetAdmin = std::uint64_t{1} << 12;
constexpr std::uint64_t kDacReadSearch = std::uint64_t{1} << 2;
constexpr std::uint64_t kSysPtrace = std::uint64_t{1} << 19;

TEST(Privileges, LimitKeepsOnlyTheNamedCapabilitiesOfTheThread) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: the capabilities to drop";
  }
  std::string failure;
  std::thread([&] {
    const pid_t tid = ::gettid();
    if (caps(tid, "CapEff") == kNetAdmin) {
      failure = "the thread had only CAP_NET_ADMIN to begin with";
      return;
    }
    limit_thread_capabilities({Capability::NetAdmin});
    if (caps(tid, "CapEff") != kNetAdmin || caps(tid, "CapPrm") != kNetAdmin) {
      failure = "CapEff " + status_field(tid, "CapEff") + " CapPrm " + status_field(tid, "CapPrm");
    } else if (caps(tid, "CapBnd") != kNetAdmin || caps(tid, "CapInh") != 0 ||
               caps(tid, "CapAmb") != 0) {
      failure = "CapBnd " + status_field(tid, "CapBnd") + " CapInh " + status_field(tid, "CapInh") +
                " CapAmb " + status_field(tid, "CapAmb");
    } else if (status_field(tid, "NoNewPrivs") != "1") {
      failure = "NoNewPrivs " + status_field(tid, "NoNewPrivs");
    } else if (!thread_has_capability(Capability::NetAdmin) ||
               thread_has_capability(Capability::SysPtrace)) {
      failure = "thread_has_capability disagrees with the kernel";
    }
  }).join();
  EXPECT_EQ(failure, "");
  // Capabilities are per thread: this one kept its own.
  EXPECT_NE(caps(::gettid(), "CapEff") & kSysPtrace, 0U);
}

TEST(Privileges, WorkerThreadIsNamedAndKeepsOnlyWhatItAsks) {
  std::string comm;
  std::uint64_t eff = ~std::uint64_t{0};
  std::thread([&] {
    enter_worker_thread("ft-test", {Capability::SysPtrace, Capability::DacReadSearch});
    std::ifstream in("/proc/self/task/" + std::to_string(::gettid()) + "/comm");
    std::getline(in, comm);
    eff = caps(::gettid(), "CapEff");
  }).join();
  EXPECT_EQ(comm, "ft-test");
  const std::uint64_t expected = ::geteuid() == 0 ? (kSysPtrace | kDacReadSearch) : 0;
  EXPECT_EQ(eff, expected);
}

TEST(UserFiles, WorkRunsAsTheUserWithoutCapabilities) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to act as user nobody";
  }
  const UserFiles files(65534, 65534);
  int fsuid = -1;
  int fsgid = -1;
  std::uint64_t eff = ~std::uint64_t{0};
  files.run([&] {
    fsuid = ::setfsuid(static_cast<uid_t>(-1));  // an invalid id: returns the current one
    fsgid = ::setfsgid(static_cast<gid_t>(-1));
    eff = caps(::gettid(), "CapEff");
  });
  EXPECT_EQ(fsuid, 65534);
  EXPECT_EQ(fsgid, 65534);
  EXPECT_EQ(eff, 0U);
  // The calling thread is untouched.
  EXPECT_EQ(::setfsuid(static_cast<uid_t>(-1)), 0);
  EXPECT_THROW(files.run([] { throw std::runtime_error("passed on"); }), std::runtime_error);
}

}  // namespace
}  // namespace flowtop::sys
