#pragma once

#include <cstdint>
#include <string>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/core/function_ref.hpp"
#include "flowtop/core/redact.hpp"
#include "flowtop/view/rows.hpp"
#include "flowtop/view/snapshot.hpp"

namespace flowtop::output {

/// Context shared by every object of one frame.
struct FrameInfo {
  std::uint64_t frame = 0;       ///< 1-based frame number
  std::int64_t realtime_ns = 0;  ///< wall clock of the frame (ts, and age from start_ns)
  /// Privacy mode (--redact): write_json_frame() masks every flow and group with it
  /// (view/redact.hpp); Off or no redactor: nothing is masked.
  core::RedactScope redact = core::RedactScope::Off;
  const core::Redactor* redactor = nullptr;
};

/// One NDJSON object (no trailing newline) for a flow (the schema README documents). Enrichment
/// fields (service, process, owner, names and geo of both ends) come from `enr`; anything not
/// known (pending, failed, disabled, a reserved address) is null. Strings are valid UTF-8 JSON
/// whatever bytes they came from. Pure.
std::string json_line(const core::FlowRecord& rec, const core::Enrichment& enr,
                      const FrameInfo& frame);
/// The same without enrichment (every enrichment field null).
std::string json_line(const core::FlowRecord& rec, const FrameInfo& frame);

/// A record of `--json --events`.
enum class FlowEvent : std::uint8_t { Start, End };

/// One `--json --events` record (schema v1, README): "v": 1, "event" ("start"/"end"), "ts" (the
/// event's wall clock: for an end the kernel's stop stamp when known), "start" (the kernel's
/// start stamp or null), then the flow fields of json_line() without "frame", "age_s", "ended"
/// and the rates; an end record carries the final counters and "duration_s". Pure.
std::string json_event_line(FlowEvent event, const core::FlowRecord& rec,
                            const core::Enrichment& enr, std::int64_t realtime_ns);

/// One NDJSON object for a row of an aggregate tab: "ts", "frame", "tab" ("processes", "hosts",
/// "countries", "as"), the group's key ("pid"/"name"/"user"; "addr"/"name"/"country";
/// "country"/"country_name"; "asn"/"org"), "flows", and "bytes", "packets", "rate" per direction
/// ({"orig", "reply"}, null when no flow of the group has counters), and "total": the bytes
/// since flowtop started, ended flows included ({"orig": sent, "reply": received}; null without
/// totals). Pure.
std::string json_group_line(const view::GroupRow& group, view::Tab tab, const FrameInfo& frame);

/// Writes one --json frame: an object per row of `prepared` (built from `snapshot`), in its
/// order: the screen's selection, filter and sort; masked as `frame` says. Flows are looked up in
/// the enrichment caches one at a time. Output goes to `sink` in pieces of about 256 KiB (a big
/// frame never sits in memory whole); returns false as soon as `sink` does (the reader went away).
bool write_json_frame(const view::Prepared& prepared, const view::Snapshot& snapshot,
                      const FrameInfo& frame, core::FunctionRef<bool(std::string_view)> sink);

}  // namespace flowtop::output
