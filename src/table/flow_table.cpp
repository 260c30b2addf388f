#include "flowtop/table/flow_table.hpp"

#include <malloc.h>

#include <cstddef>
#include <memory>
#include <type_traits>

#include "flowtop/core/tsan.hpp"
#include "flowtop/rcu/rcu.hpp"

namespace flowtop::table {
namespace {

using core::FlowKey;
using core::FlowRecord;
using Link = rcu::HashTable::Link;
using RetireHead = rcu::HashTable::RetireHead;

// One published entry. `rec` is written only before the node is published and never after.
// `generation` (the mark of the last resync generation that saw the entry) is read and written by
// the writer only, and only while the node is published; `rcu` is used only once the node is
// unpublished. So they share storage: with the 200-byte record the node is 232 bytes, which
// malloc serves from a 240-byte chunk.
struct Node {
  Link link{};  // first: the table's TSan edges are on the node's address
  union {
    RetireHead rcu;
    std::uint32_t generation;
  };
  FlowRecord rec;

  Node(const FlowRecord& r, std::uint32_t gen) : generation(gen), rec(r) {}
};
static_assert(std::is_standard_layout_v<Node> && offsetof(Node, link) == 0);

Node& node_of(Link& link) {
  return *reinterpret_cast<Node*>(&link);
}
const Node& node_of(const Link& link) {
  return *reinterpret_cast<const Node*>(&link);
}

bool match_key(const Link& link, const void* key) {
  return node_of(link).rec.key == *static_cast<const FlowKey*>(key);
}

void free_node(RetireHead* head) {
  Node* node = reinterpret_cast<Node*>(reinterpret_cast<char*>(head) - offsetof(Node, rcu));
  FLOWTOP_TSAN_ACQUIRE(node);
  delete node;
}

std::size_t hash_of(const FlowKey& key) {
  return key.hash();
}

}  // namespace

struct FlowTable::Impl {
  rcu::HashTable ht;
  std::uint32_t generation = 0;  // writer only

  explicit Impl(std::size_t buckets) : ht(buckets) {}

  // Writer, inside a read-side critical section: unlinks `node` and frees it after a grace period.
  bool remove(Node& node) {
    if (!ht.remove(node.link)) {
      return false;  // already removed (only possible with a second writer)
    }
    retire(node);
    return true;
  }

  static void retire(Node& node) { rcu::HashTable::retire(node.link, node.rcu, free_node); }

  // Writer: removes every entry for which `pred(node)` holds; returns how many.
  template <class Pred, class OnRemoved>
  std::size_t remove_if(Pred&& pred, OnRemoved&& on_removed) {
    std::size_t removed = 0;
    const rcu::ReadGuard guard;
    ht.for_each([&](Link& link) {
      Node& node = node_of(link);
      if (pred(node)) {
        const FlowKey key = node.rec.key;
        if (remove(node)) {
          ++removed;
          on_removed(key);
        }
      }
    });
    return removed;
  }
};

FlowTable::FlowTable(std::size_t initial_buckets)
    : impl_(std::make_unique<Impl>(initial_buckets)) {}

FlowTable::~FlowTable() {
  clear();
  rcu::barrier();  // every deferred free has run
}

FlowTable::Upserted FlowTable::upsert(
    const FlowRecord& rec,
    core::FunctionRef<void(const FlowRecord* prev, FlowRecord& next)> merge) {
  auto fresh = std::make_unique<Node>(rec, impl_->generation);
  Node* node = fresh.get();
  const rcu::ReadGuard guard;
  // With the one writer the contract allows, `decide` runs once; the table calls it again only if
  // the entry changed between its lookup and the commit.
  const auto published = impl_->ht.publish(
      hash_of(rec.key), match_key, &rec.key, node->link,
      [&](Link* current) {
        node->rec = rec;
        merge(current != nullptr ? &node_of(*current).rec : nullptr, node->rec);
        node->rec.key = rec.key;  // the key is the entry's identity: merge cannot move it
        return true;
      },
      [](Link& old) { Impl::retire(node_of(old)); });
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
  if (id.has_value() && node.rec.id != *id) {
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
      [gen](const Node& node) { return node.generation != gen && !node.rec.ended(); },
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
  std::optional<FlowRecord> out{node_of(*link).rec};
  FLOWTOP_TSAN_RELEASE(link);  // this read happens before the node's free
  return out;
}

void FlowTable::snapshot(std::vector<FlowRecord>& out) const {
  out.clear();
  out.reserve(size() + size() / 8 + 16);
  for_each([&out](const FlowRecord& rec) { out.push_back(rec); });
}

void FlowTable::for_each(core::FunctionRef<void(const FlowRecord&)> fn) const {
  const rcu::ReadGuard guard;
  impl_->ht.for_each([&fn](Link& link) { fn(node_of(link).rec); });
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
