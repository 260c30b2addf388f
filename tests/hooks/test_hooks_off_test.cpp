// What an installed binary (built with -DFLOWTOP_TEST_HOOKS=OFF) does with the test hooks: this
// executable compiles the hook and the configuration search exactly as such a build does, and
// checks that the environment redirects nothing and that the source tree's conf/ is not searched.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "app/config.hpp"
#include "flowtop/sys/test_hooks.hpp"

namespace {

const char* const kHooks[] = {"FLOWTOP_RUN_DIR",          "FLOWTOP_CONFIG_DIR",
                              "FLOWTOP_GEOIPUPDATE_CONF", "FLOWTOP_UPDATE_CA_FILE",
                              "FLOWTOP_UPDATE_RESOLVE",   "FLOWTOP_UPDATE_TIMEOUT"};

TEST(TestHooksOff, TheEnvironmentRedirectsNothing) {
  EXPECT_FALSE(flowtop::sys::test_hooks_built());
  for (const char* name : kHooks) {
    ::setenv(name, "/tmp/attacker", 1);
    EXPECT_EQ(flowtop::sys::test_hook(name), std::nullopt) << name;
    ::unsetenv(name);
  }
}

TEST(TestHooksOff, ConfigurationIsSearchedInEtcThenTheInstalledDefaultsOnly) {
  ::setenv("FLOWTOP_CONFIG_DIR", "/tmp/attacker", 1);
  EXPECT_EQ(flowtop::app::config_dirs("tcp.conf"),
            (std::vector<std::string>{"/etc/flowtop", "/etc/netsniff-ng", FLOWTOP_DATA_DIR}));
  EXPECT_EQ(flowtop::app::config_dirs("geoip.conf"),
            (std::vector<std::string>{"/etc/flowtop", FLOWTOP_DATA_DIR}));
  ::unsetenv("FLOWTOP_CONFIG_DIR");
}

}  // namespace
