#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

namespace flowtop::enrich {

/// A bounded FIFO of work items that holds each item at most once. Producers never wait for room:
/// a full queue drops the item and counts it. Consumers wait for items (or close()).
/// Thread-safety: any thread; push() holds the internal mutex only for the insertion.
/// `Hash`/`Eq` decide which items are duplicates (they may look at part of an item only).
template <class T, class Hash = std::hash<T>, class Eq = std::equal_to<T>>
class WorkQueue {
 public:
  enum class Push : std::uint8_t {
    Queued,     ///< added at the back
    Duplicate,  ///< an equal item is already queued (not added)
    Full,       ///< the queue holds `limit` items: dropped and counted
    Closed,     ///< close() was called: dropped
  };

  explicit WorkQueue(std::size_t limit) : limit_(limit) {}
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  /// Never blocks beyond the insertion itself.
  Push push(T item) {
    {
      const std::lock_guard lock(mu_);
      if (closed_) {
        return Push::Closed;
      }
      if (queued_.count(item) != 0) {
        return Push::Duplicate;
      }
      if (items_.size() >= limit_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return Push::Full;
      }
      queued_.insert(item);
      items_.push_back(std::move(item));
      approx_size_.store(items_.size(), std::memory_order_relaxed);
    }
    cv_.notify_one();
    return Push::Queued;
  }

  /// Waits for an item; nullopt once the queue is closed (queued items are abandoned then).
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return closed_ || !items_.empty(); });
    if (closed_) {
      return std::nullopt;
    }
    return take_front();
  }

  /// Waits until `deadline` at most; nullopt on timeout or when closed.
  std::optional<T> pop_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [this] { return closed_ || !items_.empty(); });
    if (closed_ || items_.empty()) {
      return std::nullopt;
    }
    return take_front();
  }

  /// Appends up to `max` items to `out`, waiting until `deadline` for the first one. Returns false
  /// once the queue is closed.
  bool pop_batch(std::vector<T>& out, std::size_t max,
                 std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [this] { return closed_ || !items_.empty(); });
    if (closed_) {
      return false;
    }
    for (std::size_t n = 0; n < max && !items_.empty(); ++n) {
      out.push_back(take_front());
    }
    return true;
  }

  /// Sleeps until `deadline` unless the queue is closed first; returns false when closed.
  bool wait_closed_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return !cv_.wait_until(lock, deadline, [this] { return closed_; });
  }

  /// Wakes every waiting consumer; later pushes are refused. Idempotent.
  void close() {
    {
      const std::lock_guard lock(mu_);
      closed_ = true;
      items_.clear();
      queued_.clear();
      approx_size_.store(0, std::memory_order_relaxed);
    }
    cv_.notify_all();
  }

  [[nodiscard]] bool closed() const {
    const std::lock_guard lock(mu_);
    return closed_;
  }
  [[nodiscard]] std::size_t size() const {
    const std::lock_guard lock(mu_);
    return items_.size();
  }
  [[nodiscard]] std::size_t limit() const { return limit_; }
  /// Whether the queue held `limit` items a moment ago, without the lock: a producer with many
  /// items (a snapshot's worth of lookups) stops early instead of preparing items to be refused.
  [[nodiscard]] bool probably_full() const {
    return approx_size_.load(std::memory_order_relaxed) >= limit_;
  }
  /// Counts an item the producer did not push because probably_full() said so.
  void count_dropped() { dropped_.fetch_add(1, std::memory_order_relaxed); }
  /// Items refused because the queue was full.
  [[nodiscard]] std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  T take_front() {
    T item = std::move(items_.front());
    items_.pop_front();
    queued_.erase(item);
    approx_size_.store(items_.size(), std::memory_order_relaxed);
    return item;
  }

  const std::size_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
  std::unordered_set<T, Hash, Eq> queued_;
  bool closed_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::size_t> approx_size_{0};
};

}  // namespace flowtop::enrich
