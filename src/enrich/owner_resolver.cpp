#include "flowtop/enrich/owner_resolver.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "enrich/foreign_netns.hpp"
#include "enrich/sock_diag.hpp"
#include "flowtop/core/clock.hpp"
#include "flowtop/core/ends.hpp"
#include "flowtop/enrich/enrich_cache.hpp"
#include "flowtop/enrich/proc_index.hpp"
#include "flowtop/enrich/work_queue.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/sys/privileges.hpp"

namespace flowtop::enrich {

std::size_t OwnerKeyHash::operator()(const OwnerKey& k) const {
  return static_cast<std::size_t>(mix64(k.key.hash() ^ (std::uint64_t{k.id} << 17)));
}

namespace {

using Cache = EnrichCache<OwnerKey, core::ProcessInfo, OwnerKeyHash>;
using Addrs = std::vector<core::IpAddr>;
constexpr std::size_t kBatch = 1024;

struct Request {
  OwnerKey key;
  core::FlowTuple orig;
  core::FlowTuple reply;
  int attempts = 0;
  std::int64_t due_ns = 0;  // deferred: when to retry
  bool foreign = false;     // look in the other namespaces (a forwarded flow)
  core::IpAddr inside{};    // foreign: the flow's inside end, whose namespace is asked
  bool stamped = false;     // the kernel's start stamp of the flow is known
  std::uint64_t start_ns = 0;
};
struct RequestHash {
  std::size_t operator()(const Request& r) const { return OwnerKeyHash{}(r.key); }
};
struct RequestEq {
  bool operator()(const Request& a, const Request& b) const { return a.key == b.key; }
};

bool has_sockets(const core::FlowRecord& rec) {
  const auto p = static_cast<core::L4Proto>(rec.key.proto);
  return rec.has(core::FlowRecord::kHasPorts) &&
         (p == core::L4Proto::Tcp || p == core::L4Proto::Udp || p == core::L4Proto::UdpLite);
}

// The real-time deadline of a wait for `ns` of `clock`'s time.
std::chrono::steady_clock::time_point after_ns(const core::Clock& clock, std::int64_t ns) {
  return std::chrono::steady_clock::now() +
         std::chrono::nanoseconds(clock.real_wait_ns(std::max<std::int64_t>(ns, 0)));
}

}  // namespace

struct OwnerResolver::Impl {
  explicit Impl(OwnerResolverOptions o)
      : opts(std::move(o)),
        clock(opts.clock != nullptr ? *opts.clock : core::system_clock()),
        cache(Cache::Options{opts.max_entries, 256, 60'000'000'000, &clock}),
        queue(opts.queue_limit) {
    if (!opts.local_addrs) {
      opts.local_addrs = &local_addresses;
    }
    publish_locals(opts.local_addrs());
  }

  OwnerResolverOptions opts;
  const core::Clock& clock;
  Cache cache;
  WorkQueue<Request, RequestHash, RequestEq> queue;
  mutable std::mutex locals_mu;
  Addrs locals;  // sorted; guarded by locals_mu (rarely written, read per lookup)
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> lookups{0}, found{0}, proc_scans{0}, dumps{0};
  std::thread worker;

  void publish_locals(Addrs addrs) {
    std::sort(addrs.begin(), addrs.end());
    const std::lock_guard lock(locals_mu);
    if (addrs != locals) {
      locals = std::move(addrs);
    }
  }

  // The addresses of the machine's other namespaces as of the worker's last listing of them
  // (ForeignNetnsDirectory); guarded by foreign_mu. A forwarded flow whose inside end is none of
  // them has no socket in any namespace: lookup() answers Failed at once, without a cache entry
  // or a request (a router's or a big table's forwarded flows cost one binary search each).
  mutable std::mutex foreign_mu;
  bool foreign_listed = false;  // false until the first listing: every foreign flow is asked
  Addrs foreign_addrs;          // sorted
  // Set by a lookup answered from the listing: the worker lists the namespaces again once the
  // listing is min_netns_rescan_ns old, so a container started since is found.
  mutable std::atomic<bool> foreign_asked{false};

  // False when the listing is known and no namespace in it has `inside`.
  [[nodiscard]] bool maybe_foreign(const core::IpAddr& inside) const {
    bool listed = false;
    bool present = false;
    {
      const std::lock_guard lock(foreign_mu);
      listed = foreign_listed;
      present = listed && std::binary_search(foreign_addrs.begin(), foreign_addrs.end(), inside);
    }
    if (listed && !present && !foreign_asked.load(std::memory_order_relaxed)) {
      foreign_asked.store(true, std::memory_order_relaxed);
    }
    return !listed || present;
  }

  // Whether a flow may have a socket to look up: a local one, or (`forwarded`) one in another
  // namespace of this machine.
  [[nodiscard]] bool may_have_socket(const core::FlowRecord& rec, bool forwarded) const {
    if (!has_sockets(rec)) {
      return false;
    }
    if (!forwarded) {
      return maybe_local(rec);
    }
    return opts.netns != nullptr && maybe_foreign(core::ends_of(rec).inside.addr);
  }

  // The index of the worker's last sock_diag dump, for lookups on any thread; guarded by
  // published_mu. A local flow that the kernel stamped as started at least kSettleNs before that
  // dump began, and that has no socket in it, has none: its socket (opened before the entry,
  // or accepted from it within the handshake) would have been there. lookup() answers such a
  // flow Failed at once, without a cache entry or a request, while the index is younger than
  // the negative TTL (as long as a cached Failed would last): 100k socketless flows then cost a
  // hash lookup each instead of 100 batches of 1,024, each after a dump.
  struct Published {
    std::shared_ptr<const SocketIndex> index;
    std::int64_t realtime_ns = 0;  // when the dump began
    std::int64_t steady_ns = 0;    // when it was published
  };
  static constexpr std::int64_t kSettleNs = 1'000'000'000;
  mutable std::mutex published_mu;
  Published published;

  [[nodiscard]] bool surely_socketless(const core::FlowRecord& rec) const {
    return rec.has(core::FlowRecord::kHasTimestamp) &&
           surely_socketless(rec.key.proto, rec.key.orig, rec.reply, rec.start_ns);
  }
  [[nodiscard]] bool surely_socketless(std::uint8_t proto, const core::FlowTuple& orig,
                                       const core::FlowTuple& reply, std::uint64_t start_ns) const {
    // Under the lock rather than on a copy of the pointer: the snapshot thread asks for every
    // flow of every snapshot, and the worker takes the lock once per dump.
    const std::lock_guard lock(published_mu);
    const Published& p = published;
    if (!p.index || clock.steady_ns() - p.steady_ns >= opts.negative_ttl_ns ||
        p.realtime_ns < kSettleNs ||
        start_ns > static_cast<std::uint64_t>(p.realtime_ns - kSettleNs)) {
      return false;
    }
    return !p.index->match(proto, orig, reply).has_value();
  }

  // Settles Failed, and takes out of `batch`, the requests the last dump answers (queued
  // before it was published): they need no dump of their own, nor the wait for one.
  void settle_socketless(std::vector<Request>& batch) {
    const auto answered = std::partition(batch.begin(), batch.end(), [this](const Request& r) {
      return r.foreign || !r.stamped ||
             !surely_socketless(r.key.key.proto, r.orig, r.reply, r.start_ns);
    });
    for (auto it = answered; it != batch.end(); ++it) {
      lookups.fetch_add(1, std::memory_order_relaxed);
      cache.put(it->key, core::Lookup<core::ProcessInfo>::failed(), opts.negative_ttl_ns);
    }
    batch.erase(answered, batch.end());
  }

  // False when neither the original source nor the reply source is ours: no local socket.
  [[nodiscard]] bool maybe_local(const core::FlowRecord& rec) const {
    const auto ours = [this](const core::IpAddr& a) {
      return a.is_loopback() || std::binary_search(locals.begin(), locals.end(), a);
    };
    const std::lock_guard lock(locals_mu);
    return ours(rec.key.orig.src) || ours(rec.reply.src);
  }

  void run();
  void process(std::vector<Request>& batch, std::vector<Request>& deferred);

  // Worker-only state.
  std::unique_ptr<SockDiag> sock_diag;
  ProcIndex procs{opts.proc_root};
  std::int64_t last_scan_ns = std::numeric_limits<std::int64_t>::min() / 2;
  std::unordered_map<std::uint32_t, std::string> users;
  std::unique_ptr<ForeignNetnsDirectory> foreign;
  std::int64_t last_netns_scan_ns = std::numeric_limits<std::int64_t>::min() / 2;

  // Lists the other namespaces again and publishes their addresses (worker only).
  void list_foreign() {
    if (!foreign) {
      foreign = std::make_unique<ForeignNetnsDirectory>(*opts.netns, opts.proc_root);
    }
    foreign_asked.store(false, std::memory_order_relaxed);
    foreign->rescan();
    last_netns_scan_ns = clock.steady_ns();
    Addrs addrs = foreign->addresses();
    const std::lock_guard lock(foreign_mu);
    foreign_addrs = std::move(addrs);
    foreign_listed = true;
  }

  // The socket of each foreign request, matched in the namespace that has its inside address
  // (the container a flow came from, or the one it was port-forwarded to).
  void match_foreign(const std::vector<const Request*>& reqs,
                     std::vector<std::pair<const Request*, SocketInfo>>& matched,
                     std::vector<std::string>& labels, std::vector<const Request*>& unmatched);
};

void OwnerResolver::Impl::match_foreign(const std::vector<const Request*>& reqs,
                                        std::vector<std::pair<const Request*, SocketInfo>>& matched,
                                        std::vector<std::string>& labels,
                                        std::vector<const Request*>& unmatched) {
  if (opts.netns == nullptr) {
    unmatched = reqs;
    return;
  }
  if (!foreign || clock.steady_ns() - last_netns_scan_ns >= opts.min_netns_rescan_ns) {
    list_foreign();
  }
  std::map<ForeignNetns*, std::unique_ptr<SocketIndex>> indexes;  // one dump per namespace
  for (const Request* req : reqs) {
    bool hit = false;
    for (ForeignNetns* ns : foreign->owners_of(req->inside)) {
      auto [it, added] = indexes.try_emplace(ns);
      if (added) {
        try {
          it->second = std::make_unique<SocketIndex>(ns->diag->dump(), ns->addrs);
        } catch (const std::exception&) {
          ns->diag.reset();  // reopened next time
        }
      }
      const auto m =
          it->second ? it->second->match(req->key.key.proto, req->orig, req->reply) : std::nullopt;
      if (m) {
        matched.emplace_back(req, m->socket);
        labels.push_back(ns->label);
        hit = true;
        break;
      }
    }
    if (!hit) {
      unmatched.push_back(req);
    }
  }
}

OwnerResolver::OwnerResolver(OwnerResolverOptions opts)
    : impl_(std::make_unique<Impl>(std::move(opts))) {
  impl_->worker = std::thread([impl = impl_.get()] { impl->run(); });
}

OwnerResolver::~OwnerResolver() {
  impl_->stop.store(true, std::memory_order_relaxed);
  impl_->queue.close();
  impl_->worker.join();
}

void OwnerResolver::Impl::run() {
  // Other users' /proc/PID/fd need CAP_SYS_PTRACE (readlink) and CAP_DAC_READ_SEARCH (listing);
  // nothing else.
  sys::enter_worker_thread("ft-owner",
                           {sys::Capability::SysPtrace, sys::Capability::DacReadSearch});
  const rcu::Thread rcu;
  if (opts.netns != nullptr) {
    list_foreign();  // before the first snapshot asks, as a rule: its forwarded flows are answered
  }
  std::vector<Request> batch;
  std::vector<Request> deferred;
  std::int64_t last_dump_ns = std::numeric_limits<std::int64_t>::min() / 2;
  for (;;) {
    std::int64_t wake_ns = 1'000'000'000;  // sweeps the cache now and then even when idle
    for (const Request& r : deferred) {
      wake_ns = std::min(wake_ns, r.due_ns - clock.steady_ns());
    }
    batch.clear();
    if (!queue.pop_batch(batch, kBatch, after_ns(clock, wake_ns))) {
      return;
    }
    settle_socketless(batch);
    // Requests arriving shortly after a dump share the next one.
    while (!batch.empty() && clock.steady_ns() < last_dump_ns + opts.min_dump_interval_ns) {
      const std::int64_t wait = last_dump_ns + opts.min_dump_interval_ns - clock.steady_ns();
      if (!queue.wait_closed_until(after_ns(clock, wait)) ||
          !queue.pop_batch(batch, kBatch, std::chrono::steady_clock::now())) {
        return;
      }
      settle_socketless(batch);
    }
    const std::int64_t now = clock.steady_ns();
    const auto due = std::partition(deferred.begin(), deferred.end(),
                                    [now](const Request& r) { return r.due_ns > now; });
    std::move(due, deferred.end(), std::back_inserter(batch));
    deferred.erase(due, deferred.end());
    if (!batch.empty()) {
      last_dump_ns = clock.steady_ns();
      process(batch, deferred);
    }
    cache.maybe_sweep();
    if (opts.netns != nullptr && foreign_asked.load(std::memory_order_relaxed) &&
        clock.steady_ns() - last_netns_scan_ns >= opts.min_netns_rescan_ns) {
      list_foreign();
    }
  }
}

void OwnerResolver::Impl::process(std::vector<Request>& batch, std::vector<Request>& deferred) {
  // Forwarded flows first: their sockets, if any, are in other namespaces.
  const auto local_end =
      std::partition(batch.begin(), batch.end(), [](const Request& r) { return !r.foreign; });
  std::vector<const Request*> foreign_reqs;
  for (auto it = local_end; it != batch.end(); ++it) {
    foreign_reqs.push_back(&*it);
  }
  std::vector<std::pair<const Request*, SocketInfo>> foreign_hits;
  std::vector<std::string> foreign_labels;
  std::vector<const Request*> foreign_misses;
  if (!foreign_reqs.empty()) {
    match_foreign(foreign_reqs, foreign_hits, foreign_labels, foreign_misses);
  }
  std::vector<SocketInfo> sockets;
  const std::int64_t dump_realtime_ns = clock.realtime_ns();
  try {
    if (opts.dump) {
      sockets = opts.dump();
    } else {
      if (!sock_diag) {
        sock_diag = std::make_unique<SockDiag>();
      }
      sockets = sock_diag->dump();
    }
  } catch (const std::exception&) {
    sock_diag.reset();  // reopen next time; these flows get no owner for now
  }
  dumps.fetch_add(1, std::memory_order_relaxed);
  Addrs addrs = opts.local_addrs();
  publish_locals(addrs);
  const auto shared_index = std::make_shared<const SocketIndex>(sockets, std::move(addrs));
  const SocketIndex& index = *shared_index;
  Published previous;  // freed after the lock: readers do not wait for the old index to go
  {
    const std::lock_guard lock(published_mu);
    previous =
        std::exchange(published, Published{shared_index, dump_realtime_ns, clock.steady_ns()});
  }

  std::map<std::int32_t, std::pair<std::string, std::string>> seen;  // pid → comm, cmdline
  const auto settle = [&](const Request& req, const SocketInfo* sock, std::int32_t pid,
                          const std::string& netns = std::string()) {
    lookups.fetch_add(1, std::memory_order_relaxed);
    if (sock != nullptr && pid > 0) {
      auto it = seen.find(pid);
      if (it == seen.end()) {
        std::pair<std::string, std::string> texts;
        if (procs.read_process(pid, texts.first, texts.second)) {
          it = seen.emplace(pid, std::move(texts)).first;
        }
      }
      if (it != seen.end()) {
        core::ProcessInfo info;
        info.pid = pid;
        info.uid = sock->uid;
        info.name = it->second.first;
        info.cmdline = it->second.second;
        auto user = users.find(sock->uid);
        if (user == users.end()) {
          user = users.emplace(sock->uid, user_name(sock->uid)).first;
        }
        info.user = user->second;
        info.netns = netns;
        // Counted before it is published: whoever sees the owner also sees the count.
        found.fetch_add(1, std::memory_order_relaxed);
        cache.put(req.key, core::Lookup<core::ProcessInfo>::ready(std::move(info)),
                  opts.positive_ttl_ns);
        return;
      }
    }
    cache.put(req.key, core::Lookup<core::ProcessInfo>::failed(), opts.negative_ttl_ns);
  };

  std::vector<std::pair<const Request*, SocketInfo>> misses;
  std::map<const Request*, std::string> miss_labels;
  for (const Request* req : foreign_misses) {
    settle(*req, nullptr, 0);
  }
  for (std::size_t i = 0; i < foreign_hits.size(); ++i) {
    const auto& [req, sock] = foreign_hits[i];
    if (const auto pid = procs.pid_of(sock.inode)) {
      settle(*req, &sock, *pid, foreign_labels[i]);
    } else {
      misses.emplace_back(req, sock);
      miss_labels.emplace(req, foreign_labels[i]);
    }
  }
  for (auto it = batch.begin(); it != local_end; ++it) {
    const Request& req = *it;
    const auto m = index.match(req.key.key.proto, req.orig, req.reply);
    if (!m) {
      settle(req, nullptr, 0);
    } else if (const auto pid = procs.pid_of(m->socket.inode)) {
      settle(req, &m->socket, *pid);
    } else {
      misses.emplace_back(&req, m->socket);
    }
  }
  if (misses.empty()) {
    return;
  }
  if (clock.steady_ns() - last_scan_ns >= opts.min_rescan_ns) {
    procs.rebuild(&stop);
    last_scan_ns = clock.steady_ns();
    proc_scans.fetch_add(1, std::memory_order_relaxed);
    for (const auto& [req, sock] : misses) {
      const auto pid = procs.pid_of(sock.inode);
      const auto label = miss_labels.find(req);
      settle(*req, &sock, pid.value_or(0),
             label != miss_labels.end() ? label->second : std::string());
    }
    return;
  }
  // The index is too young to rebuild: retry once when it may be.
  for (const auto& [req, sock] : misses) {
    if (req->attempts > 0) {
      settle(*req, &sock, 0);
    } else {
      Request again = *req;
      again.attempts = 1;
      again.due_ns = last_scan_ns + opts.min_rescan_ns;
      deferred.push_back(again);
    }
  }
}

void OwnerResolver::request(const core::FlowRecord& rec, bool foreign) {
  if (!impl_->may_have_socket(rec, foreign)) {
    return;
  }
  if (!foreign && impl_->surely_socketless(rec)) {
    return;
  }
  if (impl_->queue.probably_full()) {
    // A snapshot of a big table asks for every flow: once the queue is full, the rest would only
    // be entered in the cache as pending and taken out again (a node and a grace period each).
    impl_->queue.count_dropped();
    return;
  }
  const OwnerKey key{rec.key, rec.id};
  if (impl_->cache.get(key).has_value() || !impl_->cache.begin(key, impl_->opts.pending_ttl_ns)) {
    return;
  }
  using Push = WorkQueue<Request, RequestHash, RequestEq>::Push;
  Request req{key, rec.key.orig, rec.reply};
  req.foreign = foreign;
  req.stamped = rec.has(core::FlowRecord::kHasTimestamp);
  req.start_ns = rec.start_ns;
  req.inside = core::ends_of(rec).inside.addr;
  const Push pushed = impl_->queue.push(req);
  if (pushed == Push::Full || pushed == Push::Closed) {
    impl_->cache.abandon(key);
  }
}

core::Lookup<core::ProcessInfo> OwnerResolver::lookup(const core::FlowRecord& rec,
                                                      bool foreign) const {
  if (!impl_->may_have_socket(rec, foreign)) {
    return core::Lookup<core::ProcessInfo>::failed();
  }
  if (auto hit = impl_->cache.get(OwnerKey{rec.key, rec.id})) {
    return std::move(*hit);
  }
  if (!foreign && impl_->surely_socketless(rec)) {
    return core::Lookup<core::ProcessInfo>::failed();
  }
  return {};
}

core::Lookup<core::ProcessInfo> OwnerResolver::lookup_or_request(const core::FlowRecord& rec,
                                                                 bool foreign) {
  auto out = lookup(rec, foreign);
  if (out.state == core::Lookup<core::ProcessInfo>::State::Pending) {
    request(rec, foreign);
  }
  return out;
}

OwnerResolverStats OwnerResolver::stats() const {
  OwnerResolverStats out;
  out.lookups = impl_->lookups.load(std::memory_order_relaxed);
  out.found = impl_->found.load(std::memory_order_relaxed);
  out.dropped = impl_->queue.dropped() + impl_->cache.refused();
  out.proc_scans = impl_->proc_scans.load(std::memory_order_relaxed);
  out.dumps = impl_->dumps.load(std::memory_order_relaxed);
  return out;
}

}  // namespace flowtop::enrich
