// libFuzzer target: DHCP lease files. The first byte picks the format (dnsmasq, ISC dhcpd, Kea,
// odhcpd); the rest is the file's text. Also runs the content sniffer.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "flowtop/enrich/leases.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using flowtop::enrich::LeaseFormat;
  if (size == 0) {
    return 0;
  }
  static constexpr std::array<LeaseFormat, 4> kFormats = {
      LeaseFormat::Dnsmasq, LeaseFormat::IscDhcpd, LeaseFormat::Kea, LeaseFormat::Odhcpd};
  const LeaseFormat format = kFormats[data[0] % kFormats.size()];
  const flowtop::fuzz::Misaligned in(data + 1, size - 1);
  const auto leases = flowtop::enrich::parse_leases(in.text(), format);
  std::set<flowtop::core::IpAddr> seen;
  for (const auto& lease : leases) {
    const std::string_view name = lease.name;
    // The parser promised: names of at most 253 bytes, never "*" nor ending in '.', and one
    // lease per address.
    if (name.size() > flowtop::enrich::kMaxLeaseNameBytes || name == "*" ||
        (!name.empty() && name.back() == '.')) {
      std::abort();
    }
    if (!seen.insert(lease.addr).second) {
      std::abort();
    }
  }
  flowtop::fuzz::keep(leases);
  flowtop::fuzz::keep(flowtop::enrich::sniff_lease_format(in.text()));
  return 0;
}
