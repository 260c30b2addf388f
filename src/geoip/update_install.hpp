#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "flowtop/geoip/database.hpp"
#include "flowtop/sys/unique_fd.hpp"

// Temporary files, validation and installation of the updater's databases. Main thread.
namespace flowtop::geoip::detail {

/// Temporary files are ".flowtop-NAME-XXXXXX.part": hidden, and never *.mmdb, so no reader picks
/// one up.
inline constexpr std::string_view kTempPrefix = ".flowtop-";
inline constexpr std::string_view kTempSuffix = ".part";

/// A temporary file in the GeoIP directory, removed on every path unless installed.
class TempFile {
 public:
  /// Creates it (mode 0600 until installed). Throws SourceError.
  TempFile(const std::string& dir, const std::string& name);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& path() const { return path_; }

  /// Mode 0644, the source's modification time (when known, else now), flushed to disk, then
  /// renamed over `final_path` in one step: readers see the old file or the new one, never a
  /// part. Throws SourceError (the file stays temporary and is removed).
  void install(const std::string& final_path, std::time_t mtime);

 private:
  sys::UniqueFd fd_;
  std::string path_;
};

/// What validation learnt of a database.
struct Validated {
  std::string type;  ///< metadata database_type, sanitised
  bool dbip = false;
  std::uint64_t build_epoch = 0;
};

/// Opens `path` with the reader, checks that its kind is `expected` (Unknown: any) and that
/// lookups find well-known addresses. Throws SourceError saying what is wrong.
Validated validate_database(const std::string& path, DbKind expected);

/// Removes the temporary files in `dir` last written before `older_than` (left by a run that was
/// killed); other files are never touched.
void remove_stale_temp_files(const std::string& dir, std::time_t older_than);

}  // namespace flowtop::geoip::detail
