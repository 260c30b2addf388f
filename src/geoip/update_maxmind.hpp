#pragma once

#include <string>
#include <string_view>

#include "flowtop/geoip/geoip_conf.hpp"

// MaxMind sources and accounts for the geoip.conf reader. Pure functions; any thread.
namespace flowtop::geoip::detail {

/// A MaxMind edition id: letters, digits, '_' and '-', at most 64 ("GeoLite2-City").
bool valid_edition(std::string_view edition);
/// The source of one edition, from its download permalink (basic authentication, .tar.gz).
Source maxmind_source(const std::string& edition, int line);
/// A placeholder account ("AccountID 0", "LicenseKey 000000000000", as Debian's geoipupdate
/// ships) is no account.
bool is_placeholder_account(const MaxMindAccount& account);

}  // namespace flowtop::geoip::detail
