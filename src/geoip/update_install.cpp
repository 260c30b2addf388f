#include "update_install.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>

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

TempFile::TempFile(const std::string& dir, const std::string& name) {
  std::string tmpl = fmt::format("{}/{}{}-XXXXXX{}", dir, kTempPrefix, name, kTempSuffix);
  const int fd = ::mkostemps(tmpl.data(), static_cast<int>(kTempSuffix.size()), O_CLOEXEC);
  if (fd < 0) {
    throw SourceError(fmt::format("cannot create a temporary file in {}: {}", sanitize_text(dir),
                                  errno_text(errno)));
  }
  fd_.reset(fd);
  path_ = std::move(tmpl);
}

TempFile::~TempFile() {
  if (!path_.empty()) {
    ::unlink(path_.c_str());
  }
}

void TempFile::install(const std::string& final_path, std::time_t mtime) {
  if (::fchmod(fd_.get(), 0644) != 0) {
    throw SourceError(fmt::format("cannot set the file mode: {}", errno_text(errno)));
  }
  if (mtime > 0) {
    const timespec times[2] = {{0, UTIME_OMIT}, {mtime, 0}};
    ::futimens(fd_.get(), times);
  }
  if (::fsync(fd_.get()) != 0) {
    throw SourceError(fmt::format("cannot write the database: {}", errno_text(errno)));
  }
  if (::rename(path_.c_str(), final_path.c_str()) != 0) {
    throw SourceError(
        fmt::format("cannot rename into {}: {}", sanitize_text(final_path), errno_text(errno)));
  }
  path_.clear();
}

Validated validate_database(const std::string& path, DbKind expected) {
  std::unique_ptr<Database> db;
  try {
    db = std::make_unique<Database>(path);
  } catch (const std::exception& e) {
    // The reader names the (temporary) file first: the message a user needs is what follows.
    std::string why = e.what();
    if (const auto at = why.find(".part: "); at != std::string::npos) {
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

void remove_stale_temp_files(const std::string& dir, std::time_t older_than) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    struct stat st {};
    if (name.starts_with(kTempPrefix) && name.ends_with(kTempSuffix) &&
        ::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < older_than) {
      fs::remove(it->path(), ec);
      ec.clear();
    }
  }
}

}  // namespace flowtop::geoip::detail
