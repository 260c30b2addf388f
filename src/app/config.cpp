#include "config.hpp"

#include <unistd.h>

#include "flowtop/sys/test_hooks.hpp"

namespace flowtop::app {

std::vector<std::string> config_dirs(const std::string& name) {
  std::vector<std::string> dirs;
  if (auto dir = sys::test_hook("FLOWTOP_CONFIG_DIR")) {
    dirs.push_back(std::move(*dir));
  }
  dirs.emplace_back("/etc/flowtop");
  if (name == "tcp.conf" || name == "udp.conf") {
    dirs.emplace_back("/etc/netsniff-ng");
  }
  dirs.emplace_back(FLOWTOP_DATA_DIR);  // installed defaults
#ifdef FLOWTOP_CONF_DIR
  dirs.emplace_back(FLOWTOP_CONF_DIR);  // the source tree's conf/: builds with test hooks only
#endif
  return dirs;
}

std::string find_config(const std::string& name) {
  for (const auto& dir : config_dirs(name)) {
    std::string path = dir;
    path += '/';
    path += name;
    if (access(path.c_str(), R_OK) == 0) {
      return path;
    }
  }
  return {};
}

}  // namespace flowtop::app
