#include "flowtop/core/enrichment.hpp"

namespace flowtop::core {

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
