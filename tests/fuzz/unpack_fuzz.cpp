// libFuzzer target: the updater's unpacking of downloads: gunzip (.mmdb.gz) and untar_mmdb
// (.tar.gz), on any bytes. The first byte picks which; bad data is a SourceError.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>

#include "geoip/update_unpack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static const int in = ::memfd_create("unpack_in", MFD_CLOEXEC);
  static const int out = ::memfd_create("unpack_out", MFD_CLOEXEC);
  if (in < 0 || out < 0 || ::ftruncate(in, 0) != 0 || ::ftruncate(out, 0) != 0 ||
      ::lseek(out, 0, SEEK_SET) != 0 ||
      ::pwrite(in, data + 1, size - 1, 0) != static_cast<ssize_t>(size - 1)) {
    return 0;
  }
  try {
    if ((data[0] & 1) == 0) {
      flowtop::geoip::detail::gunzip_file(in, out, nullptr);
    } else {
      flowtop::geoip::detail::untar_mmdb(in, out, nullptr);
    }
  } catch (const flowtop::geoip::detail::SourceError&) {
  } catch (const flowtop::geoip::detail::Interrupted&) {
  }
  return 0;
}
