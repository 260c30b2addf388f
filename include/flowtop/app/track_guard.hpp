#pragma once

#include <memory>

namespace flowtop::app {

/// `--track`: makes the kernel track connections in the current network namespace while flowtop
/// runs, with a minimal nft table `inet flowtop_track` (prerouting and output chains at priority
/// -150 whose only rule matches `ct state`: a rule using ct makes the namespace register its
/// conntrack hooks). Shared by every `--track` flowtop of the namespace with the SharedState
/// protocol of SysctlGuard (state file run_dir()/track-<netns inode>): the first adds the table,
/// the last to leave deletes it. Owned by the main thread.
class TrackGuard {
 public:
  /// The table, as nft names it.
  static constexpr const char* kTable = "inet flowtop_track";

  /// Adds the table when this is the first instance and it does not exist yet (a table left by a
  /// killed instance is kept, and deleted by the last instance). Throws std::runtime_error with
  /// nft's error text when it cannot be added, std::system_error when the state file cannot be
  /// used.
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

}  // namespace flowtop::app
