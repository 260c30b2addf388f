// libFuzzer target: arbitrary bytes opened as a MaxMind DB (a downloaded or planted file), then
// looked up: refused with an error or read, never a crash or an out-of-bounds read.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/ip_addr.hpp"
#include "flowtop/geoip/database.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int fd = ::memfd_create("mmdb_fuzz", MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    return 0;
  }
  try {
    const flowtop::geoip::Database db("/proc/self/fd/" + std::to_string(fd));
    for (const char* a : {"81.2.69.142", "8.8.8.8", "1.1.1.1", "2001:218::1", "::1"}) {
      flowtop::core::GeoInfo info;
      db.lookup(*flowtop::core::IpAddr::parse(a), info);
    }
    volatile auto sink = db.build_epoch() + db.type().size();
    (void)sink;
  } catch (const std::exception&) {  // refused: what a bad file should get
  }
  return 0;
}
