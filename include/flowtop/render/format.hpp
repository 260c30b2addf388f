#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowtop::render {

/// Decimal units with one decimal: "0 B" .. "999 B", "1.2 kB", "3.4 MB", "5.0 GB", "1.1 TB".
std::string format_bytes(std::uint64_t bytes);
/// Bytes per second: "12 B/s", "1.5 kB/s", "3.0 MB/s"; with `bits`: "96 bit/s", "12.0 kbit/s",
/// "Mbit/s", "Gbit/s". Never cut mid-unit.
std::string format_rate(double bytes_per_s, bool bits);
/// Age in its largest unit: "5s", "3m", "2h", "1d".
std::string format_age(std::uint64_t seconds);
/// Replaces control characters, escape sequences and invalid UTF-8 in untrusted text so it can
/// never drive a terminal: C0/C1 controls and DEL become '?', invalid bytes U+FFFD.
std::string sanitize(std::string_view text);

/// "1,204": a count with thousands separators (status lines).
std::string format_count(std::uint64_t n);
/// Table cells (SPEC: a zero is blank, an unknown value is "-", never a misleading 0):
/// format_bytes() / format_rate() of a known non-zero value, "" for zero (or a rate that rounds
/// to "0 B/s"), "-" when not `known`.
std::string bytes_cell(bool known, std::uint64_t bytes);
std::string rate_cell(bool known, double bytes_per_s, bool bits);
/// A packet count cell: "12", "1.2k", "3.4M" (one decimal above 9,999), "" zero, "-" unknown.
std::string packets_cell(bool known, std::uint64_t packets);
/// A flow count cell (FLOWS, six wide): "99,999" exactly, then "103.0k", "1.2M".
std::string count_cell(std::uint64_t n);

}  // namespace flowtop::render
