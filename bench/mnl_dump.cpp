// mnl_dump: the CPU floor of one conntrack dump. A bare libmnl dump of both families
// (IPCTNL_MSG_CT_GET with NLM_F_DUMP, AF_UNSPEC), received with mnl_socket_recvfrom and walked
// with mnl_cb_run and a callback that only counts: no attribute parsing, no table, no output.
// Prints the number of entries. bench/run.sh compares flowtop's dumps with it and with
// `conntrack -L` in the same run.
//
//   mnl_dump [REPEATS]   (default 1: one dump; more: that many dumps in a row, the last count)
//
// Needs CAP_NET_ADMIN in the current network namespace. Not a test.

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

namespace {

int count_entry(const nlmsghdr* /*nlh*/, void* data) {
  ++*static_cast<std::uint64_t*>(data);
  return MNL_CB_OK;
}

// One dump of every family; returns the entry count, or -1 on an error (reported on stderr).
long long dump_once(mnl_socket* nl, std::vector<char>& buf, std::uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;  // both families
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    std::perror("mnl_dump: sendto");
    return -1;
  }
  const unsigned portid = mnl_socket_get_portid(nl);
  std::uint64_t entries = 0;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::perror("mnl_dump: recvfrom");
      return -1;
    }
    const int r =
        mnl_cb_run(buf.data(), static_cast<std::size_t>(n), seq, portid, count_entry, &entries);
    if (r == MNL_CB_STOP) {
      return static_cast<long long>(entries);
    }
    if (r == MNL_CB_ERROR) {
      std::perror("mnl_dump: dump");
      return -1;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  long repeats = 1;
  if (argc > 2 || (argc == 2 && (repeats = std::strtol(argv[1], nullptr, 10)) < 1)) {
    std::fprintf(stderr, "usage: mnl_dump [REPEATS]\n");
    return 2;
  }
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) {
    std::perror("mnl_dump: mnl_socket_open");
    return 1;
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    std::perror("mnl_dump: mnl_socket_bind");
    return 1;
  }
  // The kernel fills a dump skb up to the largest read seen (capped near 32 KiB): read 64 KiB.
  std::vector<char> buf(std::size_t{64} * 1024);
  auto seq = static_cast<std::uint32_t>(std::time(nullptr));
  long long entries = 0;
  for (long i = 0; i < repeats && entries >= 0; ++i) {
    entries = dump_once(nl, buf, seq++);
  }
  mnl_socket_close(nl);
  if (entries < 0) {
    return 1;
  }
  std::printf("%lld\n", entries);
  return 0;
}
