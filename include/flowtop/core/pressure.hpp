#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace flowtop::core {

/// One CPU's conntrack statistics (IPCTNL_MSG_CT_GET_STATS_CPU, what `conntrack -S` prints). The
/// kernel keeps them as 32-bit counters that wrap; they are widened here, never summed per CPU
/// before a wrap-aware difference is taken. Value type.
struct CtCpuStats {
  std::uint16_t cpu = 0;
  std::uint64_t found = 0, invalid = 0, insert = 0, insert_failed = 0, drop = 0, early_drop = 0,
                error = 0, search_restart = 0, clash_resolve = 0, chaintoolong = 0;

  bool operator==(const CtCpuStats&) const = default;
};

/// One reading of the namespace's conntrack statistics. Written by the collector; copied out by
/// readers (CollectorStats::pressure()).
struct CtStatsSample {
  std::vector<CtCpuStats> cpus;          ///< one per possible CPU; empty: not read (yet, or failed)
  std::optional<std::uint64_t> entries;  ///< the namespace's entry count (IPCTNL_MSG_CT_GET_STATS)
  std::optional<std::uint64_t> max;      ///< nf_conntrack_max (IPCTNL_MSG_CT_GET_STATS)
  std::int64_t steady_ns = 0;            ///< when it was read
};

/// The counters that mean conntrack refused or lost traffic, summed over the CPUs.
struct CtDropCounters {
  double insert_failed = 0, drop = 0, early_drop = 0, error = 0;

  [[nodiscard]] bool any() const {
    return insert_failed > 0 || drop > 0 || early_drop > 0 || error > 0;
  }
};

/// What makes conntrack drop traffic: the latest sample, its sums, and the per-second rates of the
/// drop counters since the sample before it. A value type (view::Status carries it).
struct CtPressure {
  CtStatsSample now;
  CtDropCounters totals;               ///< since the kernel started counting (per namespace)
  std::optional<CtDropCounters> rate;  ///< per second; nullopt before two samples
};

/// The sums of `s`'s drop counters over its CPUs.
CtDropCounters drop_totals(const CtStatsSample& s);

/// `now`'s totals, and the rates from `prev` to `now`: per CPU, a 32-bit wrap-aware difference,
/// over the samples' own times. No rates when either sample is empty, the CPU sets differ, or no
/// time passed.
CtPressure pressure_between(const CtStatsSample& prev, const CtStatsSample& now);

/// How full the table is, in percent (0..), or nullopt when the limit is unknown or 0 (unlimited).
std::optional<double> table_fill_percent(std::uint64_t entries, std::uint64_t max);

/// The fill from which the health line warns (percent of nf_conntrack_max).
inline constexpr double kTableFillWarnPercent = 80.0;

}  // namespace flowtop::core
