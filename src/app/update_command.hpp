#pragma once

#include <string>

namespace flowtop::app {

/// `flowtop -u`: updates the GeoIP databases from the sources in `geoip_conf_path` into
/// `geoip_dir` (empty: /var/lib/flowtop). `tty`: stderr is a terminal, so progress bars are drawn
/// there. SIGINT, SIGTERM and SIGHUP stop the update cleanly (no temporary file left).
/// Test hooks (environment, only in a build with -DFLOWTOP_TEST_HOOKS=ON): FLOWTOP_UPDATE_TIMEOUT, FLOWTOP_UPDATE_CONNECT_TIMEOUT,
/// FLOWTOP_UPDATE_STALL_TIMEOUT (seconds), FLOWTOP_UPDATE_CA_FILE (CA bundle),
/// FLOWTOP_UPDATE_RESOLVE ("HOST:PORT:ADDRESS", comma-separated), FLOWTOP_GEOIPUPDATE_CONF (instead
/// of /etc/GeoIP.conf).
/// Returns the exit status: 0 every database updated or up to date, 1 some failed (or no
/// permission to write the directory, or interrupted), 2 a bad geoip.conf or setting. Main thread,
/// before any other thread exists.
int run_update(const std::string& geoip_conf_path, const std::string& geoip_dir, bool tty);

}  // namespace flowtop::app
