#include "flowtop/table/flow_table.hpp"

#include <malloc.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>
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

// One published entry. The record is updated in place under a sequence lock: the writer makes
// `seq` odd, stores the words and makes it even again; a reader copies the words and retries
// when `seq` was odd or moved meanwhile, so it never sees a torn record. Every access to `seq`
// and `words` is atomic (std::atomic_ref, relaxed words between the fences of the sequence), so
// readers and the writer never race in the language's sense either. Updating in place (rather
// than publishing a new node and freeing the old one with call_rcu) keeps a full dump from
// allocating and freeing a node per entry and from holding two copies of the table until the
// grace period ends. The key never changes while the node is published.
// `generation` (the mark of the last resync generation that saw the entry) is read and written by
// the writer only. A removed node is freed with others in a batch after a grace period (Retired),
// so it carries no rcu head of its own: with the 200-byte record the node is 224 bytes, which
// malloc serves from a 240-byte chunk.
struct Node {
  Link link{};  // first: the table's TSan edges are on the node's address
  std::uint32_t generation = 0;
  std::uint32_t seq = 0;  // even: stable; odd: the writer is storing the words
  std::uint64_t words[kWords]{};

  explicit Node(std::uint32_t gen) : generation(gen) {}
};
static_assert(std::is_standard_layout_v<Node> && offsetof(Node, link) == 0);

std::atomic_ref<std::uint64_t> word(const Node& node, std::size_t i) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(node.words[i]));  // NOLINT
}
std::atomic_ref<std::uint32_t> seq_of(const Node& node) {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(node.seq));  // NOLINT
}

// Writer (the only one): publishes `rec` in the node.
void store(Node& node, const FlowRecord& rec) {
  std::array<std::uint64_t, kWords> w;
  std::memcpy(w.data(), &rec, sizeof(FlowRecord));
  const std::uint32_t s = seq_of(node).load(std::memory_order_relaxed);
  seq_of(node).store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (std::size_t i = 0; i < kWords; ++i) {
    word(node, i).store(w[i], std::memory_order_relaxed);
  }
  seq_of(node).store(s + 2, std::memory_order_release);
}

// Any thread: a consistent copy of the node's record.
void load(const Node& node, FlowRecord& out) {
  std::array<std::uint64_t, kWords> w;
  for (;;) {
    const std::uint32_t s1 = seq_of(node).load(std::memory_order_acquire);
    if ((s1 & 1U) != 0) {
      continue;  // the writer is half-way: it finishes within a few stores
    }
    for (std::size_t i = 0; i < kWords; ++i) {
      w[i] = word(node, i).load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_of(node).load(std::memory_order_relaxed) == s1) {
      break;
    }
  }
  std::memcpy(static_cast<void*>(&out), w.data(), sizeof(FlowRecord));
}

FlowRecord load(const Node& node) {
  FlowRecord rec;
  load(node, rec);
  return rec;
}

Node& node_of(Link& link) {
  return *reinterpret_cast<Node*>(&link);
}
const Node& node_of(const Link& link) {
  return *reinterpret_cast<const Node*>(&link);
}

// The key never changes while the node is published: its words need no sequence check.
bool match_key(const Link& link, const void* key) {
  const Node& node = node_of(link);
  std::array<std::uint64_t, 6> w;
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = word(node, i).load(std::memory_order_relaxed);
  }
  return std::memcmp(w.data(), key, sizeof(FlowKey)) == 0;
}

// Unlinked nodes freed together after one grace period: one call_rcu per kRetireBatch removals
// rather than one per node.
constexpr std::size_t kRetireBatch = 256;
struct Retired {
  RetireHead rcu;  // first: the free callback gets its address
  std::vector<Node*> nodes;
};

static_assert(std::is_standard_layout_v<Retired> && offsetof(Retired, rcu) == 0);

void free_retired(RetireHead* head) {
  auto* batch = reinterpret_cast<Retired*>(head);
  FLOWTOP_TSAN_ACQUIRE(batch);
  for (Node* node : batch->nodes) {
    FLOWTOP_TSAN_ACQUIRE(node);
    delete node;
  }
  delete batch;
}

std::size_t hash_of(const FlowKey& key) {
  return key.hash();
}

}  // namespace

struct FlowTable::Impl {
  rcu::HashTable ht;
  std::uint32_t generation = 0;  // writer only

  std::vector<Node*> retired;  // writer only: unlinked, waiting for flush_retired()

  explicit Impl(std::size_t buckets) : ht(buckets) { retired.reserve(kRetireBatch); }

  // Writer, inside a read-side critical section: unlinks `node` and frees it after a grace period.
  bool remove(Node& node) {
    if (!ht.remove(node.link)) {
      return false;  // already removed (only possible with a second writer)
    }
    retire(node);
    return true;
  }

  // Writer: frees the unlinked `node` after a grace period that starts no sooner than the next
  // flush_retired().
  void retire(Node& node) {
    FLOWTOP_TSAN_RELEASE(&node);  // the writer's accesses happen before the free
    retired.push_back(&node);     // within the capacity reserved: no allocation
    if (retired.size() >= kRetireBatch) {
      flush_retired();
    }
  }

  // Writer: hands the retired nodes to call_rcu as one batch.
  void flush_retired() {
    if (retired.empty()) {
      return;
    }
    auto batch = std::make_unique<Retired>();
    batch->nodes.reserve(kRetireBatch);
    batch->nodes.swap(retired);
    FLOWTOP_TSAN_RELEASE(batch.get());
    rcu::HashTable::defer(batch.release()->rcu, free_retired);
  }

  // Writer: removes every entry for which `pred(node)` holds; returns how many.
  template <class Pred, class OnRemoved>
  std::size_t remove_if(Pred&& pred, OnRemoved&& on_removed) {
    std::size_t removed = 0;
    const rcu::ReadGuard guard;
    ht.for_each([&](Link& link) {
      Node& node = node_of(link);
      if (pred(node)) {
        const FlowKey key = load(node).key;
        if (remove(node)) {
          ++removed;
          on_removed(key);
        }
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
  rcu::barrier();  // every deferred free has run
}

FlowTable::Upserted FlowTable::upsert(
    const FlowRecord& rec,
    core::FunctionRef<void(const FlowRecord* prev, FlowRecord& next)> merge) {
  const std::size_t hash = hash_of(rec.key);
  const rcu::ReadGuard guard;
  FlowRecord next = rec;
  if (Link* link = impl_->ht.find(hash, match_key, &rec.key)) {
    // The entry is known: its record is updated in place (the one writer may read it without
    // the sequence check).
    Node& node = node_of(*link);
    FLOWTOP_TSAN_ACQUIRE(link);
    const FlowRecord prev = load(node);
    merge(&prev, next);
    next.key = rec.key;  // the key is the entry's identity: merge cannot move it
    store(node, next);
    node.generation = impl_->generation;
    FLOWTOP_TSAN_RELEASE(link);
    return Upserted::Replaced;
  }
  auto fresh = std::make_unique<Node>(impl_->generation);
  Node* node = fresh.get();
  // With the one writer the contract allows, `decide` runs once, with no entry published; the
  // table calls it again only if the entry changed between its lookup and the commit.
  const auto published = impl_->ht.publish(
      hash, match_key, &rec.key, node->link,
      [&](Link* current) {
        next = rec;
        if (current != nullptr) {
          const FlowRecord prev = load(node_of(*current));
          merge(&prev, next);
        } else {
          merge(nullptr, next);
        }
        next.key = rec.key;
        store(*node, next);
        return true;
      },
      [this](Link& old) { impl_->retire(node_of(old)); });
  static_cast<void>(fresh.release());  // published (merge always publishes): the table owns it
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
  std::optional<FlowRecord> out{load(node_of(*link))};
  FLOWTOP_TSAN_RELEASE(link);  // this read happens before the node's free
  return out;
}

void FlowTable::snapshot(std::vector<FlowRecord>& out) const {
  out.clear();
  out.reserve(size() + size() / 8 + 16);
  const rcu::ReadGuard guard;
  impl_->ht.for_each([&out](Link& link) { load(node_of(link), out.emplace_back()); });
}

void FlowTable::for_each(core::FunctionRef<void(const FlowRecord&)> fn) const {
  const rcu::ReadGuard guard;
  FlowRecord rec;
  impl_->ht.for_each([&fn, &rec](Link& link) {
    load(node_of(link), rec);
    fn(rec);
  });
}

std::size_t FlowTable::size() const {
  return impl_->ht.size();
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
