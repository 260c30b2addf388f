#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"

namespace flowtop::view {

/// The five tabs, in the order Tab cycles through them. Hosts, Countries and AS group flows by
/// their remote end; Owners by owner (a local process, or the LAN device of a forwarded flow).
enum class Tab : std::uint8_t { Flows, Owners, Hosts, Countries, As };
inline constexpr std::size_t kTabCount = 5;

/// "Flows", "Owners", "Hosts", "Countries", "AS".
std::string_view tab_name(Tab tab);
/// Parses tab_name() case-insensitively (flowtoprc, --tab; "processes" is Owners' old name);
/// nullopt for anything else.
std::optional<Tab> parse_tab(std::string_view name);

/// Every column of every tab, in the order they stand on screen (a tab shows the ones it has, in
/// this order). "Out" (↑) is what the flow's inside (or local) end sent, "In" (↓) what it
/// received (core/ends.hpp).
enum class Column : std::uint8_t {
  Process,      ///< OWNER: process name, or the LAN device of a forwarded flow (Flows, Owners)
  Pid,          ///< (Flows, Owners)
  User,         ///< the process's user, or the device's MAC (Owners)
  Proto,        ///< "tcp4", "udp6"... (Flows)
  State,        ///< protocol state name (Flows)
  Age,          ///< TIME: age of the flow (Flows)
  Dir,          ///< direction mark: → out, ← in, ↔ local, ⇄ forwarded (Flows)
  Address,      ///< remote end: DNS name or address (Flows, Hosts)
  Port,         ///< the service: the responder's port (after DNAT); ICMP type/code (Flows)
  Nat,          ///< SNAT/DNAT mark, with the translated address:port when wide (Flows)
  Geo,          ///< country code, plus city and AS when wide (Flows, Hosts)
  Country,      ///< ISO code (Countries)
  CountryName,  ///< "United States" (Countries)
  Asn,          ///< AS number (AS)
  Org,          ///< AS organisation (AS)
  Flows,        ///< number of flows in the group (aggregate tabs)
  BytesOut,
  RateOut,
  BytesIn,
  RateIn,
  TotalOut,  ///< TOTAL↑: bytes sent since flowtop started, ended flows included (aggregate tabs)
  TotalIn,   ///< TOTAL↓: bytes received since then
  PacketsOut,
  PacketsIn,
};
inline constexpr std::size_t kColumnCount = 24;

struct FlowRow;
struct GroupRow;
struct ViewState;

/// Where a column stands on one tab and how it gives way on a narrow terminal.
struct Placement {
  std::uint8_t priority = 0;  ///< 0: not on this tab; else higher is more important (the lowest
                              ///< drops first when the columns do not fit)
  /// A column is as wide as its widest cell on screen (and its header), up to `pref`. Text
  /// (left-aligned) may be cut down to `min` on a narrow screen; a number (right-aligned) is never
  /// cut and never narrower than `min`.
  std::uint8_t min = 0;
  std::uint8_t pref = 0;
  std::uint8_t comfort = 0;  ///< optional columns (priority <= 4) show only while the others
                             ///< get their content up to this much
  std::string_view label{};  ///< this tab's header label, when not the column's
};

/// A sort key in packed form: the column's value as up to three words in ascending order, or
/// unknown (sorted last in either direction). A text value (a name, a state) is ordered by its
/// rank among the texts of the same pass: the encoder sets `text` and `text_slot`, and the word
/// at `text_slot` is replaced by that rank. `text` need only live until the encoder returns.
struct SortValue {
  bool known = true;
  std::array<std::uint64_t, 3> words{};
  int text_slot = -1;
  std::string_view text{};
};

/// What a cell formatter knows besides the row.
struct CellContext {
  const ViewState& state;
  std::int64_t realtime_ns = 0;  ///< the snapshot's wall clock (ages)
  std::size_t width = 0;         ///< the column's width (GEO says more when wider)
  bool ascii = false;            ///< no UTF-8 terminal: ASCII marks
};

/// One column, everything about it in one place: its names, the tabs it stands on with their
/// widths and drop priorities, what it sorts by, what enrichment that reads, and its cells.
/// Cell texts may be untrusted (names from DNS, /proc, databases): render sanitises them.
struct ColumnSpec {
  Column id;
  std::string_view name;         ///< --sort, the F6 menu and flowtoprc: "rate-in"
  std::string_view aliases;      ///< other names --sort takes, space-separated: "rate"
  std::string_view label;        ///< header: "RATE↓"
  std::string_view ascii_label;  ///< header without UTF-8: "RATE-I"
  std::array<Placement, kTabCount> on;
  bool right = false;       ///< right-aligned (numbers)
  bool descending = false;  ///< sorts biggest first when chosen (numbers; texts A first)
  bool rate = false;        ///< a rate: wider with -b (bit/s)
  /// The enrichment the Flows tab's sort key reads (0: the record alone). A pass over every flow
  /// copies only these fields; the visible rows get every field for their cells.
  core::EnrichNeeds sort_needs = 0;
  /// The sort key of a flow (Flows tab); null: the column does not sort flows (tie order only).
  void (*flow_key)(const core::FlowRecord&, const core::Enrichment&, const ViewState&,
                   SortValue&) = nullptr;
  /// The sort key of a group (aggregate tabs); null: tie order only.
  void (*group_key)(const GroupRow&, SortValue&) = nullptr;
  /// Cell texts: "" for a zero or nothing to say, "-" for an unknown value.
  std::string (*flow_cell)(const FlowRow&, const CellContext&) = nullptr;
  std::string (*group_cell)(const GroupRow&, const CellContext&) = nullptr;
};

/// The registry: every column's spec, in Column order.
std::span<const ColumnSpec> all_columns();
const ColumnSpec& spec_of(Column column);

/// The columns of a tab, left to right (the order `<`/`>` and the F6 menu walk through).
std::span<const Column> columns_of(Tab tab);
/// Whether `tab` has `column`.
bool has_column(Tab tab, Column column);
/// The column's placement on `tab` (priority 0 when it is not there).
const Placement& placement(Tab tab, Column column);
/// The header label of a column on `tab` ("ADDRESS", "HOST", "RATE↓"; ASCII: "RATE-I").
std::string_view column_label(Tab tab, Column column, bool ascii);

/// The name used by `--sort`, the F6 menu and flowtoprc: "owner", "pid", "user", "proto",
/// "state", "age", "dir", "address", "port", "nat", "geo", "country", "country-name", "asn", "org",
/// "flows", "bytes-out", "rate-out", "bytes-in", "rate-in", "total-out", "total-in",
/// "packets-out", "packets-in".
std::string_view column_name(Column column);
/// Parses a column name or alias, case-insensitively ("time" is age, "rate" rate-in...);
/// nullopt for anything else.
std::optional<Column> parse_column(std::string_view name);
/// Every name and alias --sort takes, space-separated (for messages and completions).
std::string column_names();

/// Whether a column sorts descending when first chosen (numbers: biggest first; text: A first).
bool descending_by_default(Column column);

}  // namespace flowtop::view
