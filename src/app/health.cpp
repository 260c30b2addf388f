#include <fmt/format.h>

#include "frame_source.hpp"

namespace flowtop::app {

std::vector<std::string> health_lines(const core::CollectorStats& stats,
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
  const auto max = stats.ct_max.load();
  const auto flows = stats.flows.load();
  if (max > 0 && flows * 10 >= max * 9) {
    out.push_back(
        fmt::format("the conntrack table is near nf_conntrack_max ({} of {})", flows, max));
  }
  if (stats.dump_stretched.load()) {
    out.push_back(
        fmt::format("full counter refresh stretched: the table is big (a dump takes {} ms)",
                    stats.last_dump_ns.load() / 1'000'000));
  }
  return out;
}

}  // namespace flowtop::app
