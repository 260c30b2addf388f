#pragma once

// A child process on a new pseudo-terminal, for tests of the curses code: the child runs a body
// with stdin/stdout/stderr on the pty's slave; the parent reads what reached the terminal, types
// keys, and reads the tty modes (tcgetattr on the master reads the pty's).

#include <fcntl.h>
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
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace flowtop::tui::ptytest {

struct Child {
  pid_t pid = -1;
  int master = -1;
  int sync = -1;     // read end: the child writes one byte at each checkpoint
  int control = -1;  // write end: commands to the child (g_control), one per line
  int events = -1;   // read end: the child's event lines (g_event)
  std::string output;
  std::string pending_events;

  ~Child() {
    for (const int fd : {master, sync, control, events}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  // Reads the terminal's output until the child reaches its next checkpoint (or exits).
  bool checkpoint() {
    for (int i = 0; i < 500; ++i) {
      pollfd fds[2] = {{master, POLLIN, 0}, {sync, POLLIN, 0}};
      ::poll(fds, 2, 10);
      drain();
      if ((fds[1].revents & (POLLIN | POLLHUP)) != 0) {
        char c = 0;
        const bool got = ::read(sync, &c, 1) == 1;
        drain();
        return got;
      }
    }
    return false;
  }

  void drain() {
    char buf[4096];
    for (;;) {
      pollfd pfd{master, POLLIN, 0};
      if (::poll(&pfd, 1, 0) <= 0 || (pfd.revents & POLLIN) == 0) {
        return;
      }
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) {
        return;
      }
      output.append(buf, static_cast<std::size_t>(n));
    }
  }

  // Keeps reading the terminal's output for `ms` milliseconds (so the child never blocks on a
  // full pty).
  void pump(int ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      pollfd pfd{master, POLLIN, 0};
      ::poll(&pfd, 1, 5);
      drain();
    }
  }

  // Sends one command line to the child (it reads them from g_control).
  void send(std::string_view line) const {
    const std::string text = std::string(line) + "\n";
    [[maybe_unused]] auto r = ::write(control, text.data(), text.size());
  }

  // The child's next event line (without the newline), reading the terminal meanwhile so the
  // child never blocks on a full pty; "" when none came within `timeout_ms` or the child ended.
  std::string next_event(int timeout_ms = 10'000) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (const std::size_t nl = pending_events.find('\n'); nl != std::string::npos) {
        std::string line = pending_events.substr(0, nl);
        pending_events.erase(0, nl + 1);
        return line;
      }
      if (std::chrono::steady_clock::now() >= until) {
        return {};
      }
      pollfd fds[2] = {{master, POLLIN, 0}, {events, POLLIN, 0}};
      ::poll(fds, 2, 10);
      drain();
      if ((fds[1].revents & POLLIN) != 0) {
        char buf[256];
        const ssize_t n = ::read(events, buf, sizeof buf);
        if (n <= 0) {
          return {};
        }
        pending_events.append(buf, static_cast<std::size_t>(n));
      } else if ((fds[1].revents & POLLHUP) != 0) {
        return {};
      }
    }
  }

  // Reads the terminal until `text` appears in what arrived after byte `from` of the output;
  // false after `timeout_ms`.
  bool wait_for_output(std::string_view text, std::size_t from, int timeout_ms = 10'000) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (output.find(text, from) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= until) {
        return false;
      }
      pollfd pfd{master, POLLIN, 0};
      ::poll(&pfd, 1, 5);
      drain();
    }
    return true;
  }

  // Types `text` on the terminal's keyboard.
  void type(std::string_view text) const {
    [[maybe_unused]] auto r = ::write(master, text.data(), text.size());
  }

  // Waits for the child's end (or stop); returns the waitpid status.
  int wait(int flags = 0) {
    int status = 0;
    for (int i = 0; i < 500; ++i) {
      drain();
      const pid_t r = ::waitpid(pid, &status, WNOHANG | flags);
      if (r == pid) {
        drain();
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
          pid = -1;
        }
        return status;
      }
      ::usleep(10'000);
    }
    ADD_FAILURE() << "child did not finish";
    return -1;
  }

  [[nodiscard]] termios modes() const {
    termios t{};
    ::tcgetattr(master, &t);
    return t;
  }
};

// Runs `body` in a child whose stdin/stdout/stderr are a new pty (80x24, TERM=xterm-256color).
// The body calls `mark()` at each checkpoint, may read the parent's commands from g_control (one
// per line; end of file when the parent is done) and report events with g_event(line).
inline std::function<void()> g_mark;
inline int g_control = -1;
inline std::function<void(const std::string&)> g_event;

inline void run_child(Child& c, const std::function<void()>& body) {
  int fds[2];
  int ctl[2];
  int ev[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::pipe2(ctl, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(ev, O_CLOEXEC), 0);
  winsize ws{24, 80, 0, 0};
  c.pid = ::forkpty(&c.master, nullptr, nullptr, &ws);
  ASSERT_GE(c.pid, 0) << "forkpty: " << std::strerror(errno);
  if (c.pid == 0) {
    ::close(fds[0]);
    ::close(ctl[1]);
    ::close(ev[0]);
    const int out = fds[1];
    g_mark = [out] {
      const char x = 'x';
      [[maybe_unused]] auto r = ::write(out, &x, 1);
    };
    g_control = ctl[0];
    g_event = [fd = ev[1]](const std::string& line) {
      const std::string text = line + "\n";
      [[maybe_unused]] auto r = ::write(fd, text.data(), text.size());
    };
    ::setenv("TERM", "xterm-256color", 1);
    ::setenv("LC_ALL", "C.UTF-8", 1);
    ::unsetenv("NO_COLOR");
    try {
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child exception: %s\n", e.what());
      ::_exit(3);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  ::close(ctl[0]);
  ::close(ev[1]);
  c.sync = fds[0];
  c.control = ctl[1];
  c.events = ev[0];
}

/// Skips a test where the system has no pseudo-terminals (some containers).
class PtyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int fd = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0) {
      GTEST_SKIP() << "no pseudo-terminals here: " << std::strerror(errno);
    }
    ::close(fd);
  }
};

}  // namespace flowtop::tui::ptytest
