#pragma once

#include <sys/types.h>

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

/// A temporary file in the GeoIP directory, removed on every path unless installed. Everything
/// is done relative to the directory's descriptor: no path is resolved again.
class TempFile {
 public:
  /// Creates it in `dir_fd` (shown as `dir`) with a name nobody can guess, mode 0600 until
  /// installed. Throws SourceError.
  TempFile(int dir_fd, const std::string& dir, const std::string& name);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  [[nodiscard]] int fd() const { return fd_.get(); }
  /// For messages.
  [[nodiscard]] const std::string& path() const { return path_; }
  /// "/proc/self/fd/N": opens this very file, whatever happens to names in the directory.
  [[nodiscard]] std::string proc_path() const;
  /// Lends the file to the unprivileged worker (chown); install() takes it back.
  void lend_to(uid_t uid, gid_t gid) const;

  /// Owned by the effective user again, mode 0644, the source's modification time (when known,
  /// else now), flushed to disk, then renamed over `final_name` in the directory in one step:
  /// readers see the old file or the new one, never a part. Throws SourceError (the file stays
  /// temporary and is removed).
  void install(const std::string& final_name, std::time_t mtime);

 private:
  int dir_fd_;
  sys::UniqueFd fd_;
  std::string name_;
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

/// Removes the temporary files in the directory `dir_fd` last written before `older_than` (left by
/// a run that was killed); other files are never touched.
void remove_stale_temp_files(int dir_fd, std::time_t older_than);

}  // namespace flowtop::geoip::detail
