// libFuzzer target: geoip.conf (flowtop's sources for -u) and geoipupdate's /etc/GeoIP.conf. The
// first byte picks the format; the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "flowtop/geoip/geoip_conf.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const flowtop::fuzz::Misaligned in(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    flowtop::geoip::GeoipConf conf = flowtop::geoip::parse_geoip_conf(in.text(), "geoip.conf");
    for (const auto& s : conf.sources) {
      flowtop::fuzz::keep(flowtop::geoip::expand_placeholders(s.location, {2026, 3}));
    }
    flowtop::fuzz::keep(conf.errors);
  } else {
    const auto conf = flowtop::geoip::parse_geoipupdate_conf(in.text(), "/etc/GeoIP.conf");
    flowtop::fuzz::keep(conf.editions);
  }
  return 0;
}
