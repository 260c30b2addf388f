#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::core {

/// Which ends of a flow privacy mode masks (--redact, the `P` key).
///  - Local: this machine's and the LAN's side: its addresses (the inside end, and the NAT
///    addresses of this machine), their names, LAN devices' MACs and lease names, user names;
///  - Remote: the peer's address and its reverse-DNS name;
///  - All: both.
enum class RedactScope : std::uint8_t { Off, Local, Remote, All };

/// "local", "remote", "all" (and "off"); nullopt for anything else.
std::optional<RedactScope> parse_redact_scope(std::string_view text);
/// "off", "local", "remote", "all".
std::string_view redact_scope_name(RedactScope scope);
[[nodiscard]] inline bool redacts_local(RedactScope s) {
  return s == RedactScope::Local || s == RedactScope::All;
}
[[nodiscard]] inline bool redacts_remote(RedactScope s) {
  return s == RedactScope::Remote || s == RedactScope::All;
}

/// The pseudonyms of privacy mode, from a secret key drawn once per run, so the same input gets
/// the same mask for the whole run and a different one in the next run:
///  - addresses: Crypto-PAn (Xu, Fan, Ammar, Moon 2002; AES-128): a prefix-preserving
///    permutation of the address space of each family. An IPv4 address maps to an IPv4 address,
///    an IPv6 to an IPv6 one, and two addresses that share their first n bits map to pseudonyms
///    that share their first n bits (a subnet stays a subnet of the same prefix length);
///  - names (reverse DNS, lease names, host names, namespaces): "name-" and 6 hex digits of a
///    keyed hash (HMAC-SHA-256);
///  - user names: "user-" and 6 hex digits; MACs: "02:" (a locally administered address) and
///    5 bytes of a keyed hash.
/// Thread-safe (the snapshot thread and the UI thread share one); it remembers the addresses it
/// masked (up to 65536, then it starts over), so that a frame of many flows stays cheap.
class Redactor {
 public:
  using Key = std::array<std::uint8_t, 32>;

  /// A key from getrandom(). Throws std::system_error.
  static Key random_key();
  explicit Redactor(const Key& key);
  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  [[nodiscard]] IpAddr address(const IpAddr& addr) const;
  [[nodiscard]] std::string name(std::string_view name) const;
  [[nodiscard]] std::string user(std::string_view user) const;
  /// "aa:bb:cc:dd:ee:ff" (any text) → "02:xx:xx:xx:xx:xx".
  [[nodiscard]] std::string mac(std::string_view mac) const;
  /// The same mask as bytes: mac_text(mac(m)) == mac(mac_text(m)).
  [[nodiscard]] MacAddr mac(const MacAddr& mac) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::core
