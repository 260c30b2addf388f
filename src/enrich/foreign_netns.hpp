#pragma once

// The other network namespaces of this machine (containers, `ip netns` ones), for the owner of a
// forwarded flow whose inside end is one of theirs: each with its addresses, a label and a
// sock_diag socket opened inside it. Owned by the owner worker thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "enrich/sock_diag.hpp"
#include "flowtop/core/ip_addr.hpp"
#include "flowtop/sys/netns.hpp"

namespace flowtop::enrich {

struct ForeignNetns {
  std::uint64_t inode = 0;
  std::string path;  ///< /proc/PID/ns/net of a process inside it
  std::string
      label;  ///< the name in /run/netns, else the container's cgroup name, else netns:INODE
  std::vector<core::IpAddr> addrs;  ///< sorted
  std::unique_ptr<SockDiag> diag;   ///< opened on first use
};

/// The label of a namespace from a process's cgroup path ("0::/system.slice/docker-3f2a….scope"
/// → "3f2a1b4c5d6e"; "/machine.slice/libpod-….scope"; "/lxc.payload.web" → "web"); "" when the
/// path names no container. Pure.
std::string cgroup_label(std::string_view cgroup_file);

class ForeignNetnsDirectory {
 public:
  ForeignNetnsDirectory(sys::NetnsSockets& sockets, std::string proc_root);

  /// Lists the namespaces again (every /proc/PID/ns/net, the names in /run/netns, each one's
  /// addresses over rtnetlink). Bounded: at most 256 namespaces.
  void rescan();
  /// The namespaces one of whose addresses is `addr` (usually one; private addresses may repeat
  /// across bridges), each with its sock_diag socket open.
  std::vector<ForeignNetns*> owners_of(const core::IpAddr& addr);
  /// Every address of every namespace listed, sorted, without duplicates: an address not in it
  /// has no namespace for owners_of() to find.
  [[nodiscard]] std::vector<core::IpAddr> addresses() const;
  [[nodiscard]] std::size_t size() const { return list_.size(); }

 private:
  sys::NetnsSockets& sockets_;
  std::string proc_root_;
  std::vector<ForeignNetns> list_;
};

}  // namespace flowtop::enrich
