#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/core/pressure.hpp"

namespace flowtop::view {

struct Totals;  // view/totals.hpp

/// Whether flowtop itself makes the kernel track connections in the namespace (`--track`, or the
/// `t` key of the screen), and whether the screen offers to.
enum class Tracking : std::uint8_t {
  NotOffered,  ///< flowtop does not track and cannot offer to (--batch, --json)
  Offered,     ///< flowtop does not track; the `t` key makes it (the empty table says so)
  Session,     ///< flowtop's nft table makes the kernel track while flowtop runs
};

/// What the rest of the program reports besides flows, for the status and health lines.
struct Status {
  std::uint64_t tracked = 0;  ///< entries in the flow table
  std::uint64_t ct_max = 0;   ///< nf_conntrack_max
  std::uint64_t events = 0, enobufs = 0, resyncs = 0;
  core::CtPressure pressure;        ///< the kernel's conntrack statistics (the pressure pane)
  std::uint64_t offloaded = 0;      ///< flows a flowtable handles: their counters are stale
  bool collecting = false;          ///< the first dump has not finished
  std::vector<std::string> health;  ///< lines that say what limits the data
  bool dbip = false;                ///< a DB-IP database is in use (attribution)
  std::string geoip_source;         ///< "GeoLite2-City + GeoLite2-ASN", "" when none
  Tracking tracking = Tracking::NotOffered;
};

/// One frame's input, taken under one RCU read-side section by the app. Records are plain copies.
/// `enrich` reads the enrichment caches (non-blocking, any thread registered with RCU); view code
/// calls it only for the rows that need it (visible rows, or all rows when a filter/sort/aggregate
/// uses an enrichment field).
struct Snapshot {
  std::vector<core::FlowRecord> flows;
  /// The enrichment of a flow: at least the fields `needs` names (core::kNeedAll: every one).
  std::function<core::Enrichment(const core::FlowRecord&, core::EnrichNeeds needs)> enrich;
  Status status;
  /// The per-group totals and rate histories as of this snapshot (view::Ledger); null: none
  /// (the TOTAL columns then read "-").
  std::shared_ptr<const Totals> totals;
  std::int64_t realtime_ns = 0;  ///< wall clock of the snapshot (ages)
  std::int64_t steady_ns = 0;
};

}  // namespace flowtop::view
