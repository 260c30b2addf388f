#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/core/function_ref.hpp"

struct mnl_socket;

namespace flowtop::conntrack {

using MessageFn = core::FunctionRef<void(std::span<const std::uint8_t> msg, std::int64_t recv_ns)>;

/// One ctnetlink socket (libmnl). Owned by the collector thread after construction.
class CtSocket {
 public:
  /// Opens NETLINK_NETFILTER and binds to the legacy `groups` bitmask (0: requests only).
  /// Messages are stamped with `clock`'s steady time when received.
  /// Throws std::system_error (EPERM without CAP_NET_ADMIN, EPROTONOSUPPORT without nfnetlink).
  explicit CtSocket(unsigned groups, const core::Clock& clock = core::system_clock());
  ~CtSocket();
  CtSocket(const CtSocket&) = delete;
  CtSocket& operator=(const CtSocket&) = delete;

  [[nodiscard]] int fd() const;
  /// Sets the receive buffer (SO_RCVBUFFORCE, else SO_RCVBUF up to rmem_max); returns the size the
  /// kernel reports.
  std::size_t set_rcvbuf(std::size_t bytes);
  void set_nonblocking();

  /// Dumps the whole table (both families). Calls `on_msg` for every entry message and `between()`
  /// after each received batch (the collector drains events there). Throws std::system_error when
  /// the kernel answers with an error.
  template <class Between>
  void dump(MessageFn on_msg, Between&& between) {
    dump_impl(on_msg, core::FunctionRef<void()>(between));
  }
  /// GETs one entry by its original tuple; calls `on_msg` with the reply. False when the kernel no
  /// longer has it (ENOENT). Throws on other errors.
  bool get(const core::FlowKey& key, MessageFn on_msg);

  /// Deletes one entry by its original tuple and zone (IPCTNL_MSG_CT_DELETE, acknowledged):
  /// 0, ENOENT when the kernel has no such entry, or the errno of its answer. Throws
  /// std::system_error when the request cannot be sent or received.
  int destroy(const core::FlowKey& key);

  /// Asks for the namespace's conntrack statistics: the per-CPU counters (a dump of
  /// IPCTNL_MSG_CT_GET_STATS_CPU, one message per CPU), then the entry count and limit
  /// (IPCTNL_MSG_CT_GET_STATS); calls `on_msg` for every reply. Throws std::system_error when the
  /// kernel answers with an error (a kernel without one of the requests: EOPNOTSUPP).
  void stats(MessageFn on_msg);

  /// Non-blocking batch receive of event datagrams (recvmmsg): calls `on_msg` for every netlink
  /// message. Returns the number of datagrams (0 when none); sets `lost` when the kernel reported
  /// ENOBUFS (events were dropped; the socket keeps working) or a datagram was cut (MSG_TRUNC).
  std::size_t receive_events(MessageFn on_msg, std::size_t max_datagrams, bool& lost);

 private:
  void dump_impl(MessageFn on_msg, core::FunctionRef<void()> between);
  /// Sends a request (`msg`: an IPCTNL_MSG_CT_* type) for the entry `key`: its original tuple and
  /// zone; returns its sequence.
  std::uint32_t send_tuple(std::uint16_t msg, std::uint16_t flags, const core::FlowKey& key,
                           const char* what);
  /// Sends a request without attributes (`msg`: an IPCTNL_MSG_CT_* type); returns its sequence.
  std::uint32_t send_plain(std::uint16_t msg, std::uint16_t flags, const char* what);
  /// Receives replies to `seq` until NLMSG_DONE (dump) or the first reply (get); returns the error
  /// number of an NLMSG_ERROR reply (0 = none).
  int receive_replies(std::uint32_t seq, bool until_done, MessageFn on_msg,
                      core::FunctionRef<void()>* between);

  const core::Clock& clock_;
  mnl_socket* nl_ = nullptr;
  unsigned portid_ = 0;
  std::uint32_t seq_ = 0;
  std::vector<std::uint8_t> buf_;
  // recvmmsg batch storage
  std::vector<std::uint8_t> mmsg_buf_;
};

/// receive_events() on any datagram socket `fd`, with `storage` as the receive buffers: calls
/// `on_msg` for every complete netlink message; a datagram longer than a buffer (MSG_TRUNC) lost
/// its end, so it counts as a loss like ENOBUFS. Messages are stamped with `clock`'s steady time.
/// Collector thread.
std::size_t receive_datagrams(int fd, std::vector<std::uint8_t>& storage, MessageFn on_msg,
                              std::size_t max_datagrams, bool& lost,
                              const core::Clock& clock = core::system_clock());

}  // namespace flowtop::conntrack
