#include "flowtop/sys/privileges.hpp"

#include <cap-ng.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::sys {
namespace {

unsigned int cap_number(Capability cap) {
  switch (cap) {
    case Capability::NetAdmin: return CAP_NET_ADMIN;
    case Capability::SysPtrace: return CAP_SYS_PTRACE;
    case Capability::DacReadSearch: return CAP_DAC_READ_SEARCH;
    case Capability::SysAdmin: return CAP_SYS_ADMIN;
  }
  return CAP_NET_ADMIN;
}

// libcap-ng keeps its state per thread; point it at the calling thread, not the process.
int load_thread_caps() {
  capng_setpid(static_cast<int>(::gettid()));
  return capng_get_caps_process();
}

// 0, or the errno of the failure.
int limit(std::initializer_list<Capability> keep) noexcept {
  if (load_thread_caps() != 0) {
    return errno != 0 ? errno : EPERM;
  }
  std::vector<unsigned int> kept;
  for (const Capability c : keep) {
    if (capng_have_capability(CAPNG_PERMITTED, cap_number(c)) != 0) {
      kept.push_back(cap_number(c));
    }
  }
  // The bounding set can only be changed with CAP_SETPCAP (root, not a setcap binary).
  const bool bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 0;
  capng_clear(CAPNG_SELECT_ALL);
  for (const unsigned int c : kept) {
    capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED), c);
    if (bounds) {
      capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, c);
    }
  }
  if (capng_apply(bounds ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) != 0) {
    return errno != 0 ? errno : EPERM;
  }
  // The ambient set is cleared by the kernel when a capability leaves the permitted set; clear it
  // explicitly for the capabilities that stay.
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return errno;
  }
  return 0;
}

std::optional<uid_t> parse_uid(const char* text) {
  if (text == nullptr || *text == '\0') {
    return std::nullopt;
  }
  const std::string_view s(text);
  unsigned long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v >= 0xffffffffUL) {
    return std::nullopt;
  }
  return static_cast<uid_t>(v);
}

struct PasswdEntry {
  gid_t gid = 0;
  std::string home;
  std::string name;
};

std::optional<PasswdEntry> passwd_of(uid_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  return PasswdEntry{pw.pw_gid, pw.pw_dir != nullptr ? pw.pw_dir : "",
                     pw.pw_name != nullptr ? pw.pw_name : ""};
}

// Switches the calling thread's filesystem identity and supplementary groups to the user's, then
// drops every capability. 0 or the errno. The raw setgroups system call changes this thread only
// (glibc's setgroups() would change every thread of the process).
int become(uid_t uid, gid_t gid) noexcept {
  if (::getuid() != uid || ::geteuid() != uid) {
    std::vector<gid_t> groups(64);
    int n = static_cast<int>(groups.size());
    const auto pw = passwd_of(uid);
    if (pw && !pw->name.empty() && ::getgrouplist(pw->name.c_str(), gid, groups.data(), &n) < 0 &&
        n > 0) {
      groups.resize(static_cast<std::size_t>(n));
      ::getgrouplist(pw->name.c_str(), gid, groups.data(), &n);
    }
    if (!pw || pw->name.empty() || n < 0) {
      groups.assign(1, gid);
      n = 1;
    }
    groups.resize(static_cast<std::size_t>(n));
    if (::syscall(SYS_setgroups, groups.size(), groups.data()) != 0 && errno != EPERM) {
      return errno;
    }
    ::setfsgid(gid);
    ::setfsuid(uid);
    // setfsuid/setfsgid return the previous value: asking again tells whether the change held.
    if (static_cast<gid_t>(::setfsgid(gid)) != gid || static_cast<uid_t>(::setfsuid(uid)) != uid) {
      return EPERM;
    }
  }
  return limit({});
}

}  // namespace

void limit_thread_capabilities(std::initializer_list<Capability> keep) {
  if (const int err = limit(keep); err != 0) {
    throw_errno(err, "cannot drop capabilities");
  }
}

bool thread_has_capability(Capability cap) {
  if (load_thread_caps() != 0) {
    return false;
  }
  return capng_have_capability(CAPNG_EFFECTIVE, cap_number(cap)) != 0;
}

void enter_worker_thread(const char* name, std::initializer_list<Capability> keep) noexcept {
  ::pthread_setname_np(::pthread_self(), name);
  (void)limit(keep);
}

std::optional<InvokingUser> invoking_user() {
  // NOLINTBEGIN(concurrency-mt-unsafe): main thread, nobody changes the environment
  const uid_t ruid = ::getuid();
  const uid_t euid = ::geteuid();
  std::optional<uid_t> other;
  if (euid == 0) {
    other = parse_uid(std::getenv("SUDO_UID"));
    if (!other) {
      other = parse_uid(std::getenv("PKEXEC_UID"));
    }
    if (other && *other == 0) {
      other.reset();  // root's own sudo: root
    }
  }
  InvokingUser user;
  if (other) {
    user.uid = *other;
  } else {
    user.uid = ruid;
    user.env_trusted = ruid == euid;  // not set-user-ID: the environment is the user's own
  }
  const auto pw = passwd_of(user.uid);
  user.gid = pw ? pw->gid : (other ? static_cast<gid_t>(user.uid) : ::getgid());
  if (user.env_trusted) {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && xdg[0] == '/') {
      user.config_home = xdg;
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
      user.home = home;
    }
  }
  // NOLINTEND(concurrency-mt-unsafe)
  if (user.home.empty() && pw && !pw->home.empty() && pw->home[0] == '/') {
    user.home = pw->home;
  }
  if (user.home.empty() && user.config_home.empty()) {
    return std::nullopt;
  }
  return user;
}

struct UserFiles::Impl {
  uid_t uid = 0;
  std::mutex mu;
  std::condition_variable cv;
  const std::function<void()>* work = nullptr;  // the job in progress, null when idle
  std::exception_ptr error;
  bool done = false;
  bool stopping = false;
  int setup_error = -1;  // -1 while the thread sets itself up
  std::mutex callers;    // one job at a time
  std::thread thread;

  void main(uid_t u, gid_t g) {
    ::pthread_setname_np(::pthread_self(), "ft-userfiles");
    const int err = become(u, g);
    std::unique_lock lock(mu);
    setup_error = err;
    cv.notify_all();
    if (err != 0) {
      return;
    }
    for (;;) {
      cv.wait(lock, [this] { return stopping || (work != nullptr && !done); });
      if (stopping) {
        return;
      }
      const std::function<void()>* job = work;
      lock.unlock();
      std::exception_ptr e;
      try {
        (*job)();
      } catch (...) {
        e = std::current_exception();
      }
      lock.lock();
      error = e;
      done = true;
      cv.notify_all();
    }
  }
};

UserFiles::UserFiles(uid_t uid, gid_t gid) : impl_(std::make_unique<Impl>()) {
  impl_->uid = uid;
  Impl* impl = impl_.get();
  impl->thread = std::thread([impl, uid, gid] { impl->main(uid, gid); });
  std::unique_lock lock(impl->mu);
  impl->cv.wait(lock, [impl] { return impl->setup_error >= 0; });
  if (impl->setup_error != 0) {
    const int err = impl->setup_error;
    lock.unlock();
    impl->thread.join();
    throw_errno(err, "cannot act as user " + std::to_string(uid));
  }
}

UserFiles::~UserFiles() {
  {
    const std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

uid_t UserFiles::uid() const {
  return impl_->uid;
}

void UserFiles::run(const std::function<void()>& work) const {
  const std::lock_guard one(impl_->callers);
  std::unique_lock lock(impl_->mu);
  impl_->work = &work;
  impl_->done = false;
  impl_->error = nullptr;
  impl_->cv.notify_all();
  impl_->cv.wait(lock, [this] { return impl_->done; });
  impl_->work = nullptr;
  if (impl_->error) {
    std::rethrow_exception(std::exchange(impl_->error, nullptr));
  }
}

const UserFiles* invoking_user_files(std::string* why) {
  static std::mutex mu;
  static std::unique_ptr<UserFiles> files;
  static std::string failure;
  static bool tried = false;
  const std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    if (const auto user = invoking_user()) {
      try {
        files = std::make_unique<UserFiles>(user->uid, user->gid);
      } catch (const std::system_error& e) {
        failure = e.what();
      }
    } else {
      failure = "no home directory";
    }
  }
  if (!files && why != nullptr) {
    *why = failure;
  }
  return files.get();
}

void drop_privileges() {
  (void)invoking_user_files();
  limit_thread_capabilities(
      {Capability::NetAdmin, Capability::SysPtrace, Capability::DacReadSearch});
}

WorkerResult run_unprivileged(const std::function<int(int result_fd)>& work,
                              const std::function<bool()>& stop) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw_errno("cannot start the unprivileged worker (pipe)");
  }
  UniqueFd rd(fds[0]);
  UniqueFd wr(fds[1]);
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw_errno("cannot start the unprivileged worker (fork)");
  }
  if (pid == 0) {
    rd.reset();
    // Single-threaded: glibc's set*id calls change this one thread, which is the process.
    const bool dropped = ::setgroups(0, nullptr) == 0 &&
                         ::setresgid(kNobodyGid, kNobodyGid, kNobodyGid) == 0 &&
                         ::setresuid(kNobodyUid, kNobodyUid, kNobodyUid) == 0 &&
                         ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
                         ::getuid() == kNobodyUid && ::geteuid() == kNobodyUid && limit({}) == 0;
    int status = 125;
    if (dropped) {
      try {
        status = work(wr.get());
      } catch (...) {
        status = 124;
      }
    }
    std::fflush(nullptr);
    ::_exit(status);
  }
  wr.reset();
  WorkerResult out;
  char buf[4096];
  bool open = true;
  int status = 0;
  bool exited = false;
  bool signalled = false;
  while (open || !exited) {
    pollfd pfd{rd.get(), POLLIN, 0};
    if (open) {
      ::poll(&pfd, 1, 50);
      if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n > 0) {
          out.output.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          open = false;
        }
      }
    } else {
      ::poll(nullptr, 0, 50);
    }
    if (!exited) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      exited = w == pid || (w < 0 && errno != EINTR);
    }
    if (!exited && !signalled && stop && stop()) {
      ::kill(pid, SIGTERM);
      signalled = true;
    }
  }
  out.exit_status = WIFEXITED(status)     ? WEXITSTATUS(status)
                    : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                          : -1;
  return out;
}

}  // namespace flowtop::sys
