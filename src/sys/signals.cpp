#include "flowtop/sys/signals.hpp"

#include <pthread.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>

namespace flowtop::sys {

SignalFd::SignalFd(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : signals) {
    if (sigaddset(&set, sig) != 0) {
      throw_errno("sigaddset");
    }
  }
  if (const int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    throw_errno(err, "pthread_sigmask");
  }
  fd_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_.valid()) {
    throw_errno("signalfd");
  }
}

int SignalFd::read() const {
  signalfd_siginfo info{};
  for (;;) {
    const ssize_t n = ::read(fd_.get(), &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) {
      return static_cast<int>(info.ssi_signo);
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno != EAGAIN) {
      throw_errno("read signalfd");
    }
    return 0;
  }
}

namespace {

// The table is read from signal handlers, so every field is a lock-free atomic and each slot is a
// seqlock: a writer (under registry_mutex) makes `seq` odd, edits, makes it even again; a handler
// keeps a slot only when it read the same even `seq` before and after its fields. A slot being
// edited at the instant of the crash is skipped after a few tries rather than waited for (the
// editor may be the crashing thread itself).
struct Slot {
  std::atomic<std::uint32_t> seq{0};
  std::atomic<EmergencyAction> action{nullptr};
  std::atomic<void*> ctx{nullptr};
  std::atomic<std::uint64_t> order{0};  // registration number: later ones run first
};
static_assert(std::atomic<EmergencyAction>::is_always_lock_free);
static_assert(std::atomic<void*>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<pid_t>::is_always_lock_free);

constexpr std::size_t kMaxActions = 8;
std::array<Slot, kMaxActions> slots;
std::mutex registry_mutex;
std::uint64_t next_order = 1;  // guarded by registry_mutex

// Thread (tid) currently running the actions, 0 when none; `actions_done` once they have run from a
// fatal signal (the process is going down: a second crashing thread must not run them again).
std::atomic<pid_t> runner{0};
std::atomic<bool> actions_done{false};

constexpr std::array kFatalSignals{SIGSEGV, SIGBUS,  SIGFPE,  SIGILL, SIGABRT,
                                   SIGSYS,  SIGTRAP, SIGXCPU, SIGXFSZ};

void write_slot(Slot& slot, EmergencyAction action, void* ctx, std::uint64_t order) {
  slot.seq.fetch_add(1, std::memory_order_acq_rel);  // odd: being edited
  slot.action.store(action, std::memory_order_relaxed);
  slot.ctx.store(ctx, std::memory_order_relaxed);
  slot.order.store(order, std::memory_order_relaxed);
  slot.seq.fetch_add(1, std::memory_order_release);  // even: consistent
}

struct Entry {
  EmergencyAction action = nullptr;
  void* ctx = nullptr;
  std::uint64_t order = 0;
};

bool read_slot(const Slot& slot, Entry& out) noexcept {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::uint32_t before = slot.seq.load(std::memory_order_acquire);
    if ((before & 1U) != 0) {
      continue;
    }
    // Acquire loads keep the re-check of `seq` after them (a fence would do, but GCC 12 rejects
    // atomic_thread_fence under -fsanitize=thread).
    Entry e{slot.action.load(std::memory_order_acquire), slot.ctx.load(std::memory_order_acquire),
            slot.order.load(std::memory_order_acquire)};
    if (slot.seq.load(std::memory_order_acquire) == before) {
      out = e;
      return e.action != nullptr;
    }
  }
  return false;
}

pid_t current_tid() noexcept {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

// Async-signal-safe: atomics, a fixed array and the actions themselves.
void run_actions_once_per_runner(bool fatal) noexcept {
  const pid_t self = current_tid();
  pid_t expected = 0;
  if (!runner.compare_exchange_strong(expected, self)) {
    if (expected == self || !fatal) {
      return;  // an action itself faulted, or a concurrent call: do not recurse
    }
    // Another thread is restoring: give it up to ~2 s before this thread takes the process down.
    for (int i = 0; i < 2000 && runner.load() != 0; ++i) {
      timespec ms{0, 1'000'000};
      ::nanosleep(&ms, nullptr);
    }
    return;
  }
  if (!(fatal && actions_done.load())) {
    std::array<Entry, kMaxActions> entries{};
    std::size_t count = 0;
    for (const Slot& slot : slots) {
      Entry e;
      if (read_slot(slot, e)) {
        // Insertion sort, latest registration first.
        std::size_t i = count++;
        for (; i > 0 && entries[i - 1].order < e.order; --i) {
          entries[i] = entries[i - 1];
        }
        entries[i] = e;
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      entries[i].action(entries[i].ctx);
    }
    if (fatal) {
      actions_done.store(true);
    }
  }
  runner.store(0);
}

void fatal_signal_handler(int sig) {
  const int saved_errno = errno;
  run_actions_once_per_runner(true);
  // SA_RESETHAND already restored the default disposition; make sure, then re-raise so the
  // process dies (and dumps core) exactly as it would have without us.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
  errno = saved_errno;
  ::raise(sig);
}

}  // namespace

void install_fatal_signal_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A stack overflow can only be handled on an alternate stack; give the installing (main)
    // thread one unless it already has one (e.g. from a sanitizer runtime).
    stack_t current{};
    if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) != 0) {
      alignas(16) static std::array<char, std::size_t{64} * 1024> alt_stack;
      stack_t alt{};
      alt.ss_sp = alt_stack.data();
      alt.ss_size = alt_stack.size();
      ::sigaltstack(&alt, nullptr);
    }
    struct sigaction sa {};
    sa.sa_handler = fatal_signal_handler;
    sigemptyset(&sa.sa_mask);
    // SA_NODEFER + SA_RESETHAND: a fault inside an action, or the re-raise, gets the default
    // action.
    sa.sa_flags = static_cast<int>(SA_RESETHAND | SA_NODEFER | SA_ONSTACK);
    for (const int sig : kFatalSignals) {
      if (::sigaction(sig, &sa, nullptr) != 0) {
        throw_errno("sigaction");
      }
    }
  });
}

void register_emergency_action(EmergencyAction action, void* ctx) {
  if (action == nullptr) {
    throw std::invalid_argument("register_emergency_action: null action");
  }
  const std::lock_guard lock(registry_mutex);
  for (Slot& slot : slots) {
    if (slot.action.load(std::memory_order_relaxed) == nullptr) {
      write_slot(slot, action, ctx, next_order++);
      return;
    }
  }
  throw std::length_error("register_emergency_action: more than 8 actions");
}

void unregister_emergency_action(EmergencyAction action, void* ctx) {
  const std::lock_guard lock(registry_mutex);
  for (Slot& slot : slots) {
    if (slot.action.load(std::memory_order_relaxed) == action &&
        slot.ctx.load(std::memory_order_relaxed) == ctx) {
      write_slot(slot, nullptr, nullptr, 0);
      return;
    }
  }
}

void run_emergency_actions() noexcept {
  run_actions_once_per_runner(false);
}

}  // namespace flowtop::sys
