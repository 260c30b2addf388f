#include <cstddef>
#include <memory>

#include "flowtop/core/tsan.hpp"
#include "flowtop/enrich/enrich_cache.hpp"
#include "flowtop/rcu/rcu.hpp"

namespace flowtop::enrich::detail {
namespace {

using Entry = RcuMap::Entry;
using Link = rcu::HashTable::Link;
using RetireHead = rcu::HashTable::RetireHead;

// One published entry. `entry` is written before the node is published and never after; `rcu` is
// used only once the node is unpublished.
struct Node {
  Link link{};  // first: the table's TSan edges are on the node's address
  RetireHead rcu{};
  Entry* entry = nullptr;

  explicit Node(Entry* e) : entry(e) {}
  ~Node() { delete entry; }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};
static_assert(offsetof(Node, link) == 0);

Node& node_of(Link& link) {
  return *reinterpret_cast<Node*>(&link);
}
const Node& node_of(const Link& link) {
  return *reinterpret_cast<const Node*>(&link);
}

bool match_key(const Link& link, const void* key) {
  return node_of(link).entry->matches(key);
}

void free_node(RetireHead* head) {
  Node* node = reinterpret_cast<Node*>(reinterpret_cast<char*>(head) - offsetof(Node, rcu));
  FLOWTOP_TSAN_ACQUIRE(node);
  delete node;
}

// A writer's node that is unpublished: freed once no reader can hold it.
void retire(Node& node) {
  rcu::HashTable::retire(node.link, node.rcu, free_node);
}

}  // namespace

struct RcuMap::Impl {
  rcu::HashTable ht;
  explicit Impl(std::size_t buckets) : ht(buckets) {}
};

RcuMap::RcuMap(std::size_t initial_buckets) : impl_(std::make_unique<Impl>(initial_buckets)) {}

RcuMap::~RcuMap() {
  // No reader or writer remains: the nodes are freed after one grace period (liburcu's own
  // resize threads may still walk them); nodes retired earlier are freed by the barrier.
  impl_->ht.drain([](Link& link) { delete &node_of(link); });
  rcu::barrier();
}

bool RcuMap::read(std::size_t hash, const void* key,
                  core::FunctionRef<void(const Entry&)> fn) const {
  const rcu::ReadGuard guard;
  const Link* link = impl_->ht.find(hash, match_key, key);
  if (link == nullptr) {
    return false;
  }
  FLOWTOP_TSAN_ACQUIRE(link);
  fn(*node_of(*link).entry);
  FLOWTOP_TSAN_RELEASE(link);  // this read happens before the node's free
  return true;
}

bool RcuMap::publish(std::size_t hash, const void* key, std::unique_ptr<Entry> fresh,
                     core::FunctionRef<bool(const Entry* current)> may_replace) {
  auto owned = std::make_unique<Node>(fresh.release());
  const rcu::ReadGuard guard;
  const auto published = impl_->ht.publish(
      hash, match_key, key, owned->link,
      [&](Link* current) {
        return may_replace(current != nullptr ? node_of(*current).entry : nullptr);
      },
      [](Link& old) { retire(node_of(old)); });
  if (published == rcu::HashTable::Published::Declined) {
    return false;  // `owned` (and the entry) are freed here: never published
  }
  static_cast<void>(owned.release());  // published: the table owns it now
  return true;
}

bool RcuMap::erase(std::size_t hash, const void* key, core::FunctionRef<bool(const Entry&)> pred) {
  const rcu::ReadGuard guard;
  Link* link = impl_->ht.find(hash, match_key, key);
  if (link == nullptr) {
    return false;
  }
  FLOWTOP_TSAN_ACQUIRE(link);
  const bool doomed = pred(*node_of(*link).entry);
  FLOWTOP_TSAN_RELEASE(link);
  if (!doomed || !impl_->ht.remove(*link)) {
    return false;  // kept, or another writer replaced or removed it meanwhile
  }
  retire(node_of(*link));
  return true;
}

std::size_t RcuMap::erase_if(core::FunctionRef<bool(const Entry&)> pred) {
  std::size_t removed = 0;
  const rcu::ReadGuard guard;
  impl_->ht.for_each([&](Link& link) {
    Node& node = node_of(link);
    if (pred(*node.entry) && impl_->ht.remove(link)) {
      retire(node);
      ++removed;
    }
  });
  return removed;
}

std::size_t RcuMap::size() const {
  return impl_->ht.size();
}

}  // namespace flowtop::enrich::detail
