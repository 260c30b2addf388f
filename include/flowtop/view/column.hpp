#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace flowtop::view {

/// The five tabs (SPEC §The screen), in the order Tab cycles through them.
enum class Tab : std::uint8_t { Flows, Processes, Hosts, Countries, As };
inline constexpr std::size_t kTabCount = 5;

/// "Flows", "Processes", "Hosts", "Countries", "AS".
std::string_view tab_name(Tab tab);
/// Parses tab_name() case-insensitively (for flowtoprc); nullopt for anything else.
std::optional<Tab> parse_tab(std::string_view name);

/// Every column of every tab. Which tab shows which, and in what order: columns_of(). "Out" is the
/// original direction (sent by the flow's initiator), "In" the reply direction.
enum class Column : std::uint8_t {
  Process,      ///< process name (Flows, Processes)
  Pid,          ///< (Flows, Processes)
  User,         ///< owner of the process (Processes)
  Proto,        ///< "tcp4", "udp6"... (Flows)
  State,        ///< protocol state name (Flows)
  Age,          ///< TIME: age of the flow (Flows)
  Address,      ///< remote end: DNS name or address (Flows, Hosts)
  Port,         ///< service name or port; ICMP type/code (Flows)
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
  PacketsOut,
  PacketsIn,
};
inline constexpr std::size_t kColumnCount = 20;

/// The columns of a tab, left to right (the order `<`/`>` and the F6 menu walk through).
std::span<const Column> columns_of(Tab tab);
/// Whether `tab` has `column`.
bool has_column(Tab tab, Column column);

/// The name used by `--sort`, the F6 menu and flowtoprc: "process", "pid", "user", "proto",
/// "state", "age", "address", "port", "geo", "country", "country-name", "asn", "org", "flows",
/// "bytes-out", "rate-out", "bytes-in", "rate-in", "packets-out", "packets-in".
std::string_view column_name(Column column);
/// Parses column_name() (case-insensitive) and the aliases "time" (age), "host" (address),
/// "service" (port), "bytes" (bytes-in), "rate" (rate-in), "name" (process), "as" (asn);
/// nullopt for anything else.
std::optional<Column> parse_column(std::string_view name);

/// Whether a column sorts descending when first chosen (numbers: biggest first; text: A first).
bool descending_by_default(Column column);

}  // namespace flowtop::view
