#include "flowtop/sys/signals.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "flowtop/sys/event_fd.hpp"

namespace flowtop::sys {
namespace {

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

// Unblocks `sig` again when the test ends so the other tests see the usual mask.
class UnblockAtEnd {
 public:
  explicit UnblockAtEnd(int sig) : sig_(sig) {}
  ~UnblockAtEnd() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
  UnblockAtEnd(const UnblockAtEnd&) = delete;
  UnblockAtEnd& operator=(const UnblockAtEnd&) = delete;

 private:
  int sig_;
};

TEST(SignalFdTest, SignalFd_ReceivesRaisedSignal) {
  const UnblockAtEnd unblock(SIGUSR1);
  const SignalFd signals({SIGUSR1});
  EXPECT_EQ(signals.read(), 0);
  EXPECT_FALSE(readable(signals.fd(), 0));
  ASSERT_EQ(::raise(SIGUSR1), 0);  // blocked: queued for the signalfd instead of killing us
  EXPECT_TRUE(readable(signals.fd(), 1000));
  EXPECT_EQ(signals.read(), SIGUSR1);
  EXPECT_EQ(signals.read(), 0);
}

TEST(SignalFdTest, SignalFd_ReceivesSignalsSentToTheProcess) {
  const UnblockAtEnd unblock_usr2(SIGUSR2);
  const UnblockAtEnd unblock_hup(SIGHUP);
  const SignalFd signals({SIGUSR2, SIGHUP});
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
  EXPECT_TRUE(readable(signals.fd(), 1000));
  // Standard signals are delivered lowest number first.
  EXPECT_EQ(signals.read(), SIGHUP);
  EXPECT_EQ(signals.read(), SIGUSR2);
  EXPECT_EQ(signals.read(), 0);
}

TEST(EventFdTest, EventFd_NotifyWakesAndDrainReturnsTheCount) {
  const EventFd ev;
  EXPECT_FALSE(readable(ev.fd(), 0));
  EXPECT_EQ(ev.drain(), 0U);
  ev.notify();
  ev.notify();
  ev.notify();
  EXPECT_TRUE(readable(ev.fd(), 0));
  EXPECT_EQ(ev.drain(), 3U);
  EXPECT_FALSE(readable(ev.fd(), 0));
  EXPECT_EQ(ev.drain(), 0U);
}

TEST(EventFdTest, EventFd_NotifyFromAnotherThreadWakesPoll) {
  const EventFd ev;
  std::thread t([&ev] { ev.notify(); });
  EXPECT_TRUE(readable(ev.fd(), 5000));
  t.join();
  EXPECT_EQ(ev.drain(), 1U);
}

// Actions append their tag to a string (test only: real actions must be async-signal-safe).
struct Recorder {
  std::string log;
};
struct Tagged {
  Recorder* recorder;
  char tag;
};
void record(void* ctx) noexcept {
  auto* t = static_cast<Tagged*>(ctx);
  t->recorder->log += t->tag;
}

TEST(EmergencyActionsTest, EmergencyActions_RunLastRegisteredFirst) {
  Recorder r;
  Tagged a{&r, 'a'};
  Tagged b{&r, 'b'};
  Tagged c{&r, 'c'};
  register_emergency_action(record, &a);
  register_emergency_action(record, &b);
  register_emergency_action(record, &c);
  run_emergency_actions();
  EXPECT_EQ(r.log, "cba");

  unregister_emergency_action(record, &b);
  run_emergency_actions();
  EXPECT_EQ(r.log, "cbaca");

  // A slot freed in the middle is reused; order still follows registration time.
  register_emergency_action(record, &b);
  run_emergency_actions();
  EXPECT_EQ(r.log, "cbacabca");

  unregister_emergency_action(record, &a);
  unregister_emergency_action(record, &b);
  unregister_emergency_action(record, &c);
  run_emergency_actions();
  EXPECT_EQ(r.log, "cbacabca");
}

TEST(EmergencyActionsTest, EmergencyActions_AtMostEight) {
  Recorder r;
  std::array<Tagged, 9> tags{};
  for (std::size_t i = 0; i < tags.size(); ++i) {
    tags[i] = Tagged{&r, static_cast<char>('0' + i)};
  }
  for (std::size_t i = 0; i < 8; ++i) {
    register_emergency_action(record, &tags[i]);
  }
  EXPECT_THROW(register_emergency_action(record, &tags[8]), std::length_error);
  run_emergency_actions();
  EXPECT_EQ(r.log, "76543210");
  for (std::size_t i = 0; i < 8; ++i) {
    unregister_emergency_action(record, &tags[i]);
  }
  EXPECT_NO_THROW(register_emergency_action(record, &tags[8]));
  unregister_emergency_action(record, &tags[8]);
}

// From a signal handler: write(2) to a pipe.
struct PipeTag {
  int fd;
  char tag;
};
void write_tag(void* ctx) noexcept {
  const auto* t = static_cast<const PipeTag*>(ctx);
  [[maybe_unused]] const ssize_t n = ::write(t->fd, &t->tag, 1);
}
void write_tag_then_segv(void* ctx) noexcept {
  write_tag(ctx);
  ::raise(SIGSEGV);  // a fault inside an action: must not loop or run the actions again
}

// The child's actions' contexts (set after fork).
PipeTag child_a{-1, 'a'};
PipeTag child_b{-1, 'b'};

struct ChildResult {
  int status = 0;
  std::string output;
};

// Forks a child that installs the handlers, registers actions writing to a pipe, then runs
// `crash`; returns how it died and what the actions wrote.
template <typename Crash>
ChildResult run_crashing_child(Crash crash, bool faulting_action = false) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    install_fatal_signal_handlers();
    install_fatal_signal_handlers();  // idempotent
    child_a.fd = fds[1];
    child_b.fd = fds[1];
    register_emergency_action(write_tag, &child_a);
    register_emergency_action(faulting_action ? write_tag_then_segv : write_tag, &child_b);
    crash();
    ::_exit(4);
  }
  ::close(fds[1]);
  ChildResult result;
  char buf[64];
  for (ssize_t n = 0; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    result.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  EXPECT_EQ(::waitpid(pid, &result.status, 0), pid);
  return result;
}

class FatalSignalTest : public ::testing::TestWithParam<int> {};

TEST_P(FatalSignalTest, FatalSignal_RunsActionsThenDiesByTheSameSignal) {
  const int sig = GetParam();
  const ChildResult r = run_crashing_child([sig] { ::raise(sig); });
  ASSERT_TRUE(WIFSIGNALED(r.status)) << "status " << r.status;
  EXPECT_EQ(WTERMSIG(r.status), sig);
  EXPECT_EQ(r.output, "ba");
}

INSTANTIATE_TEST_SUITE_P(Signals, FatalSignalTest,
                         ::testing::Values(SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS,
                                           SIGTRAP));

TEST(FatalSignalTest2, FatalSignal_AbortRunsActions) {
  const ChildResult r = run_crashing_child([] { std::abort(); });
  ASSERT_TRUE(WIFSIGNALED(r.status));
  EXPECT_EQ(WTERMSIG(r.status), SIGABRT);
  EXPECT_EQ(r.output, "ba");
}

TEST(FatalSignalTest2, FatalSignal_FaultInsideAnActionDoesNotLoop) {
  const ChildResult r = run_crashing_child([] { std::abort(); }, /*faulting_action=*/true);
  ASSERT_TRUE(WIFSIGNALED(r.status));
  EXPECT_EQ(WTERMSIG(r.status), SIGSEGV);
  EXPECT_EQ(r.output, "b");
}

TEST(FatalSignalTest2, FatalSignal_UnregisteredActionDoesNotRun) {
  const ChildResult r = run_crashing_child([] {
    unregister_emergency_action(write_tag, &child_a);
    ::raise(SIGSEGV);
  });
  ASSERT_TRUE(WIFSIGNALED(r.status));
  EXPECT_EQ(WTERMSIG(r.status), SIGSEGV);
  EXPECT_EQ(r.output, "b");
}

}  // namespace
}  // namespace flowtop::sys
