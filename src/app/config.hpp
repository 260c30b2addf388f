#pragma once

#include <string>
#include <vector>

namespace flowtop::app {

/// The directories searched for a configuration file, in order: /etc/flowtop, /etc/netsniff-ng
/// (only for tcp.conf and udp.conf, compatibility), then the installed defaults. A build with test
/// hooks searches $FLOWTOP_CONFIG_DIR first and the source tree's conf/ last.
std::vector<std::string> config_dirs(const std::string& name);
/// The first existing `name` in config_dirs(name), or "" when none exists.
std::string find_config(const std::string& name);

}  // namespace flowtop::app
