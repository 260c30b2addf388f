#include "flowtop/core/pressure.hpp"

#include <algorithm>

namespace flowtop::core {
namespace {

// The kernel's counters are 32-bit: a difference modulo 2^32 survives one wrap between samples.
double delta32(std::uint64_t prev, std::uint64_t now) {
  return static_cast<double>(static_cast<std::uint32_t>(now - prev));
}

}  // namespace

CtDropCounters drop_totals(const CtStatsSample& s) {
  CtDropCounters t;
  for (const CtCpuStats& c : s.cpus) {
    t.insert_failed += static_cast<double>(c.insert_failed);
    t.drop += static_cast<double>(c.drop);
    t.early_drop += static_cast<double>(c.early_drop);
    t.error += static_cast<double>(c.error);
  }
  return t;
}

CtPressure pressure_between(const CtStatsSample& prev, const CtStatsSample& now) {
  CtPressure p;
  p.now = now;
  p.totals = drop_totals(now);
  const std::int64_t dt_ns = now.steady_ns - prev.steady_ns;
  if (prev.cpus.empty() || now.cpus.empty() || prev.cpus.size() != now.cpus.size() || dt_ns <= 0) {
    return p;
  }
  CtDropCounters d;
  for (std::size_t i = 0; i < now.cpus.size(); ++i) {
    const CtCpuStats& a = prev.cpus[i];
    const CtCpuStats& b = now.cpus[i];
    if (a.cpu != b.cpu) {
      return p;
    }
    d.insert_failed += delta32(a.insert_failed, b.insert_failed);
    d.drop += delta32(a.drop, b.drop);
    d.early_drop += delta32(a.early_drop, b.early_drop);
    d.error += delta32(a.error, b.error);
  }
  const double secs = static_cast<double>(dt_ns) / 1e9;
  d.insert_failed /= secs;
  d.drop /= secs;
  d.early_drop /= secs;
  d.error /= secs;
  p.rate = d;
  return p;
}

std::optional<double> table_fill_percent(std::uint64_t entries, std::uint64_t max) {
  if (max == 0) {
    return std::nullopt;
  }
  return static_cast<double>(entries) * 100.0 / static_cast<double>(max);
}

}  // namespace flowtop::core
