#include "flowtop/sys/netns.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "flowtop/core/text.hpp"
#include "flowtop/sys/privileges.hpp"
#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::sys {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void enter_netns(const std::string& spec) {
  std::string path;
  std::string what;
  if (all_digits(spec)) {
    path = "/proc/" + spec + "/ns/net";
    what = "process " + spec;
  } else if (spec.find('/') != std::string::npos) {
    path = spec;
    what = core::sanitize(spec, 80);
  } else if (spec.empty() || spec == "." || spec == "..") {
    throw std::runtime_error("--netns needs a name, a path or a process id");
  } else {
    path = "/run/netns/" + spec;
    what = "'" + core::sanitize(spec, 40) + "'";
  }
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT) {
      throw std::runtime_error(
          "no network namespace " + what +
          (all_digits(spec) ? " (no such process)"
                            : (spec.find('/') == std::string::npos ? " (not in /run/netns)" : "")));
    }
    throw std::runtime_error("cannot open the network namespace " + what + ": " +
                             std::generic_category().message(err));
  }
  if (::setns(fd.get(), CLONE_NEWNET) != 0) {
    const int err = errno;
    throw std::runtime_error("cannot enter the network namespace " + what + ": " +
                             (err == EINVAL ? std::string("not a network namespace")
                                            : std::generic_category().message(err)));
  }
}

}  // namespace flowtop::sys

namespace flowtop::sys {

struct NetnsSockets::Impl {
  std::mutex mu;  // one request at a time
  std::condition_variable cv;
  bool has_request = false;
  bool done = false;
  bool stop = false;
  std::string path;
  int domain = 0, type = 0, protocol = 0;
  int result = -1;
  int error = 0;
  std::uint64_t own = 0;
  std::mutex call_mu;  // serialises callers
  std::thread thread;

  void run(int own_fd) {
    ::pthread_setname_np(::pthread_self(), "ft-netns");
    (void)limit_thread_capabilities_noexcept();
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [this] { return has_request || stop; });
      if (stop) {
        break;
      }
      has_request = false;
      result = -1;
      error = 0;
      const UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns.valid() || ::setns(ns.get(), CLONE_NEWNET) != 0) {
        error = errno;
      } else {
        result = ::socket(domain, type | SOCK_CLOEXEC, protocol);
        error = result < 0 ? errno : 0;
        if (::setns(own_fd, CLONE_NEWNET) != 0) {
          // Cannot return home: serve nothing more rather than open sockets in the wrong place.
          if (result >= 0) {
            ::close(result);
            result = -1;
          }
          error = EPERM;
          stop = true;
        }
      }
      done = true;
      cv.notify_all();
    }
    ::close(own_fd);
  }

  static int limit_thread_capabilities_noexcept() {
    try {
      limit_thread_capabilities({Capability::SysAdmin, Capability::SysPtrace});
      return 0;
    } catch (const std::exception&) {
      return -1;
    }
  }
};

NetnsSockets::NetnsSockets() : impl_(std::make_unique<Impl>()) {
  const int own_fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own_fd < 0) {
    throw_errno("cannot open this thread's network namespace");
  }
  struct stat st {};
  if (::fstat(own_fd, &st) == 0) {
    impl_->own = st.st_ino;
  }
  impl_->thread = std::thread([impl = impl_.get(), own_fd] { impl->run(own_fd); });
}

NetnsSockets::~NetnsSockets() {
  {
    const std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

int NetnsSockets::socket_in(const std::string& ns_path, int domain, int type, int protocol) {
  const std::lock_guard call(impl_->call_mu);
  std::unique_lock lock(impl_->mu);
  if (impl_->stop) {
    errno = EPERM;
    return -1;
  }
  impl_->path = ns_path;
  impl_->domain = domain;
  impl_->type = type;
  impl_->protocol = protocol;
  impl_->done = false;
  impl_->has_request = true;
  impl_->cv.notify_all();
  impl_->cv.wait(lock, [this] { return impl_->done || impl_->stop; });
  if (!impl_->done) {
    errno = EPERM;
    return -1;
  }
  errno = impl_->error;
  return impl_->result;
}

std::uint64_t NetnsSockets::own_inode() const {
  return impl_->own;
}

}  // namespace flowtop::sys
