#include "flowtop/app/track_guard.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "flowtop/sys/shared_state.hpp"
#include "flowtop/sys/test_hooks.hpp"

namespace flowtop::app {
namespace {

namespace fs = std::filesystem;

struct Nft {
  int rc = 0;
  std::string out;
  std::string err;
};

// Our own look at the namespace's ruleset, independent of the guard.
Nft nft(const std::string& cmd) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    return {-1, "", "nft_ctx_new failed"};
  }
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  Nft r;
  r.rc = nft_run_cmd_from_buffer(ctx, cmd.c_str());
  r.out = nft_ctx_get_output_buffer(ctx);
  r.err = nft_ctx_get_error_buffer(ctx);
  nft_ctx_free(ctx);
  return r;
}

// True when nft's listing shows a counter with at least one packet ("counter packets 3 bytes ...").
bool counted_a_packet(const std::string& listing) {
  const std::string key = "packets ";
  for (auto pos = listing.find(key); pos != std::string::npos; pos = listing.find(key, pos + 1)) {
    const char digit = pos + key.size() < listing.size() ? listing[pos + key.size()] : '\0';
    if (digit >= '1' && digit <= '9') {
      return true;
    }
  }
  return false;
}

bool table_exists() {
  return nft("list table inet flowtop_track").rc == 0;
}

// Runs `body` in a forked child inside a fresh network namespace (the host's ruleset is never
// touched); `body` returns "" on success or what went wrong, which becomes the test failure.
std::string in_new_netns(const std::string& run_dir, const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) {
    return std::string("pipe: ") + std::generic_category().message(errno);
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    if (::unshare(CLONE_NEWNET) != 0) {
      msg = std::string("unshare(CLONE_NEWNET): ") + std::generic_category().message(errno);
    } else {
      ::setenv("FLOWTOP_RUN_DIR", run_dir.c_str(), 1);
      try {
        msg = body();
      } catch (const std::exception& e) {
        msg = std::string("exception: ") + e.what();
      }
    }
    [[maybe_unused]] const ssize_t n = ::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n = 0; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    msg.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    msg += " (child died, status " + std::to_string(status) + ")";
  }
  return msg;
}

std::string state_file(const std::string& run_dir) {
  return run_dir + "/track-" + sys::netns_name().name;
}

// The handle of the namespace's flowtop_track table ("table inet flowtop_track { # handle 3").
std::string table_handle() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_HANDLE);
  std::string out;
  if (nft_run_cmd_from_buffer(ctx, "list table inet flowtop_track") == 0) {
    out = nft_ctx_get_output_buffer(ctx);
  }
  nft_ctx_free(ctx);
  const auto at = out.find("# handle ");
  return at == std::string::npos ? "" : out.substr(at + 9, out.find('\n', at) - at - 9);
}

constexpr const char* kAdminTable =
    "table inet flowtop_track {\n chain track {\n type filter hook prerouting priority -150; "
    "policy accept;\n ct state new,established,related counter\n }\n}\n";

// Brings lo up and sends one UDP datagram over it; returns "" or the error.
std::string send_loopback_datagram() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return std::string("socket: ") + std::generic_category().message(errno);
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string err;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    err = std::string("SIOCGIFFLAGS: ") + std::generic_category().message(errno);
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
      err = std::string("SIOCSIFFLAGS: ") + std::generic_category().message(errno);
    }
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char byte = 'x';
  if (err.empty() &&
      ::sendto(s, &byte, 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 1) {
    err = std::string("sendto: ") + std::generic_category().message(errno);
  }
  ::close(s);
  return err;
}

class TrackGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sys::test_hooks_built()) {
      FAIL() << "needs a build with -DFLOWTOP_TEST_HOOKS=ON (FLOWTOP_RUN_DIR keeps /run/flowtop "
                "untouched; scripts/bootstrap configures one)";
    }
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (unshare(CLONE_NEWNET) and nftables)";
    }
    std::string tmpl = (fs::temp_directory_path() / "flowtop-track-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) {
      fs::remove_all(dir_);
    }
  }

  std::string dir_;
};

TEST_F(TrackGuardTest, TrackGuard_AddsTableThatMakesConntrackTrackAndDeletesIt) {
  const std::string dir = dir_;
  EXPECT_EQ(in_new_netns(dir,
                         [&]() -> std::string {
                           if (table_exists()) {
                             return "table exists before the guard";
                           }
                           auto guard = std::make_unique<TrackGuard>();
                           if (!guard->added()) {
                             return "added() is false for the only instance";
                           }
                           const Nft listed = nft("list table inet flowtop_track");
                           if (listed.rc != 0) {
                             return "table missing: " + listed.err;
                           }
                           for (const char* want : {"hook prerouting", "hook output", "ct state"}) {
                             if (listed.out.find(want) == std::string::npos) {
                               return std::string("no '") + want + "' in:\n" + listed.out;
                             }
                           }
                           if (!fs::exists(state_file(dir))) {
                             return "no state file";
                           }
                           // The rule only counts packets conntrack has classified.
                           if (auto err = send_loopback_datagram(); !err.empty()) {
                             return err;
                           }
                           const Nft after = nft("list chain inet flowtop_track track_out");
                           if (!counted_a_packet(after.out)) {
                             return "output rule counted no tracked packet:\n" + after.out;
                           }
                           guard.reset();
                           if (table_exists()) {
                             return "table still there after the guard";
                           }
                           if (fs::exists(state_file(dir))) {
                             return "state file left behind";
                           }
                           return "";
                         }),
            "");
}

TEST_F(TrackGuardTest, TrackGuard_TableGoesOnlyWhenBothGuardsAreGone) {
  const std::string dir = dir_;
  EXPECT_EQ(in_new_netns(dir,
                         []() -> std::string {
                           auto first = std::make_unique<TrackGuard>();
                           auto second = std::make_unique<TrackGuard>();
                           if (!first->added() || second->added()) {
                             return "only the first should add the table";
                           }
                           first.reset();
                           if (!table_exists()) {
                             return "table deleted while the second guard lives";
                           }
                           second.reset();
                           if (table_exists()) {
                             return "table still there after both guards";
                           }
                           // And in the other order.
                           first = std::make_unique<TrackGuard>();
                           second = std::make_unique<TrackGuard>();
                           second.reset();
                           if (!table_exists()) {
                             return "table deleted while the first guard lives";
                           }
                           first.reset();
                           return table_exists() ? "table still there (second order)" : "";
                         }),
            "");
}

TEST_F(TrackGuardTest, TrackGuard_KeepsTableLeftByKilledInstanceAndDeletesItAtTheEnd) {
  const std::string dir = dir_;
  EXPECT_EQ(in_new_netns(dir,
                         [&]() -> std::string {
                           // What a SIGKILLed instance leaves: its table and its state file.
                           const Nft add =
                               nft("table inet flowtop_track {\n chain track {\n type filter hook "
                                   "prerouting priority -150; policy accept;\n ct state "
                                   "new,established,related counter\n }\n}\n");
                           if (add.rc != 0) {
                             return "cannot prepare the table: " + add.err;
                           }
                           fs::create_directories(dir);
                           ::chmod(dir.c_str(), 0700);
                           std::ofstream(state_file(dir))
                               << "inet flowtop_track # handle " << table_handle() << "\n";
                           {
                             const TrackGuard guard;
                             if (guard.added()) {
                               return "added() although the table existed";
                             }
                             if (!table_exists()) {
                               return "existing table removed";
                             }
                           }
                           return table_exists() ? "left-over table not deleted at the end" : "";
                         }),
            "");
}

TEST_F(TrackGuardTest, TrackGuard_RestoreIsIdempotent) {
  const std::string dir = dir_;
  EXPECT_EQ(in_new_netns(dir,
                         []() -> std::string {
                           TrackGuard guard;
                           guard.restore();
                           if (table_exists()) {
                             return "table still there after restore()";
                           }
                           // Another instance starts afterwards: our destructor must not undo it.
                           const TrackGuard other;
                           guard.restore();
                           return table_exists() ? "" : "second restore() deleted a live table";
                         }),
            "");
}

// An administrator's table of the same name is used, and never deleted: flowtop deletes only the
// table whose handle it recorded when it added it.
TEST_F(TrackGuardTest, TrackGuard_NeverDeletesATableItDidNotAdd) {
  const std::string dir = dir_;
  EXPECT_EQ(in_new_netns(dir,
                         [&]() -> std::string {
                           if (const Nft add = nft(kAdminTable); add.rc != 0) {
                             return "cannot prepare the table: " + add.err;
                           }
                           const std::string admin = table_handle();
                           {
                             const TrackGuard guard;
                             if (guard.added()) {
                               return "added() although the administrator's table existed";
                             }
                           }
                           if (!table_exists() || table_handle() != admin) {
                             return "the administrator's table was deleted";
                           }
                           return "";
                         }),
            "");
}

// A state file left by a killed instance whose table an administrator has since replaced with
// one of the same name: the recorded handle no longer matches, so that table stays.
TEST_F(TrackGuardTest, TrackGuard_StaleHandleDoesNotDeleteAReplacementTable) {
  const std::string dir = dir_;
  EXPECT_EQ(in_new_netns(dir,
                         [&]() -> std::string {
                           if (const Nft add = nft(kAdminTable); add.rc != 0) {
                             return "cannot prepare the table: " + add.err;
                           }
                           const std::string first = table_handle();
                           nft("delete table inet flowtop_track");
                           if (const Nft add = nft(kAdminTable); add.rc != 0) {
                             return "cannot prepare the replacement: " + add.err;
                           }
                           const std::string admin = table_handle();
                           if (admin == first) {
                             return "the kernel reused the table handle " + first;
                           }
                           fs::create_directories(dir);
                           ::chmod(dir.c_str(), 0700);
                           std::ofstream(state_file(dir))
                               << "inet flowtop_track # handle " << first << "\n";
                           {
                             const TrackGuard guard;
                             if (guard.added()) {
                               return "added() although a table existed";
                             }
                           }
                           if (!table_exists() || table_handle() != admin) {
                             return "the replacement table was deleted";
                           }
                           return "";
                         }),
            "");
}

TEST(TrackPayload, RoundTripsTheHandleAndRejectsOtherText) {
  EXPECT_EQ(parse_track_payload(track_payload(42)), std::optional<std::uint64_t>(42));
  EXPECT_EQ(parse_track_payload("inet flowtop_track\n"), std::nullopt);
  EXPECT_EQ(parse_track_payload(""), std::nullopt);
  EXPECT_EQ(parse_track_payload("inet flowtop_track # handle x\n"), std::nullopt);
}

}  // namespace
}  // namespace flowtop::app
