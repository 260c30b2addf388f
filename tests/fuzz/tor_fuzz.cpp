// libFuzzer target: Debian's tor-geoipdb ranges (geoip: IPv4 integers, geoip6: IPv6 text). The
// first byte splits the input into the two files; lookups follow.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "flowtop/core/ip_addr.hpp"
#include "fuzz_input.hpp"
#include "geoip/tor_db.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const flowtop::fuzz::Misaligned in(data + 1, size - 1);
  const std::string_view all = in.text();
  const std::size_t cut = all.empty() ? 0 : data[0] % (all.size() + 1);
  std::vector<std::string> warnings;
  const auto db = flowtop::geoip::TorGeoDb::parse(all.substr(0, cut), all.substr(cut), warnings);
  for (const char* a : {"1.2.3.4", "81.2.69.142", "255.255.255.255", "0.0.0.0", "2001:218::1",
                        "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    flowtop::fuzz::keep(db.lookup(*flowtop::core::IpAddr::parse(a)));
  }
  return 0;
}
