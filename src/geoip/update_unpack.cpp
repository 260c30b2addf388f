#include "update_unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "update_text.hpp"

namespace flowtop::geoip::detail {
namespace {

/// Nothing flowtop reads is this big (GeoLite2-City is ~70 MB, DB-IP's City Lite ~130 MB).
constexpr std::uint64_t kMaxDatabaseBytes = kMaxUnpackedBytes;
constexpr std::size_t kBlock = 1 << 16;

void rewind(int fd) {
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    throw SourceError(fmt::format("cannot read the download: {}", errno_text(errno)));
  }
}

void check_stop(const StopFn& stop) {
  if (stop && stop()) {
    throw Interrupted();
  }
}

void write_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SourceError(fmt::format("cannot write the database: {}", errno_text(errno)));
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
}

void check_size(std::uint64_t total) {
  if (total > kMaxDatabaseBytes) {
    throw SourceError("it unpacks to more than 1 GiB: not a GeoIP database");
  }
}

// Reads and drops the current member's data; its bytes count towards `total`.
template <class Failure>
void skip_data(archive* a, std::vector<char>& buf, std::uint64_t& total, const StopFn& stop,
               const Failure& failure) {
  for (;;) {
    check_stop(stop);
    const la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) {
      throw failure("truncated or corrupt archive");
    }
    if (n == 0) {
      return;
    }
    total += static_cast<std::uint64_t>(n);
    check_size(total);
  }
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

std::uint64_t copy_file(int in_fd, int out_fd, const StopFn& stop) {
  rewind(in_fd);
  std::vector<char> buf(kBlock);
  std::uint64_t total = 0;
  for (;;) {
    check_stop(stop);
    const ssize_t n = ::read(in_fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SourceError(fmt::format("read error: {}", errno_text(errno)));
    }
    if (n == 0) {
      return total;
    }
    total += static_cast<std::uint64_t>(n);
    check_size(total);
    write_all(out_fd, buf.data(), static_cast<std::size_t>(n));
  }
}

std::uint64_t gunzip_file(int in_fd, int out_fd, const StopFn& stop) {
  rewind(in_fd);
  const int dup_fd = ::dup(in_fd);  // gzclose closes it
  if (dup_fd < 0) {
    throw SourceError(fmt::format("cannot read the download: {}", errno_text(errno)));
  }
  const std::unique_ptr<gzFile_s, GzCloser> gz(gzdopen(dup_fd, "rb"));
  if (!gz) {
    ::close(dup_fd);
    throw SourceError("cannot start gzip decompression (out of memory)");
  }
  gzbuffer(gz.get(), 1 << 17);
  std::vector<char> buf(kBlock);
  std::uint64_t total = 0;
  bool first = true;
  for (;;) {
    check_stop(stop);
    const int n = gzread(gz.get(), buf.data(), static_cast<unsigned>(buf.size()));
    if (first && gzdirect(gz.get()) != 0) {
      throw SourceError("not gzip data (the file does not start with a gzip header)");
    }
    first = false;
    if (n < 0) {
      int err = Z_OK;
      const char* msg = gzerror(gz.get(), &err);
      throw SourceError(err == Z_ERRNO ? fmt::format("read error: {}", errno_text(errno))
                                       : fmt::format("corrupt gzip data ({})",
                                                     sanitize_text(msg != nullptr ? msg : "", 80)));
    }
    if (n == 0) {
      break;
    }
    total += static_cast<std::uint64_t>(n);
    check_size(total);
    write_all(out_fd, buf.data(), static_cast<std::size_t>(n));
  }
  // gzread reports a premature end of the data as the end, with Z_BUF_ERROR kept for gzerror.
  int err = Z_OK;
  const char* msg = gzerror(gz.get(), &err);
  if (err == Z_BUF_ERROR) {
    throw SourceError("truncated gzip data (unexpected end of file)");
  }
  if (err != Z_OK) {
    throw SourceError(
        fmt::format("corrupt gzip data ({})", sanitize_text(msg != nullptr ? msg : "", 80)));
  }
  if (total == 0) {
    throw SourceError("the gzip data is empty");
  }
  return total;
}

std::string untar_mmdb(int in_fd, int out_fd, const StopFn& stop) {
  rewind(in_fd);
  const std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  if (!a) {
    throw SourceError("cannot start reading the archive (out of memory)");
  }
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  // libarchive reads ahead: a cut-off file may fail as early as the open.
  auto archive_failure = [&a](std::string_view what) {
    const char* raw = archive_error_string(a.get());
    const std::string msg = raw != nullptr ? raw : "?";
    const bool cut = ascii_lower(msg).find("truncated") != std::string::npos;
    return SourceError(
        fmt::format("{} ({})", cut ? "truncated archive" : what, sanitize_text(msg, 120)));
  };
  if (archive_read_open_fd(a.get(), in_fd, kBlock) != ARCHIVE_OK) {
    throw archive_failure("not a .tar.gz archive");
  }
  std::string found;
  std::vector<std::string> others;
  std::vector<char> buf(kBlock);
  std::uint64_t total = 0;  // every member's bytes: the limit is on what the archive unpacks to
  for (;;) {
    check_stop(stop);
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      throw archive_failure(found.empty() && others.empty() ? "not a .tar.gz archive"
                                                            : "truncated or corrupt archive");
    }
    const char* raw = archive_entry_pathname(entry);
    const std::string path = raw != nullptr ? raw : "";
    const std::string name = path.substr(path.find_last_of('/') + 1);
    const bool mmdb = archive_entry_filetype(entry) == AE_IFREG && core::iends_with(name, ".mmdb");
    if (!mmdb) {
      if (others.size() < 5 && !name.empty()) {
        others.push_back(sanitize_text(name, 60));
      }
      // COPYRIGHT.txt, LICENSE.txt, directories: read and dropped here, block by block, rather
      // than skipped inside libarchive, so a huge member is stopped by the size limit, a stop
      // request and the time limit like the database itself.
      skip_data(a.get(), buf, total, stop, archive_failure);
      continue;
    }
    if (!found.empty()) {
      throw SourceError(fmt::format("the archive holds more than one .mmdb file ({} and {})", found,
                                    sanitize_text(name, 60)));
    }
    if (!is_safe_file_name(name)) {
      throw SourceError(
          fmt::format("the archive's database has an unsafe name '{}'", sanitize_text(name, 60)));
    }
    found = name;
    for (;;) {
      check_stop(stop);
      const la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) {
        throw archive_failure("truncated or corrupt archive");
      }
      if (n == 0) {
        break;
      }
      total += static_cast<std::uint64_t>(n);
      check_size(total);
      write_all(out_fd, buf.data(), static_cast<std::size_t>(n));
    }
  }
  if (found.empty()) {
    std::string list;
    for (const std::string& o : others) {
      list += (list.empty() ? "" : ", ") + o;
    }
    throw SourceError(list.empty()
                          ? std::string("the archive holds no .mmdb file")
                          : fmt::format("the archive holds no .mmdb file (only {})", list));
  }
  return found;
}

}  // namespace flowtop::geoip::detail
