#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flowtop::sys {

/// True in a build configured with -DFLOWTOP_TEST_HOOKS=ON (tests, sanitizer builds); false in an
/// installed binary.
bool test_hooks_built();

/// The value of the environment variable `name` (FLOWTOP_RUN_DIR, FLOWTOP_CONFIG_DIR,
/// FLOWTOP_GEOIPUPDATE_CONF, FLOWTOP_UPDATE_CA_FILE, FLOWTOP_UPDATE_RESOLVE, the
/// FLOWTOP_UPDATE_*TIMEOUT settings) when it is set and not empty, and only in a build with test
/// hooks: a root binary built without them never lets the environment redirect a privileged path,
/// a download or its trust anchor. Reads the environment: call it from the main thread before
/// other threads start, or from a thread that knows nobody changes the environment.
std::optional<std::string> test_hook(std::string_view name);

}  // namespace flowtop::sys
