#pragma once

// Private to the lease parsers (leases.cpp, lease_isc.cpp) and LeaseIndex (lease_index.cpp).

#include <string>
#include <string_view>
#include <vector>

#include "flowtop/enrich/leases.hpp"

namespace flowtop::enrich::lease_detail {

/// A lease as read, before "the last record for an address wins" drops the hidden ones.
struct LeaseRecord {
  Lease lease;
  bool active = true;
};

/// Space, tab, CR, LF, vertical tab, form feed.
bool is_blank(char c);

/// A name as flowtop keeps it: cut to kMaxLeaseNameBytes at a UTF-8 boundary, without trailing
/// '.'s; "*" and "" are none. Other bytes are kept as they are (the renderer sanitises). Pure.
std::string clean_name(std::string_view raw);

/// The records of an ISC dhcpd.leases / dhcpd6.leases text, in file order (parse_leases()
/// says what is read). Pure.
std::vector<LeaseRecord> parse_isc_records(std::string_view text);

/// The last component of a path.
std::string_view base_name(std::string_view path);

}  // namespace flowtop::enrich::lease_detail
