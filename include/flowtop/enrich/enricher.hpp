#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/sys/netns.hpp"

namespace flowtop::enrich {

struct EnricherConfig {
  bool dns = true;                      ///< reverse DNS (-n turns it off)
  bool geoip = true;                    ///< GeoIP (-G turns it off: databases not even opened)
  std::vector<std::string> geoip_dirs;  ///< search path (geoip::default_dirs)
  std::string tor_dir = "/usr/share/tor";
  /// tcp.conf / udp.conf: first existing path per name wins; empty = system services only.
  std::string tcp_conf;
  std::string udp_conf;
  unsigned dns_workers = 8;        ///< at most this many getnameinfo calls in flight
  std::size_t queue_limit = 4096;  ///< per queue; a full queue drops and counts
  /// The MAC of a neighbour, nullopt when the address is not one: the owner of a forwarded flow.
  /// Called from any thread; must not block (net::NetWatcher's table).
  std::function<std::optional<core::MacAddr>(const core::IpAddr&)> neighbour_mac;
  /// Grows whenever neighbour_mac's answers may change (net::NetWatcher::generation()); cheap, any
  /// thread. The owners of forwarded flows are cached per thread until it (or a lease file)
  /// changes. Unset: neighbour_mac is asked every time.
  std::function<std::uint64_t()> neighbour_generation;
  /// DHCP lease files naming LAN devices, read when they change (besides the usual places).
  std::vector<std::string> lease_files;
  bool usual_lease_files = true;  ///< also read dnsmasq's, odhcpd's, ISC dhcpd's and Kea's
  /// Opens sockets in the machine's other network namespaces: the owner of a forwarded flow from
  /// a container is the process in it. nullptr: none looked up.
  sys::NetnsSockets* netns_sockets = nullptr;
};

/// Counters for --stats and the health line. Plain values (a copy).
struct EnrichStats {
  std::uint64_t dns_queued = 0, dns_done = 0, dns_failed = 0, dns_dropped = 0;
  std::uint64_t owner_lookups = 0, owner_found = 0, owner_dropped = 0, proc_scans = 0;
  std::uint64_t geo_lookups = 0;
};

/// The enrichment workers behind one facade (DESIGN: enrich). Asynchronous: on_new() only enqueues;
/// lookup() reads the caches and queues what is missing or expired (flows seen before the
/// enricher, entries past their TTL). Neither blocks, whatever a resolver is doing.
///  - owner: sock_diag (inet_diag over libmnl: TCP, UDP, UDP-lite, v4+v6) matched on the full local
///    tuple (the reply tuple for inbound flows) → inode, uid; inode → pid/comm/cmdline/user through
///    a /proc/*/fd index rebuilt at most once a second and only on a miss;
///  - reverse DNS: a pool of getnameinfo(NI_NAMEREQD) workers, <= 8 in flight, in-flight
///    de-duplication, positive cache >= 10 min, negative >= 5 min, loopback never looked up;
///  - GeoIP: geoip::GeoDatabases lookups (reserved ranges labelled, not looked up);
///  - services: tcp.conf/udp.conf, then getservbyport, for the server end's port.
/// Thread-safety: on_new() from the collector thread; lookup()/set_*()/health()/stats() from any
/// thread registered with RCU (rcu::Thread).
class Enricher {
 public:
  explicit Enricher(EnricherConfig config);
  /// Stops the workers. Workers stuck in getnameinfo are detached, never joined: returns promptly.
  ~Enricher();
  Enricher(const Enricher&) = delete;
  Enricher& operator=(const Enricher&) = delete;

  /// First sight of a flow (collector thread): queues its owner, names and geo lookups.
  void on_new(const core::FlowRecord& rec);
  /// What is known now; never blocks. Pending lookups show as Pending, turned-off ones as Disabled;
  /// reserved addresses (private, loopback...) get their GeoInfo kind at once, never looked up.
  /// The service is the server port's name (ServiceNames::server_port documents the rule).
  /// Only the fields in `needs` are read (and queued when missing); the others stay Pending.
  [[nodiscard]] core::Enrichment lookup(const core::FlowRecord& rec,
                                        core::EnrichNeeds needs = core::kNeedAll) const;
  /// Run-time toggles (the screen's `n` and `g` keys).
  void set_dns(bool on);
  void set_geoip(bool on);
  [[nodiscard]] bool dns() const;
  [[nodiscard]] bool geoip() const;
  /// Health lines: "no GeoIP database found: run 'flowtop -u' to download one", a corrupt
  /// database warning, bad tcp.conf lines (file:line: reason).
  [[nodiscard]] std::vector<std::string> health() const;
  /// Whether DB-IP data is in use (GeoIP on and a DB-IP database open): its licence (CC BY 4.0)
  /// asks for the attribution "IP Geolocation by DB-IP" where the data shows.
  [[nodiscard]] bool dbip() const;
  [[nodiscard]] EnrichStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::enrich
