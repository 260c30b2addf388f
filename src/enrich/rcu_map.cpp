// The RCU flavour (memb) must be included before the hash table header.
#include <urcu.h>
#include <urcu/rculfhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>

#include "enrich/rcu_thread.hpp"
#include "flowtop/core/tsan.hpp"
#include "flowtop/enrich/enrich_cache.hpp"

namespace flowtop::enrich {

std::size_t IpAddrHash::operator()(const core::IpAddr& a) const {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    hi = (hi << 8) | a.bytes[i];
    lo = (lo << 8) | a.bytes[8 + i];
  }
  return static_cast<std::size_t>(mix64(lo ^ mix64(hi + 0x9e3779b97f4a7c15ULL)));
}

RcuThreadScope::RcuThreadScope() {
  rcu_register_thread();
}

RcuThreadScope::~RcuThreadScope() {
  rcu_unregister_thread();
}

namespace detail {
namespace {

using Entry = RcuMap::Entry;

// One published entry. `entry` is written before the node is published and never after; `rcu` is
// used only once the node is unpublished.
struct Node {
  cds_lfht_node lfht{};
  rcu_head rcu{};
  Entry* entry = nullptr;

  explicit Node(Entry* e) : entry(e) {}
  ~Node() { delete entry; }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};

Node* node_of(cds_lfht_node* n) {
  return caa_container_of(n, Node, lfht);
}

Node* node_of(rcu_head* h) {
  return caa_container_of(h, Node, rcu);
}

// cds_lfht calls this from the looking-up thread (reader or writer) under its read lock.
int match_key(cds_lfht_node* n, const void* key) {
  const Node* node = node_of(n);
  FLOWTOP_TSAN_ACQUIRE(node);
  const bool same = node->entry->matches(key);
  FLOWTOP_TSAN_RELEASE(node);
  return same ? 1 : 0;
}

void free_node(rcu_head* head) {
  Node* node = node_of(head);
  FLOWTOP_TSAN_ACQUIRE(node);
  delete node;
}

// A writer's node that is unpublished: freed once no reader can hold it.
void retire(Node* node) {
  FLOWTOP_TSAN_RELEASE(node);  // the writer's accesses happen before the free
  core::liburcu_call([node] { call_rcu(&node->rcu, free_node); });
}

class ReadLock {
 public:
  ReadLock() { rcu_read_lock(); }
  ~ReadLock() { rcu_read_unlock(); }
  ReadLock(const ReadLock&) = delete;
  ReadLock& operator=(const ReadLock&) = delete;
};

}  // namespace

struct RcuMap::Impl {
  cds_lfht* ht = nullptr;
  std::atomic<std::size_t> count{0};
};

RcuMap::RcuMap(std::size_t initial_buckets) : impl_(std::make_unique<Impl>()) {
  const unsigned long buckets = std::bit_ceil(std::max<std::size_t>(initial_buckets, 1));
  impl_->ht = core::liburcu_call([buckets] {
    return cds_lfht_new(buckets, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, nullptr);
  });
  if (impl_->ht == nullptr) {
    throw std::bad_alloc();
  }
}

RcuMap::~RcuMap() {
  // No reader or writer remains: the nodes can be unlinked and freed at once, without a read-side
  // critical section (so the destroying thread need not be RCU-registered).
  cds_lfht_iter iter{};
  cds_lfht_first(impl_->ht, &iter);
  while (cds_lfht_node* n = cds_lfht_iter_get_node(&iter)) {
    Node* node = node_of(n);
    cds_lfht_next(impl_->ht, &iter);
    if (core::liburcu_call([&] { return cds_lfht_del(impl_->ht, n); }) == 0) {
      FLOWTOP_TSAN_ACQUIRE(node);
      delete node;
    }
  }
  core::liburcu_call([] { rcu_barrier(); });  // nodes retired earlier are freed
  core::liburcu_call([this] { return cds_lfht_destroy(impl_->ht, nullptr); });
}

bool RcuMap::read(std::size_t hash, const void* key,
                  core::FunctionRef<void(const Entry&)> fn) const {
  const ReadLock lock;
  cds_lfht_iter iter{};
  cds_lfht_lookup(impl_->ht, hash, match_key, key, &iter);
  cds_lfht_node* n = cds_lfht_iter_get_node(&iter);
  if (n == nullptr) {
    return false;
  }
  const Node* node = node_of(n);
  FLOWTOP_TSAN_ACQUIRE(node);
  fn(*node->entry);
  FLOWTOP_TSAN_RELEASE(node);  // this read happens before the node's free
  return true;
}

bool RcuMap::publish(std::size_t hash, const void* key, std::unique_ptr<Entry> fresh,
                     core::FunctionRef<bool(const Entry* current)> may_replace) {
  auto owned = std::make_unique<Node>(fresh.release());
  Node* node = owned.get();
  FLOWTOP_TSAN_RELEASE(node);  // fully built: happens before any reader's access

  const ReadLock lock;
  // Another writer may change the entry between the lookup and the commit: then look again.
  for (;;) {
    cds_lfht_iter iter{};
    cds_lfht_lookup(impl_->ht, hash, match_key, key, &iter);
    cds_lfht_node* old = cds_lfht_iter_get_node(&iter);
    Node* prev = old != nullptr ? node_of(old) : nullptr;
    bool replace = false;
    if (prev != nullptr) {
      FLOWTOP_TSAN_ACQUIRE(prev);
      replace = may_replace(prev->entry);
      FLOWTOP_TSAN_RELEASE(prev);
    } else {
      replace = may_replace(nullptr);
    }
    if (!replace) {
      return false;
    }
    if (prev != nullptr) {
      if (core::liburcu_call([&] {
            return cds_lfht_replace(impl_->ht, &iter, hash, match_key, key, &node->lfht);
          }) == 0) {
        static_cast<void>(owned.release());  // published: the table owns it now
        retire(prev);
        return true;
      }
    } else if (core::liburcu_call([&] {
                 return cds_lfht_add_unique(impl_->ht, hash, match_key, key, &node->lfht);
               }) == &node->lfht) {
      static_cast<void>(owned.release());  // published: the table owns it now
      impl_->count.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
}

bool RcuMap::erase(std::size_t hash, const void* key, core::FunctionRef<bool(const Entry&)> pred) {
  const ReadLock lock;
  cds_lfht_iter iter{};
  cds_lfht_lookup(impl_->ht, hash, match_key, key, &iter);
  cds_lfht_node* n = cds_lfht_iter_get_node(&iter);
  if (n == nullptr) {
    return false;
  }
  Node* node = node_of(n);
  FLOWTOP_TSAN_ACQUIRE(node);
  const bool doomed = pred(*node->entry);
  FLOWTOP_TSAN_RELEASE(node);
  if (!doomed || core::liburcu_call([&] { return cds_lfht_del(impl_->ht, n); }) != 0) {
    return false;  // kept, or another writer replaced or removed it meanwhile
  }
  impl_->count.fetch_sub(1, std::memory_order_relaxed);
  retire(node);
  return true;
}

std::size_t RcuMap::erase_if(core::FunctionRef<bool(const Entry&)> pred) {
  std::size_t removed = 0;
  const ReadLock lock;
  cds_lfht_iter iter{};
  cds_lfht_first(impl_->ht, &iter);
  while (cds_lfht_node* n = cds_lfht_iter_get_node(&iter)) {
    Node* node = node_of(n);
    cds_lfht_next(impl_->ht, &iter);  // before `node` is unlinked
    FLOWTOP_TSAN_ACQUIRE(node);
    const bool doomed = pred(*node->entry);
    FLOWTOP_TSAN_RELEASE(node);
    if (doomed && core::liburcu_call([&] { return cds_lfht_del(impl_->ht, n); }) == 0) {
      impl_->count.fetch_sub(1, std::memory_order_relaxed);
      retire(node);
      ++removed;
    }
  }
  return removed;
}

std::size_t RcuMap::size() const {
  return impl_->count.load(std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace flowtop::enrich
