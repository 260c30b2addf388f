// libFuzzer target: the sanitiser every untrusted string passes before a terminal (DNS names,
// process names, database and file content). Whatever the bytes, the output is valid UTF-8 with no
// control, escape, bidi or format character; sanitising is idempotent; the width functions agree
// with each other and never split a character.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "flowtop/core/text.hpp"
#include "fuzz_input.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowtop::core;
  const flowtop::fuzz::Misaligned in(data, size);
  const std::string clean = sanitize(in.text());
  for (std::size_t i = 0; i < clean.size();) {
    const Utf8Step u = utf8_step(clean, i);
    check(u.valid);                      // valid UTF-8
    check(!is_unsafe_codepoint(u.cp));   // no control, escape, bidi or format character
    i += u.len;
  }
  check(sanitize(clean) == clean);  // idempotent
  const std::string cut = sanitize(in.text(), 40);
  check(cut.size() <= 40);
  check(sanitize(cut) == cut);
  const std::size_t width = display_width(clean);
  for (const std::size_t w : {std::size_t{0}, std::size_t{1}, std::size_t{7}, width / 2, width}) {
    const std::string_view prefix = truncate_to_width(clean, w);
    check(display_width(prefix) <= w);
    check(clean.compare(0, prefix.size(), prefix) == 0);
    check(display_width(fit(clean, w)) == w);  // padded or cut to exactly w columns
  }
  return 0;
}
