#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/function_ref.hpp"
#include "flowtop/rcu/rcu.hpp"

namespace flowtop::table {

/// The flow table: FlowRecords keyed by FlowKey, in slots of slabs indexed by an RCU hash table
/// (rcu::HashTable). Written by the collector thread only (upsert/erase/resync); read by any
/// thread registered with rcu::Thread through snapshot/for_each/find, which copy records out.
/// An update of a known entry rewrites its record in place under a per-record sequence lock
/// (readers retry a copy the writer overlapped, so none ever sees a torn record); a removed
/// entry's slot is reused after a grace period (call_rcu, in batches). Readers never hold a
/// pointer to a record. Slabs are kept until the table goes: its memory is that of its largest
/// size.
class FlowTable {
 public:
  enum class Upserted { Added, Replaced };

  explicit FlowTable(std::size_t initial_buckets = 1024);
  ~FlowTable();  ///< Removes every node; waits for call_rcu (rcu_barrier). No readers may remain.
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // ---- writer (collector thread) ----
  /// Inserts `rec` or replaces the entry with the same key. Before publishing, `merge(prev, next)`
  /// is called with the currently published record (nullptr when there is none) so the caller can
  /// carry state over (rates, monotonic counters). The entry is marked seen in the current
  /// resync generation.
  Upserted upsert(
      const core::FlowRecord& rec,
      core::FunctionRef<void(const core::FlowRecord* prev, core::FlowRecord& next)> merge);
  Upserted upsert(const core::FlowRecord& rec);
  /// Removes the entry with `key`; when `id` is given, only if the published record has that kernel
  /// id (a DESTROY of an older entry must not remove a newer one with the same tuple).
  bool erase(const core::FlowKey& key, std::optional<std::uint32_t> id = std::nullopt);
  /// Starts a mark-and-sweep generation: entries not upserted before end_resync() are removed.
  void begin_resync();
  /// Removes entries not seen since begin_resync(), except ended ones (FlowRecord::kEnded: they
  /// linger until their owner erases them); returns how many.
  std::size_t end_resync();
  /// The same, calling `removed(key)` for each removed entry (inside a read-side critical section).
  std::size_t end_resync(core::FunctionRef<void(const core::FlowKey&)> removed);
  /// Removes every entry.
  void clear();

  // ---- readers (any registered thread) ----
  [[nodiscard]] std::optional<core::FlowRecord> find(const core::FlowKey& key) const;
  /// Copies every record into `out` (cleared first), scanning the slabs in memory order. Each
  /// record is consistent and each entry copied once at most; the copy is not one instant: it
  /// leaves out entries added after it started, an entry removed meanwhile may be in it or not,
  /// and the records are each as they were when copied.
  void snapshot(std::vector<core::FlowRecord>& out) const;
  /// Calls `fn` for every record, as snapshot() copies them; `fn` must not keep the ref.
  void for_each(core::FunctionRef<void(const core::FlowRecord&)> fn) const;
  /// Approximate number of entries (exact when only the writer asks).
  [[nodiscard]] std::size_t size() const;

  /// Bytes one entry's slot costs (record + hash chaining + sequence and marks); the hash table's
  /// buckets come on top.
  static std::size_t bytes_per_entry();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::table
