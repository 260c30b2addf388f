// libFuzzer target: sock_diag replies (the kernel's, but parsed with no trust in their lengths).
#include <cstddef>
#include <cstdint>

#include "enrich/sock_diag.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const flowtop::fuzz::Misaligned in(data + 1, size - 1);
  // The first byte picks the protocol the reply is read for (TCP, UDP, UDP-lite or another).
  const std::uint8_t protos[] = {6, 17, 136, 132};
  const auto info = flowtop::enrich::parse_sock_diag(in.bytes(), protos[data[0] % 4]);
  if (info) {
    flowtop::fuzz::keep(*info);
  }
  return 0;
}
