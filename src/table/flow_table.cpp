#include "flowtop/table/flow_table.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowtop/core/tsan.hpp"
#include "flowtop/rcu/rcu.hpp"

namespace flowtop::table {
namespace {

using core::FlowKey;
using core::FlowRecord;
using Link = rcu::HashTable::Link;
using RetireHead = rcu::HashTable::RetireHead;

constexpr std::size_t kWords = sizeof(FlowRecord) / sizeof(std::uint64_t);
static_assert(sizeof(FlowRecord) % sizeof(std::uint64_t) == 0 &&
              std::is_trivially_copyable_v<FlowRecord>);
static_assert(offsetof(FlowRecord, key) == 0 && sizeof(FlowKey) <= 6 * sizeof(std::uint64_t));

// One entry's slot. The record is updated in place under a sequence lock: the writer makes
// `seq` odd, stores the words and makes it even again; a reader copies the words and retries
// when `seq` was odd or moved meanwhile, so it never sees a torn record. Every access to `seq`,
// `born` and `words` is atomic (std::atomic_ref: release stores and acquire loads of the words,
// Boehm's fence-free sequence lock), so readers and the writer never race in the language's
// sense either. Updating in place (rather
// than publishing a new node and freeing the old one with call_rcu) keeps a full dump from
// allocating and freeing a node per entry and from holding two copies of the table until the
// grace period ends.
//
// Slots live in slabs that are never freed while the table lives, so readers copy the table by
// scanning the slabs in memory order (`born` says which slots hold an entry) rather
// than by walking the hash table's list, which visits the nodes in hash order: a cache and TLB
// miss per entry. The hash table (`link`) serves lookups. A removed entry's slot is unlinked,
// marked not live, and reused only after a grace period (a lookup may still be looking at it),
// so its key never changes while a lookup can reach it.
// `generation` (the mark of the last resync generation that saw the entry) is read and written by
// the writer only.
struct Node {
  Link link{};  // first: the table's TSan edges are on the node's address
  std::uint32_t generation = 0;
  std::uint32_t seq = 0;  // even: stable; odd: the writer is storing the words
  // Under the sequence, like the words: 0 when the slot holds no entry, else the table's insert
  // count when the entry was added (a scan skips entries added after it started, so that an entry
  // removed and added again meanwhile is copied once at most).
  std::uint64_t born = 0;
  std::uint64_t words[kWords]{};
};
static_assert(std::is_standard_layout_v<Node> && offsetof(Node, link) == 0);

std::atomic_ref<std::uint64_t> word(const Node& node, std::size_t i) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(node.words[i]));  // NOLINT
}
std::atomic_ref<std::uint32_t> seq_of(const Node& node) {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(node.seq));  // NOLINT
}
std::atomic_ref<std::uint64_t> born_of(const Node& node) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(node.born));  // NOLINT
}

// Writer (the only one): stores `rec`, added as insert `born`, in the node (nullptr: none, the
// slot is emptied).
void store(Node& node, const FlowRecord* rec, std::uint64_t born) {
  std::array<std::uint64_t, kWords> w{};
  if (rec != nullptr) {
    std::memcpy(w.data(), rec, sizeof(FlowRecord));
  }
  const std::uint32_t s = seq_of(node).load(std::memory_order_relaxed);
  seq_of(node).store(s + 1, std::memory_order_relaxed);
  // Release stores (plain moves on x86): a reader whose acquire load reads one of them also sees
  // `seq` odd, or a later value, when it looks again. (No fences: ThreadSanitizer has none.)
  born_of(node).store(rec != nullptr ? born : 0, std::memory_order_release);
  if (rec != nullptr) {  // an emptied slot keeps its key words for lookups still reaching it
    for (std::size_t i = 0; i < kWords; ++i) {
      word(node, i).store(w[i], std::memory_order_release);
    }
  }
  seq_of(node).store(s + 2, std::memory_order_release);
}

// Any thread: a consistent copy of the node's record; false when the slot holds no entry or one
// added after insert `limit`.
bool load(const Node& node, FlowRecord& out, std::uint64_t limit = UINT64_MAX) {
  std::array<std::uint64_t, kWords> w;
  for (;;) {
    const std::uint32_t s1 = seq_of(node).load(std::memory_order_acquire);
    if ((s1 & 1U) != 0) {
      continue;  // the writer is half-way: it finishes within a few stores
    }
    // Acquire loads: the second look at `seq` cannot move before them.
    const std::uint64_t born = born_of(node).load(std::memory_order_acquire);
    if (born == 0 || born > limit) {
      return false;
    }
    for (std::size_t i = 0; i < kWords; ++i) {
      w[i] = word(node, i).load(std::memory_order_acquire);
    }
    if (seq_of(node).load(std::memory_order_relaxed) == s1) {
      break;
    }
  }
  std::memcpy(static_cast<void*>(&out), w.data(), sizeof(FlowRecord));
  return true;
}

// The writer's own view of a live node: nothing else writes the words, so it reads them plainly
// (readers only read them too: no race), without the sequence.
FlowRecord load(const Node& node) {
  FlowRecord rec;
  std::memcpy(static_cast<void*>(&rec), node.words, sizeof(FlowRecord));
  return rec;
}

Node& node_of(Link& link) {
  return *reinterpret_cast<Node*>(&link);
}
const Node& node_of(const Link& link) {
  return *reinterpret_cast<const Node*>(&link);
}

// The key never changes while a lookup can reach the node: its words need no sequence check.
bool match_key(const Link& link, const void* key) {
  const Node& node = node_of(link);
  std::array<std::uint64_t, 6> w;
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = word(node, i).load(std::memory_order_relaxed);
  }
  return std::memcmp(w.data(), key, sizeof(FlowKey)) == 0;
}

std::size_t hash_of(const FlowKey& key) {
  return key.hash();
}

// The slabs of slots. Written by the writer (a new slab); scanned by any thread without a lock:
// a slab's pointer is published before the count that makes readers look at it, and slabs go
// only with the table.
constexpr std::size_t kSlabNodes = 2048;  // 464 KiB a slab
constexpr std::size_t kMaxSlabs = 8192;   // 16M entries (nf_conntrack_max is far below)
struct Slab {
  std::array<Node, kSlabNodes> nodes;
};
// Orders slabs (first slot, index) by address.
bool by_begin(const std::pair<Node*, std::size_t>& a, const std::pair<Node*, std::size_t>& b) {
  return std::less<>{}(a.first, b.first);
}

// Emptied slots handed back together after one grace period: one call_rcu per kRetireBatch
// removals rather than one per slot.
constexpr std::size_t kRetireBatch = 256;
struct Reclaim;
struct Retired {
  RetireHead rcu;  // first: the callback gets its address
  Reclaim* to = nullptr;
  std::vector<Node*> nodes;
};
static_assert(std::is_standard_layout_v<Retired> && offsetof(Retired, rcu) == 0);

// Slots whose grace period has ended: filled on liburcu's call_rcu thread, taken by the writer.
struct Reclaim {
  std::mutex mu;
  std::vector<Node*> nodes;
};

void reclaim(RetireHead* head) {
  const std::unique_ptr<Retired> batch(reinterpret_cast<Retired*>(head));
  FLOWTOP_TSAN_ACQUIRE(batch.get());
  Reclaim& to = *batch->to;
  {
    const std::lock_guard lock(to.mu);
    to.nodes.insert(to.nodes.end(), batch->nodes.begin(), batch->nodes.end());
  }
  FLOWTOP_TSAN_RELEASE(&to);  // happens before the table goes (after rcu_barrier)
}

}  // namespace

struct FlowTable::Impl {
  rcu::HashTable ht;
  std::uint32_t generation = 0;  // writer only
  std::unique_ptr<std::atomic<Slab*>[]> slabs { new std::atomic<Slab*>[kMaxSlabs] {} };
  std::atomic<std::size_t> slab_count{0};
  std::atomic<std::uint64_t> inserts{0};  // written by the writer: entries ever added
  std::vector<Node*> free;                // writer only: empty slots, past their grace period
  std::vector<Node*> retired;             // writer only: emptied, waiting for flush_retired()
  Reclaim reclaimed;

  explicit Impl(std::size_t buckets) : ht(buckets) { retired.reserve(kRetireBatch); }
  // Writer only: the slot the last upsert updated or filled, and the slab it is in (see guess()).
  Node* last = nullptr;
  Node* last_begin = nullptr;  // the first slot of that slab
  std::size_t last_slab = 0;
  // Writer only: the slabs' first slots in address order, with their indexes in `slabs`.
  std::vector<std::pair<Node*, std::size_t>> by_address;

  ~Impl() {
    for (std::size_t i = 0; i < slab_count.load(); ++i) {
      Slab* slab = slabs[i].load();
      slab->~Slab();
      ::munmap(slab, sizeof(Slab));
    }
  }

  // A slab mapped with its pages populated: one system call rather than a page fault per 4 KiB
  // as the first dump fills it (those faults were a quarter of a first dump's time on this
  // project's VMs).
  static Slab* new_slab() {
    void* p = ::mmap(nullptr, sizeof(Slab), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
      throw std::bad_alloc();
    }
    return new (p) Slab();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Writer: an empty slot, reusable now.
  Node& allocate() {
    if (free.empty()) {
      const std::lock_guard lock(reclaimed.mu);
      free.swap(reclaimed.nodes);
    }
    if (free.empty()) {
      const std::size_t n = slab_count.load(std::memory_order_relaxed);
      if (n == kMaxSlabs) {
        throw std::bad_alloc();
      }
      std::unique_ptr<Slab, void (*)(Slab*)> slab(new_slab(), [](Slab* dead) {
        dead->~Slab();
        ::munmap(dead, sizeof(Slab));
      });
      free.reserve(kSlabNodes);
      const std::pair<Node*, std::size_t> entry{slab->nodes.data(), n};
      by_address.insert(std::upper_bound(by_address.begin(), by_address.end(), entry, by_begin),
                        entry);
      for (std::size_t i = kSlabNodes; i-- > 0;) {
        free.push_back(&slab->nodes[i]);  // the lowest address is handed out first
      }
      slabs[n].store(slab.release(), std::memory_order_release);
      slab_count.store(n + 1, std::memory_order_release);
    }
    Node& node = *free.back();
    free.pop_back();
    return node;
  }

  // Writer: the live slot after the last one upserted, when it holds `key`. A dump lists the
  // entries in the kernel's hash order, the same from one dump to the next while the entries stay,
  // and the first dump filled the slots in that order: so during a counter refresh the next entry
  // is most often in the next slot, and checking that slot (memory the scan brings in order)
  // spares a hash lookup, a cache miss or two into the buckets and chains per entry.
  Node* guess(const FlowKey& key) {
    if (last == nullptr) {
      return nullptr;
    }
    const std::less<> before;
    if (last_begin == nullptr || before(last, last_begin) ||
        !before(last, last_begin + kSlabNodes)) {
      // Another slab than the last time: found among the slabs by address.
      const auto it = std::upper_bound(by_address.begin(), by_address.end(),
                                       std::pair<Node*, std::size_t>{last, SIZE_MAX}, by_begin);
      last_begin = std::prev(it)->first;
      last_slab = std::prev(it)->second;
    }
    Node* next = last + 1;
    if (next == last_begin + kSlabNodes) {
      if (last_slab + 1 >= slab_count.load(std::memory_order_relaxed)) {
        return nullptr;
      }
      next = slabs[last_slab + 1].load(std::memory_order_relaxed)->nodes.data();
    }
    // The writer's own view: a slot is linked exactly while `born` is not 0 (remove() unlinks and
    // empties it in one step of this thread).
    if (born_of(*next).load(std::memory_order_relaxed) == 0 || !match_key(next->link, &key)) {
      return nullptr;
    }
    return next;
  }

  // Calls `fn(node)` for every slot, in memory order.
  template <class Fn>
  void for_each_slot(Fn&& fn) const {
    const std::size_t n = slab_count.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
      for (Node& node : slabs[i].load(std::memory_order_acquire)->nodes) {
        fn(node);
      }
    }
  }

  // Writer, inside a read-side critical section: unlinks `node`, empties it, and makes it
  // reusable after a grace period.
  bool remove(Node& node) {
    if (!ht.remove(node.link)) {
      return false;  // already removed (only possible with a second writer)
    }
    store(node, nullptr, 0);
    retire(node);
    return true;
  }

  void retire(Node& node) {
    FLOWTOP_TSAN_RELEASE(&node);  // the writer's accesses happen before the slot's reuse
    retired.push_back(&node);     // within the capacity reserved: no allocation
    if (retired.size() >= kRetireBatch) {
      flush_retired();
    }
  }

  // Writer: hands the emptied slots to call_rcu as one batch.
  void flush_retired() {
    if (retired.empty()) {
      return;
    }
    auto batch = std::make_unique<Retired>();
    batch->to = &reclaimed;
    batch->nodes.reserve(kRetireBatch);
    batch->nodes.swap(retired);
    FLOWTOP_TSAN_RELEASE(batch.get());
    rcu::HashTable::defer(batch.release()->rcu, reclaim);
  }

  // Writer: removes every entry for which `pred(node, rec)` holds; returns how many.
  template <class Pred, class OnRemoved>
  std::size_t remove_if(Pred&& pred, OnRemoved&& on_removed) {
    std::size_t removed = 0;
    const rcu::ReadGuard guard;
    for_each_slot([&](Node& node) {
      if (born_of(node).load(std::memory_order_relaxed) == 0 || !pred(node)) {
        return;
      }
      const FlowKey key = load(node).key;
      if (remove(node)) {
        ++removed;
        on_removed(key);
      }
    });
    flush_retired();
    return removed;
  }
};

FlowTable::FlowTable(std::size_t initial_buckets)
    : impl_(std::make_unique<Impl>(initial_buckets)) {}

FlowTable::~FlowTable() {
  clear();
  impl_->flush_retired();
  rcu::barrier();  // every deferred reclaim has run
  FLOWTOP_TSAN_ACQUIRE(&impl_->reclaimed);
}

FlowTable::Upserted FlowTable::upsert(
    const FlowRecord& rec,
    core::FunctionRef<void(const FlowRecord* prev, FlowRecord& next)> merge) {
  const rcu::ReadGuard guard;
  FlowRecord next = rec;
  Node* known = impl_->guess(rec.key);
  std::size_t hash = 0;
  if (known == nullptr) {
    hash = hash_of(rec.key);
    if (Link* link = impl_->ht.find(hash, match_key, &rec.key)) {
      known = &node_of(*link);
    }
  }
  if (known != nullptr) {
    // The entry is known: its record is updated in place (the one writer may read it without
    // the sequence check).
    Node& node = *known;
    Link* link = &node.link;
    impl_->last = &node;
    FLOWTOP_TSAN_ACQUIRE(link);
    const FlowRecord prev = load(node);
    merge(&prev, next);
    next.key = rec.key;  // the key is the entry's identity: merge cannot move it
    store(node, &next, born_of(node).load(std::memory_order_relaxed));
    node.generation = impl_->generation;
    FLOWTOP_TSAN_RELEASE(link);
    return Upserted::Replaced;
  }
  Node& node = impl_->allocate();
  impl_->last = &node;
  node.generation = impl_->generation;
  const std::uint64_t born = impl_->inserts.load(std::memory_order_relaxed) + 1;
  // With the one writer the contract allows, `decide` runs once, with no entry published; the
  // table calls it again only if the entry changed between its lookup and the commit.
  const auto published = impl_->ht.publish(
      hash, match_key, &rec.key, node.link,
      [&](Link* current) {
        next = rec;
        if (current != nullptr) {
          const FlowRecord prev = load(node_of(*current));
          merge(&prev, next);
        } else {
          merge(nullptr, next);
        }
        next.key = rec.key;
        store(node, &next, born);
        return true;
      },
      [this](Link& old) {
        store(node_of(old), nullptr, 0);
        impl_->retire(node_of(old));
      });
  impl_->inserts.store(born, std::memory_order_release);
  return published == rcu::HashTable::Published::Added ? Upserted::Added : Upserted::Replaced;
}

FlowTable::Upserted FlowTable::upsert(const FlowRecord& rec) {
  return upsert(rec, [](const FlowRecord*, FlowRecord&) {});
}

bool FlowTable::erase(const FlowKey& key, std::optional<std::uint32_t> id) {
  const rcu::ReadGuard guard;
  Link* link = impl_->ht.find(hash_of(key), match_key, &key);
  if (link == nullptr) {
    return false;
  }
  Node& node = node_of(*link);
  if (id.has_value() && load(node).id != *id) {
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
  // An ended flow (a lingering row) is in no dump: the collector expires it.
  return impl_->remove_if(
      [gen](const Node& node) { return node.generation != gen && !load(node).ended(); },
      [&removed](const FlowKey& key) { removed(key); });
}

void FlowTable::clear() {
  impl_->remove_if([](const Node&) { return true; }, [](const FlowKey&) {});
}

std::optional<FlowRecord> FlowTable::find(const FlowKey& key) const {
  const rcu::ReadGuard guard;
  const Link* link = impl_->ht.find(hash_of(key), match_key, &key);
  if (link == nullptr) {
    return std::nullopt;
  }
  FLOWTOP_TSAN_ACQUIRE(link);
  std::optional<FlowRecord> out(std::in_place);
  if (!load(node_of(*link), *out)) {
    out.reset();  // removed since the lookup
  }
  FLOWTOP_TSAN_RELEASE(link);  // this read happens before the slot's reuse
  return out;
}

void FlowTable::snapshot(std::vector<FlowRecord>& out) const {
  out.clear();
  // A copy leaves out entries added after it started: little room is needed beyond the size now
  // (each copy of a big table is kept: 1/8 more was 2.5 MB a copy at 100k flows).
  out.reserve(size() + size() / 64 + 64);
  FlowRecord rec;
  const std::uint64_t limit = impl_->inserts.load(std::memory_order_acquire);
  impl_->for_each_slot([&out, &rec, limit](const Node& node) {
    if (load(node, rec, limit)) {
      out.push_back(rec);
    }
  });
}

void FlowTable::for_each(core::FunctionRef<void(const FlowRecord&)> fn) const {
  FlowRecord rec;
  const std::uint64_t limit = impl_->inserts.load(std::memory_order_acquire);
  impl_->for_each_slot([&fn, &rec, limit](const Node& node) {
    if (load(node, rec, limit)) {
      fn(rec);
    }
  });
}

std::size_t FlowTable::size() const {
  return impl_->ht.size();
}

std::size_t FlowTable::bytes_per_entry() {
  return sizeof(Node);  // slots in slabs: no allocator overhead per entry
}

}  // namespace flowtop::table
