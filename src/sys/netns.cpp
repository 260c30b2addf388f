#include "flowtop/sys/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "flowtop/core/text.hpp"
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
                             std::strerror(err));
  }
  if (::setns(fd.get(), CLONE_NEWNET) != 0) {
    const int err = errno;
    throw std::runtime_error(
        "cannot enter the network namespace " + what + ": " +
        (err == EINVAL ? std::string("not a network namespace") : std::strerror(err)));
  }
}

}  // namespace flowtop::sys
