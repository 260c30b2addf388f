#include "flowtop/geoip/updater.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <ostream>

#include "download_client.hpp"
#include "flowtop/geoip/database.hpp"
#include "flowtop/sys/unique_fd.hpp"
#include "update_install.hpp"
#include "update_progress.hpp"
#include "update_text.hpp"
#include "update_unpack.hpp"

namespace flowtop::geoip {
namespace {

using detail::display_url;
using detail::Interrupted;
using detail::sanitize_text;
using detail::SourceError;

/// The file is missing at this location (HTTP 404/410, ENOENT): a dated source tries the month
/// before.
class NotFound : public SourceError {
 public:
  using SourceError::SourceError;
};

std::string date_of(std::uint64_t epoch) {
  const auto t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

enum class Outcome { Installed, UpToDate };

struct Attempt {
  Outcome outcome = Outcome::Installed;
  bool dbip = false;
  std::string name;  ///< the file installed or kept
};

class Run {
 public:
  Run(const GeoipConf& conf, const UpdateOptions& options, std::ostream& out, std::ostream& err)
      : conf_(conf), o_(options), out_(out), err_(err) {}

  UpdateSummary go() {
    if (!prepare_dir()) {
      err_ << "flowtop: " << summary_.fatal << '\n' << std::flush;
      return summary_;
    }
    detail::remove_stale_temp_files(
        o_.dir, std::time(nullptr) - std::max<long>(3600, 2 * o_.total_timeout_s));
    // Sources installing the same file are alternatives; groups keep the order of the file.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const Source*>> groups;
    for (const Source& s : conf_.sources) {
      if (groups[s.target].empty()) {
        order.push_back(s.target);
      }
      groups[s.target].push_back(&s);
    }
    for (const std::string& target : order) {
      if (!update_one(target, groups[target])) {
        break;  // interrupted
      }
    }
    finish();
    return summary_;
  }

 private:
  [[nodiscard]] bool stopped() const { return o_.stop != nullptr && o_.stop->load(); }

  void say(const std::string& line) { out_ << line << '\n' << std::flush; }
  void complain(const std::string& line) { err_ << "flowtop: " << line << '\n' << std::flush; }

  /// Creates the directory (0755, parents too) and checks that it can be written.
  bool prepare_dir() {
    const std::string dir = sanitize_text(o_.dir);
    const char* hint =
        "run 'sudo flowtop -u', or choose a directory you can write with --geoip-dir";
    struct stat st {};
    if (::stat(o_.dir.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        const int e = errno;
        summary_.fatal =
            fmt::format("cannot use {}: {}{}", dir, detail::errno_text(e),
                        e == EACCES || e == EPERM ? fmt::format(": {}", hint) : std::string());
        return false;
      }
      if (!make_dirs(o_.dir)) {
        const int e = errno;
        summary_.fatal = fmt::format(
            "cannot create {}: {}{}", dir, detail::errno_text(e),
            e == EACCES || e == EPERM || e == EROFS ? fmt::format(": {}", hint) : std::string());
        return false;
      }
      say(fmt::format("created {}", dir));
    } else if (!S_ISDIR(st.st_mode)) {
      summary_.fatal = fmt::format("{} is not a directory", dir);
      return false;
    }
    if (::access(o_.dir.c_str(), W_OK | X_OK) != 0) {
      const int e = errno;
      summary_.fatal =
          fmt::format("no permission to write to {} ({}): {}", dir, detail::errno_text(e), hint);
      return false;
    }
    return true;
  }

  static bool make_dirs(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) == 0) {
      ::chmod(dir.c_str(), 0755);  // whatever the umask
      return true;
    }
    if (errno == EEXIST) {
      return true;
    }
    if (errno != ENOENT) {
      return false;
    }
    const auto slash = dir.find_last_of('/');
    if (slash == std::string::npos || slash == 0 || !make_dirs(dir.substr(0, slash))) {
      return false;
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return false;
    }
    ::chmod(dir.c_str(), 0755);
    return true;
  }

  /// Tries the alternatives for one file; false when interrupted.
  bool update_one(const std::string& target, const std::vector<const Source*>& sources) {
    std::string why;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const Source& s = *sources[i];
      if (stopped()) {
        return interrupted();
      }
      try {
        const Attempt a = try_source(s);
        (a.outcome == Outcome::Installed ? summary_.installed : summary_.up_to_date)
            .push_back(a.name);
        summary_.dbip = summary_.dbip || a.dbip;
        return true;
      } catch (const Interrupted&) {
        return interrupted();
      } catch (const SourceError& e) {
        if (stopped()) {
          return interrupted();
        }
        why = e.what();
        complain(fmt::format("{}: {}: {}", target, display_location(s), why));
        if (i + 1 < sources.size()) {
          say(fmt::format("{}: trying the next source ({}:{})", target, conf_.path,
                          sources[i + 1]->line));
        }
      }
    }
    struct stat st {};
    const bool kept = ::stat((o_.dir + "/" + target).c_str(), &st) == 0;
    complain(fmt::format("{} not updated; {}", target,
                         kept ? "the existing file is kept" : "no database installed"));
    summary_.failed.push_back(fmt::format("{}: {}", target, why));
    return true;
  }

  bool interrupted() {
    summary_.interrupted = true;
    complain(fmt::format("interrupted; no partial file is left in {}", sanitize_text(o_.dir)));
    return false;
  }

  static std::string display_location(const Source& s) {
    return s.kind == Source::Kind::File ? "file://" + sanitize_text(s.location)
                                        : display_url(s.location);
  }

  /// This month's file, else (dated sources, when it is missing) the previous month's.
  Attempt try_source(const Source& s) {
    if (!s.dated) {
      return fetch(s, s.location);
    }
    const YearMonth months[2] = {o_.month, previous_month(o_.month)};
    try {
      return fetch(s, expand_placeholders(s.location, months[0]));
    } catch (const NotFound& e) {
      say(fmt::format("{}: {} for {}; trying {}", s.target, e.what(), to_string(months[0]),
                      to_string(months[1])));
    }
    try {
      return fetch(s, expand_placeholders(s.location, months[1]));
    } catch (const NotFound& e) {
      throw SourceError(
          fmt::format("{} for {} and {}", e.what(), to_string(months[0]), to_string(months[1])));
    }
  }

  /// The existing file, when it is a valid database: its time for If-Modified-Since.
  struct Existing {
    std::time_t mtime = 0;
    bool dbip = false;
  };
  [[nodiscard]] std::optional<Existing> existing(const std::string& name) const {
    const std::string path = o_.dir + "/" + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return std::nullopt;
    }
    try {
      const Database db(path);
      return Existing{st.st_mtime, db.is_dbip()};
    } catch (const std::exception&) {
      return std::nullopt;  // a broken file is replaced unconditionally
    }
  }

  Attempt fetch(const Source& s, const std::string& location) {
    std::optional<detail::TempFile> download_file;
    sys::UniqueFd local;
    int source_fd = -1;
    std::time_t mtime = 0;
    if (s.kind == Source::Kind::File) {
      say(fmt::format("{}: reading {}", s.target, sanitize_text(location)));
      local.reset(::open(location.c_str(), O_RDONLY | O_CLOEXEC));
      if (!local.valid()) {
        const int e = errno;
        if (e == ENOENT) {
          throw NotFound("no such file");
        }
        throw SourceError(
            fmt::format("cannot open {}: {}", sanitize_text(location), detail::errno_text(e)));
      }
      struct stat st {};
      if (::fstat(local.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        throw SourceError(fmt::format("{} is not a regular file", sanitize_text(location)));
      }
      source_fd = local.get();
      mtime = st.st_mtime;
    } else {
      const auto old = existing(s.target);
      say(fmt::format("{}: downloading {}", s.target, display_url(location)));
      download_file.emplace(o_.dir, s.target);
      const detail::DownloadResult r = download_to(s, location, *download_file, old);
      using Status = detail::DownloadResult::Status;
      switch (r.status) {
        case Status::Interrupted: throw Interrupted();
        case Status::NotModified:
          say(fmt::format("{}: up to date (unchanged on the server)", s.target));
          return Attempt{Outcome::UpToDate, old && old->dbip, s.target};
        case Status::HttpError:
          if (r.http_status == 404 || r.http_status == 410) {
            throw NotFound(r.error);
          }
          throw SourceError(r.error);
        case Status::Failed: throw SourceError(r.error);
        case Status::Ok: break;
      }
      source_fd = download_file->fd();
      mtime = r.last_modified;
    }

    const detail::StopFn stop = [this] { return stopped(); };
    std::string name = s.target;
    std::optional<detail::TempFile> unpacked;
    detail::TempFile* db_file = nullptr;
    if (s.packaging == Packaging::Mmdb && download_file) {
      db_file = &*download_file;  // the download is the database
    } else {
      unpacked.emplace(o_.dir, s.target);
      try {
        switch (s.packaging) {
          case Packaging::Mmdb: detail::copy_file(source_fd, unpacked->fd(), stop); break;
          case Packaging::Gzip: detail::gunzip_file(source_fd, unpacked->fd(), stop); break;
          case Packaging::TarGz: name = detail::untar_mmdb(source_fd, unpacked->fd(), stop); break;
        }
      } catch (const SourceError& e) {
        throw SourceError(
            fmt::format("{}{}", s.packaging == Packaging::Mmdb ? "" : "cannot unpack: ", e.what()));
      }
      download_file.reset();  // the packed download is not needed any more
      db_file = &*unpacked;
    }
    struct stat st {};
    ::fstat(db_file->fd(), &st);
    const DbKind expected = s.expected != DbKind::Unknown ? s.expected : kind_from_name(name);
    const detail::Validated v = detail::validate_database(db_file->path(), expected);
    const std::string final_path = o_.dir + "/" + name;
    db_file->install(final_path, mtime);
    sync_dir();
    say(fmt::format("{}: installed {} ({}, built {}, {})", name, sanitize_text(final_path), v.type,
                    date_of(v.build_epoch),
                    detail::format_size(static_cast<std::uint64_t>(st.st_size))));
    return Attempt{Outcome::Installed, v.dbip, name};
  }

  detail::DownloadResult download_to(const Source& s, const std::string& url,
                                     detail::TempFile& file, const std::optional<Existing>& old) {
    detail::DownloadRequest req;
    req.url = url;
    if (s.auth && conf_.account) {
      req.user = conf_.account->account_id;
      req.password = conf_.account->license_key;
    }
    req.if_modified_since = old ? old->mtime : 0;
    req.limits = {o_.connect_timeout_s, o_.stall_timeout_s, o_.total_timeout_s};
    req.ca_file = o_.ca_file;
    req.resolve = o_.resolve;
    req.user_agent = o_.user_agent;
    std::optional<detail::ProgressBar> bar;
    if (o_.progress) {
      bar.emplace(err_, s.target, o_.columns);
    }
    std::uint64_t last_total = 0;
    req.progress = [&](std::uint64_t now, std::uint64_t total) {
      if (stopped()) {
        return false;
      }
      if (bar && now > 0) {
        bar->update(now, total);
      }
      last_total = total;
      return true;
    };
    detail::DownloadResult r = detail::download(req, file.fd());
    if (bar) {
      if (r.status == detail::DownloadResult::Status::Ok) {
        bar->finish(r.bytes, last_total != 0 ? last_total : r.bytes);
      } else {
        bar->clear();
      }
    }
    return r;
  }

  void sync_dir() const {
    const sys::UniqueFd d(::open(o_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.valid()) {
      ::fsync(d.get());
    }
  }

  void finish() {
    if (summary_.dbip) {
      say(kDbipAttribution);
    }
    const std::string counts =
        fmt::format("{} installed, {} up to date, {} failed", summary_.installed.size(),
                    summary_.up_to_date.size(), summary_.failed.size());
    if (summary_.failed.empty() && !summary_.interrupted) {
      say(fmt::format("flowtop: {} in {}", counts, sanitize_text(o_.dir)));
    } else {
      complain(fmt::format("{} in {}", counts, sanitize_text(o_.dir)));
    }
  }

  const GeoipConf& conf_;
  const UpdateOptions& o_;
  std::ostream& out_;
  std::ostream& err_;
  UpdateSummary summary_;
};

}  // namespace

UpdateSummary update_databases(const GeoipConf& conf, const UpdateOptions& options,
                               std::ostream& out, std::ostream& err) {
  return Run(conf, options, out, err).go();
}

}  // namespace flowtop::geoip
