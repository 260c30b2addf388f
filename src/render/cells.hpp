#pragma once

// What each column shows for a flow or a group (private to src/render). Texts may be untrusted:
// the line builder sanitises them.

#include <cstdint>
#include <string>

#include "flowtop/view/rows.hpp"
#include "flowtop/view/view_state.hpp"

namespace flowtop::render::detail {

/// The text of `column` for a flow, `width` columns wide (GEO grows with it).
std::string flow_cell(const view::FlowRow& row, view::Column column, std::size_t width,
                      const view::ViewState& state, std::int64_t realtime_ns);
/// The text of `column` for an aggregate row.
std::string group_cell(const view::GroupRow& row, view::Column column,
                       const view::ViewState& state);

/// "tcp4", "udp6", "udpl4", "icmp6", "gre4", "esp4"; unnamed protocols by number: "p253-4".
std::string proto_cell(const core::FlowKey& key);
/// The remote end as shown: the DNS name when known and DNS is on, else the address.
std::string address_text(const core::IpAddr& addr, const core::Lookup<std::string>& name, bool dns);
/// "10.0.0.2:51234", "[2001:db8::2]:443", "10.0.0.2" (no ports).
std::string endpoint(const core::IpAddr& addr, std::uint16_t port, bool ports);
/// The `-s` source row text: "from laptop.lan (10.0.0.2:51234)" or "from 10.0.0.2:51234".
std::string source_text(const view::FlowRow& row, bool dns);

}  // namespace flowtop::render::detail
