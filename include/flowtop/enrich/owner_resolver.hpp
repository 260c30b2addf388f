#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/enrich/socket_index.hpp"
#include "flowtop/sys/netns.hpp"

namespace flowtop::enrich {

/// What the owner cache is keyed by: the conntrack entry (its key and kernel id, so a reused tuple
/// is looked up afresh).
struct OwnerKey {
  core::FlowKey key;
  std::uint32_t id = 0;
  bool operator==(const OwnerKey&) const = default;
};
struct OwnerKeyHash {
  std::size_t operator()(const OwnerKey& k) const;
};

struct OwnerResolverOptions {
  std::size_t queue_limit = 4096;
  std::size_t max_entries = 65536;
  std::int64_t positive_ttl_ns = 600'000'000'000;  ///< found: 10 min (the key includes the id)
  std::int64_t negative_ttl_ns = 10'000'000'000;   ///< no socket: retried after 10 s
  std::int64_t pending_ttl_ns = 30'000'000'000;
  std::int64_t min_rescan_ns = 1'000'000'000;      ///< /proc index rebuilt at most once a second
  std::int64_t min_dump_interval_ns = 50'000'000;  ///< requests arriving meanwhile share a dump
  std::string proc_root = "/proc";
  /// One sock_diag dump; empty = a NETLINK_SOCK_DIAG socket of this namespace.
  std::function<std::vector<SocketInfo>()> dump;
  /// The host's addresses; empty = local_addresses().
  std::function<std::vector<core::IpAddr>()> local_addrs;
  const core::Clock* clock = nullptr;  ///< nullptr = core::system_clock()
  /// Opens sockets in other network namespaces: forwarded flows from a container on this machine
  /// are looked up in the container's sock_diag. nullptr: no such lookups (Failed).
  sys::NetnsSockets* netns = nullptr;
  std::int64_t min_netns_rescan_ns = 5'000'000'000;  ///< namespaces listed at most every 5 s
};

struct OwnerResolverStats {
  std::uint64_t lookups = 0;     ///< flows resolved (found or not)
  std::uint64_t found = 0;       ///< flows attributed to a process
  std::uint64_t dropped = 0;     ///< requests refused: queue or cache full
  std::uint64_t proc_scans = 0;  ///< /proc/*/fd index rebuilds
  std::uint64_t dumps = 0;       ///< sock_diag dumps
};

/// Which local process owns a flow: one worker thread matches queued flows against one sock_diag
/// dump per batch (SocketIndex), then socket inode → pid through a ProcIndex rebuilt at most once
/// per `min_rescan_ns` and only on a miss (a miss while the index is younger waits for the next
/// rebuild once, then fails). Results: Ok(pid, uid, comm, cmdline, user) or Failed (no local
/// socket: forwarded or closed; or no visible process). Never a /proc walk per flow.
///
/// Flows whose original source and reply source are both foreign addresses cannot have a local
/// socket: lookup() answers Failed for them at once, without a cache entry (a router's forwarded
/// flows cost nothing). Likewise a forwarded (`foreign`) flow whose inside address belongs to
/// none of the other namespaces of the machine's last listing (taken when the worker starts, and
/// again at most every `min_netns_rescan_ns` once such a flow was asked about): Failed at once.
/// A local flow that started (the kernel's start stamp) at least a second before the worker's
/// last sock_diag dump, and has no socket in it, is Failed at once too, while that dump is
/// younger than `negative_ttl_ns`. Protocols other than TCP, UDP and UDP-lite: Failed.
///
/// Thread-safety: request()/lookup()/stats() from any RCU-registered thread. The destructor joins
/// the worker (a dump or a scan is bounded; a scan stops early).
class OwnerResolver {
 public:
  explicit OwnerResolver(OwnerResolverOptions opts = {});
  ~OwnerResolver();
  OwnerResolver(const OwnerResolver&) = delete;
  OwnerResolver& operator=(const OwnerResolver&) = delete;

  /// `foreign`: a forwarded flow, whose socket may be in another namespace of this machine (a
  /// container's): looked up there (ProcessInfo::netns names it).
  void request(const core::FlowRecord& rec, bool foreign = false);
  [[nodiscard]] core::Lookup<core::ProcessInfo> lookup(const core::FlowRecord& rec,
                                                       bool foreign = false) const;
  core::Lookup<core::ProcessInfo> lookup_or_request(const core::FlowRecord& rec,
                                                    bool foreign = false);
  [[nodiscard]] OwnerResolverStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::enrich
