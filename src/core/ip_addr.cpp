#include "flowtop/core/ip_addr.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>

namespace flowtop::core {
namespace {
constexpr std::array<std::uint8_t, 12> kV4Prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

IpAddr IpAddr::from_v4_be(std::uint32_t be) {
  IpAddr a;
  std::memcpy(a.bytes.data(), kV4Prefix.data(), kV4Prefix.size());
  std::memcpy(a.bytes.data() + 12, &be, 4);
  return a;
}

IpAddr IpAddr::from_v6(const void* bytes16) {
  IpAddr a;
  std::memcpy(a.bytes.data(), bytes16, 16);
  return a;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  // inet_pton stops at a NUL: "1.2.3.4\0junk" must not parse as 1.2.3.4.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in_addr v4{};
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    return from_v4_be(v4.s_addr);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    return from_v6(&v6);
  }
  return std::nullopt;
}

bool IpAddr::is_v4() const {
  return std::memcmp(bytes.data(), kV4Prefix.data(), kV4Prefix.size()) == 0;
}

std::uint32_t IpAddr::v4_be() const {
  std::uint32_t be = 0;
  std::memcpy(&be, bytes.data() + 12, 4);
  return be;
}

bool IpAddr::is_loopback() const {
  if (is_v4()) {
    return bytes[12] == 127;
  }
  static constexpr std::array<std::uint8_t, 16> kLoop6{0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 0, 0, 0, 1};
  return bytes == kLoop6;
}

std::string IpAddr::to_string() const {
  if (is_v4()) {
    // inet_ntop's IPv4 text ("%u.%u.%u.%u") through {fmt}: glibc builds it with sprintf, which
    // was a tenth of --batch's formatting time.
    return fmt::format("{}.{}.{}.{}", bytes[12], bytes[13], bytes[14], bytes[15]);
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

}  // namespace flowtop::core
