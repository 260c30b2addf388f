#pragma once

// DHCP lease names for the enricher: a LeaseIndex re-checked every 2 s on its own thread (a stat
// per file; a file is read again only when it changed), looked up from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/ip_addr.hpp"
#include "flowtop/enrich/leases.hpp"
#include "flowtop/sys/privileges.hpp"

namespace flowtop::enrich {

class LeaseNames {
 public:
  /// `files`: --leases; `usual`: also LeaseIndex::default_paths(). Reads them once now.
  LeaseNames(const std::vector<std::string>& files, bool usual)
      : index_(paths(files, usual), core::system_clock()) {
    index_.refresh();
    generation_.store(1, std::memory_order_release);
    thread_ = std::jthread([this](const std::stop_token& st) { run(st); });
  }
  ~LeaseNames() {
    thread_.request_stop();
    cv_.notify_all();
  }
  LeaseNames(const LeaseNames&) = delete;
  LeaseNames& operator=(const LeaseNames&) = delete;

  /// The lease name of the device with `mac` or, failing that, of `addr`; "" when no lease
  /// names it. Any thread.
  [[nodiscard]] std::string name_of(const core::IpAddr& addr, const MacAddr& mac) const {
    const std::lock_guard lock(mu_);
    if (auto n = index_.name_of_mac(mac)) {
      return *n;
    }
    return index_.name_of(addr).value_or(std::string());
  }

  /// Grows whenever a refresh changed what name_of() answers. Any thread, lock-free.
  [[nodiscard]] std::uint64_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }

  /// Why a lease file could not be used ("…: larger than 8 MiB"), for the health line.
  [[nodiscard]] std::vector<std::string> problems() const {
    const std::lock_guard lock(mu_);
    return index_.problems();
  }

 private:
  static std::vector<std::string> paths(const std::vector<std::string>& files, bool usual) {
    std::vector<std::string> out = usual ? LeaseIndex::default_paths() : std::vector<std::string>{};
    out.insert(out.end(), files.begin(), files.end());
    return out;
  }

  void run(const std::stop_token& st) {
    sys::enter_worker_thread("ft-leases");
    std::unique_lock lock(mu_);
    while (!st.stop_requested()) {
      cv_.wait_for(lock, std::chrono::seconds(2), [&st] { return st.stop_requested(); });
      if (!st.stop_requested() && index_.refresh()) {
        generation_.fetch_add(1, std::memory_order_acq_rel);
      }
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  LeaseIndex index_;
  std::atomic<std::uint64_t> generation_{0};
  std::jthread thread_;  // last: stops before the index goes
};

}  // namespace flowtop::enrich
