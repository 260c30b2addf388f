// ct_inject: inject (or delete) many conntrack entries in the current network namespace, fast.
//
// One libmnl socket; many IPCTNL_MSG_CT_NEW (or _DELETE) messages per sendto, each built with
// nfct_nlmsg_build; no ACK requests. Failures come back as NLMSG_ERROR messages, which are drained
// after every batch and counted. Prints "injected N, failed M" (or "deleted N, failed M").
//
// Used by the integration tests and benchmarks; needs CAP_NET_ADMIN in the namespace.

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_sctp.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Args {
  std::uint64_t count = 1000;
  std::string proto = "tcp";
  std::string src = "10.77.0.0";
  std::string dst = "10.78.0.1";
  unsigned sport_base = 1024;
  unsigned dport = 80;
  std::uint32_t timeout = 600;
  double rate = 0;  // entries per second; 0 = as fast as possible
  bool del = false;
  bool update = false;       // change existing entries (their mark): one UPDATE event each
  std::uint64_t passes = 1;  // with --update: go over the entries this many times
  bool quiet = false;
  std::uint32_t mark = 0;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "ct_inject: %s\n"
               "usage: ct_inject [--count N] [--proto tcp|udp|udplite|sctp|icmp|icmpv6|NUMBER]\n"
               "                 [--src ADDR] [--dst ADDR] [--sport-base P] [--dport P]\n"
               "                 [--timeout S] [--rate PER_SEC] [--mark M] [--delete]\n"
               "                 [--update [--passes N]] [--quiet]\n"
               "The source address is incremented per entry (IPv6: its low 64 bits);\n"
               "IPv6 when --src/--dst are IPv6. Generic protocols (e.g. 33, 47) have no ports.\n",
               msg);
  std::exit(2);
}

std::uint64_t parse_u64(const char* opt, const char* v) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v, &end, 0);
  if (errno != 0 || end == v || *end != '\0') {
    usage((std::string("bad value for ") + opt).c_str());
  }
  return n;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view o = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage((std::string("missing value for ") + argv[i]).c_str());
      }
      return argv[++i];
    };
    if (o == "--count" || o == "-n") {
      a.count = parse_u64("--count", val());
    } else if (o == "--proto" || o == "-p") {
      a.proto = val();
    } else if (o == "--src" || o == "-s") {
      a.src = val();
    } else if (o == "--dst" || o == "-d") {
      a.dst = val();
    } else if (o == "--sport-base") {
      a.sport_base = static_cast<unsigned>(parse_u64("--sport-base", val()));
    } else if (o == "--dport") {
      a.dport = static_cast<unsigned>(parse_u64("--dport", val()));
    } else if (o == "--timeout") {
      a.timeout = static_cast<std::uint32_t>(parse_u64("--timeout", val()));
    } else if (o == "--mark") {
      a.mark = static_cast<std::uint32_t>(parse_u64("--mark", val()));
    } else if (o == "--rate") {
      char* end = nullptr;
      const char* v = val();
      a.rate = std::strtod(v, &end);
      if (end == v || *end != '\0' || a.rate < 0) {
        usage("bad value for --rate");
      }
    } else if (o == "--delete") {
      a.del = true;
    } else if (o == "--update") {
      a.update = true;
    } else if (o == "--passes") {
      a.passes = parse_u64("--passes", val());
    } else if (o == "--quiet" || o == "-q") {
      a.quiet = true;
    } else if (o == "--help" || o == "-h") {
      usage("help");
    } else {
      usage((std::string("unknown option ") + argv[i]).c_str());
    }
  }
  if (a.del && a.update) {
    usage("--delete and --update exclude each other");
  }
  if (a.sport_base > 65535 || a.dport > 65535) {
    usage("ports must be 0..65535");
  }
  return a;
}

int proto_number(const std::string& p) {
  static const std::map<std::string, int> names = {
      {"tcp", IPPROTO_TCP},   {"udp", IPPROTO_UDP},   {"udplite", IPPROTO_UDPLITE},
      {"sctp", IPPROTO_SCTP}, {"icmp", IPPROTO_ICMP}, {"icmpv6", IPPROTO_ICMPV6},
      {"dccp", IPPROTO_DCCP}, {"gre", IPPROTO_GRE}};
  if (auto it = names.find(p); it != names.end()) {
    return it->second;
  }
  char* end = nullptr;
  long n = std::strtol(p.c_str(), &end, 10);
  if (end == p.c_str() || *end != '\0' || n < 0 || n > 255) {
    usage(("unknown protocol " + p).c_str());
  }
  return static_cast<int>(n);
}

struct Addr {
  int family = AF_INET;
  in_addr v4{};
  in6_addr v6{};
};

Addr parse_addr(const std::string& s) {
  Addr a;
  if (inet_pton(AF_INET, s.c_str(), &a.v4) == 1) {
    a.family = AF_INET;
  } else if (inet_pton(AF_INET6, s.c_str(), &a.v6) == 1) {
    a.family = AF_INET6;
  } else {
    usage(("bad address " + s).c_str());
  }
  return a;
}

// The address plus n (IPv4: the whole address; IPv6: the low 64 bits).
Addr add(const Addr& base, std::uint64_t n) {
  Addr a = base;
  if (a.family == AF_INET) {
    a.v4.s_addr = htonl(static_cast<std::uint32_t>(ntohl(base.v4.s_addr) + n));
  } else {
    std::uint64_t low = 0;
    for (int i = 8; i < 16; ++i) {
      low = (low << 8) | base.v6.s6_addr[i];
    }
    low += n;
    for (int i = 15; i >= 8; --i) {
      a.v6.s6_addr[i] = static_cast<std::uint8_t>(low & 0xff);
      low >>= 8;
    }
  }
  return a;
}

// Fills ct with entry i: source address src + i, everything else fixed.
void fill_entry(nf_conntrack* ct, const Args& a, int proto, const Addr& src, const Addr& dst,
                std::uint64_t i) {
  const Addr s = add(src, i);
  if (s.family == AF_INET) {
    nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
    nfct_set_attr_u32(ct, ATTR_IPV4_SRC, s.v4.s_addr);
    nfct_set_attr_u32(ct, ATTR_IPV4_DST, dst.v4.s_addr);
  } else {
    nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET6);
    nfct_set_attr(ct, ATTR_IPV6_SRC, &s.v6);
    nfct_set_attr(ct, ATTR_IPV6_DST, &dst.v6);
  }
  nfct_set_attr_u8(ct, ATTR_L4PROTO, static_cast<std::uint8_t>(proto));
  const auto sport = static_cast<std::uint16_t>(a.sport_base);
  switch (proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP:
      nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(sport));
      nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(static_cast<std::uint16_t>(a.dport)));
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, proto == IPPROTO_ICMP ? 8 : 128);
      nfct_set_attr_u8(ct, ATTR_ICMP_CODE, 0);
      nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(sport));
      break;
    default: break;  // generic: no ports
  }
  nfct_setobjopt(ct, NFCT_SOPT_SETUP_REPLY);
  if (proto == IPPROTO_TCP) {
    nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
  } else if (proto == IPPROTO_SCTP) {
    nfct_set_attr_u8(ct, ATTR_SCTP_STATE, SCTP_CONNTRACK_ESTABLISHED);
    nfct_set_attr_u32(ct, ATTR_SCTP_VTAG_ORIG, htonl(static_cast<std::uint32_t>(i + 1)));
    nfct_set_attr_u32(ct, ATTR_SCTP_VTAG_REPL, htonl(static_cast<std::uint32_t>(i + 2)));
  }
  if (!a.del) {
    nfct_set_attr_u32(ct, ATTR_STATUS, IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED);
    nfct_set_attr_u32(ct, ATTR_TIMEOUT, a.timeout);
    if (a.mark != 0) {
      nfct_set_attr_u32(ct, ATTR_MARK, a.mark);
    }
  }
}

struct Tally {
  std::uint64_t errors = 0;
  std::uint64_t lost_replies = 0;  // ENOBUFS on our own socket: error replies that were dropped
  std::map<int, std::uint64_t> by_errno;
};

// Reads every pending reply without blocking.
void drain(mnl_socket* nl, Tally& t) {
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = recv(mnl_socket_get_fd(nl), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == ENOBUFS) {
        ++t.lost_replies;
        continue;
      }
      return;  // EAGAIN: nothing more
    }
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (err->error != 0) {
          ++t.errors;
          ++t.by_errno[-err->error];
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse_args(argc, argv);
  const int proto = proto_number(a.proto);
  const Addr src = parse_addr(a.src);
  const Addr dst = parse_addr(a.dst);
  if (src.family != dst.family) {
    usage("--src and --dst must be of one family");
  }

  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) {
    std::perror("ct_inject: mnl_socket_open");
    return 1;
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    std::perror("ct_inject: mnl_socket_bind");
    return 1;
  }
  const int fd = mnl_socket_get_fd(nl);
  int rcv = 32 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  }
  int snd = 8 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  }

  nf_conntrack* ct = nfct_new();
  if (ct == nullptr) {
    std::perror("ct_inject: nfct_new");
    return 1;
  }

  // With --rate, send in small batches paced against the clock; otherwise fill big batches.
  const std::size_t batch_bytes = 256 * 1024;
  const std::uint64_t per_batch_limit =
      a.rate > 0 ? std::max<std::uint64_t>(1, static_cast<std::uint64_t>(a.rate / 100)) : ~0ULL;
  std::vector<char> buf(batch_bytes + MNL_SOCKET_BUFFER_SIZE);
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), batch_bytes);

  Tally tally;
  std::uint64_t send_errors = 0;
  const auto start = std::chrono::steady_clock::now();
  std::uint32_t seq = static_cast<std::uint32_t>(std::time(nullptr));
  std::uint64_t sent = 0;
  std::uint64_t in_batch = 0;

  auto flush = [&]() {
    const std::size_t len = mnl_nlmsg_batch_size(batch);
    if (len > 0) {
      if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(batch), len) < 0) {
        std::perror("ct_inject: sendto");
        send_errors += in_batch;
      }
      drain(nl, tally);
    }
    mnl_nlmsg_batch_reset(batch);
    in_batch = 0;
  };

  // --update: a NEW without NLM_F_CREATE changes the existing entry (a new mark each pass), and
  // the kernel sends an UPDATE event for it.
  const std::uint64_t total = a.update ? a.count * a.passes : a.count;
  Args entry = a;
  for (std::uint64_t n = 0; n < total; ++n) {
    const std::uint64_t i = n % a.count;
    if (a.update) {
      entry.mark = a.mark + static_cast<std::uint32_t>(n / a.count) + 1;
    }
    nlmsghdr* nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(batch));
    nlh->nlmsg_type =
        (NFNL_SUBSYS_CTNETLINK << 8) | (a.del ? IPCTNL_MSG_CT_DELETE : IPCTNL_MSG_CT_NEW);
    nlh->nlmsg_flags = NLM_F_REQUEST | (a.del || a.update ? 0 : (NLM_F_CREATE | NLM_F_EXCL));
    nlh->nlmsg_seq = seq++;
    auto* nfh = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfh->nfgen_family = static_cast<std::uint8_t>(src.family);
    nfh->version = NFNETLINK_V0;
    nfh->res_id = 0;
    fill_entry(ct, entry, proto, src, dst, i);
    if (nfct_nlmsg_build(nlh, ct) < 0) {
      std::perror("ct_inject: nfct_nlmsg_build");
      return 1;
    }
    ++sent;
    ++in_batch;
    if (!mnl_nlmsg_batch_next(batch)) {
      // The message did not fit: send the ones before it; reset moves it to the front.
      --in_batch;
      flush();
      in_batch = 1;
    }
    if (in_batch >= per_batch_limit) {
      flush();
      if (a.rate > 0) {
        const auto due = start + std::chrono::duration<double>(static_cast<double>(sent) / a.rate);
        std::this_thread::sleep_until(
            std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
      }
    }
  }
  flush();
  drain(nl, tally);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  mnl_nlmsg_batch_stop(batch);
  nfct_destroy(ct);
  mnl_socket_close(nl);

  const std::uint64_t failed = tally.errors + send_errors;
  const std::uint64_t ok = sent >= failed ? sent - failed : 0;
  std::printf("%s %llu, failed %llu\n",
              a.del      ? "deleted"
              : a.update ? "updated"
                         : "injected",
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed));
  if (!a.quiet) {
    std::fprintf(stderr, "ct_inject: %llu messages in %.3f s",
                 static_cast<unsigned long long>(sent), secs);
    for (const auto& [err, n] : tally.by_errno) {
      std::fprintf(stderr, "; %s: %llu", std::strerror(err), static_cast<unsigned long long>(n));
    }
    if (tally.lost_replies > 0) {
      std::fprintf(stderr, "; error replies lost (ENOBUFS) %llu times",
                   static_cast<unsigned long long>(tally.lost_replies));
    }
    std::fprintf(stderr, "\n");
  }
  return (failed > 0 || tally.lost_replies > 0) ? 1 : 0;
}
