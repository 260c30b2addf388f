#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace flowtop::core {

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

/// An IPv4 or IPv6 address. IPv4 is stored v4-mapped (::ffff:a.b.c.d) so every address is 16 bytes.
/// Plain value type; any thread.
struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};

  /// From an IPv4 address in network byte order.
  static IpAddr from_v4_be(std::uint32_t be);
  /// From 16 bytes of an IPv6 address in network byte order.
  static IpAddr from_v6(const void* bytes16);
  /// Parses dotted IPv4 or textual IPv6; nullopt on anything else.
  static std::optional<IpAddr> parse(std::string_view text);

  [[nodiscard]] bool is_v4() const;
  [[nodiscard]] Family family() const { return is_v4() ? Family::V4 : Family::V6; }
  /// The IPv4 address in network byte order (only meaningful when is_v4()).
  [[nodiscard]] std::uint32_t v4_be() const;
  [[nodiscard]] bool is_loopback() const;
  /// The address as two words (high, low) that order as its bytes do: for packed sort keys.
  /// Inline: sorting and tie-breaking call it for every flow of a snapshot.
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> ordered_words() const {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::memcpy(&hi, bytes.data(), sizeof hi);
    std::memcpy(&lo, bytes.data() + sizeof hi, sizeof lo);
    if constexpr (std::endian::native == std::endian::little) {
      hi = __builtin_bswap64(hi);
      lo = __builtin_bswap64(lo);
    }
    return {hi, lo};
  }
  /// "10.0.0.1" or "2001:db8::1".
  [[nodiscard]] std::string to_string() const;

  auto operator<=>(const IpAddr&) const = default;  // NOLINT(modernize-use-nullptr): a tidy bug
};

}  // namespace flowtop::core
