#include "flowtop/tui/rc_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <set>
#include <system_error>

#include "flowtop/core/text.hpp"
#include "flowtop/sys/bounded_file.hpp"
#include "flowtop/sys/unique_fd.hpp"

namespace flowtop::tui {
namespace {

constexpr const char* kRcName = "flowtoprc";

bool valid_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string shown(std::string_view path) {
  return core::sanitize(path);
}

/// A directory or file may be used when it belongs to the user (or, for `base`, to root) and
/// nobody else may write it. "" or why not.
std::string ownership_problem(const struct stat& st, const RcLocation& loc, bool base,
                              std::string_view path) {
  if (st.st_uid != loc.uid && !(base && st.st_uid == 0)) {
    return fmt::format("{} belongs to uid {}, not to uid {}: not used", shown(path), st.st_uid,
                       loc.uid);
  }
  const bool sticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
  if (((st.st_mode & S_IWOTH) != 0 || ((st.st_mode & S_IWGRP) != 0 && st.st_gid != loc.gid)) &&
      !sticky) {
    return fmt::format("{} is writable by other users: not used", shown(path));
  }
  return "";
}

/// The directory that holds flowtoprc, opened as the user: `base` (followed: it comes from the
/// password database or the user's own environment), then each of `subdirs` without following a
/// symbolic link; each checked with ownership_problem(). `create`: a missing one is made (0700).
/// Invalid with `why` set on failure; invalid with `why` empty when a directory is missing and
/// `create` is false.
sys::UniqueFd open_rc_dir(const RcLocation& loc, bool create, std::string& why, int& err) {
  std::string path = loc.base;
  sys::UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  bool base = true;
  for (std::size_t i = 0;; ++i) {
    if (!dir.valid()) {
      err = errno;
      if (err == ENOENT && !create) {
        return {};
      }
      why =
          err == ELOOP || err == ENOTDIR
              ? fmt::format("{} is not a directory (or a symbolic link, not followed)", shown(path))
              : fmt::format("{}: {}", shown(path), std::generic_category().message(err));
      return {};
    }
    struct stat st {};
    if (::fstat(dir.get(), &st) != 0) {
      err = errno;
      why = fmt::format("{}: {}", shown(path), std::generic_category().message(err));
      return {};
    }
    if (std::string problem = ownership_problem(st, loc, base, path); !problem.empty()) {
      err = EPERM;
      why = std::move(problem);
      return {};
    }
    if (i == loc.subdirs.size()) {
      return dir;
    }
    base = false;
    const std::string& name = loc.subdirs[i];
    path += "/" + name;
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    sys::UniqueFd next(::openat(dir.get(), name.c_str(), kFlags));
    if (!next.valid() && errno == ENOENT && create) {
      if (::mkdirat(dir.get(), name.c_str(), 0700) != 0 && errno != EEXIST) {
        err = errno;
        why =
            fmt::format("cannot create {}: {}", shown(path), std::generic_category().message(err));
        return {};
      }
      next.reset(::openat(dir.get(), name.c_str(), kFlags));
    }
    dir = std::move(next);
  }
}

// A name for the temporary file nobody can guess in advance.
std::string temp_name() {
  std::uint64_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<std::uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ULL;
  }
  return fmt::format(".{}.{:016x}", kRcName, r);
}

void write_in(const RcLocation& loc, std::string_view text) {
  const std::string path = loc.path();
  std::string why;
  int err = 0;
  const sys::UniqueFd dir = open_rc_dir(loc, true, why, err);
  if (!dir.valid()) {
    throw std::system_error(err != 0 ? err : EIO, std::generic_category(),
                            fmt::format("cannot write {}: {}", shown(path), why));
  }
  const std::string tmp = temp_name();
  sys::UniqueFd fd(
      ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    sys::throw_errno(fmt::format("cannot write {}", shown(path)));
  }
  auto fail = [&](int e, std::string_view what) {
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    sys::throw_errno(e, fmt::format("{} {}", what, shown(path)));
  };
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail(errno, "cannot write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) {
    fail(errno, "cannot write");
  }
  fd.reset();
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), kRcName) != 0) {
    fail(errno, "cannot replace");
  }
}

RcFile read_in(const RcLocation& loc) {
  const std::string path = loc.path();
  RcFile out;
  auto error = [&](std::string why) {
    out.errors.push_back(fmt::format("{}: not read: {}", shown(path), why));
    return out;
  };
  std::string why;
  int err = 0;
  const sys::UniqueFd dir = open_rc_dir(loc, false, why, err);
  if (!dir.valid()) {
    return why.empty() ? out : error(why);
  }
  const sys::UniqueFd fd(
      ::openat(dir.get(), kRcName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) {
    err = errno;
    if (err == ENOENT) {
      return out;
    }
    return error(err == ELOOP ? "it is a symbolic link (not followed)"
                              : std::generic_category().message(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return error(std::generic_category().message(errno));
  }
  if (S_ISREG(st.st_mode)) {
    if (std::string problem = ownership_problem(st, loc, false, path); !problem.empty()) {
      return error(problem);
    }
  }
  sys::FileText text = sys::read_bounded_fd(fd.get(), kMaxRcBytes);
  if (!text.text) {
    return error(text.why);
  }
  return parse_rc(*text.text, path);
}

const sys::UserFiles* user_files_or(std::string& why) {
  return sys::invoking_user_files(&why);
}

}  // namespace

std::string rc_error(std::string_view name, int line, std::string_view reason) {
  return fmt::format("{}:{}: {}", core::sanitize(name), line, reason);
}

std::string rc_excerpt(std::string_view text) {
  return core::fit(core::sanitize(text), kRcExcerptColumns, false, false);
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
      out.errors.push_back(
          rc_error(name, number, fmt::format("expected key=value, got '{}'", rc_excerpt(line))));
      continue;
    }
    const std::string_view key = core::trim(line.substr(0, eq));
    const std::string_view value = core::trim(line.substr(eq + 1));
    if (!valid_key(key)) {
      out.errors.push_back(rc_error(name, number, fmt::format("bad key '{}'", rc_excerpt(key))));
      continue;
    }
    if (seen.contains(key)) {
      out.errors.push_back(rc_error(
          name, number, fmt::format("'{}' is set twice; the first one is used", rc_excerpt(key))));
      continue;
    }
    seen.emplace(key);
    out.entries.push_back(RcEntry{std::string(key), std::string(value), number});
  }
  return out;
}

std::string RcLocation::path() const {
  std::string p = base;
  for (const auto& d : subdirs) {
    p += "/" + d;
  }
  return p + "/" + kRcName;
}

RcLocation rc_location(const sys::InvokingUser& user) {
  RcLocation loc;
  loc.uid = user.uid;
  loc.gid = user.gid;
  if (user.env_trusted && !user.config_home.empty()) {
    loc.base = user.config_home;
    loc.subdirs = {"flowtop"};
  } else {
    loc.base = user.home;
    loc.subdirs = {".config", "flowtop"};
  }
  return loc;
}

std::optional<RcLocation> rc_location() {
  const auto user = sys::invoking_user();
  if (!user || (user->home.empty() && user->config_home.empty())) {
    return std::nullopt;
  }
  RcLocation loc = rc_location(*user);
  if (loc.base.empty()) {
    return std::nullopt;
  }
  return loc;
}

RcFile read_rc(const RcLocation& loc, const sys::UserFiles& files) {
  RcFile out;
  files.run([&] { out = read_in(loc); });
  return out;
}

RcFile read_rc(const RcLocation& loc) {
  std::string why;
  if (const sys::UserFiles* files = user_files_or(why)) {
    return read_rc(loc, *files);
  }
  RcFile out;
  out.errors.push_back(fmt::format("{}: not read: cannot act as uid {} ({})", shown(loc.path()),
                                   loc.uid, core::sanitize(why)));
  return out;
}

void write_rc(const RcLocation& loc, std::string_view text, const sys::UserFiles& files) {
  files.run([&] { write_in(loc, text); });
}

void write_rc(const RcLocation& loc, std::string_view text) {
  std::string why;
  if (const sys::UserFiles* files = user_files_or(why)) {
    write_rc(loc, text, *files);
    return;
  }
  throw std::system_error(EPERM, std::generic_category(),
                          fmt::format("cannot write {}: cannot act as uid {} ({})",
                                      shown(loc.path()), loc.uid, core::sanitize(why)));
}

}  // namespace flowtop::tui
