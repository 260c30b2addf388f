#pragma once

// Values of filter terms: numbers with units, protocols, states (private to src/view). Each
// throws FilterError at the offending position.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "view/filter_terms.hpp"

namespace flowtop::view::detail {

/// Bytes from a size with units: B kB MB GB TB PB, KiB MiB.., bit kbit Mbit.. and b kb Mb (bits);
/// with `rate`, an optional trailing "/s" or "ps". `pos` is the value's offset in the filter.
double parse_size(std::string_view v, std::size_t pos, std::string_view term, bool rate);
/// A count with an optional k M G T P suffix.
double parse_count(std::string_view v, std::size_t pos, std::string_view term);
/// Seconds from s m h d (and sec min hour day).
double parse_age(std::string_view v, std::size_t pos, std::string_view term);
/// A whole number: decimal, hex with 0x; "AS15133" for the asn field.
double parse_integer(std::string_view v, std::size_t pos, std::string_view term, Field field);
/// Protocol numbers of a name ("icmp" is ICMP and ICMPv6) or a number.
std::vector<std::uint8_t> parse_protos(std::string_view v, std::size_t pos);
/// Whether `v` names a TCP, SCTP or DCCP state (case-insensitive).
bool known_state(std::string_view v);
/// The status flag a state= value names (UNREPLIED, ASSURED, OFFLOAD, HW_OFFLOAD, any case), or
/// nullopt for a protocol state.
std::optional<StatusFlag> status_flag(std::string_view v);

}  // namespace flowtop::view::detail
