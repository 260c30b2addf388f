#include "view/filter_values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/text.hpp"
#include "flowtop/view/filter.hpp"

namespace flowtop::view::detail {
namespace {

[[noreturn]] void fail(std::size_t pos, std::string message) {
  throw FilterError{pos, std::move(message)};
}

// A number and what follows it: "1.5MB/s" -> 1.5, "MB/s". Fails at `pos` without digits.
std::pair<double, std::string_view> split_number(std::string_view v, std::size_t pos,
                                                 std::string_view term) {
  std::size_t n = 0;
  while (n < v.size() && (std::isdigit(static_cast<unsigned char>(v[n])) != 0 || v[n] == '.')) {
    ++n;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + n, value);
  if (n == 0 || ec != std::errc() || end != v.data() + n || !std::isfinite(value)) {
    fail(pos, fmt::format("'{}' needs a number, not '{}'", term, v));
  }
  return {value, v.substr(n)};
}

double prefix_factor(std::string_view p, bool binary) {
  if (p.empty()) {
    return 1;
  }
  const std::string l = core::ascii_lower(p);
  constexpr std::array<std::string_view, 5> kPrefixes{"k", "m", "g", "t", "p"};
  for (std::size_t i = 0; i < kPrefixes.size(); ++i) {
    if (l == kPrefixes[i]) {
      return std::pow(binary ? 1024.0 : 1000.0, static_cast<double>(i + 1));
    }
  }
  return -1;
}

}  // namespace

// Bytes from a size or a rate with units: B kB MB GB TB PB, KiB.., bit kbit Mbit.., b kb Mb
// (bits). `rate` allows a trailing "/s" or "ps".
double parse_size(std::string_view v, std::size_t pos, std::string_view term, bool rate) {
  auto [value, unit] = split_number(v, pos, term);
  const std::size_t unit_pos = pos + (v.size() - unit.size());
  std::string_view u = unit;
  if (rate) {
    if (u.ends_with("/s") || u.ends_with("ps")) {
      u.remove_suffix(2);
    }
  }
  double factor = -1;
  if (u.ends_with("bits") || u.ends_with("bit")) {
    u.remove_suffix(u.ends_with("bits") ? 4 : 3);
    factor = prefix_factor(u, false) / 8;
  } else if (u.ends_with("iB") || u.ends_with("ib")) {
    u.remove_suffix(2);
    factor = u.empty() ? -1 : prefix_factor(u, true);
  } else if (u.ends_with("B")) {
    u.remove_suffix(1);
    factor = prefix_factor(u, false);
  } else if (u.ends_with("b")) {
    u.remove_suffix(1);
    factor = prefix_factor(u, false) / 8;
  } else {
    factor = prefix_factor(u, false);
  }
  if (factor <= 0) {
    fail(unit_pos, fmt::format("unknown unit '{}' for '{}' (use B kB MB GB TB, KiB MiB GiB, or "
                               "bit kbit Mbit Gbit{})",
                               unit, term, rate ? ", with an optional /s" : ""));
  }
  return value * factor;
}

double parse_count(std::string_view v, std::size_t pos, std::string_view term) {
  auto [value, unit] = split_number(v, pos, term);
  const double factor = prefix_factor(unit, false);
  if (factor <= 0) {
    fail(pos + (v.size() - unit.size()),
         fmt::format("unknown unit '{}' for '{}' (use k M G)", unit, term));
  }
  return value * factor;
}

double parse_age(std::string_view v, std::size_t pos, std::string_view term) {
  auto [value, unit] = split_number(v, pos, term);
  const std::string u = core::ascii_lower(unit);
  double factor = -1;
  if (u.empty() || u == "s" || u == "sec" || u == "secs") {
    factor = 1;
  } else if (u == "m" || u == "min" || u == "mins") {
    factor = 60;
  } else if (u == "h" || u == "hour" || u == "hours") {
    factor = 3600;
  } else if (u == "d" || u == "day" || u == "days") {
    factor = 86400;
  }
  if (factor < 0) {
    fail(pos + (v.size() - unit.size()),
         fmt::format("unknown unit '{}' for '{}' (use s m h d)", unit, term));
  }
  return value * factor;
}

// An integer: decimal, or hex with 0x (marks); "AS15133" for AS numbers.
double parse_integer(std::string_view v, std::size_t pos, std::string_view term, Field field) {
  std::string_view digits = v;
  if (field == Field::Asn && digits.size() > 2 && core::ascii_lower(digits.substr(0, 2)) == "as") {
    digits.remove_prefix(2);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    fail(pos, fmt::format("'{}' needs a whole number, not '{}'", term, v));
  }
  return static_cast<double>(n);
}

std::vector<std::uint8_t> parse_protos(std::string_view v, std::size_t pos) {
  const std::string l = core::ascii_lower(v);
  using P = core::L4Proto;
  const auto n = [](P p) { return static_cast<std::uint8_t>(p); };
  struct Name {
    std::string_view name;
    std::vector<std::uint8_t> protos;
  };
  const std::array<Name, 11> names{{{"tcp", {n(P::Tcp)}},
                                    {"udp", {n(P::Udp)}},
                                    {"udplite", {n(P::UdpLite)}},
                                    {"udp-lite", {n(P::UdpLite)}},
                                    {"sctp", {n(P::Sctp)}},
                                    {"dccp", {n(P::Dccp)}},
                                    {"icmp", {n(P::Icmp), n(P::Icmpv6)}},  // both, as `I`
                                    {"icmpv6", {n(P::Icmpv6)}},
                                    {"icmp6", {n(P::Icmpv6)}},
                                    {"ipv6-icmp", {n(P::Icmpv6)}},
                                    {"gre", {n(P::Gre)}}}};
  for (const Name& name : names) {
    if (name.name == l) {
      return name.protos;
    }
  }
  unsigned num = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), num);
  if (!v.empty() && ec == std::errc() && end == v.data() + v.size() && num <= 255) {
    return {static_cast<std::uint8_t>(num)};
  }
  fail(pos, fmt::format("unknown protocol '{}' (tcp udp udplite sctp dccp icmp icmpv6 gre, or a "
                        "number)",
                        v));
}

std::optional<StatusFlag> status_flag(std::string_view v) {
  const std::string l = core::ascii_lower(v);
  if (l == "unreplied") {
    return StatusFlag{core::kStatusSeenReply, false};
  }
  if (l == "assured") {
    return StatusFlag{core::kStatusAssured, true};
  }
  if (l == "offload") {
    return StatusFlag{core::kStatusOffload, true};
  }
  if (l == "hw_offload" || l == "hw-offload") {
    return StatusFlag{core::kStatusHwOffload, true};
  }
  return std::nullopt;
}

bool known_state(std::string_view v) {
  for (const auto proto : {core::L4Proto::Tcp, core::L4Proto::Sctp, core::L4Proto::Dccp}) {
    for (std::uint8_t s = 0; s < 16; ++s) {
      const std::string_view name = core::state_name(static_cast<std::uint8_t>(proto), s);
      if (name != "UNKNOWN" && core::ascii_lower(name) == core::ascii_lower(v)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace flowtop::view::detail
