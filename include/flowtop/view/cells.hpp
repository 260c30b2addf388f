#pragma once

// The texts of table cells and the detail pane, shared by every column formatter, render and
// --batch: one wording of each value wherever it shows. Texts may carry untrusted strings
// (names from DNS, /proc, databases): whoever puts them on a terminal sanitises them. Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"

namespace flowtop::view {

struct FlowRow;

/// A zero is blank, an unknown value "-", never a misleading 0:
/// format_bytes() of a known non-zero value, "" for zero, "-" when not `known`.
std::string bytes_cell(bool known, std::uint64_t bytes);
/// format_rate(); "" for a rate that rounds to "0 B/s", "-" when not `known`.
std::string rate_cell(bool known, double bytes_per_s, bool bits);
/// "12", "9999", then "12.3k", "3.4M"; "" zero, "-" unknown.
std::string packets_cell(bool known, std::uint64_t packets);
/// A flow count (FLOWS, six wide): "99,999" exactly, then "103.0k", "1.2M".
std::string count_cell(std::uint64_t n);

/// "tcp4", "udp6", "udpl4", "icmp6", "gre4", "esp4"; unnamed protocols by number: "p253-4".
std::string proto_cell(const core::FlowKey& key);
/// The protocol state name ("ESTABLISHED"), "" for protocols without one; "ENDED" for an ended
/// (lingering) flow; "OFFLOAD" or "HW-OFFLOAD" for a flow a flowtable handles (its counters are
/// stale).
std::string state_cell(const core::FlowRecord& rec);
/// The flow's age in its largest unit ("5s", "3m"); "-" without a timestamp.
std::string age_cell(const core::FlowRecord& rec, std::int64_t realtime_ns);
/// The flow's age in seconds; 0 when the start lies after `realtime_ns` (clocks disagree). An
/// ended flow's age is its duration (kernel stop - start).
std::uint64_t age_seconds(const core::FlowRecord& rec, std::int64_t realtime_ns);
/// PORT: the service name or the server port; ICMP "type/code" (never a fake port); "" for
/// protocols without ports.
std::string port_cell(const FlowRow& row);

/// The remote end as shown: the DNS name when known and DNS is on, else the address.
std::string address_text(const core::IpAddr& addr, const core::Lookup<std::string>& name, bool dns);
/// "10.0.0.2:51234", "[2001:db8::2]:443", "10.0.0.2" (no ports).
std::string endpoint(const core::IpAddr& addr, std::uint16_t port, bool ports);
/// A conntrack entry by its original tuple, as `conntrack -D` would name it:
/// "tcp 10.1.2.3:5555 → 10.4.5.6:80", "icmp 10.0.0.1 → 10.0.0.2 type 8 code 0 id 7", with
/// " zone 3" when the entry has a zone (ASCII: "->").
std::string flow_text(const core::FlowKey& key, bool ascii = false);
/// The status line after `x` then `y`: "deleted tcp ...", "already gone: tcp ..." (ENOENT), or
/// "cannot delete tcp ...: Operation not permitted (needs CAP_NET_ADMIN)". `error`: 0 or an
/// errno.
std::string delete_outcome_text(const core::FlowKey& key, int error, bool ascii = false);
/// The `-s` source row text: "from laptop.lan (10.0.0.2:51234)" or "from 10.0.0.2:51234".
std::string source_text(const FlowRow& row, bool dns, bool ascii = false);
/// The owner's name: the process name, else the LAN device's lease name, reverse-DNS name or
/// address; "" while pending; nullopt when there is none (no socket, not a neighbour).
std::optional<std::string> owner_text(const FlowRow& row, bool dns);
/// The direction mark: "→" out, "←" in, "↔" local, "⇄" forwarded (ASCII ">", "<", "=", "~").
std::string_view dir_mark(core::Direction d, bool ascii);
/// "out", "in", "local", "fwd": the filter's and JSON's words.
std::string_view dir_word(core::Direction d);
/// "SNAT", "DNAT", "S+DNAT", or "" without NAT; wider than 8, with the translated address:port
/// (DNAT's target first).
std::string nat_text(const core::FlowRecord& rec, std::size_t width);

/// The short label of an address kind that is not looked up, the same in every column and tab:
/// "lan" (private: RFC 1918, ULA, CGNAT), "lo", "ll" (link-local), "mc" (multicast), "res"
/// (reserved); "" for Located.
std::string_view geo_kind_short(core::GeoInfo::Kind kind);
/// The country code of a GeoIP answer ("US"), or the kind's short label; "" when not known.
std::string_view geo_code(const core::Lookup<core::GeoInfo>& geo);
/// GEO: "US", "US Norwell", "US Norwell AS15133 Edgecast" as `width` allows; the kind's short
/// label; "" while pending; "-" when failed or off (GeoIP off: "").
std::string geo_cell(const core::Lookup<core::GeoInfo>& geo, std::size_t width, bool geoip);

}  // namespace flowtop::view
