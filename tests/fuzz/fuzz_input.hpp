#pragma once

// Shared by the libFuzzer targets: the input copied to a buffer at an odd address, so a parser
// that assumes alignment (a cast of bytes to a struct) is caught by UBSan.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace flowtop::fuzz {

class Misaligned {
 public:
  Misaligned(const std::uint8_t* data, std::size_t size) : buf_(size + 1) {
    if (size > 0) {
      std::memcpy(buf_.data() + 1, data, size);
    }
  }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const {
    return {buf_.data() + 1, buf_.size() - 1};
  }
  [[nodiscard]] std::string_view text() const {
    return {reinterpret_cast<const char*>(buf_.data() + 1), buf_.size() - 1};
  }

 private:
  std::vector<std::uint8_t> buf_;
};

/// Keeps a value alive for the optimiser.
template <class T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

}  // namespace flowtop::fuzz
