// libFuzzer target: flowtoprc, a file in a user's home that root reads. Parsing it never crashes,
// and no error message holds a control character or more than an excerpt of it; applying the
// entries to a view state never crashes either.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "flowtop/tui/rc_file.hpp"
#include "flowtop/tui/settings.hpp"
#include "flowtop/view/view_state.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  const flowtop::tui::RcFile rc = flowtop::tui::parse_rc(in.text(), "flowtoprc");
  std::vector<std::string> errors = rc.errors;
  flowtop::view::ViewState state = flowtop::view::default_view_state();
  flowtop::tui::apply_rc(rc, "flowtoprc", state, errors);
  flowtop::fuzz::keep(state.interval_s);
  for (const std::string& e : errors) {
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
