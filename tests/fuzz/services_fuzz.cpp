// libFuzzer target: tcp.conf / udp.conf (`<port>, <name>` lines).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "flowtop/enrich/service_names.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  const flowtop::enrich::ServiceTable t = flowtop::enrich::parse_services(in.text(), "tcp.conf");
  for (const auto& [port, name] : t.names) {
    if (port == 0 || name.empty() || name.size() > 64) {
      std::abort();  // the parser promised a port in 1..65535 and a name of 1..64 bytes
    }
  }
  flowtop::fuzz::keep(t.errors);
  return 0;
}
