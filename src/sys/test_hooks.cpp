#include "flowtop/sys/test_hooks.hpp"

#include <cstdlib>

namespace flowtop::sys {

bool test_hooks_built() {
#if defined(FLOWTOP_TEST_HOOKS) && FLOWTOP_TEST_HOOKS
  return true;
#else
  return false;
#endif
}

std::optional<std::string> test_hook(std::string_view name) {
#if defined(FLOWTOP_TEST_HOOKS) && FLOWTOP_TEST_HOOKS
  const std::string key(name);
  const char* value = std::getenv(key.c_str());  // NOLINT(concurrency-mt-unsafe): see header
  if (value != nullptr && *value != '\0') {
    return std::string(value);
  }
  return std::nullopt;
#else
  (void)name;
  return std::nullopt;
#endif
}

}  // namespace flowtop::sys
