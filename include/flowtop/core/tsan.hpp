#pragma once

// Makes the memory ordering that liburcu provides visible to ThreadSanitizer.
//
// Debian 12's liburcu 0.13 is not instrumented and predates its TSan option (0.14+), so TSan cannot
// see that publishing a node (cds_lfht_add_unique/replace) happens before a reader dereferences it,
// nor that a grace period separates the last reader from the call_rcu free. We state those edges on
// the node's address: RELEASE after the node is fully built (before publishing) and after a reader
// is done with it; ACQUIRE when a reader obtains a node and in the call_rcu free callback.
//
// liburcu also allocates and frees its own bookkeeping (call_rcu/rcu_barrier work items, the
// resize workqueue and its completions) in one thread and frees it in another, ordered only by
// its invisible atomics and futexes. `liburcu_call(f)` runs a liburcu call that may allocate or
// free with this thread's memory accesses ignored (synchronisation is still tracked), so those
// allocations are not recorded as our thread's writes. It never covers an access to our records
// outside the library's callbacks into us.
// Without FLOWTOP_TSAN (defined by CMake for -DFLOWTOP_SANITIZE=thread) all of this is a no-op.

#ifdef FLOWTOP_TSAN

extern "C" void __tsan_acquire(void* addr);    // NOLINT(bugprone-reserved-identifier)
extern "C" void __tsan_release(void* addr);    // NOLINT(bugprone-reserved-identifier)
extern "C" void __tsan_ignore_thread_begin();  // NOLINT(bugprone-reserved-identifier)
extern "C" void __tsan_ignore_thread_end();    // NOLINT(bugprone-reserved-identifier)

#define FLOWTOP_TSAN_RELEASE(p) __tsan_release(const_cast<void*>(static_cast<const void*>(p)))
#define FLOWTOP_TSAN_ACQUIRE(p) __tsan_acquire(const_cast<void*>(static_cast<const void*>(p)))

#else

#define FLOWTOP_TSAN_RELEASE(p) static_cast<void>(p)
#define FLOWTOP_TSAN_ACQUIRE(p) static_cast<void>(p)

#endif

namespace flowtop::core {

/// Calls `f` (a call into liburcu) as described above; returns what it returns.
template <class F>
decltype(auto) liburcu_call(F&& f) {
#ifdef FLOWTOP_TSAN
  struct Ignore {
    Ignore() { __tsan_ignore_thread_begin(); }
    ~Ignore() { __tsan_ignore_thread_end(); }
    Ignore(const Ignore&) = delete;
    Ignore& operator=(const Ignore&) = delete;
  } const ignore;
#endif
  return f();
}

}  // namespace flowtop::core
