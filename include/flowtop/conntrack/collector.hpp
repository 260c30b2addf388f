#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/ends.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/core/stats.hpp"
#include "flowtop/table/flow_table.hpp"

namespace flowtop::conntrack {

/// A flow's start (a NEW event) or end (a DESTROY event, with the final counters).
enum class LifeEvent : std::uint8_t { Start, End };

struct CollectorConfig {
  /// The refresh interval: GETs of the watched flows, and the rate window (90% of it).
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  /// The rates' averaging window at the start (--window); set_rate_window() changes it.
  core::RateWindow rate_window = core::RateWindow::Off;
  /// Event socket receive buffer; 0 = 16 MiB. Tests force a small one (--event-buffer).
  std::size_t event_buffer = 0;
  /// Periodic full dumps within `cpu_budget` of a core (the screen). Off when the caller requests a
  /// dump for every frame (--batch / --json).
  bool periodic_dumps = true;
  /// The screen idles within 8% of a core at 100k-250k flows in all: the full refreshes get 5%,
  /// the snapshots and their preparing the rest. Beyond it refreshes are spaced out, and the
  /// health line says how often they run.
  double cpu_budget = 0.05;
  /// Called on the collector thread when an entry is first seen (the enrichment hook); must not
  /// block.
  std::function<void(const core::FlowRecord&)> on_new;
  /// How long an ended flow stays in the table after its DESTROY event (dimmed, with its final
  /// counters); 0: removed at once. Its rates fall to 0 one interval after the end.
  std::chrono::nanoseconds linger = std::chrono::seconds(5);
  /// At most this many lingering flows; beyond it the oldest go early (an event storm).
  std::size_t max_lingering = 100'000;
  /// Called on the collector thread for each NEW event (the record as published) and DESTROY
  /// event (the final record: counters, rates, stop time); must not block. nullptr: none.
  std::function<void(LifeEvent, const core::FlowRecord&)> on_life;
  /// The namespace's facts (its addresses and inside networks), read on the collector thread
  /// once per batch of samples: every sample is classified with core::classify() before it is
  /// published. nullptr, or a null result: every flow reads as outbound.
  std::function<std::shared_ptr<const core::NetFacts>()> net_facts;
  /// Stamps samples (rates) and schedules dumps, GETs and drains; nullptr = core::system_clock().
  const core::Clock* clock = nullptr;
};

/// The only writer of the FlowTable. Owns two ctnetlink sockets: the event socket (opened first,
/// with a large buffer, drained on a short timer) and a request socket (dumps and GETs). Runs on
/// its own std::jthread; its public methods are called from the main thread.
///
/// Every full dump is a mark-and-sweep generation, so entries that vanished without an event (the
/// kernel sends none for entries older than the listener, nf_conntrack_events=2) are removed.
/// ENOBUFS on the event socket is counted, the buffer doubled, and one coalesced resync dump
/// scheduled. A DESTROY event leaves the flow's final record in the table for `linger` (dumps
/// do not sweep it; GETs skip it), then the collector removes it.
class Collector {
 public:
  /// Opens and binds the sockets now, so a missing privilege or ctnetlink fails before anything
  /// else changes: throws std::system_error (EPERM: no CAP_NET_ADMIN).
  Collector(table::FlowTable& table, core::CollectorStats& stats, CollectorConfig config);
  ~Collector();  ///< stop()
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  /// Starts the thread: the initial dump of both families, then the event loop.
  void start();
  /// Asks the thread to stop and joins it.
  void stop();

  /// Asks for a full dump (coalesced with any pending one) and returns a ticket for wait_dump().
  std::uint64_t request_dump();
  /// Waits until a dump that started after `ticket` was requested has finished and been applied.
  /// False on timeout or when the collector died (see error()).
  bool wait_dump(std::uint64_t ticket, std::chrono::milliseconds timeout);
  /// Replaces the set of flows the screen shows: each is refreshed with a GET every interval.
  void set_watched(std::vector<core::FlowKey> keys);
  /// Changes the refresh interval (the screen's +/- keys); takes effect at the next tick.
  void set_interval(std::chrono::nanoseconds interval);
  /// Changes the time constant of every flow's moving average of its byte rates (the screen's
  /// `w`), from the next sample on: averages converge to the new window within about one window.
  /// Any thread.
  void set_rate_window(core::RateWindow window);
  /// The window set last (read by the snapshot to show the averages or the last rates).
  [[nodiscard]] core::RateWindow rate_window() const;
  /// The exception that ended the collector thread, if any.
  [[nodiscard]] std::exception_ptr error() const;
  /// An fd (eventfd) that becomes readable whenever a dump completes or the thread dies.
  [[nodiscard]] int notify_fd() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::conntrack
