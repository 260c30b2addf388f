#include "flowtop/core/enrichment.hpp"

namespace flowtop::core {

std::string mac_text(const MacAddr& mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(17, ':');
  for (std::size_t i = 0; i < mac.size(); ++i) {
    out[i * 3] = kHex[mac[i] >> 4];
    out[i * 3 + 1] = kHex[mac[i] & 15];
  }
  return out;
}

const char* geo_kind_label(GeoInfo::Kind kind) {
  switch (kind) {
    case GeoInfo::Kind::Located: return "";
    case GeoInfo::Kind::Private: return "private";
    case GeoInfo::Kind::Loopback: return "loopback";
    case GeoInfo::Kind::LinkLocal: return "link-local";
    case GeoInfo::Kind::Multicast: return "multicast";
    case GeoInfo::Kind::Reserved: return "reserved";
  }
  return "";
}

}  // namespace flowtop::core
