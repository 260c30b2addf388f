#include "flowtop/enrich/owner_resolver.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "flowtop/enrich/proc_index.hpp"
#include "flowtop/rcu/rcu.hpp"
#include "flowtop/sys/unique_fd.hpp"

namespace {

namespace fs = std::filesystem;
using flowtop::core::FlowRecord;
using flowtop::core::FlowTuple;
using flowtop::core::IpAddr;
using flowtop::core::L4Proto;
using flowtop::core::Lookup;
using flowtop::core::ProcessInfo;
using flowtop::enrich::OwnerResolver;
using flowtop::enrich::OwnerResolverOptions;
using flowtop::enrich::SocketInfo;
using State = Lookup<ProcessInfo>::State;
using namespace std::chrono_literals;

const flowtop::rcu::Thread kRcu;

constexpr auto kTcp = static_cast<std::uint8_t>(L4Proto::Tcp);
constexpr auto kUdp = static_cast<std::uint8_t>(L4Proto::Udp);

IpAddr ip(const char* text) {
  return *IpAddr::parse(text);
}

FlowRecord flow(std::uint8_t proto, const char* src, std::uint16_t sport, const char* dst,
                std::uint16_t dport, std::uint32_t id = 1) {
  FlowRecord rec;
  rec.key.proto = proto;
  rec.key.orig = {ip(src), ip(dst), sport, dport};
  rec.key.family = rec.key.orig.src.family();
  rec.reply = {ip(dst), ip(src), dport, sport};
  rec.id = id;
  rec.flags = FlowRecord::kHasPorts;
  return rec;
}

SocketInfo sock(std::uint8_t proto, const char* local, std::uint16_t lport, const char* remote,
                std::uint16_t rport, std::uint32_t inode, std::uint32_t uid) {
  SocketInfo s;
  s.proto = proto;
  s.local = ip(local);
  s.remote = ip(remote);
  s.lport = lport;
  s.rport = rport;
  s.inode = inode;
  s.uid = uid;
  s.state = 1;
  s.family = s.local.is_v4() ? 4 : 6;
  return s;
}

Lookup<ProcessInfo> settle(OwnerResolver& r, const FlowRecord& rec,
                           std::chrono::milliseconds timeout = 5000ms) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto l = r.lookup_or_request(rec);
    if (l.state != State::Pending || std::chrono::steady_clock::now() > until) {
      return l;
    }
    std::this_thread::sleep_for(2ms);
  }
}

/// A fake /proc and a fake sock_diag dump the test controls.
class FakeHost : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("flowtop-owner-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    sockets_ = std::make_shared<Sockets>();
  }
  void TearDown() override { fs::remove_all(root_); }

  void process(int pid, const std::string& comm, const std::string& cmdline) {
    fs::create_directories(root_ / std::to_string(pid) / "fd");
    std::ofstream(root_ / std::to_string(pid) / "comm") << comm << "\n";
    std::ofstream(root_ / std::to_string(pid) / "cmdline", std::ios::binary) << cmdline;
  }
  void fd(int pid, int fd, std::uint32_t inode) {
    fs::create_symlink("socket:[" + std::to_string(inode) + "]",
                       root_ / std::to_string(pid) / "fd" / std::to_string(fd));
  }
  void add_socket(const SocketInfo& s) {
    const std::lock_guard lock(sockets_->mu);
    sockets_->list.push_back(s);
  }

  OwnerResolverOptions options() {
    OwnerResolverOptions o;
    o.proc_root = root_.string();
    o.dump = [s = sockets_] {
      const std::lock_guard lock(s->mu);
      ++s->dumps;
      return s->list;
    };
    o.local_addrs = [] { return std::vector<IpAddr>{ip("10.0.0.2"), ip("fd00::2")}; };
    return o;
  }

  struct Sockets {
    std::mutex mu;
    std::vector<SocketInfo> list;
    int dumps = 0;
  };
  fs::path root_;
  std::shared_ptr<Sockets> sockets_;
};

TEST_F(FakeHost, AttributesOutboundAndInboundFlowsToTheirProcesses) {
  process(100, "curl", std::string("curl\0https://example.com\0", 25));
  fd(100, 3, 555);
  process(200, "sshd", std::string("sshd: alice\0", 12));
  fd(200, 4, 777);
  add_socket(sock(kTcp, "10.0.0.2", 40000, "93.184.216.34", 443, 555, 3999999999U));
  add_socket(sock(kTcp, "10.0.0.2", 22, "198.51.100.7", 5555, 777, 0));
  OwnerResolver r(options());

  const auto out = settle(r, flow(kTcp, "10.0.0.2", 40000, "93.184.216.34", 443));
  ASSERT_EQ(out.state, State::Ok);
  EXPECT_EQ(out.value.pid, 100);
  EXPECT_EQ(out.value.name, "curl");
  EXPECT_EQ(out.value.cmdline, "curl https://example.com");
  EXPECT_EQ(out.value.uid, 3999999999U);
  EXPECT_EQ(out.value.user, "3999999999") << "a uid without a passwd entry shows as a number";

  const auto in = settle(r, flow(kTcp, "198.51.100.7", 5555, "10.0.0.2", 22));
  ASSERT_EQ(in.state, State::Ok);
  EXPECT_EQ(in.value.pid, 200);
  EXPECT_EQ(in.value.name, "sshd");
  EXPECT_EQ(in.value.user, "root");
  EXPECT_EQ(r.stats().found, 2U);
}

TEST_F(FakeHost, ForwardedFlowsFailAtOnceWithoutALookup) {
  OwnerResolver r(options());
  const FlowRecord fwd = flow(kTcp, "192.168.1.10", 40000, "93.184.216.34", 443);
  EXPECT_EQ(r.lookup_or_request(fwd).state, State::Failed);
  r.request(fwd);
  // A local flow queued after it: the worker takes requests in order, so once this one is
  // settled the forwarded one would have been looked up too, had it been queued.
  EXPECT_EQ(settle(r, flow(kUdp, "10.0.0.2", 40000, "192.0.2.53", 53)).state, State::Failed);
  EXPECT_EQ(r.stats().lookups, 1U) << "the forwarded flow was looked up";
}

TEST_F(FakeHost, LocalFlowWithoutASocketFails) {
  OwnerResolver r(options());
  EXPECT_EQ(settle(r, flow(kUdp, "10.0.0.2", 40000, "192.0.2.53", 53)).state, State::Failed);
  EXPECT_EQ(r.stats().lookups, 1U);
  EXPECT_EQ(r.stats().found, 0U);
}

// 100k socketless flows of a big table (a server's TIME-WAIT leftovers, injected entries) would
// take 100 batches of 1,024, each after a dump: once the worker has dumped, a flow the kernel
// stamped as started well before that dump and that has no socket in it is answered at once.
TEST_F(FakeHost, OldFlowsWithoutASocketInTheLastDumpFailAtOnce) {
  process(100, "app", "");
  fd(100, 3, 555);
  add_socket(sock(kTcp, "10.0.0.2", 40000, "192.0.2.1", 80, 555, 0));
  flowtop::core::FakeClock clock;
  OwnerResolverOptions o = options();
  o.clock = &clock;
  OwnerResolver r(o);
  const auto stamped = [&](FlowRecord rec, std::int64_t start_ns) {
    rec.flags |= FlowRecord::kHasTimestamp;
    rec.start_ns = static_cast<std::uint64_t>(start_ns);
    return rec;
  };
  const std::int64_t before = clock.realtime_ns() - 60'000'000'000;  // a minute before the dump
  // The first dump.
  ASSERT_EQ(settle(r, stamped(flow(kTcp, "10.0.0.2", 40000, "192.0.2.1", 80, 1), before)).state,
            State::Ok);
  const auto lookups = r.stats().lookups;
  for (std::uint16_t port = 1; port <= 2000; ++port) {
    const FlowRecord old =
        stamped(flow(kUdp, "10.0.0.2", port, "192.0.2.53", 53, 10U + port), before);
    ASSERT_EQ(r.lookup_or_request(old).state, State::Failed) << port;
  }
  EXPECT_EQ(r.stats().lookups, lookups) << "answered from the last dump, never queued";
  // A flow that has its socket in the dump is still looked up (its process).
  EXPECT_EQ(
      r.lookup_or_request(stamped(flow(kTcp, "10.0.0.2", 40000, "192.0.2.1", 80, 2), before)).state,
      State::Pending);
  // A flow younger than the dump (its socket may be newer), or without a start stamp, is asked.
  const FlowRecord young =
      stamped(flow(kUdp, "10.0.0.2", 5000, "192.0.2.53", 53, 5000), clock.realtime_ns());
  EXPECT_EQ(r.lookup_or_request(young).state, State::Pending);
  EXPECT_EQ(r.lookup_or_request(flow(kUdp, "10.0.0.2", 5001, "192.0.2.53", 53, 5001)).state,
            State::Pending);
  // Once the dump is as old as a negative answer lasts, nothing is answered from it.
  clock.advance(o.negative_ttl_ns);
  EXPECT_EQ(
      r.lookup_or_request(stamped(flow(kUdp, "10.0.0.2", 6000, "192.0.2.53", 53, 6000), before))
          .state,
      State::Pending);
}

TEST_F(FakeHost, ProtocolsWithoutSocketsFail) {
  OwnerResolver r(options());
  FlowRecord icmp = flow(1, "10.0.0.2", 0, "192.0.2.1", 0);
  icmp.flags = 0;
  EXPECT_EQ(r.lookup_or_request(icmp).state, State::Failed);
  FlowRecord sctp = flow(132, "10.0.0.2", 1000, "192.0.2.1", 2000);
  EXPECT_EQ(r.lookup_or_request(sctp).state, State::Failed);
}

TEST_F(FakeHost, RequestsForOneFlowAreLookedUpOnce) {
  process(100, "app", "");
  fd(100, 3, 555);
  add_socket(sock(kUdp, "10.0.0.2", 40000, "192.0.2.53", 53, 555, 0));
  OwnerResolver r(options());
  const FlowRecord f = flow(kUdp, "10.0.0.2", 40000, "192.0.2.53", 53);
  for (int i = 0; i < 200; ++i) {
    r.request(f);
    (void)r.lookup_or_request(f);
  }
  ASSERT_EQ(settle(r, f).state, State::Ok);
  EXPECT_EQ(r.stats().lookups, 1U);
  // A new conntrack entry with the same tuple (another id) is looked up afresh.
  ASSERT_EQ(settle(r, flow(kUdp, "10.0.0.2", 40000, "192.0.2.53", 53, 2)).state, State::Ok);
  EXPECT_EQ(r.stats().lookups, 2U);
}

// Waits until `pred` holds (the worker runs on its own thread); false after 5 s.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST_F(FakeHost, ProcScanOnlyOnAMissAndAtMostOncePerSecond) {
  process(100, "first", "");
  fd(100, 3, 555);
  fd(100, 4, 556);
  add_socket(sock(kTcp, "10.0.0.2", 40000, "192.0.2.1", 80, 555, 0));
  add_socket(sock(kTcp, "10.0.0.2", 40001, "192.0.2.1", 80, 556, 0));
  flowtop::core::FakeClock clock;  // stands still unless the test moves it
  OwnerResolverOptions o = options();
  o.clock = &clock;
  o.min_dump_interval_ns = 0;
  OwnerResolver r(o);

  // The index is empty at first: the first miss builds it.
  ASSERT_EQ(settle(r, flow(kTcp, "10.0.0.2", 40000, "192.0.2.1", 80)).value.pid, 100);
  EXPECT_EQ(r.stats().proc_scans, 1U);
  // A hit needs no scan.
  ASSERT_EQ(settle(r, flow(kTcp, "10.0.0.2", 40001, "192.0.2.1", 80)).value.pid, 100);
  EXPECT_EQ(r.stats().proc_scans, 1U);

  // A socket opened since: a miss, but the index is younger than a second, so it waits.
  process(300, "late", "");
  fd(300, 5, 888);
  add_socket(sock(kTcp, "10.0.0.2", 40002, "192.0.2.1", 80, 888, 0));
  const FlowRecord late = flow(kTcp, "10.0.0.2", 40002, "192.0.2.1", 80);
  std::uint64_t dumps = r.stats().dumps;
  (void)r.lookup_or_request(late);
  ASSERT_TRUE(eventually([&] { return r.stats().dumps > dumps; })) << "the worker never looked";
  EXPECT_EQ(r.lookup(late).state, State::Pending);
  EXPECT_EQ(r.stats().proc_scans, 1U) << "rescanned within a second of the last scan";
  clock.advance(1'000'000'000);  // the index may be rebuilt now
  const auto l = settle(r, late);
  ASSERT_EQ(l.state, State::Ok);
  EXPECT_EQ(l.value.name, "late");
  EXPECT_EQ(r.stats().proc_scans, 2U);

  // A socket no visible process holds (another pid namespace): fails after one more scan.
  add_socket(sock(kTcp, "10.0.0.2", 40003, "192.0.2.1", 80, 999, 0));
  const FlowRecord foreign = flow(kTcp, "10.0.0.2", 40003, "192.0.2.1", 80);
  dumps = r.stats().dumps;
  (void)r.lookup_or_request(foreign);
  ASSERT_TRUE(eventually([&] { return r.stats().dumps > dumps; }));
  EXPECT_EQ(r.lookup(foreign).state, State::Pending) << "waits for the next scan once";
  clock.advance(1'000'000'000);
  EXPECT_EQ(settle(r, foreign).state, State::Failed);
  EXPECT_EQ(r.stats().proc_scans, 3U);
}

TEST_F(FakeHost, DestructionWithABacklogJoinsTheWorker) {
  add_socket(sock(kTcp, "10.0.0.2", 40000, "192.0.2.1", 80, 555, 0));
  auto r = std::make_unique<OwnerResolver>(options());
  for (std::uint16_t p = 1; p < 500; ++p) {
    r->request(flow(kTcp, "10.0.0.2", p, "192.0.2.1", 80));
  }
  r.reset();  // joins the worker: it leaves after the batch in hand, never the whole queue
  EXPECT_EQ(sockets_.use_count(), 1) << "the worker's dump function outlived the resolver";
  const std::lock_guard lock(sockets_->mu);
  EXPECT_LE(sockets_->dumps, 1) << "499 requests fit one batch: at most one dump";
}

std::uint16_t port_of(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  return ntohs(sin.sin_port);
}

flowtop::sys::UniqueFd loopback_socket(int type) {
  flowtop::sys::UniqueFd fd(socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  return fd;
}

TEST(OwnerResolverReal, FindsThisProcessThroughSockDiagAndProc) {
  const auto listener = loopback_socket(SOCK_STREAM);
  ASSERT_EQ(listen(listener.get(), 1), 0);
  const auto client = loopback_socket(SOCK_STREAM);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port_of(listener.get()));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  const auto udp_server = loopback_socket(SOCK_DGRAM);  // unconnected

  OwnerResolver r;  // real sock_diag, real /proc, real addresses
  const auto l = settle(
      r, flow(kTcp, "127.0.0.1", port_of(client.get()), "127.0.0.1", port_of(listener.get())));
  ASSERT_EQ(l.state, State::Ok);
  EXPECT_EQ(l.value.pid, getpid());
  EXPECT_EQ(l.value.uid, getuid());
  EXPECT_EQ(l.value.user, flowtop::enrich::user_name(getuid()));
  EXPECT_EQ(l.value.name, std::string("owner_resolver_test").substr(0, 15));
  EXPECT_NE(l.value.cmdline.find("owner_resolver_test"), std::string::npos);
  // A datagram to our unconnected UDP socket from a port nobody holds: the receiver owns it.
  const auto u = settle(r, flow(kUdp, "127.0.0.1", 9, "127.0.0.1", port_of(udp_server.get())));
  ASSERT_EQ(u.state, State::Ok);
  EXPECT_EQ(u.value.pid, getpid());
}

}  // namespace
