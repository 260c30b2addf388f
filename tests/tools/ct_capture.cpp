// ct_capture: records raw ctnetlink messages of the current network namespace into a file, for the
// parser's unit tests (tests/data/). Each message is written as-is (nlmsghdr + payload, padded to
// 4 bytes), back to back.
//   ct_capture dump FILE               the whole table (both families), as a dump returns it
//   ct_capture events SECONDS FILE     every NEW/UPDATE/DESTROY event during SECONDS
//   ct_capture stats FILE              the per-CPU statistics (a dump), then the entry count
//                                      and limit (what `conntrack -S` and `conntrack -C` read)
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "ct_capture: %s: %s\n", what, std::strerror(errno));
  return 1;
}

void write_messages(FILE* out, const char* buf, int len, unsigned* count) {
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(nlh, len);
       nlh = mnl_nlmsg_next(nlh, &len)) {
    if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
      continue;
    }
    std::fwrite(nlh, 1, MNL_ALIGN(nlh->nlmsg_len), out);
    ++*count;
  }
}

// Sends one request and writes its replies until NLMSG_DONE or an NLMSG_ERROR (an ACK).
int request(mnl_socket* nl, FILE* out, unsigned type, unsigned flags, unsigned* count) {
  std::vector<char> buf(1 << 20);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | type);
  nlh->nlmsg_flags = static_cast<std::uint16_t>(flags);
  nlh->nlmsg_seq = type + 1;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    return fail("sendto");
  }
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n <= 0) {
      return fail("recv");
    }
    write_messages(out, buf.data(), static_cast<int>(n), count);
    const auto* last = reinterpret_cast<const nlmsghdr*>(buf.data());
    bool done = false;
    int len = static_cast<int>(n);
    for (; mnl_nlmsg_ok(last, len); last = mnl_nlmsg_next(last, &len)) {
      done = done || last->nlmsg_type == NLMSG_DONE || last->nlmsg_type == NLMSG_ERROR;
    }
    if (done) {
      return 0;
    }
  }
}

// mode "dump": the table; "stats": the per-CPU statistics, then the count and limit.
int dump(const char* path, bool stats) {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    return fail("netlink socket");
  }
  FILE* out = std::fopen(path, "wb");
  if (out == nullptr) {
    return fail(path);
  }
  unsigned count = 0;
  const int rc =
      stats ? request(nl, out, IPCTNL_MSG_CT_GET_STATS_CPU, NLM_F_REQUEST | NLM_F_DUMP, &count) !=
                      0 ||
                  request(nl, out, IPCTNL_MSG_CT_GET_STATS, NLM_F_REQUEST | NLM_F_ACK, &count) != 0
            : request(nl, out, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, &count);
  std::fclose(out);
  std::printf("ct_capture: %u messages\n", count);
  mnl_socket_close(nl);
  return rc;
}

int events(double seconds, const char* path) {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr ||
      mnl_socket_bind(
          nl, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY,
          MNL_SOCKET_AUTOPID) < 0) {
    return fail("netlink socket");
  }
  FILE* out = std::fopen(path, "wb");
  if (out == nullptr) {
    return fail(path);
  }
  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<char> buf(1 << 16);
  unsigned count = 0;
  timespec t0{};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const double elapsed = static_cast<double>(now.tv_sec - t0.tv_sec) +
                           static_cast<double>(now.tv_nsec - t0.tv_nsec) / 1e9;
    if (elapsed >= seconds) {
      break;
    }
    pollfd pfd{mnl_socket_get_fd(nl), POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>((seconds - elapsed) * 1000) + 1) <= 0) {
      continue;
    }
    const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n > 0) {
      write_messages(out, buf.data(), static_cast<int>(n), &count);
    }
  }
  std::fclose(out);
  std::printf("ct_capture: %u messages\n", count);
  mnl_socket_close(nl);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "dump") == 0) {
    return dump(argv[2], false);
  }
  if (argc == 3 && std::strcmp(argv[1], "stats") == 0) {
    return dump(argv[2], true);
  }
  if (argc == 4 && std::strcmp(argv[1], "events") == 0) {
    return events(std::atof(argv[2]), argv[3]);
  }
  std::fprintf(
      stderr,
      "usage: ct_capture dump FILE | ct_capture events SECONDS FILE | ct_capture stats FILE\n");
  return 2;
}
