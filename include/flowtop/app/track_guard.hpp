#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace flowtop::app {

/// `--track`: makes the kernel track connections in the current network namespace while flowtop
/// runs, with a minimal nft table `inet flowtop_track` (prerouting and output chains at priority
/// -150 whose only rule matches `ct state`: a rule using ct makes the namespace register its
/// conntrack hooks). Shared by every `--track` flowtop of the namespace with the SharedState
/// protocol of SysctlGuard (state file run_dir()/track-<netns name>): the first adds the table and
/// records the handle the kernel gave it; the last to leave deletes the table with that handle
/// only, so an administrator's table of the same name is never deleted. Owned by the main thread.
class TrackGuard {
 public:
  /// The table, as nft names it.
  static constexpr const char* kTable = "inet flowtop_track";

  /// Adds the table when this is the first instance and it does not exist yet (a table left by a
  /// killed instance, with the recorded handle, is kept and deleted by the last instance; a table
  /// of the same name that flowtop did not add is used and never deleted). Throws
  /// std::runtime_error with nft's error text when it cannot be added, std::system_error when the
  /// state file cannot be used.
  TrackGuard();
  ~TrackGuard();  ///< restore() if not done yet
  TrackGuard(const TrackGuard&) = delete;
  TrackGuard& operator=(const TrackGuard&) = delete;

  /// True when this instance added the table (false when another instance had, or a killed one left
  /// it).
  [[nodiscard]] bool added() const;
  /// Deletes the table if this is the last instance; idempotent.
  void restore() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The handle recorded in a --track state payload ("inet flowtop_track # handle 7"), if any. Pure.
std::optional<std::uint64_t> parse_track_payload(std::string_view payload);
/// The payload that records `handle`.
std::string track_payload(std::uint64_t handle);

}  // namespace flowtop::app
