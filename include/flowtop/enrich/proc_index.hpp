#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "flowtop/core/enrichment.hpp"

namespace flowtop::enrich {

/// Socket inode → pid, from one scan of `<proc>/[0-9]*/fd/*` (readlink "socket:[N]"). A process
/// that exits mid-scan, or whose fds cannot be read, is skipped. When several processes share a
/// socket the lowest pid is kept. Owned by the owner worker (not thread-safe).
class ProcIndex {
 public:
  explicit ProcIndex(std::string proc_root = "/proc");

  /// Rescans; returns false if `stop` became true meanwhile (the index is then partial).
  bool rebuild(const std::atomic<bool>* stop = nullptr);
  [[nodiscard]] std::optional<std::int32_t> pid_of(std::uint64_t inode) const;
  [[nodiscard]] std::size_t size() const { return pids_.size(); }

  /// comm (without the newline) and cmdline (NUL-separated arguments joined by spaces, trailing
  /// NULs dropped) of `pid`. False when the process is gone.
  bool read_process(std::int32_t pid, std::string& comm, std::string& cmdline) const;

  [[nodiscard]] const std::string& root() const { return root_; }

 private:
  std::string root_;
  std::unordered_map<std::uint64_t, std::int32_t> pids_;
};

/// "socket:[12345]" → 12345; nullopt for any other link text. Pure.
std::optional<std::uint64_t> socket_inode(std::string_view link);

/// The user name of `uid` (getpwuid_r), or the uid as text when there is none.
std::string user_name(std::uint32_t uid);

}  // namespace flowtop::enrich
