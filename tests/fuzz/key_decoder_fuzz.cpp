// libFuzzer target: the key decoder, fed any sequence of ncurses events (characters, function
// keys, mouse reports), as a terminal (or a program writing to it) could produce.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_input.hpp"
#include "tui/key_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  const auto bytes = in.bytes();
  flowtop::tui::KeyDecoder decoder;
  for (std::size_t i = 0; i + 6 <= bytes.size(); i += 6) {
    flowtop::tui::RawKey key;
    key.type = static_cast<flowtop::tui::RawKey::Type>(bytes[i] % 3);
    std::uint32_t code = 0;
    std::memcpy(&code, bytes.data() + i + 1, sizeof code);
    key.code = code;
    key.y = bytes[i + 5] >> 4;
    key.x = bytes[i + 5] & 15;
    if (const auto input = decoder.feed(key)) {
      flowtop::fuzz::keep(*input);
    }
    if ((bytes[i] & 0x80) != 0) {
      if (const auto input = decoder.flush()) {
        flowtop::fuzz::keep(*input);
      }
    }
  }
  flowtop::fuzz::keep(decoder.flush());
  return 0;
}
