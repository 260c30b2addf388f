#pragma once

// The one place flowtop meets liburcu: thread registration, read-side sections, grace periods,
// and a lock-free hash table (cds_lfht) of intrusive nodes that the flow table and the
// enrichment caches build on. liburcu's default (memb) flavour; every table in the process uses
// it. The C types stay in src/rcu.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "flowtop/core/function_ref.hpp"

namespace flowtop::rcu {

/// Registers the calling thread with liburcu for its lifetime. Every thread that reads or writes
/// an RCU table holds exactly one.
class Thread {
 public:
  Thread();
  ~Thread();
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
};

/// An RCU read-side critical section. Pointers obtained inside never outlive it.
class ReadGuard {
 public:
  ReadGuard();
  ~ReadGuard();
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;
};

/// Waits for every pending deferred free (call_rcu) to have run.
void barrier();

/// A lock-free resizable hash table of nodes the caller allocates: each node embeds a Link (its
/// place in the table) and, to be freed after a grace period, a RetireHead. Published nodes are
/// never edited in place: a change publishes a new node and retires the old one. Readers (find,
/// for_each) run inside a ReadGuard on any registered thread; writers (publish, remove) on any
/// registered thread, concurrently with readers and with each other.
///
/// Debian 12's liburcu 0.13 predates its ThreadSanitizer support, so the table states its
/// ordering to TSan on the node addresses (core/tsan.hpp): a node is released when published and
/// when retired, acquired by whoever finds it; a Free function acquires it before freeing. So a
/// node's Link must be its first member.
class HashTable {
 public:
  /// Storage for liburcu's cds_lfht_node (checked in the implementation).
  struct alignas(void*) Link {
    std::byte storage[2 * sizeof(void*)];
  };
  /// Storage for liburcu's rcu_head (checked in the implementation).
  struct alignas(void*) RetireHead {
    std::byte storage[2 * sizeof(void*)];
  };
  /// Whether the node holding `link` has `key` (the caller's key type). Called on the looking-up
  /// thread under its read lock.
  using Match = bool (*)(const Link& link, const void* key);
  /// Frees the node holding `head`, after a grace period (on liburcu's call_rcu thread).
  using Free = void (*)(RetireHead* head);

  enum class Published : std::uint8_t { Added, Replaced, Declined };

  explicit HashTable(std::size_t initial_buckets = 1024);
  /// The owner must have removed every node (or disposed of them with drain()).
  ~HashTable();
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;

  // ---- readers: inside a ReadGuard ----
  /// The node with `key`, or nullptr.
  [[nodiscard]] Link* find(std::size_t hash, Match match, const void* key) const;
  /// Calls `fn` for every node, in table order. `fn` may remove the node it is given.
  void for_each(core::FunctionRef<void(Link&)> fn) const;

  // ---- writers: inside a ReadGuard ----
  /// Publishes `fresh` for `key` if `decide(current)` holds, `current` being the node published
  /// now (nullptr when none). `decide` may be called again when another writer changed the
  /// entry meanwhile. A replaced node is passed to `replaced` (retire it); `fresh` belongs to the
  /// table unless Declined.
  Published publish(std::size_t hash, Match match, const void* key, Link& fresh,
                    core::FunctionRef<bool(Link* current)> decide,
                    core::FunctionRef<void(Link& old)> replaced);
  /// Unlinks `node`; false when another writer removed or replaced it first. Retire it after.
  bool remove(Link& node);

  /// Frees the node holding `link` and `head` with `free` once no reader can hold it (call_rcu).
  /// `link` must be the node's first member: the ordering stated to TSan is on that address.
  static void retire(Link& link, RetireHead& head, Free free);
  /// Calls `free(&head)` once no reader can hold what it frees (call_rcu): for a batch of
  /// unlinked nodes freed together. The caller states the ordering to TSan itself (release each
  /// node before, acquire it in `free`).
  static void defer(RetireHead& head, Free free);

  /// Unlinks every node and hands it to `dispose` after one grace period (synchronize_rcu: the
  /// resize liburcu runs on its own threads may still be walking them): only when no reader or
  /// writer of flowtop's remains (destruction). The calling thread need not be registered, and
  /// must not be in a read-side section.
  void drain(core::FunctionRef<void(Link&)> dispose);

  /// Nodes in the table (exact when only one writer asks).
  [[nodiscard]] std::size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::rcu
