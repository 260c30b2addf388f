#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace flowtop::core {

/// The outcome of an asynchronous lookup. A failed lookup is data, not an error.
template <class T>
struct Lookup {
  enum class State : std::uint8_t { Pending, Ok, Failed, Disabled };
  State state = State::Pending;
  T value{};

  [[nodiscard]] bool ok() const { return state == State::Ok; }
  static Lookup ready(T v) { return {State::Ok, std::move(v)}; }
  static Lookup failed() { return {State::Failed, T{}}; }
  static Lookup disabled() { return {State::Disabled, T{}}; }
};

/// The local process that owns a flow's socket.
struct ProcessInfo {
  std::int32_t pid = 0;
  std::uint32_t uid = 0;
  std::string name;     ///< comm (untrusted: sanitise before display)
  std::string user;     ///< user name, or the uid as text
  std::string cmdline;  ///< NUL-separated arguments joined by spaces (untrusted)
  /// The network namespace the process is in, when it is not this one: its `ip netns` name, its
  /// container's name, or "netns:INODE" (a forwarded flow from a container). Untrusted.
  std::string netns;
};

/// An Ethernet (MAC) address, in wire order.
using MacAddr = std::array<std::uint8_t, 6>;

/// "aa:bb:cc:dd:ee:ff".
std::string mac_text(const MacAddr& mac);

/// A device on a directly connected network that owns a forwarded flow. The MAC is kept as bytes:
/// the snapshot thread copies one per forwarded flow, and six bytes copy without allocating.
struct HostOwner {
  MacAddr mac{};
  std::string name;  ///< from a DHCP lease, empty when none (untrusted: sanitise before display)
};

/// What GeoIP knows of an address.
struct GeoInfo {
  enum class Kind : std::uint8_t {
    Located,  ///< found in a database (some fields may still be empty)
    Private,  ///< RFC 1918 / ULA / CGNAT: not looked up
    Loopback,
    LinkLocal,
    Multicast,
    Reserved,  ///< documentation, unspecified, broadcast, other reserved ranges
  };
  Kind kind = Kind::Located;
  std::string country;       ///< ISO 3166-1 alpha-2 ("US"), empty when unknown
  std::string country_name;  ///< "United States" (untrusted UTF-8)
  std::string city;          ///< (untrusted UTF-8)
  std::uint32_t asn = 0;     ///< 0 when unknown
  std::string org;           ///< AS organisation (untrusted UTF-8)
};

/// Short label for non-located kinds: "private", "loopback", "link-local", "multicast", "reserved".
const char* geo_kind_label(GeoInfo::Kind kind);

/// Which fields of an Enrichment a caller needs: a lookup may leave the others Pending (empty),
/// so that a pass over every flow copies only what it reads. The remote end's name and GeoIP
/// depend on the remote address alone (a pass may look them up once per address), the inside
/// end's on the inside address (core/ends.hpp says which end is which). kNeedProcess covers the
/// owner: the process, or the LAN host of a forwarded flow.
using EnrichNeeds = std::uint8_t;
inline constexpr EnrichNeeds kNeedProcess = 1U << 0U;
inline constexpr EnrichNeeds kNeedInsideName = 1U << 1U;
inline constexpr EnrichNeeds kNeedRemoteName = 1U << 2U;
inline constexpr EnrichNeeds kNeedInsideGeo = 1U << 3U;
inline constexpr EnrichNeeds kNeedRemoteGeo = 1U << 4U;
inline constexpr EnrichNeeds kNeedService = 1U << 5U;
inline constexpr EnrichNeeds kNeedNames = kNeedInsideName | kNeedRemoteName;
inline constexpr EnrichNeeds kNeedGeo = kNeedInsideGeo | kNeedRemoteGeo;
inline constexpr EnrichNeeds kNeedAll = 0x3F;

/// Everything the enrichment workers know of one flow, as copied out for a frame.
struct Enrichment {
  Lookup<ProcessInfo> process;  ///< Failed: no local socket (forwarded flow, or already closed)
  /// The LAN device of a forwarded flow's inside end (Disabled for other flows): its MAC from the
  /// neighbour table and its name from DHCP leases. Failed: not a neighbour.
  Lookup<HostOwner> host;
  Lookup<std::string> inside_name;  ///< reverse DNS of the inside (or local) end
  Lookup<std::string> remote_name;  ///< reverse DNS of the remote end
  Lookup<GeoInfo> inside_geo;
  Lookup<GeoInfo> remote_geo;
  std::string service;  ///< service name of the server port ("https"), empty when none
};

}  // namespace flowtop::core
