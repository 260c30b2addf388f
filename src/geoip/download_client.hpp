#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

// The updater's HTTP(S) client (libcurl). Main thread.
namespace flowtop::geoip::detail {

struct DownloadLimits {
  long connect_s = 20;  ///< connection set-up (TCP + TLS)
  long stall_s = 60;    ///< no data at all for this long: the server stalled
  long total_s = 1800;  ///< the whole transfer, redirects included
};

/// Told the bytes received so far and the expected total (0: unknown); false aborts the transfer.
using ProgressFn = std::function<bool(std::uint64_t now, std::uint64_t total)>;

struct DownloadRequest {
  std::string url;
  std::string user;      ///< HTTP basic authentication when not empty (MaxMind: account id)
  std::string password;  ///< (MaxMind: licence key)
  /// Ask for the file only if it changed after this time (If-Modified-Since); 0: always.
  std::time_t if_modified_since = 0;
  DownloadLimits limits;
  std::string ca_file;               ///< CA bundle instead of the system's (tests)
  std::vector<std::string> resolve;  ///< "HOST:PORT:ADDRESS" pins (CURLOPT_RESOLVE; tests)
  std::string user_agent = "flowtop";
  ProgressFn progress;  ///< called often, also while nothing arrives; may be empty
};

struct DownloadResult {
  enum class Status {
    Ok,           ///< HTTP 200: the body is in the file
    NotModified,  ///< HTTP 304 (If-Modified-Since)
    HttpError,    ///< a final HTTP status other than 200/304: http_status and error
    Failed,       ///< no usable response (DNS, connection, TLS, timeout, write error...)
    Interrupted,  ///< the progress callback said stop
  };
  Status status = Status::Failed;
  long http_status = 0;
  std::string error;              ///< one line for a user, sanitised; empty when Ok/NotModified
  std::time_t last_modified = 0;  ///< the server's Last-Modified, 0 when unknown
  std::uint64_t bytes = 0;        ///< body bytes written
};

/// Fetches `req.url` (http/https only, redirects followed, to https only when the URL is https)
/// and writes the 200 body to `fd` (an empty file). Never throws for network problems: they are
/// the result. Credentials are never sent to another host after a redirect.
DownloadResult download(const DownloadRequest& req, int fd);

/// The one-line explanation of a final HTTP status ("not found (HTTP 404 Not Found)"); `auth`:
/// the request carried MaxMind credentials, so 401/403 are about them.
std::string http_status_message(long status, bool auth);

}  // namespace flowtop::geoip::detail
