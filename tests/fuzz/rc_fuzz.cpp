// libFuzzer target: flowtoprc, a file in a user's home that root reads. Parsing it never crashes,
// and no error message holds a control character or more than an excerpt of it. (Applying the
// entries needs the view module, which clang 14 cannot build: see CMakeLists.txt.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "flowtop/tui/rc_file.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  const flowtop::tui::RcFile rc = flowtop::tui::parse_rc(in.text(), "flowtoprc");
  for (const std::string& e : rc.errors) {
    for (const char c : e) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        std::abort();  // a control character reached an error message
      }
    }
    if (e.size() > 400) {
      std::abort();  // more than an excerpt of the file
    }
  }
  for (const auto& entry : rc.entries) {
    flowtop::fuzz::keep(flowtop::tui::rc_excerpt(entry.value));
  }
  return 0;
}
