#include "flowtop/core/redact.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <system_error>

namespace flowtop::core {

std::optional<RedactScope> parse_redact_scope(std::string_view text) {
  if (text == "off") {
    return RedactScope::Off;
  }
  if (text == "local") {
    return RedactScope::Local;
  }
  if (text == "remote") {
    return RedactScope::Remote;
  }
  if (text == "all") {
    return RedactScope::All;
  }
  return std::nullopt;
}

std::string_view redact_scope_name(RedactScope scope) {
  switch (scope) {
    case RedactScope::Off: return "off";
    case RedactScope::Local: return "local";
    case RedactScope::Remote: return "remote";
    case RedactScope::All: return "all";
  }
  return "off";
}

namespace {

constexpr std::size_t kMaxRemembered = 65536;

using Block = std::array<std::uint8_t, 16>;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// AES-128 of single blocks (ECB, no padding) under one key.
class Aes {
 public:
  explicit Aes(const std::uint8_t* key) : ctx_(EVP_CIPHER_CTX_new()) {
    if (!ctx_ || EVP_EncryptInit_ex(ctx_.get(), EVP_aes_128_ecb(), nullptr, key, nullptr) != 1) {
      throw std::runtime_error("cannot set up AES-128 for privacy mode");
    }
    EVP_CIPHER_CTX_set_padding(ctx_.get(), 0);
  }
  Block encrypt(const Block& in) {
    Block out{};
    int len = 0;
    if (EVP_EncryptUpdate(ctx_.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) !=
            1 ||
        len != static_cast<int>(out.size())) {
      throw std::runtime_error("AES-128 failed");
    }
    return out;
  }

 private:
  CipherCtx ctx_;
};

bool bit(const std::uint8_t* bytes, std::size_t i) {
  return ((bytes[i / 8] >> (7 - i % 8)) & 1U) != 0;
}
void set_bit(std::uint8_t* bytes, std::size_t i, bool v) {
  const auto mask = static_cast<std::uint8_t>(1U << (7 - i % 8));
  bytes[i / 8] = v ? static_cast<std::uint8_t>(bytes[i / 8] | mask)
                   : static_cast<std::uint8_t>(bytes[i / 8] & ~mask);
}

}  // namespace

struct Redactor::Impl {
  Key key;
  Block pad{};
  std::mutex mu;  // guards aes and remembered
  Aes aes;
  std::map<IpAddr, IpAddr> remembered;

  explicit Impl(const Key& k) : key(k), aes(k.data()) {
    Block second{};
    std::memcpy(second.data(), k.data() + 16, 16);
    pad = aes.encrypt(second);
  }

  // Crypto-PAn over the `n` bits at `orig` (4 bytes for IPv4, 16 for IPv6): output bit i is
  // orig's bit i XOR the first bit of AES(orig's first i bits, then the pad's bits from i on).
  void anonymise(std::uint8_t* orig, std::size_t n) {
    std::array<std::uint8_t, 16> flips{};
    Block in = pad;
    for (std::size_t i = 0; i < n; ++i) {
      const Block out = aes.encrypt(in);
      set_bit(flips.data(), i, (out[0] & 0x80U) != 0);
      set_bit(in.data(), i, bit(orig, i));  // the next round sees one more bit of orig
    }
    for (std::size_t b = 0; b < n / 8; ++b) {
      orig[b] ^= flips[b];
    }
  }

  [[nodiscard]] std::array<std::uint8_t, 32> hmac(std::string_view what,
                                                  std::string_view text) const {
    std::string msg(what);
    msg += '\0';
    msg += text;
    std::array<std::uint8_t, 32> out{};
    unsigned len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out.data(),
             &len) == nullptr) {
      throw std::runtime_error("HMAC-SHA-256 failed");
    }
    return out;
  }
};

Redactor::Key Redactor::random_key() {
  Key key{};
  std::size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = ::getrandom(key.data() + got, key.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
  return key;
}

Redactor::Redactor(const Key& key) : impl_(std::make_unique<Impl>(key)) {}
Redactor::~Redactor() = default;

IpAddr Redactor::address(const IpAddr& addr) const {
  const std::lock_guard lock(impl_->mu);
  if (const auto it = impl_->remembered.find(addr); it != impl_->remembered.end()) {
    return it->second;
  }
  IpAddr out = addr;
  if (addr.is_v4()) {
    impl_->anonymise(out.bytes.data() + 12, 32);
  } else {
    impl_->anonymise(out.bytes.data(), 128);
  }
  if (impl_->remembered.size() >= kMaxRemembered) {
    impl_->remembered.clear();
  }
  impl_->remembered.emplace(addr, out);
  return out;
}

std::string Redactor::name(std::string_view name) const {
  const auto h = impl_->hmac("name", name);
  return fmt::format("name-{:02x}{:02x}{:02x}", h[0], h[1], h[2]);
}

std::string Redactor::user(std::string_view user) const {
  const auto h = impl_->hmac("user", user);
  return fmt::format("user-{:02x}{:02x}{:02x}", h[0], h[1], h[2]);
}

std::string Redactor::mac(std::string_view mac) const {
  const auto h = impl_->hmac("mac", mac);
  return fmt::format("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", h[0], h[1], h[2], h[3], h[4]);
}

MacAddr Redactor::mac(const MacAddr& mac) const {
  const auto h = impl_->hmac("mac", mac_text(mac));
  return MacAddr{0x02, h[0], h[1], h[2], h[3], h[4]};
}

}  // namespace flowtop::core
