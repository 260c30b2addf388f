#include "update_command.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>

#include "flowtop/geoip/geoip_conf.hpp"
#include "flowtop/geoip/updater.hpp"
#include "flowtop/core/text.hpp"
#include "flowtop/sys/test_hooks.hpp"

namespace flowtop::app {
namespace {

// At most 40 bytes of a setting, safe for a terminal.
std::string geoip_text_excerpt(const std::string& v) {
  return core::sanitize(std::string_view(v).substr(0, 40));
}

constexpr const char* kDefaultDir = "/var/lib/flowtop";

std::atomic<bool> g_stop{false};  // set by the signal handler, read by the updater

extern "C" void on_stop_signal(int /*sig*/) {
  g_stop.store(true);
}

/// Catches SIGINT/SIGTERM/SIGHUP for the update (so temporary files are removed) and ignores
/// SIGPIPE (output to a closed pipe must not kill a half-done update); restores them after.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < std::size(kStop); ++i) {
      ::sigaction(kStop[i], &sa, &old_[i]);
    }
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, &old_pipe_);
  }
  ~StopSignals() {
    for (std::size_t i = 0; i < std::size(kStop); ++i) {
      ::sigaction(kStop[i], &old_[i], nullptr);
    }
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  static constexpr int kStop[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3]{};
  struct sigaction old_pipe_ {};
};

/// A number of seconds from a test hook; nullopt when unset; throws on a bad value.
std::optional<long> env_seconds(const char* name) {
  const auto v = sys::test_hook(name);
  if (!v) {
    return std::nullopt;
  }
  char* end = nullptr;
  const long n = std::strtol(v->c_str(), &end, 10);
  if (*end != '\0' || n < 1 || n > 86400) {
    throw std::invalid_argument(fmt::format("{}: '{}' is not a number of seconds (1 to 86400)",
                                            name, geoip_text_excerpt(*v)));
  }
  return n;
}

std::string env_string(const char* name) {
  return sys::test_hook(name).value_or("");
}

/// A licence key in a file that group or others may read is a key others may use: say so.
void warn_if_key_readable(const geoip::GeoipConf& conf) {
  if (!conf.account) {
    return;
  }
  std::string file = conf.account->origin;
  if (file.rfind(conf.path + ":", 0) == 0) {
    file = conf.path;  // "geoip.conf:3"
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    std::cerr << fmt::format(
        "flowtop: warning: {} holds a MaxMind licence key and group or others may read it "
        "(mode {:04o}): 'chmod 600' it\n",
        core::sanitize(file), st.st_mode & 07777);
  }
}

int terminal_columns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  return 80;
}

}  // namespace

int run_update(const std::string& geoip_conf_path, const std::string& geoip_dir, bool tty) {
  if (geoip_conf_path.empty()) {
    std::cerr << "flowtop: no geoip.conf found (searched $FLOWTOP_CONFIG_DIR, /etc/flowtop/ and "
                 "the installed defaults): nothing to update\n";
    return 2;
  }
  geoip::GeoipConf conf = geoip::read_geoip_conf(geoip_conf_path);
  if (conf.errors.empty()) {
    geoip::resolve_maxmind(conf, geoip::geoipupdate_conf_path());
    warn_if_key_readable(conf);
  }
  if (!conf.errors.empty()) {
    for (const std::string& e : conf.errors) {
      std::cerr << "flowtop: " << e << '\n';
    }
    std::cerr << "flowtop: no database updated: fix " << geoip_conf_path
              << " (its comments describe the format)\n";
    return 2;
  }
  if (conf.sources.empty()) {
    std::cerr << "flowtop: " << geoip_conf_path
              << ": no sources (every line is a comment): nothing to update\n";
    return 2;
  }

  geoip::UpdateOptions options;
  options.dir = geoip_dir.empty() ? std::string(kDefaultDir) : geoip_dir;
  options.progress = tty;
  options.columns = tty ? terminal_columns() : 80;
  try {
    options.connect_timeout_s =
        env_seconds("FLOWTOP_UPDATE_CONNECT_TIMEOUT").value_or(options.connect_timeout_s);
    options.stall_timeout_s =
        env_seconds("FLOWTOP_UPDATE_STALL_TIMEOUT").value_or(options.stall_timeout_s);
    options.total_timeout_s =
        env_seconds("FLOWTOP_UPDATE_TIMEOUT").value_or(options.total_timeout_s);
  } catch (const std::invalid_argument& e) {
    std::cerr << "flowtop: " << e.what() << '\n';
    return 2;
  }
  options.ca_file = env_string("FLOWTOP_UPDATE_CA_FILE");
  const std::string resolve = env_string("FLOWTOP_UPDATE_RESOLVE");
  for (std::size_t start = 0; start < resolve.size();) {
    const std::size_t comma = resolve.find(',', start);
    const std::string item =
        resolve.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) {
      options.resolve.push_back(item);
    }
    start = comma == std::string::npos ? resolve.size() : comma + 1;
  }
  options.user_agent = fmt::format("flowtop/{}", FLOWTOP_VERSION);
  g_stop.store(false);
  options.stop = &g_stop;

  const StopSignals signals;
  std::cout << fmt::format("flowtop: updating the GeoIP databases in {} (sources: {})\n",
                           options.dir, geoip_conf_path)
            << std::flush;
  const geoip::UpdateSummary summary = geoip::update_databases(conf, options, std::cout, std::cerr);
  return summary.exit_status();
}

}  // namespace flowtop::app
