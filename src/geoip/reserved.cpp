#include <array>
#include <cstdint>
#include <optional>

#include "flowtop/geoip/database.hpp"

namespace flowtop::geoip {
namespace {

using Kind = core::GeoInfo::Kind;

struct Prefix {
  std::array<std::uint8_t, 16> bytes;  // IPv4 as ::ffff:a.b.c.d, like core::IpAddr
  int length;                          // in bits of the 16-byte form
  Kind kind;
};

constexpr Prefix v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, int length,
                    Kind kind) {
  return {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d}, 96 + length, kind};
}

constexpr Prefix v6(std::uint16_t w0, std::uint16_t w1, std::uint16_t w2, std::uint16_t w3,
                    std::uint16_t w7, int length, Kind kind) {
  return {{static_cast<std::uint8_t>(w0 >> 8), static_cast<std::uint8_t>(w0),
           static_cast<std::uint8_t>(w1 >> 8), static_cast<std::uint8_t>(w1),
           static_cast<std::uint8_t>(w2 >> 8), static_cast<std::uint8_t>(w2),
           static_cast<std::uint8_t>(w3 >> 8), static_cast<std::uint8_t>(w3), 0, 0, 0, 0, 0, 0,
           static_cast<std::uint8_t>(w7 >> 8), static_cast<std::uint8_t>(w7)},
          length,
          kind};
}

// IANA special-purpose registries (RFC 6890 and successors); none of these overlap.
constexpr std::array kPrefixes{
    v4(10, 0, 0, 0, 8, Kind::Private),
    v4(172, 16, 0, 0, 12, Kind::Private),
    v4(192, 168, 0, 0, 16, Kind::Private),
    v4(100, 64, 0, 0, 10, Kind::Private),  // CGNAT (RFC 6598)
    v4(127, 0, 0, 0, 8, Kind::Loopback),
    v4(169, 254, 0, 0, 16, Kind::LinkLocal),
    v4(224, 0, 0, 0, 4, Kind::Multicast),
    v4(0, 0, 0, 0, 8, Kind::Reserved),
    v4(192, 0, 0, 0, 24, Kind::Reserved),      // IETF protocol assignments
    v4(192, 0, 2, 0, 24, Kind::Reserved),      // TEST-NET-1
    v4(198, 18, 0, 0, 15, Kind::Reserved),     // benchmarking
    v4(198, 51, 100, 0, 24, Kind::Reserved),   // TEST-NET-2
    v4(203, 0, 113, 0, 24, Kind::Reserved),    // TEST-NET-3
    v4(240, 0, 0, 0, 4, Kind::Reserved),       // future use and 255.255.255.255
    v6(0xfc00, 0, 0, 0, 0, 7, Kind::Private),  // unique local
    v6(0, 0, 0, 0, 1, 128, Kind::Loopback),
    v6(0xfe80, 0, 0, 0, 0, 10, Kind::LinkLocal),
    v6(0xff00, 0, 0, 0, 0, 8, Kind::Multicast),
    v6(0, 0, 0, 0, 0, 128, Kind::Reserved),                // unspecified
    v6(0x2001, 0x0db8, 0, 0, 0, 32, Kind::Reserved),       // documentation
    v6(0x0100, 0, 0, 0, 0, 64, Kind::Reserved),            // discard-only
    v6(0x0064, 0xff9b, 0x0001, 0, 0, 48, Kind::Reserved),  // local-use NAT64
};

constexpr bool matches(const std::array<std::uint8_t, 16>& addr, const Prefix& p) {
  const auto bits = static_cast<unsigned>(p.length);
  const std::size_t full = bits / 8U;
  for (std::size_t i = 0; i < full; ++i) {
    if (addr[i] != p.bytes[i]) {
      return false;
    }
  }
  const unsigned rest = bits % 8U;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xffU << (8U - rest));
  return (addr[full] & mask) == (p.bytes[full] & mask);
}

}  // namespace

std::optional<core::GeoInfo::Kind> reserved_kind(const core::IpAddr& addr) {
  for (const Prefix& p : kPrefixes) {
    if (matches(addr.bytes, p)) {
      return p.kind;
    }
  }
  return std::nullopt;
}

}  // namespace flowtop::geoip
