#include <curl/curl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>

#include "download_client.hpp"
#include "update_text.hpp"

namespace flowtop::geoip::detail {
namespace {

/// Nothing flowtop reads is this big: a server sending more is not sending a GeoIP database.
constexpr std::uint64_t kMaxDownloadBytes = std::uint64_t{1} << 30;
constexpr std::size_t kSnippetBytes = 512;
constexpr long kMaxRedirects = 10;

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

/// State shared with the callbacks of one transfer.
struct Transfer {
  CURL* curl = nullptr;
  const DownloadRequest* req = nullptr;
  int fd = -1;
  int write_errno = 0;
  std::uint64_t written = 0;
  std::string snippet;   ///< the start of an error response's body
  std::string location;  ///< the last response's Location header
  bool aborted = false;
};

long response_code(CURL* curl) {
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * count;
  if (response_code(t->curl) != 200) {  // an error page: keep its start for the message
    if (t->snippet.size() < kSnippetBytes) {
      t->snippet.append(data, std::min(len, kSnippetBytes - t->snippet.size()));
    }
    return len;
  }
  if (t->written + len > kMaxDownloadBytes) {
    t->write_errno = EFBIG;
    return 0;
  }
  std::size_t done = 0;
  while (done < len) {
    const ssize_t n = ::write(t->fd, data + done, len - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      t->write_errno = errno;
      return 0;
    }
    done += static_cast<std::size_t>(n);
  }
  t->written += len;
  return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * count;
  const std::string_view line(data, len);
  if (line.starts_with("HTTP/")) {
    t->location.clear();  // a new response
  } else if (core::istarts_with(line, "location:")) {
    t->location.assign(core::trim(line.substr(9)).substr(0, 2048));
  }
  return len;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t /*ultotal*/,
                curl_off_t /*ulnow*/) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->req->progress) {
    return 0;
  }
  const bool body = response_code(t->curl) == 200;
  const auto now = body && dlnow > 0 ? static_cast<std::uint64_t>(dlnow) : 0;
  const auto total = body && dltotal > 0 ? static_cast<std::uint64_t>(dltotal) : 0;
  if (!t->req->progress(now, total)) {
    t->aborted = true;
    return 1;
  }
  return 0;
}

/// "host" or "host:port" of a URL, for messages.
std::string host_of(const std::string& url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    return sanitize_text(url, 100);
  }
  const std::size_t start = scheme + 3;
  std::size_t end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (const std::size_t at = host.rfind('@'); at != std::string::npos) {
    host.erase(0, at + 1);
  }
  return sanitize_text(host, 100);
}

const char* reason_phrase(long status) {
  switch (status) {
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

/// The first line of an error body when it is short printable text (MaxMind explains 401/403).
std::string body_hint(const std::string& snippet) {
  std::string line = snippet.substr(0, snippet.find_first_of("\r\n"));
  if (line.empty() || line.front() == '<') {  // an HTML page says nothing useful in one line
    return "";
  }
  return fmt::format(" (server says: {})", sanitize_text(line, 120));
}

std::string explain_failure(CURLcode rc, CURL* curl, const DownloadRequest& req,
                            const char* errbuf) {
  char* url_c = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url_c);
  const std::string host = host_of(url_c != nullptr ? url_c : req.url);
  const std::string detail = sanitize_text(*errbuf != '\0' ? errbuf : curl_easy_strerror(rc), 160);
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return fmt::format(
          "cannot resolve the host name {} (DNS lookup failed: check the network "
          "connection and the name)",
          host);
    case CURLE_COULDNT_RESOLVE_PROXY:
      return fmt::format("cannot resolve the proxy's host name ({})", detail);
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      switch (os_errno) {
        case ECONNREFUSED:
          return fmt::format("connection refused by {} (no server listening there)", host);
        case ENETUNREACH: return fmt::format("cannot reach {}: network unreachable", host);
        case EHOSTUNREACH: return fmt::format("cannot reach {}: no route to host", host);
        case ETIMEDOUT:
          return fmt::format("connection to {} timed out after {} s", host, req.limits.connect_s);
        default: return fmt::format("cannot connect to {} ({})", host, detail);
      }
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connect_us = 0;
      curl_off_t total_us = 0;
      curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connect_us);
      curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &total_us);
      if (connect_us == 0) {
        return fmt::format("connection to {} timed out after {} s (no answer)", host,
                           req.limits.connect_s);
      }
      if (total_us + 500000 >= static_cast<curl_off_t>(req.limits.total_s) * 1000000) {
        return fmt::format("timed out: the download from {} took longer than {} s", host,
                           req.limits.total_s);
      }
      return fmt::format("timed out: no data from {} for {} s (the server stalled)", host,
                         req.limits.stall_s);
    }
    case CURLE_PEER_FAILED_VERIFICATION:
      return fmt::format("the TLS certificate of {} is not trusted ({})", host, detail);
    case CURLE_SSL_CONNECT_ERROR:
      return fmt::format("TLS handshake with {} failed ({})", host, detail);
    case CURLE_SSL_CACERT_BADFILE:
      return fmt::format("cannot read the trusted CA certificates ({})", detail);
    case CURLE_TOO_MANY_REDIRECTS:
      return fmt::format("too many redirects (more than {})", kMaxRedirects);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return fmt::format(
          "redirected to a URL flowtop will not follow: only http and https, and "
          "only https after https ({})",
          detail);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
      return fmt::format("the connection to {} broke off during the download ({})", host, detail);
    case CURLE_GOT_NOTHING: return fmt::format("{} closed the connection without an answer", host);
    case CURLE_WEIRD_SERVER_REPLY:
      return fmt::format("{} did not answer in HTTP ({})", host, detail);
    case CURLE_LOGIN_DENIED: return fmt::format("{} refused the login ({})", host, detail);
    default: return fmt::format("download from {} failed: {}", host, detail);
  }
}

void curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string http_status_message(long status, bool auth) {
  const char* phrase = reason_phrase(status);
  const std::string http =
      *phrase != '\0' ? fmt::format("HTTP {} {}", status, phrase) : fmt::format("HTTP {}", status);
  switch (status) {
    case 401:
      return auth ? fmt::format("authentication failed ({}): check the account id and licence key",
                                http)
                  : fmt::format("the server wants a login ({})", http);
    case 403:
      return auth ? fmt::format(
                        "access denied ({}): the licence key may not cover this edition, "
                        "or the account id and key do not match",
                        http)
                  : fmt::format("access denied ({})", http);
    case 404: return fmt::format("not found ({})", http);
    case 410: return fmt::format("no longer available ({})", http);
    case 429:
      return fmt::format("too many downloads ({}): the server limits them, try later", http);
    default: break;
  }
  if (status >= 500 && status < 600) {
    return fmt::format("server error ({})", http);
  }
  if (status >= 300 && status < 400) {
    return fmt::format("unexpected redirect without a usable location ({})", http);
  }
  return fmt::format("unexpected answer ({})", http);
}

DownloadResult download(const DownloadRequest& req, int fd) {
  curl_global();
  DownloadResult result;
  const std::unique_ptr<CURL, CurlDeleter> owner(curl_easy_init());
  CURL* curl = owner.get();
  if (curl == nullptr) {
    result.error = "cannot initialise libcurl";
    return result;
  }
  Transfer t;
  t.curl = curl;
  t.req = &req;
  t.fd = fd;
  char errbuf[CURL_ERROR_SIZE] = {};
  const bool https = core::istarts_with(req.url, "https://");

  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, req.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, req.limits.connect_s);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, req.limits.total_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, req.limits.stall_s);
  curl_easy_setopt(curl, CURLOPT_FILETIME, 1L);
  // Refused at once when the server announces more; on_write stops one that sends more anyway.
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxDownloadBytes));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  if (!req.user.empty()) {
    // Sent to the original host only: never to the host a redirect points at (curl's default).
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, req.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, req.password.c_str());
  }
  if (req.if_modified_since > 0) {
    curl_easy_setopt(curl, CURLOPT_TIMECONDITION, static_cast<long>(CURL_TIMECOND_IFMODSINCE));
    curl_easy_setopt(curl, CURLOPT_TIMEVALUE_LARGE, static_cast<curl_off_t>(req.if_modified_since));
  }
  if (!req.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, req.ca_file.c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> resolve;
  for (const std::string& entry : req.resolve) {
    curl_slist* next = curl_slist_append(resolve.get(), entry.c_str());
    if (next != nullptr) {
      (void)resolve.release();
      resolve.reset(next);
    }
  }
  if (resolve) {
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve.get());
  }

  const CURLcode rc = curl_easy_perform(curl);
  result.http_status = response_code(curl);
  result.bytes = t.written;
  curl_off_t filetime = -1;
  curl_easy_getinfo(curl, CURLINFO_FILETIME_T, &filetime);
  result.last_modified = filetime > 0 ? static_cast<std::time_t>(filetime) : 0;
  long unmet = 0;
  curl_easy_getinfo(curl, CURLINFO_CONDITION_UNMET, &unmet);

  using Status = DownloadResult::Status;
  if (t.aborted || rc == CURLE_ABORTED_BY_CALLBACK) {
    result.status = Status::Interrupted;
    result.error = "interrupted";
  } else if (rc == CURLE_FILESIZE_EXCEEDED) {
    result.status = Status::Failed;
    result.error = "the server announced more than 1 GiB: not a GeoIP database";
  } else if (rc == CURLE_WRITE_ERROR && t.write_errno != 0) {
    result.status = Status::Failed;
    result.error = t.write_errno == EFBIG
                       ? "the server sent more than 1 GiB: not a GeoIP database"
                       : fmt::format("cannot write the download: {}", errno_text(t.write_errno));
  } else if (result.http_status == 304 || (rc == CURLE_OK && unmet != 0)) {
    result.status = Status::NotModified;
  } else if (result.http_status >= 300 && result.http_status < 400 && result.http_status != 304) {
    // curl stops at a redirect it may not follow (https -> http, other protocols).
    result.status = Status::HttpError;
    result.error = !t.location.empty()
                       ? fmt::format(
                             "redirected to {}, which flowtop does not follow (only http and https "
                             "URLs, and only https after https)",
                             display_url(t.location))
                       : http_status_message(result.http_status, !req.user.empty());
  } else if (result.http_status >= 400) {
    result.status = Status::HttpError;
    result.error = http_status_message(result.http_status, !req.user.empty());
    if (result.http_status == 401 || result.http_status == 403 || result.http_status == 429) {
      result.error += body_hint(t.snippet);
    }
  } else if (rc != CURLE_OK) {
    result.status = Status::Failed;
    result.error = explain_failure(rc, curl, req, errbuf);
  } else if (result.http_status != 200) {
    result.status = Status::HttpError;
    result.error = http_status_message(result.http_status, !req.user.empty());
  } else if (t.written == 0) {
    result.status = Status::Failed;
    result.error = fmt::format("{} sent an empty file", host_of(req.url));
  } else {
    result.status = Status::Ok;
  }
  return result;
}

}  // namespace flowtop::geoip::detail
