#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flowtop/core/ip_addr.hpp"

namespace flowtop::geoip {

/// Debian tor-geoipdb country ranges: `geoip` (`LOW,HIGH,CC`, IPv4 as integers) and `geoip6`
/// (`LOW,HIGH,CC`, textual IPv6), `#` comments. Built once, then read-only: lookups from any
/// thread.
class TorGeoDb {
 public:
  /// Loads DIR/geoip and DIR/geoip6; a missing file is not an error. Bad lines are reported in
  /// `warnings` as "file:line: reason" and skipped.
  /// Each file may hold at most kMaxFileBytes (Debian's are ~10 MB); a bigger one, a FIFO or a
  /// device is a warning, never read.
  static TorGeoDb load(const std::string& dir, std::vector<std::string>& warnings);
  /// The same from the files' text (fuzzing, tests).
  static TorGeoDb parse(std::string_view v4_text, std::string_view v6_text,
                        std::vector<std::string>& warnings);
  static constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;

  [[nodiscard]] bool empty() const { return v4_.empty() && v6_.empty(); }
  [[nodiscard]] std::size_t v4_ranges() const { return v4_.size(); }
  [[nodiscard]] std::size_t v6_ranges() const { return v6_.size(); }
  /// The two-letter country code of the range holding `addr`; empty when none does.
  [[nodiscard]] std::string lookup(const core::IpAddr& addr) const;

 private:
  using CountryCode = std::array<char, 2>;
  struct V4Range {
    std::uint32_t low;  // host byte order
    std::uint32_t high;
    CountryCode cc;
  };
  struct V6Range {
    std::array<std::uint8_t, 16> low;  // network byte order: compares as an integer
    std::array<std::uint8_t, 16> high;
    CountryCode cc;
  };

  static void load_file(const std::string& path, bool v6, TorGeoDb& db,
                        std::vector<std::string>& warnings);
  static void parse_text(std::string_view text, const std::string& path, bool v6, TorGeoDb& db,
                         std::vector<std::string>& warnings);
  void sort_ranges();

  std::vector<V4Range> v4_;  // sorted by low, non-overlapping
  std::vector<V6Range> v6_;
};

}  // namespace flowtop::geoip
