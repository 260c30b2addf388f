// libFuzzer target: any byte sequence handed to the ctnetlink parser must decode or be rejected,
// never crash, hang or read out of bounds. Build: scripts/fuzz.sh (clang, -DFLOWTOP_FUZZ=ON).
#include <cstddef>
#include <cstdint>

#include "flowtop/conntrack/parser.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using flowtop::conntrack::parse_ct_message;
  const flowtop::fuzz::Misaligned in(data, size);
  const auto r = parse_ct_message(in.bytes(), 1, (size & 1) != 0);
  if (r.msg) {
    // Touch the decoded record so the optimiser keeps the whole decode.
    volatile auto sink = r.msg->rec.key.hash() ^ r.msg->rec.orig_ctr.bytes;
    (void)sink;
  }
  return 0;
}
