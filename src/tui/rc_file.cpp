#include "flowtop/tui/rc_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <system_error>

#include "flowtop/core/text.hpp"
#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::tui {
namespace {

bool valid_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// mkdir -p with mode 0700 for the directories we create.
void make_parents(const std::string& path) {
  for (std::size_t pos = path.find('/', 1); pos != std::string::npos;
       pos = path.find('/', pos + 1)) {
    const std::string dir = path.substr(0, pos);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      sys::throw_errno(fmt::format("cannot create {}", dir));
    }
  }
}

}  // namespace

std::string rc_error(std::string_view name, int line, std::string_view reason) {
  return fmt::format("{}:{}: {}", core::sanitize(name), line, reason);
}

RcFile parse_rc(std::string_view text, std::string_view name) {
  RcFile out;
  std::set<std::string, std::less<>> seen;
  int number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++number;
    const std::string_view line = core::trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      out.errors.push_back(rc_error(
          name, number, fmt::format("expected key=value, got '{}'", core::sanitize(line))));
      continue;
    }
    const std::string_view key = core::trim(line.substr(0, eq));
    const std::string_view value = core::trim(line.substr(eq + 1));
    if (!valid_key(key)) {
      out.errors.push_back(
          rc_error(name, number, fmt::format("bad key '{}'", core::sanitize(key))));
      continue;
    }
    if (seen.contains(key)) {
      out.errors.push_back(
          rc_error(name, number, fmt::format("'{}' is set twice; the first one is used", key)));
      continue;
    }
    seen.emplace(key);
    out.entries.push_back(RcEntry{std::string(key), std::string(value), number});
  }
  return out;
}

RcFile read_rc(const std::string& path) {
  const sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string text;
  int err = fd.valid() ? 0 : errno;
  if (err == ENOENT) {
    return {};
  }
  while (err == 0) {
    char buf[4096];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n == 0) {
      break;
    }
    if (n < 0 && errno != EINTR) {
      err = errno;
    } else if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
    }
  }
  if (err != 0) {
    RcFile out;
    out.errors.push_back(fmt::format("{}: cannot read: {}", core::sanitize(path),
                                     std::generic_category().message(err)));
    return out;
  }
  return parse_rc(text, path);
}

void write_rc(const std::string& path, std::string_view text) {
  make_parents(path);
  std::string tmp = path + ".XXXXXX";
  sys::UniqueFd fd(::mkstemp(tmp.data()));
  if (!fd.valid()) {
    sys::throw_errno(fmt::format("cannot write {}", path));
  }
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      sys::throw_errno(err, fmt::format("cannot write {}", path));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    sys::throw_errno(err, fmt::format("cannot write {}", path));
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    sys::throw_errno(err, fmt::format("cannot replace {}", path));
  }
}

// getenv: read on the UI thread at start-up and exit; flowtop never sets the environment.
std::string rc_path() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME");  // NOLINT(concurrency-mt-unsafe)
      xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/flowtop/flowtoprc";
  }
  if (const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe)
      home != nullptr && home[0] == '/') {
    return std::string(home) + "/.config/flowtop/flowtoprc";
  }
  return {};
}

}  // namespace flowtop::tui
