#include "flowtop/geoip/updater.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include "download_client.hpp"
#include "flowtop/geoip/database.hpp"
#include "flowtop/sys/privileges.hpp"
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

/// The work done without privilege (download, unpack, validate) and its result, which travels
/// from the worker process to the installer as "key=value" lines (values are sanitised: one line
/// each).
struct WorkResult {
  enum class Status { Ready, NotModified, NotFound, Failed, Interrupted };
  Status status = Status::Failed;
  std::string message;   ///< why, for NotFound / Failed
  bool unpacked = true;  ///< the database is in the unpacked file (else in the download)
  std::string name;      ///< the file name to install
  std::time_t mtime = 0;
  std::string type;
  bool dbip = false;
  std::uint64_t build_epoch = 0;
  std::uint64_t size = 0;
  std::vector<std::pair<bool, std::string>> lines;  ///< (to err?, text) said meanwhile, in order

  [[nodiscard]] std::string encode() const {
    std::string out = fmt::format("status={}\nmessage={}\nunpacked={}\nname={}\nmtime={}\n",
                                  static_cast<int>(status), message, unpacked ? 1 : 0, name,
                                  static_cast<long long>(mtime));
    out +=
        fmt::format("type={}\ndbip={}\nepoch={}\nsize={}\n", type, dbip ? 1 : 0, build_epoch, size);
    for (const auto& [err, text] : lines) {
      out += fmt::format("{}={}\n", err ? "err" : "out", text);
    }
    return out;
  }

  static WorkResult decode(const std::string& text) {
    WorkResult r;
    r.message = "the unprivileged worker gave no answer";
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const auto eq = line.find('=');
      if (eq == std::string::npos) {
        continue;
      }
      const std::string k = line.substr(0, eq);
      const std::string v = line.substr(eq + 1);
      const auto num = [&v] { return std::strtoull(v.c_str(), nullptr, 10); };
      if (k == "status" && num() <= static_cast<unsigned long long>(Status::Interrupted)) {
        r.status = static_cast<Status>(num());
      } else if (k == "message") {
        r.message = v;
      } else if (k == "unpacked") {
        r.unpacked = v == "1";
      } else if (k == "name") {
        r.name = v;
      } else if (k == "mtime") {
        r.mtime = static_cast<std::time_t>(num());
      } else if (k == "type") {
        r.type = v;
      } else if (k == "dbip") {
        r.dbip = v == "1";
      } else if (k == "epoch") {
        r.build_epoch = num();
      } else if (k == "size") {
        r.size = num();
      } else if (k == "out" || k == "err") {
        r.lines.emplace_back(k == "err", v);
      }
    }
    return r;
  }
};

/// One line for the WorkResult protocol: no newline can split it.
std::string one_line(std::string_view text) {
  return sanitize_text(text, 2000);
}

/// SHA-256 of everything in `fd` (from offset 0), lower-case hex; "" on a read error.
std::string sha256_hex(int fd) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return "";
  }
  std::vector<char> buf(1 << 16);
  for (off_t off = 0;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return "";
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    off += n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += fmt::format("{:02x}", md[i]);
  }
  return hex;
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
        dir_fd_.get(), std::time(nullptr) - std::max<long>(3600, 2 * o_.total_timeout_s));
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

  void say(const std::string& line) {
    if (say_to_ != nullptr) {
      say_to_->emplace_back(false, one_line(line));
    } else {
      out_ << line << '\n' << std::flush;
    }
  }
  void complain(const std::string& line) { err_ << "flowtop: " << line << '\n' << std::flush; }

  /// Creates the directory (0755, parents too) if needed and opens it once, without following a
  /// symbolic link: everything after works relative to that descriptor. A directory that another
  /// user owns, or that group or others may write, is refused: they could swap the files root
  /// installs.
  bool prepare_dir() {
    const std::string dir = sanitize_text(o_.dir);
    const char* hint =
        "run 'sudo flowtop -u', or choose a directory you can write with --geoip-dir";
    dir_fd_.reset(::open(o_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd_.valid() && errno == ENOENT) {
      if (!make_dirs(o_.dir)) {
        const int e = errno;
        summary_.fatal = fmt::format(
            "cannot create {}: {}{}", dir, detail::errno_text(e),
            e == EACCES || e == EPERM || e == EROFS ? fmt::format(": {}", hint) : std::string());
        return false;
      }
      dir_fd_.reset(::open(o_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (dir_fd_.valid()) {
        ::fchmod(dir_fd_.get(), 0755);  // whatever the umask; on the directory we opened
        say(fmt::format("created {}", dir));
      }
    }
    if (!dir_fd_.valid()) {
      const int e = errno;
      struct stat named {};
      const bool exists = ::lstat(o_.dir.c_str(), &named) == 0;
      if (exists && S_ISLNK(named.st_mode)) {
        summary_.fatal =
            fmt::format("{} is a symbolic link: not followed; name the directory", dir);
      } else if (exists && !S_ISDIR(named.st_mode)) {
        summary_.fatal = fmt::format("{} is not a directory", dir);
      } else {
        summary_.fatal =
            fmt::format("cannot use {}: {}{}", dir, detail::errno_text(e),
                        e == EACCES || e == EPERM ? fmt::format(": {}", hint) : std::string());
      }
      return false;
    }
    struct stat st {};
    if (::fstat(dir_fd_.get(), &st) != 0) {
      summary_.fatal = fmt::format("cannot use {}: {}", dir, detail::errno_text(errno));
      return false;
    }
    if (::faccessat(dir_fd_.get(), ".", W_OK | X_OK, AT_EACCESS) != 0) {
      const int e = errno;
      summary_.fatal =
          fmt::format("no permission to write to {} ({}): {}", dir, detail::errno_text(e), hint);
      return false;
    }
    if (st.st_uid != ::geteuid()) {
      summary_.fatal = fmt::format(
          "refusing {}: it belongs to uid {}, not to the user running flowtop -u (uid {}): {}", dir,
          st.st_uid, ::geteuid(), hint);
      return false;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      summary_.fatal = fmt::format(
          "refusing {}: group or others may write it (mode {:04o}): 'chmod go-w' it first", dir,
          st.st_mode & 07777);
      return false;
    }
    return true;
  }

  /// mkdir -p; the directories created are made 0755 through their own descriptor.
  static bool make_dirs(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) == 0) {
      const sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (fd.valid()) {
        ::fchmod(fd.get(), 0755);  // whatever the umask
      }
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
    const sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid()) {
      ::fchmod(fd.get(), 0755);
    }
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
    const bool kept = ::fstatat(dir_fd_.get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
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
  /// `fd`: the installed file, opened by the installer (-1: none).
  [[nodiscard]] static std::optional<Existing> existing(int fd) {
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      return std::nullopt;
    }
    try {
      const Database db("/proc/self/fd/" + std::to_string(fd));
      return Existing{st.st_mtime, db.is_dbip()};
    } catch (const std::exception&) {
      return std::nullopt;  // a broken file is replaced unconditionally
    }
  }

  /// The files one attempt works on, opened by the installer: the worker only fills them.
  struct Files {
    sys::UniqueFd local;     ///< a file:// source
    sys::UniqueFd existing;  ///< the installed database, if any
    std::optional<detail::TempFile> download;
    std::optional<detail::TempFile> unpacked;
  };

  Attempt fetch(const Source& s, const std::string& location) {
    Files f;
    if (s.kind == Source::Kind::File) {
      say(fmt::format("{}: reading {}", s.target, sanitize_text(location)));
      f.local.reset(::open(location.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
      if (!f.local.valid()) {
        const int e = errno;
        if (e == ENOENT) {
          throw NotFound("no such file");
        }
        throw SourceError(
            fmt::format("cannot open {}: {}", sanitize_text(location), detail::errno_text(e)));
      }
      struct stat st {};
      if (::fstat(f.local.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        throw SourceError(fmt::format("{} is not a regular file", sanitize_text(location)));
      }
    } else {
      say(fmt::format("{}: downloading {}", s.target, display_url(location)));
      f.existing.reset(::openat(dir_fd_.get(), s.target.c_str(),
                                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      f.download.emplace(dir_fd_.get(), o_.dir, s.target);
    }
    if (!(s.packaging == Packaging::Mmdb && f.download)) {
      f.unpacked.emplace(dir_fd_.get(), o_.dir, s.target);
    }

    // Root does only this and the rename: the download, unpacking and validation, which read
    // what a server sent, run in a process of user nobody that can only fill the two files.
    WorkResult r;
    if (::geteuid() == 0) {
      for (const auto* t : {&f.download, &f.unpacked}) {
        if (*t) {
          (*t)->lend_to(sys::kNobodyUid, sys::kNobodyGid);
        }
      }
      const sys::WorkerResult w = sys::run_unprivileged(
          [&](int result_fd) {
            const std::string text = work(s, location, f).encode();
            std::size_t done = 0;
            while (done < text.size()) {
              const ssize_t n = ::write(result_fd, text.data() + done, text.size() - done);
              if (n <= 0 && errno != EINTR) {
                return 1;
              }
              done += n > 0 ? static_cast<std::size_t>(n) : 0;
            }
            return 0;
          },
          [this] { return stopped(); });
      r = WorkResult::decode(w.output);
      if (w.exit_status != 0 && r.status == WorkResult::Status::Ready) {
        r.status = WorkResult::Status::Failed;
        r.message = fmt::format("the unprivileged worker failed (exit status {})", w.exit_status);
      }
    } else {
      r = work(s, location, f);
    }
    for (const auto& [to_err, text] : r.lines) {
      (to_err ? err_ : out_) << text << '\n' << std::flush;
    }
    switch (r.status) {
      case WorkResult::Status::Interrupted: throw Interrupted();
      case WorkResult::Status::NotFound: throw NotFound(r.message);
      case WorkResult::Status::Failed: throw SourceError(r.message);
      case WorkResult::Status::NotModified:
        say(fmt::format("{}: up to date (unchanged on the server)", s.target));
        return Attempt{Outcome::UpToDate, r.dbip, s.target};
      case WorkResult::Status::Ready: break;
    }
    if (!detail::is_safe_file_name(r.name)) {
      throw SourceError(fmt::format("unsafe file name '{}'", sanitize_text(r.name, 60)));
    }
    detail::TempFile& db_file = r.unpacked ? *f.unpacked : *f.download;
    db_file.install(r.name, r.mtime);
    ::fsync(dir_fd_.get());
    say(fmt::format("{}: installed {} ({}, built {}, {})", r.name,
                    sanitize_text(o_.dir + "/" + r.name), r.type, date_of(r.build_epoch),
                    detail::format_size(r.size)));
    return Attempt{Outcome::Installed, r.dbip, r.name};
  }

  /// Download, unpack and validate into `f`: in the unprivileged worker when flowtop runs as root.
  /// Never throws: everything is in the result.
  WorkResult work(const Source& s, const std::string& location, Files& f) {
    WorkResult r;
    // What the worker says goes back with the result, in order.
    say_to_ = &r.lines;
    try {
      work_steps(s, location, f, r);
    } catch (const Interrupted&) {
      r.status = WorkResult::Status::Interrupted;
    } catch (const NotFound& e) {
      r.status = WorkResult::Status::NotFound;
      r.message = one_line(e.what());
    } catch (const SourceError& e) {
      r.status = WorkResult::Status::Failed;
      r.message = one_line(e.what());
    } catch (const std::exception& e) {
      r.status = WorkResult::Status::Failed;
      r.message = one_line(e.what());
    }
    say_to_ = nullptr;
    return r;
  }

  void work_steps(const Source& s, const std::string& location, Files& f, WorkResult& r) {
    int source_fd = f.local.get();
    if (s.kind == Source::Kind::File) {
      struct stat st {};
      ::fstat(source_fd, &st);
      r.mtime = st.st_mtime;
    } else {
      const auto old = existing(f.existing.get());
      const detail::DownloadResult d = download_to(s, location, *f.download, old);
      using Status = detail::DownloadResult::Status;
      switch (d.status) {
        case Status::Interrupted: throw Interrupted();
        case Status::NotModified:
          r.status = WorkResult::Status::NotModified;
          r.dbip = old && old->dbip;
          return;
        case Status::HttpError:
          if (d.http_status == 404 || d.http_status == 410) {
            throw NotFound(d.error);
          }
          throw SourceError(d.error);
        case Status::Failed: throw SourceError(d.error);
        case Status::Ok: break;
      }
      if (s.kind == Source::Kind::MaxMind) {
        verify_sha256(s, location, f.download->fd());
      }
      source_fd = f.download->fd();
      r.mtime = d.last_modified;
    }

    // Unpacking stops on a stop request and when the update's time limit is reached, also in the
    // middle of an archive member.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(o_.total_timeout_s);
    const detail::StopFn stop = [this, deadline] {
      if (std::chrono::steady_clock::now() > deadline) {
        throw SourceError(fmt::format("unpacking took longer than {} s", o_.total_timeout_s));
      }
      return stopped();
    };
    std::string name = s.target;
    detail::TempFile* db_file = nullptr;
    if (s.packaging == Packaging::Mmdb && f.download) {
      db_file = &*f.download;  // the download is the database
      r.unpacked = false;
    } else {
      try {
        switch (s.packaging) {
          case Packaging::Mmdb: detail::copy_file(source_fd, f.unpacked->fd(), stop); break;
          case Packaging::Gzip: detail::gunzip_file(source_fd, f.unpacked->fd(), stop); break;
          case Packaging::TarGz:
            name = detail::untar_mmdb(source_fd, f.unpacked->fd(), stop);
            break;
        }
      } catch (const SourceError& e) {
        throw SourceError(
            fmt::format("{}{}", s.packaging == Packaging::Mmdb ? "" : "cannot unpack: ", e.what()));
      }
      db_file = &*f.unpacked;
      r.unpacked = true;
    }
    struct stat st {};
    ::fstat(db_file->fd(), &st);
    const DbKind expected = s.expected != DbKind::Unknown ? s.expected : kind_from_name(name);
    const detail::Validated v = detail::validate_database(db_file->proc_path(), expected);
    r.status = WorkResult::Status::Ready;
    r.name = name;
    r.type = one_line(v.type);
    r.dbip = v.dbip;
    r.build_epoch = v.build_epoch;
    r.size = static_cast<std::uint64_t>(st.st_size);
  }

  /// MaxMind publishes the SHA-256 of each download beside it ("suffix=tar.gz.sha256"): when it is
  /// offered, the download must match it. A 404 means it is not offered.
  void verify_sha256(const Source& s, const std::string& location, int download_fd) {
    const auto at = location.find("suffix=tar.gz");
    if (at == std::string::npos) {
      return;
    }
    std::string url = location;
    url.insert(at + 13, ".sha256");
    const sys::UniqueFd mem(::memfd_create("flowtop-sha256", MFD_CLOEXEC));
    if (!mem.valid()) {
      throw SourceError(fmt::format("cannot check the SHA-256: {}", detail::errno_text(errno)));
    }
    detail::DownloadRequest req = request_for(s, url, 0);
    const detail::DownloadResult d = detail::download(req, mem.get());
    using Status = detail::DownloadResult::Status;
    if (d.status == Status::Interrupted) {
      throw Interrupted();
    }
    if (d.status == Status::HttpError && (d.http_status == 404 || d.http_status == 410)) {
      say(fmt::format("{}: the server offers no SHA-256 to check the download against", s.target));
      return;
    }
    if (d.status != Status::Ok) {
      throw SourceError(fmt::format("cannot fetch the SHA-256 of the download: {}", d.error));
    }
    std::string text(128, '\0');
    const ssize_t n = ::pread(mem.get(), text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    std::string want = detail::ascii_lower(text.substr(0, text.find_first_of(" \t\r\n")));
    if (want.size() != 64 || want.find_first_not_of("0123456789abcdef") != std::string::npos) {
      throw SourceError("the server's SHA-256 file holds no SHA-256");
    }
    const std::string got = sha256_hex(download_fd);
    if (got != want) {
      throw SourceError(fmt::format(
          "the download does not match the SHA-256 the server publishes ({} instead of {})", got,
          want));
    }
    say(fmt::format("{}: SHA-256 verified", s.target));
  }

  [[nodiscard]] detail::DownloadRequest request_for(const Source& s, const std::string& url,
                                                    std::time_t if_modified_since) const {
    detail::DownloadRequest req;
    req.url = url;
    if (s.auth && conf_.account) {
      req.user = conf_.account->account_id;
      req.password = conf_.account->license_key;
    }
    req.if_modified_since = if_modified_since;
    req.limits = {o_.connect_timeout_s, o_.stall_timeout_s, o_.total_timeout_s};
    req.ca_file = o_.ca_file;
    req.resolve = o_.resolve;
    req.user_agent = o_.user_agent;
    return req;
  }

  detail::DownloadResult download_to(const Source& s, const std::string& url,
                                     detail::TempFile& file, const std::optional<Existing>& old) {
    detail::DownloadRequest req = request_for(s, url, old ? old->mtime : 0);
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
  sys::UniqueFd dir_fd_;
  std::vector<std::pair<bool, std::string>>* say_to_ = nullptr;  // the worker's lines
};

}  // namespace

UpdateSummary update_databases(const GeoipConf& conf, const UpdateOptions& options,
                               std::ostream& out, std::ostream& err) {
  return Run(conf, options, out, err).go();
}

}  // namespace flowtop::geoip
