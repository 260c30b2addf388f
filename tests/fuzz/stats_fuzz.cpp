// libFuzzer target: any byte sequence handed to the conntrack statistics parser
// (IPCTNL_MSG_CT_GET_STATS_CPU / _GET_STATS replies) must decode or be rejected, never crash, hang
// or read out of bounds. Build: scripts/fuzz.sh (clang, -DFLOWTOP_FUZZ=ON).
#include <cstddef>
#include <cstdint>

#include "flowtop/conntrack/stats_parser.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  flowtop::core::CtCpuStats cpu;
  flowtop::core::CtStatsSample sample;
  const auto r = flowtop::conntrack::parse_ct_stats(in.bytes(), cpu, sample);
  flowtop::fuzz::keep(r);
  flowtop::fuzz::keep(cpu);
  flowtop::fuzz::keep(sample);
  return 0;
}
