#include "update_install.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "flowtop/core/ip_addr.hpp"
#include "update_text.hpp"
#include "update_unpack.hpp"

namespace flowtop::geoip::detail {
namespace {

/// Addresses every real City/Country/ASN database knows (the first ones are also in MaxMind's
/// and flowtop's test databases). A database that finds none of them is not usable.
constexpr const char* kProbeAddresses[] = {"81.2.69.142",
                                           "89.160.20.112",
                                           "216.160.83.56",
                                           "175.16.199.1",
                                           "1.1.1.1",
                                           "8.8.8.8",
                                           "9.9.9.9",
                                           "1.128.0.1",
                                           "41.0.0.1",
                                           "2001:218::1",
                                           "2a02:cf40::1",
                                           "2001:4860:4860::8888",
                                           "2606:4700:4700::1111"};

const char* kind_name(DbKind kind) {
  switch (kind) {
    case DbKind::City: return "City";
    case DbKind::Country: return "Country";
    case DbKind::Asn: return "ASN";
    default: return "unknown";
  }
}

}  // namespace

TempFile::TempFile(int dir_fd, const std::string& dir, const std::string& name) : dir_fd_(dir_fd) {
  for (int attempt = 0; attempt < 16 && !fd_.valid(); ++attempt) {
    std::uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
      r = static_cast<std::uint64_t>(::getpid()) ^ (static_cast<std::uint64_t>(attempt) << 32);
    }
    name_ = fmt::format("{}{}-{:012x}{}", kTempPrefix, name, r & 0xffffffffffffULL, kTempSuffix);
    fd_.reset(
        ::openat(dir_fd_, name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd_.valid() && errno != EEXIST) {
      break;
    }
  }
  if (!fd_.valid()) {
    throw SourceError(fmt::format("cannot create a temporary file in {}: {}", sanitize_text(dir),
                                  errno_text(errno)));
  }
  path_ = dir + "/" + name_;
}

TempFile::~TempFile() {
  if (!name_.empty()) {
    ::unlinkat(dir_fd_, name_.c_str(), 0);
  }
}

std::string TempFile::proc_path() const {
  return "/proc/self/fd/" + std::to_string(fd_.get());
}

void TempFile::lend_to(uid_t uid, gid_t gid) const {
  if (::fchown(fd_.get(), uid, gid) != 0) {
    throw SourceError(
        fmt::format("cannot hand the temporary file to the worker: {}", errno_text(errno)));
  }
}

void TempFile::install(const std::string& final_name, std::time_t mtime) {
  if (::fchown(fd_.get(), ::geteuid(), ::getegid()) != 0 || ::fchmod(fd_.get(), 0644) != 0) {
    throw SourceError(fmt::format("cannot set the file owner and mode: {}", errno_text(errno)));
  }
  if (mtime > 0) {
    const timespec times[2] = {{0, UTIME_OMIT}, {mtime, 0}};
    ::futimens(fd_.get(), times);
  }
  if (::fsync(fd_.get()) != 0) {
    throw SourceError(fmt::format("cannot write the database: {}", errno_text(errno)));
  }
  if (::renameat(dir_fd_, name_.c_str(), dir_fd_, final_name.c_str()) != 0) {
    throw SourceError(
        fmt::format("cannot rename into {}: {}", sanitize_text(final_name), errno_text(errno)));
  }
  name_.clear();
}

Validated validate_database(const std::string& path, DbKind expected) {
  std::unique_ptr<Database> db;
  try {
    db = std::make_unique<Database>(path);
  } catch (const std::exception& e) {
    // The reader names the (temporary) file first: the message a user needs is what follows.
    std::string why = e.what();
    if (why.starts_with(path + ": ")) {
      why.erase(0, path.size() + 2);
    } else if (const auto at = why.find(".part: "); at != std::string::npos) {
      why.erase(0, at + 7);
    }
    throw SourceError(fmt::format("not a usable database: {}", sanitize_text(why)));
  }
  if (expected != DbKind::Unknown && db->kind() != expected) {
    throw SourceError(fmt::format("it is a {} database ('{}'), not the {} database its name says",
                                  kind_name(db->kind()), sanitize_text(db->type(), 80),
                                  kind_name(expected)));
  }
  bool found = false;
  for (const char* text : kProbeAddresses) {
    core::GeoInfo info;
    const auto addr = core::IpAddr::parse(text);
    if (addr && db->lookup(*addr, info) &&
        (!info.country.empty() || info.asn != 0 || !info.org.empty())) {
      found = true;
      break;
    }
  }
  if (!found) {
    throw SourceError(
        "not a usable database: lookups of well-known addresses (81.2.69.142, 8.8.8.8, "
        "2001:4860:4860::8888, ...) find nothing");
  }
  return Validated{sanitize_text(db->type(), 80), db->is_dbip(), db->build_epoch()};
}

void remove_stale_temp_files(int dir_fd, std::time_t older_than) {
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): a DIR* of its own
    const std::string_view name = e->d_name;
    struct stat st {};
    if (name.starts_with(kTempPrefix) && name.ends_with(kTempSuffix) &&
        ::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        st.st_mtime < older_than) {
      stale.emplace_back(name);
    }
  }
  ::closedir(d);
  for (const std::string& name : stale) {
    ::unlinkat(dir_fd, name.c_str(), 0);
  }
}

}  // namespace flowtop::geoip::detail
