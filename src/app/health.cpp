#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "frame_source.hpp"

namespace flowtop::app {
namespace {

std::string per_second(double v) {
  return v >= 10 ? fmt::format("{:.0f}/s", v) : fmt::format("{:.1f}/s", v);
}

}  // namespace

std::string fill_line(std::uint64_t entries, std::uint64_t max) {
  const auto pct = core::table_fill_percent(entries, max);
  if (!pct || *pct < core::kTableFillWarnPercent) {
    return {};
  }
  return fmt::format(
      "the conntrack table is {:.0f}% full ({} of nf_conntrack_max {}): when full, new flows "
      "are dropped",
      std::min(*pct, 100.0), entries, max);
}

std::string drop_line(const core::CtPressure& pressure) {
  if (!pressure.rate || !pressure.rate->any()) {
    return {};
  }
  const core::CtDropCounters& r = *pressure.rate;
  std::string out = "conntrack is dropping:";
  const char* sep = " ";
  for (const auto& [name, v] :
       {std::pair{"drop", r.drop}, std::pair{"early_drop", r.early_drop},
        std::pair{"insert_failed", r.insert_failed}, std::pair{"error", r.error}}) {
    if (v > 0) {
      out += fmt::format("{}{} {}", sep, name, per_second(v));
      sep = ", ";
    }
  }
  return out;
}

std::vector<std::string> health_lines(const core::CollectorStats& stats,
                                      const core::CtPressure& pressure,
                                      const sys::SysctlGuard::Result* sysctl, bool no_sysctl) {
  std::vector<std::string> out;
  if (!stats.initial_dump_done.load()) {
    out.emplace_back("collecting…");
  }
  if (sysctl != nullptr) {
    for (const auto& name : sysctl->turned_on) {
      out.push_back(fmt::format("{} was off: turned on; only flows created since then have {}",
                                name,
                                name.find("timestamp") != std::string::npos ? "ages" : "counters"));
    }
    for (const auto& failure : sysctl->failed) {
      out.push_back(fmt::format("cannot turn on {}", failure));
    }
    if (sysctl->state_by_inode) {
      out.emplace_back(
          "no SO_NETNS_COOKIE (Linux < 5.14): the state file is named by the namespace inode, "
          "which the kernel reuses");
    }
  } else if (no_sysctl) {
    // --no-sysctl: the user keeps the settings; nothing to say unless data is missing, which the
    // '-' cells show.
  }
  if (const auto lost = stats.enobufs.load(); lost > 0) {
    out.push_back(fmt::format("events were lost {} time{}: resynchronised ({} resync dump{})", lost,
                              lost == 1 ? "" : "s", stats.resyncs.load(),
                              stats.resyncs.load() == 1 ? "" : "s"));
  }
  // The kernel's own count when it gave one: entries not yet confirmed count against the limit.
  if (std::string line =
          fill_line(pressure.now.entries.value_or(stats.flows.load()), stats.ct_max.load());
      !line.empty()) {
    out.push_back(std::move(line));
  }
  if (std::string line = drop_line(pressure); !line.empty()) {
    out.push_back(std::move(line));
  }
  if (stats.dump_stretched.load()) {
    // How stale the counters, rates and aggregates can be, and why.
    out.push_back(fmt::format(
        "counters refresh every {:.1f} s, not each interval: a full dump of this table takes "
        "{} ms",
        static_cast<double>(stats.refresh_period_ns.load()) / 1e9,
        stats.last_dump_ns.load() / 1'000'000));
  }
  return out;
}

}  // namespace flowtop::app
