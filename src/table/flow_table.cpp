#include "flowtop/table/flow_table.hpp"

// The RCU flavour (memb) must be included before the hash table header.
#include <malloc.h>
#include <urcu.h>
#include <urcu/rculfhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

#include "flowtop/core/tsan.hpp"

namespace flowtop::table {
namespace {

using core::FlowKey;
using core::FlowRecord;
using core::liburcu_call;

// One published entry. `rec` is written only before the node is published and never after.
// `generation` (the mark of the last resync generation that saw the entry) is read and written by
// the writer only, and only while the node is published; `rcu` is used only once the node is
// unpublished. So they share storage: with the 200-byte record the node is 232 bytes, which
// malloc serves from a 240-byte chunk.
struct Node {
  cds_lfht_node lfht{};
  union {
    rcu_head rcu;
    std::uint32_t generation;
  };
  FlowRecord rec;

  Node(const FlowRecord& r, std::uint32_t gen) : generation(gen), rec(r) {}
};
static_assert(std::is_standard_layout_v<Node>);

Node* node_of(cds_lfht_node* n) {
  return reinterpret_cast<Node*>(reinterpret_cast<char*>(n) - offsetof(Node, lfht));
}

Node* node_of(rcu_head* h) {
  return reinterpret_cast<Node*>(reinterpret_cast<char*>(h) - offsetof(Node, rcu));
}

// cds_lfht calls this from the looking-up thread, reader or writer, under its read lock.
int match_key(cds_lfht_node* n, const void* key) {
  const Node* node = node_of(n);
  FLOWTOP_TSAN_ACQUIRE(node);
  const bool same = node->rec.key == *static_cast<const FlowKey*>(key);
  FLOWTOP_TSAN_RELEASE(node);
  return same ? 1 : 0;
}

void free_node(rcu_head* head) {
  Node* node = node_of(head);
  FLOWTOP_TSAN_ACQUIRE(node);
  delete node;
}

unsigned long hash_of(const FlowKey& key) {
  return static_cast<unsigned long>(key.hash());
}

}  // namespace

struct FlowTable::Impl {
  cds_lfht* ht = nullptr;
  std::uint32_t generation = 0;       // writer only
  std::atomic<std::size_t> count{0};  // written by the writer; read by anyone

  // Writer, inside a read-side critical section: unlinks `node` and frees it after a grace period.
  bool remove(Node* node) {
    if (liburcu_call([&] { return cds_lfht_del(ht, &node->lfht); }) != 0) {
      return false;  // already removed (only possible with a second writer)
    }
    count.store(count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    retire(node);
    return true;
  }

  // Writer: `node` is unpublished; free it once no reader can hold it.
  static void retire(Node* node) {
    FLOWTOP_TSAN_RELEASE(node);  // the writer's own accesses happen before the free
    liburcu_call([node] { call_rcu(&node->rcu, free_node); });
  }

  // Writer: removes every entry for which `pred(node)` holds; returns how many.
  template <class Pred, class OnRemoved>
  std::size_t remove_if(Pred&& pred, OnRemoved&& on_removed) {
    std::size_t removed = 0;
    const RcuReadGuard guard;
    cds_lfht_iter iter{};
    cds_lfht_first(ht, &iter);
    while (cds_lfht_node* n = cds_lfht_iter_get_node(&iter)) {
      Node* node = node_of(n);
      cds_lfht_next(ht, &iter);  // before `node` is unlinked
      if (pred(*node)) {
        const FlowKey key = node->rec.key;
        if (remove(node)) {
          ++removed;
          on_removed(key);
        }
      }
    }
    return removed;
  }
};

FlowTable::FlowTable(std::size_t initial_buckets) : impl_(std::make_unique<Impl>()) {
  const unsigned long buckets = std::bit_ceil(std::max<std::size_t>(initial_buckets, 1));
  impl_->ht = liburcu_call([buckets] {
    return cds_lfht_new(buckets, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, nullptr);
  });
  if (impl_->ht == nullptr) {
    throw std::bad_alloc();
  }
}

FlowTable::~FlowTable() {
  clear();
  liburcu_call([] { rcu_barrier(); });  // every call_rcu free has run
  liburcu_call([this] { return cds_lfht_destroy(impl_->ht, nullptr); });
}

FlowTable::Upserted FlowTable::upsert(
    const FlowRecord& rec,
    core::FunctionRef<void(const FlowRecord* prev, FlowRecord& next)> merge) {
  auto fresh = std::make_unique<Node>(rec, impl_->generation);
  Node* node = fresh.get();
  const unsigned long hash = hash_of(rec.key);

  const RcuReadGuard guard;
  // With the one writer the contract allows, this runs once; the loop only keeps the table
  // consistent if the entry changed between the lookup and the commit.
  for (;;) {
    cds_lfht_iter iter{};
    cds_lfht_lookup(impl_->ht, hash, match_key, &rec.key, &iter);
    cds_lfht_node* old = cds_lfht_iter_get_node(&iter);
    Node* prev = old != nullptr ? node_of(old) : nullptr;
    node->rec = rec;
    merge(prev != nullptr ? &prev->rec : nullptr, node->rec);
    node->rec.key = rec.key;  // the key is the entry's identity: merge cannot move it

    FLOWTOP_TSAN_RELEASE(node);  // fully built: everything above happens before a reader's access
    if (prev != nullptr) {
      if (liburcu_call([&] {
            return cds_lfht_replace(impl_->ht, &iter, hash, match_key, &node->rec.key, &node->lfht);
          }) == 0) {
        fresh.release();
        Impl::retire(prev);
        return Upserted::Replaced;
      }
    } else if (liburcu_call([&] {
                 return cds_lfht_add_unique(impl_->ht, hash, match_key, &node->rec.key,
                                            &node->lfht);
               }) == &node->lfht) {
      fresh.release();
      impl_->count.store(impl_->count.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
      return Upserted::Added;
    }
  }
}

FlowTable::Upserted FlowTable::upsert(const FlowRecord& rec) {
  return upsert(rec, [](const FlowRecord*, FlowRecord&) {});
}

bool FlowTable::erase(const FlowKey& key, std::optional<std::uint32_t> id) {
  const RcuReadGuard guard;
  cds_lfht_iter iter{};
  cds_lfht_lookup(impl_->ht, hash_of(key), match_key, &key, &iter);
  cds_lfht_node* n = cds_lfht_iter_get_node(&iter);
  if (n == nullptr) {
    return false;
  }
  Node* node = node_of(n);
  if (id.has_value() && node->rec.id != *id) {
    return false;
  }
  return impl_->remove(node);
}

void FlowTable::begin_resync() {
  ++impl_->generation;
}

std::size_t FlowTable::end_resync() {
  return end_resync([](const FlowKey&) {});
}

std::size_t FlowTable::end_resync(core::FunctionRef<void(const FlowKey&)> removed) {
  const std::uint32_t gen = impl_->generation;
  return impl_->remove_if([gen](const Node& node) { return node.generation != gen; },
                          [&removed](const FlowKey& key) { removed(key); });
}

void FlowTable::clear() {
  impl_->remove_if([](const Node&) { return true; }, [](const FlowKey&) {});
}

std::optional<FlowRecord> FlowTable::find(const FlowKey& key) const {
  const RcuReadGuard guard;
  cds_lfht_iter iter{};
  cds_lfht_lookup(impl_->ht, hash_of(key), match_key, &key, &iter);
  cds_lfht_node* n = cds_lfht_iter_get_node(&iter);
  if (n == nullptr) {
    return std::nullopt;
  }
  const Node* node = node_of(n);
  FLOWTOP_TSAN_ACQUIRE(node);
  std::optional<FlowRecord> out{node->rec};
  FLOWTOP_TSAN_RELEASE(node);  // this read happens before the node's free
  return out;
}

void FlowTable::snapshot(std::vector<FlowRecord>& out) const {
  out.clear();
  out.reserve(size() + size() / 8 + 16);
  for_each([&out](const FlowRecord& rec) { out.push_back(rec); });
}

void FlowTable::for_each(core::FunctionRef<void(const FlowRecord&)> fn) const {
  const RcuReadGuard guard;
  cds_lfht_iter iter{};
  cds_lfht_first(impl_->ht, &iter);
  while (cds_lfht_node* n = cds_lfht_iter_get_node(&iter)) {
    const Node* node = node_of(n);
    FLOWTOP_TSAN_ACQUIRE(node);
    fn(node->rec);
    FLOWTOP_TSAN_RELEASE(node);
    cds_lfht_next(impl_->ht, &iter);
  }
}

std::size_t FlowTable::size() const {
  return impl_->count.load(std::memory_order_relaxed);
}

std::size_t FlowTable::bytes_per_entry() {
  static const std::size_t bytes = [] {
    void* probe = ::operator new(sizeof(Node));
    const std::size_t usable = malloc_usable_size(probe);
    ::operator delete(probe);
    return usable;
  }();
  return bytes;
}

}  // namespace flowtop::table
