#include "flowtop/sys/sysctl_guard.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include "flowtop/sys/shared_state.hpp"
#include "flowtop/sys/signals.hpp"

namespace flowtop::sys {
namespace {

constexpr std::array<const char*, 2> kSettings{"nf_conntrack_acct", "nf_conntrack_timestamp"};
constexpr std::size_t kMaxValue = 32;

bool is_space(char c) noexcept {
  return c == '\n' || c == ' ' || c == '\t' || c == '\r';
}

// A plain decimal sysctl value; anything else in a state file is ignored (never written back).
bool valid_value(std::string_view v) {
  return !v.empty() && v.size() <= kMaxValue &&
         std::ranges::all_of(v, [](char c) { return c >= '0' && c <= '9'; });
}

// Reads a sysctl file; the value without surrounding blanks, or the errno.
std::pair<std::string, int> read_value(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return {{}, errno};
  }
  char buf[kMaxValue];
  ssize_t n = 0;
  do {
    n = ::read(fd.get(), buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return {{}, errno};
  }
  std::string_view v(buf, static_cast<std::size_t>(n));
  while (!v.empty() && is_space(v.back())) {
    v.remove_suffix(1);
  }
  while (!v.empty() && is_space(v.front())) {
    v.remove_prefix(1);
  }
  return {std::string(v), 0};
}

// Writes a sysctl file; 0 or the errno.
int write_value(const std::string& path, const std::string& value) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno;
  }
  ssize_t n = 0;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return errno;
  }
  return n == static_cast<ssize_t>(value.size()) ? 0 : EIO;
}

std::string describe(const char* name, int err) {
  return std::string(name) + ": " + std::generic_category().message(err);
}

}  // namespace

std::map<std::string, std::string> parse_sysctl_payload(std::string_view payload) {
  std::map<std::string, std::string> values;
  while (!payload.empty()) {
    const auto eol = payload.find('\n');
    const std::string_view line = payload.substr(0, eol);
    payload.remove_prefix(eol == std::string_view::npos ? payload.size() : eol + 1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    const std::string_view name = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    for (const char* known : kSettings) {
      if (name == known && valid_value(value)) {
        values[std::string(name)] = std::string(value);
      }
    }
  }
  return values;
}

struct SysctlGuard::Impl {
  struct Setting {
    const char* name = nullptr;
    std::string path;      // proc_dir/name
    std::string original;  // value to restore; empty when unknown (never written back)
  };

  Result result;
  std::array<Setting, kSettings.size()> settings;
  std::unique_ptr<SharedState> state;
  int state_fd = -1;
  pid_t owner_pid = 0;  // a child forked without exec must not restore on its parent's behalf
  std::string state_path;
  std::atomic<bool> emergency_disarmed{false};
  bool registered = false;
  bool restored = false;

  // Normal exit, as the last instance: write back what differs.
  void restore_values() const {
    for (const Setting& s : settings) {
      if (!s.original.empty() && read_value(s.path).first != s.original) {
        write_value(s.path, s.original);
      }
    }
  }

  // Fatal-signal path. Async-signal-safe only: flock, open/read/write/close, unlink, atomics, and
  // the strings prepared by the constructor (read, never allocated or changed here).
  static void emergency_restore(void* ctx) noexcept {
    auto* self = static_cast<Impl*>(ctx);
    if (::getpid() != self->owner_pid || self->emergency_disarmed.exchange(true)) {
      return;
    }
    const int saved_errno = errno;
    if (::flock(self->state_fd, LOCK_EX | LOCK_NB) == 0) {  // we are the last instance
      for (const Setting& s : self->settings) {
        if (s.original.empty() || !differs(s)) {
          continue;
        }
        const int fd = ::open(s.path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
          [[maybe_unused]] const ssize_t n = ::write(fd, s.original.data(), s.original.size());
          ::close(fd);
        }
      }
      ::unlink(self->state_path.c_str());
    }
    errno = saved_errno;
  }

  // Async-signal-safe comparison of the current value with the original.
  static bool differs(const Setting& s) noexcept {
    const int fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return true;
    }
    char buf[kMaxValue];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n <= 0) {
      return true;
    }
    auto len = static_cast<std::size_t>(n);
    while (len > 0 && is_space(buf[len - 1])) {
      --len;
    }
    if (len != s.original.size()) {
      return true;
    }
    for (std::size_t i = 0; i < len; ++i) {
      if (buf[i] != s.original[i]) {
        return true;
      }
    }
    return false;
  }
};

// NOLINTNEXTLINE(performance-unnecessary-value-param): the header takes it by value
SysctlGuard::SysctlGuard(std::string proc_dir) : impl_(std::make_unique<Impl>()) {
  for (std::size_t i = 0; i < kSettings.size(); ++i) {
    impl_->settings[i].name = kSettings[i];
    impl_->settings[i].path = proc_dir + "/" + kSettings[i];
  }
  const NetnsName netns = netns_name();
  impl_->result.state_by_inode = netns.by_inode;
  impl_->state_path = run_dir() + "/sysctl-" + netns.name;
  impl_->state = std::make_unique<SharedState>(impl_->state_path);
  SharedState& state = *impl_->state;
  Result& result = impl_->result;

  if (state.first()) {
    // Alone. A non-empty file was left by a killed instance: it holds the values from before that
    // instance turned them on, so those are the originals, not what the files say now.
    const auto left = parse_sysctl_payload(state.payload().value_or(""));
    std::string payload;
    for (Impl::Setting& s : impl_->settings) {
      if (const auto it = left.find(s.name); it != left.end()) {
        s.original = it->second;
      } else if (auto [value, err] = read_value(s.path); err != 0) {
        result.failed.push_back(describe(s.name, err));
      } else if (valid_value(value)) {
        s.original = std::move(value);
      }
      if (!s.original.empty()) {
        payload += std::string(s.name) + "=" + s.original + "\n";
      }
    }
    // Record the originals before changing anything, so that a crash from here on is recoverable.
    state.write(payload);
    for (const Impl::Setting& s : impl_->settings) {
      if (s.original.empty()) {
        continue;
      }
      const auto [current, read_err] = read_value(s.path);
      if (read_err != 0) {
        result.failed.push_back(describe(s.name, read_err));
      } else if (current == "0") {
        if (const int err = write_value(s.path, "1"); err != 0) {
          result.failed.push_back(describe(s.name, err));
        } else {
          result.turned_on.emplace_back(s.name);
        }
      }
    }
  } else {
    // Another live instance wrote the originals (its exclusive lock kept us waiting until then).
    const auto recorded = parse_sysctl_payload(state.payload().value_or(""));
    for (Impl::Setting& s : impl_->settings) {
      if (const auto it = recorded.find(s.name); it != recorded.end()) {
        s.original = it->second;
      }
    }
  }
  try {
    state.share();
    impl_->state_fd = state.fd();
    impl_->owner_pid = ::getpid();
    install_fatal_signal_handlers();
    register_emergency_action(&Impl::emergency_restore, impl_.get());
    impl_->registered = true;
  } catch (...) {
    restore();  // the destructor will not run: put back what we changed
    throw;
  }
}

SysctlGuard::~SysctlGuard() {
  restore();
}

const SysctlGuard::Result& SysctlGuard::result() const {
  return impl_->result;
}

void SysctlGuard::restore() noexcept {
  if (!impl_ || impl_->restored) {
    return;
  }
  impl_->restored = true;
  // The emergency action stays armed while we restore: if we crash half-way it finishes the job
  // (it is harmless to repeat).
  try {
    if (impl_->state->last()) {
      impl_->restore_values();
      impl_->state->remove();
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing better to do at exit
  }
  impl_->emergency_disarmed.store(true);
  if (impl_->registered) {
    try {
      unregister_emergency_action(&Impl::emergency_restore, impl_.get());
    } catch (...) {  // NOLINT(bugprone-empty-catch): disarmed above
    }
    impl_->registered = false;
  }
  impl_->state.reset();  // closes the file: releases our lock
}

}  // namespace flowtop::sys
