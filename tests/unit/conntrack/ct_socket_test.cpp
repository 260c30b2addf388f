#include "conntrack/ct_socket.hpp"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace flowtop::conntrack {
namespace {

struct Pair {
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds), 0); }
  ~Pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void send(const std::vector<std::uint8_t>& bytes) const {
    ASSERT_EQ(::send(fds[1], bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  int fds[2] = {-1, -1};
};

// A datagram of netlink messages, each `size` bytes (a header and zero padding).
std::vector<std::uint8_t> messages(std::size_t count, std::uint32_t size) {
  std::vector<std::uint8_t> out(count * size);
  for (std::size_t i = 0; i < count; ++i) {
    nlmsghdr h{};
    h.nlmsg_len = size;
    h.nlmsg_type = 0x100;
    std::memcpy(out.data() + i * size, &h, sizeof h);
  }
  return out;
}

TEST(ReceiveDatagrams, WholeDatagramsAreDeliveredMessageByMessage) {
  const Pair p;
  p.send(messages(3, 64));
  std::vector<std::uint8_t> storage;
  std::size_t seen = 0;
  bool lost = false;
  const auto on_msg = [&](std::span<const std::uint8_t> m, std::int64_t) {
    EXPECT_EQ(m.size(), 64U);
    ++seen;
  };
  EXPECT_EQ(receive_datagrams(p.fds[0], storage, on_msg, 100, lost), 1U);
  EXPECT_EQ(seen, 3U);
  EXPECT_FALSE(lost);
}

// A datagram bigger than a receive buffer lost its end: the events in it are gone, so the
// collector must resynchronise as for ENOBUFS.
TEST(ReceiveDatagrams, ATruncatedDatagramCountsAsALoss) {
  const Pair p;
  p.send(messages(20, 1024));  // 20 KiB: more than one buffer
  std::vector<std::uint8_t> storage;
  std::size_t seen = 0;
  bool lost = false;
  const auto on_msg = [&](std::span<const std::uint8_t>, std::int64_t) { ++seen; };
  EXPECT_EQ(receive_datagrams(p.fds[0], storage, on_msg, 100, lost), 1U);
  EXPECT_TRUE(lost);
  EXPECT_LT(seen, 20U) << "messages past the cut were delivered";
  EXPECT_GT(seen, 0U) << "the complete messages before the cut are still used";
}

}  // namespace
}  // namespace flowtop::conntrack
