#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flowtop::sys {

/// Turns on nf_conntrack_acct and nf_conntrack_timestamp in the current network namespace and
/// restores them when the last flowtop of the namespace leaves (the SharedState protocol: a state
/// file per namespace holds the original values): on destruction, and from a fatal-signal handler
/// (registered emergency action). Owned by the main thread.
class SysctlGuard {
 public:
  struct Result {
    std::vector<std::string> turned_on;  ///< e.g. {"nf_conntrack_acct"}: were off, now on
    std::vector<std::string>
        failed;  ///< could not be written: "nf_conntrack_acct: Permission denied"
    /// The kernel has no SO_NETNS_COOKIE: the state file is named by the namespace's inode, which
    /// the kernel reuses after a namespace is gone.
    bool state_by_inode = false;
  };

  /// `proc_dir` is normally "/proc/sys/net/netfilter" (tests pass a temp dir); state files live
  /// in run_dir(). Throws std::system_error when the state file cannot be used.
  explicit SysctlGuard(std::string proc_dir = "/proc/sys/net/netfilter");
  ~SysctlGuard();  ///< restore() if not done yet
  SysctlGuard(const SysctlGuard&) = delete;
  SysctlGuard& operator=(const SysctlGuard&) = delete;

  [[nodiscard]] const Result& result() const;
  /// Restores the original values if this is the last instance; idempotent.
  void restore() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The state payload, "nf_conntrack_acct=0\nnf_conntrack_timestamp=0\n", as {name: value}: only
/// the two settings, only plain decimal values of at most 32 digits; anything else is ignored
/// (never written back). Pure; any thread.
std::map<std::string, std::string> parse_sysctl_payload(std::string_view payload);

}  // namespace flowtop::sys
