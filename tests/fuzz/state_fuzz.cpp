// libFuzzer target: the state payloads in /run/flowtop (what to restore: sysctl values, the
// --track table's handle). Only plain decimal values of the two settings may come out.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "flowtop/app/track_guard.hpp"
#include "flowtop/sys/sysctl_guard.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  for (const auto& [name, value] : flowtop::sys::parse_sysctl_payload(in.text())) {
    if (name != "nf_conntrack_acct" && name != "nf_conntrack_timestamp") {
      std::abort();
    }
    if (value.empty() || value.size() > 32 || value.find_first_not_of("0123456789") != value.npos) {
      std::abort();  // would be written to /proc/sys
    }
  }
  flowtop::fuzz::keep(flowtop::app::parse_track_payload(in.text()));
  return 0;
}
