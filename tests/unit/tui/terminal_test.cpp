// Terminal under a real pseudo-terminal: the child process enters curses mode; the parent reads
// what reached the terminal and checks the tty modes (tcgetattr on the master reads the pty's).
#include "flowtop/tui/terminal.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "unit/tui/pty_child.hpp"

namespace flowtop::tui {
namespace {

using ptytest::Child;
using ptytest::g_mark;
using ptytest::run_child;

constexpr const char* kLeaveAltScreen = "\033[?1049l";
constexpr const char* kEnterAltScreen = "\033[?1049h";

class TerminalOnPty : public ptytest::PtyTest {};

bool cooked(const termios& t) {
  return (t.c_lflag & ICANON) != 0 && (t.c_lflag & ECHO) != 0;
}

TEST_F(TerminalOnPty, EntersCursesModeAndRestoresOnDestruction) {
  Child c;
  run_child(c, [] {
    {
      Terminal t;
      g_mark();  // 1: in curses mode
      ::usleep(100'000);
    }
    g_mark();  // 2: restored
    ::usleep(100'000);
  });
  ASSERT_TRUE(c.checkpoint());
  EXPECT_FALSE(cooked(c.modes())) << "cbreak/noecho while the screen is up";
  EXPECT_NE(c.output.find(kEnterAltScreen), std::string::npos);
  ASSERT_TRUE(c.checkpoint());
  EXPECT_TRUE(cooked(c.modes()));
  EXPECT_NE(c.output.find(kLeaveAltScreen), std::string::npos);
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << c.output;
}

TEST_F(TerminalOnPty, FatalSignalRestoresTheTerminalAndStillDies) {
  Child c;
  run_child(c, [] {
    Terminal t;
    g_mark();
    ::usleep(100'000);
    ::raise(SIGSEGV);
  });
  ASSERT_TRUE(c.checkpoint());
  EXPECT_FALSE(cooked(c.modes()));
  const std::size_t entered = c.output.size();
  const int status = c.wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  EXPECT_TRUE(cooked(c.modes())) << "tty modes left raw after a crash";
  EXPECT_NE(c.output.find(kLeaveAltScreen, entered), std::string::npos)
      << "no rmcup after the crash";
}

// The pid of `pid`'s only child, or -1.
pid_t child_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  pid_t child = -1;
  in >> child;
  return child;
}

// The state letter of /proc/PID/stat ('T' stopped), or '?'.
char proc_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() ? line[close + 2] : '?';
}

TEST_F(TerminalOnPty, CtrlZStopsWithTheTerminalRestoredAndResumes) {
  Child c;
  run_child(c, [] {
    // forkpty's child leads its own session, so its process group is orphaned and the kernel
    // discards stop signals to it; a shell's job is not. Run the screen in a grandchild in its
    // own foreground process group, as a shell would.
    int go[2];
    if (::pipe(go) != 0) {
      ::_exit(7);
    }
    const pid_t job = ::fork();
    if (job == 0) {
      char b = 0;
      if (::read(go[0], &b, 1) != 1) {
        ::_exit(8);
      }
      // As the app does: SIGTSTP blocked, read from a signalfd; here suspend() is called
      // directly.
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGTSTP);
      sigaddset(&set, SIGCONT);
      ::sigprocmask(SIG_BLOCK, &set, nullptr);
      Terminal t;
      g_mark();
      t.suspend();  // stops here until SIGCONT
      g_mark();
      ::usleep(100'000);
      ::_exit(0);
    }
    ::setpgid(job, job);
    ::tcsetpgrp(STDIN_FILENO, job);
    [[maybe_unused]] auto w = ::write(go[1], "g", 1);
    int status = 0;
    ::waitpid(job, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 9);
  });
  ASSERT_TRUE(c.checkpoint());
  const pid_t job = child_of(c.pid);
  ASSERT_GT(job, 0);
  bool stopped = false;
  for (int i = 0; i < 300 && !stopped; ++i) {
    c.drain();
    stopped = proc_state(job) == 'T';
    ::usleep(10'000);
  }
  ASSERT_TRUE(stopped) << "Ctrl-Z did not stop the process";
  EXPECT_TRUE(cooked(c.modes())) << "stopped with the terminal still in curses mode";
  // What the child wrote before it stopped may reach the pty's master side after the stop is
  // seen (the tty layer hands it over asynchronously): read until it is there, or 3 s.
  for (int i = 0; i < 300 && c.output.find(kLeaveAltScreen) == std::string::npos; ++i) {
    c.drain();
    ::usleep(10'000);
  }
  EXPECT_NE(c.output.find(kLeaveAltScreen), std::string::npos);
  ASSERT_EQ(::kill(job, SIGCONT), 0);
  ASSERT_TRUE(c.checkpoint());
  EXPECT_FALSE(cooked(c.modes())) << "curses mode again after SIGCONT";
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(TerminalOnPty, PaintDrawsUtf8AndWideText) {
  Child c;
  run_child(c, [] {
    Terminal t;
    render::Frame f;
    f.cols = 80;
    f.lines_max = 24;
    f.lines.push_back({{{"flowtop", render::Style::Title}}, render::Style::Title});
    f.lines.push_back({{{"Linköping ", render::Style::Normal}, {"東京", render::Style::Selected}},
                       render::Style::Selected});
    t.paint(f);
    g_mark();
    ::usleep(100'000);
  });
  ASSERT_TRUE(c.checkpoint());
  EXPECT_NE(c.output.find("flowtop"), std::string::npos);
  EXPECT_NE(c.output.find("Linköping"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("東京"), std::string::npos) << c.output;
  c.wait();
}

TEST_F(TerminalOnPty, SizeFollowsTheTty) {
  Child c;
  run_child(c, [] {
    Terminal t;
    const auto s = t.size();
    std::string msg = std::to_string(s.cols) + "x" + std::to_string(s.lines);
    g_mark();
    ::usleep(50'000);
    // Grow the pty as a terminal emulator would, then adopt the new size.
    winsize ws{30, 100, 0, 0};
    ::ioctl(STDOUT_FILENO, TIOCSWINSZ, &ws);
    t.resize();
    const auto r = t.size();
    ::_exit(s.cols == 80 && s.lines == 24 && r.cols == 100 && r.lines == 30 ? 0 : 4);
  });
  ASSERT_TRUE(c.checkpoint());
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(Terminal, NotATerminalIsAClearError) {
  std::string why;
  if (::isatty(STDIN_FILENO) != 0 && ::isatty(STDOUT_FILENO) != 0) {
    GTEST_SKIP() << "running on a terminal";
  }
  EXPECT_FALSE(have_terminal(&why));
  EXPECT_EQ(why, "flowtop: the screen needs a terminal; use --batch or --json");
  try {
    Terminal t;
    FAIL() << "no error";
  } catch (const TerminalError& e) {
    EXPECT_EQ(std::string(e.what()), why);
  }
}

TEST_F(TerminalOnPty, UnknownTermIsAClearError) {
  Child c;
  run_child(c, [] {
    ::setenv("TERM", "no-such-terminal-xyz", 1);
    try {
      Terminal t;
    } catch (const TerminalError& e) {
      const std::string m = e.what();
      ::_exit(m.find("no-such-terminal-xyz") != std::string::npos ? 0 : 5);
    }
    ::_exit(6);
  });
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << c.output;
}

// A terminal that cannot move the cursor (TERM=dumb) cannot draw the screen: the same kind of
// one-line error as an unknown type, not a screen with only a title.
TEST_F(TerminalOnPty, DumbTermIsAClearError) {
  Child c;
  run_child(c, [] {
    ::setenv("TERM", "dumb", 1);
    try {
      Terminal t;
    } catch (const TerminalError& e) {
      const std::string m = e.what();
      ::_exit(m.find("'dumb'") != std::string::npos && m.find("--batch") != std::string::npos &&
                      m.find('\n') == std::string::npos
                  ? 0
                  : 5);
    }
    ::_exit(6);
  });
  const int status = c.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << c.output;
  // Nothing reached the terminal: no escape sequence was written before the error.
  EXPECT_EQ(c.output.find('\x1b'), std::string::npos) << c.output;
}

}  // namespace
}  // namespace flowtop::tui
