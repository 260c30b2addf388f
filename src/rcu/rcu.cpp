// liburcu's default (memb) flavour; it must be included before the hash table header.
#include "flowtop/rcu/rcu.hpp"

#include <urcu.h>
#include <urcu/rculfhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <new>
#include <vector>

#include "flowtop/core/tsan.hpp"

namespace flowtop::rcu {
namespace {

using core::liburcu_call;
using Link = HashTable::Link;

static_assert(sizeof(cds_lfht_node) <= sizeof(Link) && alignof(cds_lfht_node) <= alignof(Link));
static_assert(sizeof(rcu_head) <= sizeof(HashTable::RetireHead) &&
              alignof(rcu_head) <= alignof(HashTable::RetireHead));

// A Link's storage is the cds_lfht_node itself.
cds_lfht_node* lfht_of(Link& link) {
  return std::launder(reinterpret_cast<cds_lfht_node*>(link.storage));
}
Link* link_of(cds_lfht_node* node) {
  return reinterpret_cast<Link*>(node);
}
rcu_head* head_of(HashTable::RetireHead& head) {
  return std::launder(reinterpret_cast<rcu_head*>(head.storage));
}

// What cds_lfht's match callback gets as its key: the caller's match and key.
struct Probe {
  HashTable::Match match;
  const void* key;
};

// cds_lfht calls this from the looking-up thread (reader or writer) under its read lock.
int match_probe(cds_lfht_node* node, const void* probe) {
  const auto* p = static_cast<const Probe*>(probe);
  const Link* link = link_of(node);
  FLOWTOP_TSAN_ACQUIRE(link);
  const bool same = p->match(*link, p->key);
  FLOWTOP_TSAN_RELEASE(link);
  return same ? 1 : 0;
}

}  // namespace

Thread::Thread() {
  rcu_register_thread();
}
Thread::~Thread() {
  rcu_unregister_thread();
}

ReadGuard::ReadGuard() {
  rcu_read_lock();
}
ReadGuard::~ReadGuard() {
  rcu_read_unlock();
}

void barrier() {
  liburcu_call([] { rcu_barrier(); });
}

struct HashTable::Impl {
  cds_lfht* ht = nullptr;
  std::atomic<std::size_t> count{0};
};

HashTable::HashTable(std::size_t initial_buckets) : impl_(std::make_unique<Impl>()) {
  const unsigned long buckets = std::bit_ceil(std::max<std::size_t>(initial_buckets, 1));
  impl_->ht = liburcu_call([buckets] {
    return cds_lfht_new(buckets, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, nullptr);
  });
  if (impl_->ht == nullptr) {
    throw std::bad_alloc();
  }
}

HashTable::~HashTable() {
  liburcu_call([this] { return cds_lfht_destroy(impl_->ht, nullptr); });
}

Link* HashTable::find(std::size_t hash, Match match, const void* key) const {
  const Probe probe{match, key};
  cds_lfht_iter iter{};
  cds_lfht_lookup(impl_->ht, hash, match_probe, &probe, &iter);
  cds_lfht_node* node = cds_lfht_iter_get_node(&iter);
  return node != nullptr ? link_of(node) : nullptr;
}

void HashTable::for_each(core::FunctionRef<void(Link&)> fn) const {
  cds_lfht_iter iter{};
  cds_lfht_first(impl_->ht, &iter);
  while (cds_lfht_node* node = cds_lfht_iter_get_node(&iter)) {
    Link* link = link_of(node);
    cds_lfht_next(impl_->ht, &iter);  // before `fn`, which may unlink the node
    FLOWTOP_TSAN_ACQUIRE(link);
    fn(*link);
    FLOWTOP_TSAN_RELEASE(link);  // this thread's accesses happen before the node's free
  }
}

HashTable::Published HashTable::publish(std::size_t hash, Match match, const void* key, Link& fresh,
                                        core::FunctionRef<bool(Link* current)> decide,
                                        core::FunctionRef<void(Link& old)> replaced) {
  const Probe probe{match, key};
  // Another writer may change the entry between the lookup and the commit: then look again.
  for (;;) {
    cds_lfht_iter iter{};
    cds_lfht_lookup(impl_->ht, hash, match_probe, &probe, &iter);
    cds_lfht_node* old = cds_lfht_iter_get_node(&iter);
    Link* current = old != nullptr ? link_of(old) : nullptr;
    if (current != nullptr) {
      FLOWTOP_TSAN_ACQUIRE(current);
    }
    const bool go = decide(current);
    if (current != nullptr) {
      FLOWTOP_TSAN_RELEASE(current);
    }
    if (!go) {
      return Published::Declined;
    }
    FLOWTOP_TSAN_RELEASE(&fresh);  // fully built: happens before any reader's access
    if (current != nullptr) {
      if (liburcu_call([&] {
            return cds_lfht_replace(impl_->ht, &iter, hash, match_probe, &probe, lfht_of(fresh));
          }) == 0) {
        replaced(*current);
        return Published::Replaced;
      }
    } else if (liburcu_call([&] {
                 return cds_lfht_add_unique(impl_->ht, hash, match_probe, &probe, lfht_of(fresh));
               }) == lfht_of(fresh)) {
      impl_->count.fetch_add(1, std::memory_order_relaxed);
      return Published::Added;
    }
  }
}

bool HashTable::remove(Link& node) {
  if (liburcu_call([&] { return cds_lfht_del(impl_->ht, lfht_of(node)); }) != 0) {
    return false;  // another writer removed or replaced it first
  }
  impl_->count.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

void HashTable::retire(Link& link, RetireHead& head, Free free) {
  FLOWTOP_TSAN_RELEASE(&link);  // the writer's accesses happen before the free
  // The RetireHead's storage is the rcu_head, so call_rcu hands `free` the same address it
  // would hand a void(rcu_head*): a pointer parameter either way.
  const auto callback = reinterpret_cast<void (*)(rcu_head*)>(free);  // NOLINT
  liburcu_call([&] { call_rcu(head_of(head), callback); });
}

void HashTable::defer(RetireHead& head, Free free) {
  const auto callback = reinterpret_cast<void (*)(rcu_head*)>(free);  // NOLINT: as retire()
  liburcu_call([&] { call_rcu(head_of(head), callback); });
}

void HashTable::drain(core::FunctionRef<void(Link&)> dispose) {
  std::vector<Link*> removed;
  removed.reserve(impl_->count.load(std::memory_order_relaxed));
  cds_lfht_iter iter{};
  cds_lfht_first(impl_->ht, &iter);
  while (cds_lfht_node* node = cds_lfht_iter_get_node(&iter)) {
    cds_lfht_next(impl_->ht, &iter);
    if (liburcu_call([&] { return cds_lfht_del(impl_->ht, node); }) == 0) {
      impl_->count.fetch_sub(1, std::memory_order_relaxed);
      removed.push_back(link_of(node));
    }
  }
  // A resize that liburcu runs on its own threads (the table grows and shrinks by itself) may
  // still be walking the nodes just unlinked: they are freed after a grace period, never before.
  liburcu_call([] { synchronize_rcu(); });
  for (Link* link : removed) {
    FLOWTOP_TSAN_ACQUIRE(link);
    dispose(*link);
  }
}

std::size_t HashTable::size() const {
  return impl_->count.load(std::memory_order_relaxed);
}

}  // namespace flowtop::rcu
