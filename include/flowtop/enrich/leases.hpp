#pragma once

// Names of LAN hosts from the lease files of the machine's DHCP server (dnsmasq, ISC dhcpd, Kea,
// odhcpd): on a router, the owner of a forwarded flow is a LAN host, and its lease says its name.

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/hash_seed.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::enrich {

using MacAddr = core::MacAddr;

/// The largest lease file read; a bigger one is refused (LeaseIndex::problems()).
inline constexpr std::size_t kMaxLeaseFileBytes = std::size_t{8} << 20;
/// How long after its last change a file is still read at every refresh (LeaseIndex): longer
/// than the coarsest file timestamp tick (2 s, FAT), so a rewrite within one tick is seen.
inline constexpr std::int64_t kLeaseRacyNs = 2'000'000'000;
/// The longest name kept, in bytes (a DNS name's limit); longer ones are cut.
inline constexpr std::size_t kMaxLeaseNameBytes = 253;

/// One active lease. Plain value.
struct Lease {
  core::IpAddr addr;
  /// The client's name as the server wrote it: raw bytes (unsanitised: a renderer must sanitise),
  /// at most kMaxLeaseNameBytes (never cut inside a UTF-8 sequence), without trailing '.'s.
  /// Empty when the server knows no name ("*", "-", "" in the file).
  std::string name;
  std::optional<MacAddr> mac;  ///< the client's hardware address, when the file gives one

  bool operator==(const Lease&) const = default;
};

/// The lease file formats read.
enum class LeaseFormat : std::uint8_t {
  Dnsmasq,   ///< dnsmasq's lease file (also OpenWrt's /tmp/dhcp.leases): one lease per line
  IscDhcpd,  ///< ISC dhcpd.leases / dhcpd6.leases: `lease ADDR { ... }`, `ia-na ... { iaaddr }`
  Kea,       ///< Kea memfile CSV (kea-leases4.csv / kea-leases6.csv), with its header row
  Odhcpd,    ///< OpenWrt odhcpd: its hosts file (`ADDR FQDN NAME`) and/or its `# ...` state lines
};

/// The active leases of a lease file's text, in file order. Pure; never throws on bad input:
/// a line or record that cannot be read is skipped. For one address the last record wins (a
/// later expired, released or nameless record hides an earlier named one), so each address
/// appears at most once. Per format:
///  - Dnsmasq: `EXPIRY MAC ADDR NAME CLIENTID` (IPv4) and, after a `duid ...` line,
///    `EXPIRY IAID ADDR NAME DUID` (IPv6); NAME `*` is none. A last line without a newline needs
///    all five fields (dnsmasq always writes them), else it is taken as cut short and skipped.
///  - IscDhcpd: `lease ADDR { ... }` with `binding state active;` (or no binding state at all);
///    `free`, `expired`, `released`, `abandoned`, `backup`... are not active. The name is
///    `client-hostname`, else `set ddns-fwd-name`; the MAC `hardware ethernet`. IPv6:
///    `ia-na`/`ia-ta` blocks with `iaaddr ADDR { ... }` (prefix delegations are not hosts).
///    Quoted strings with `\"`, `\\`, `\ooo` and `\xHH` escapes; `#` comments; a record not
///    closed by the end of the text (a file being written) is skipped.
///  - Kea: columns found by the header row's names (`address`, `hwaddr`, `hostname`, `state`,
///    `valid_lifetime`, `lease_type`), in any order; only `state` 0 with a non-zero
///    `valid_lifetime` (Kea writes 0 for a deleted lease) is active; IPv6 prefix leases
///    (`lease_type` 2) are skipped; `&#x2c` is a comma.
///  - Odhcpd: hosts lines `ADDR NAME...` (odhcpd writes `ADDR FQDN NAME` or `ADDR NAME`: the last
///    name is taken) and state lines `# IFACE DUID IAID NAME VALID ASSIGNED LEN ADDR/LEN...`
///    (NAME `-` or `broken\x20...` is none; only /32 and /128 addresses are hosts); other `#`
///    lines are comments.
/// CRLF line ends are accepted everywhere.
std::vector<Lease> parse_leases(std::string_view text, LeaseFormat format);

/// "aa:bb:cc:dd:ee:ff" (also with '-', one or two hex digits an octet) → the address. Pure.
std::optional<MacAddr> parse_mac(std::string_view text);

/// The format a lease file's name says, or nullopt when the name says nothing: `dhcpd*.leases`
/// ISC, `*.csv` Kea, a name containing `odhcpd` Odhcpd, `dnsmasq*.leases` and `dhcp.leases`
/// dnsmasq. Pure.
std::optional<LeaseFormat> lease_format_of_path(std::string_view path);

/// The format a lease file's text looks like (its first records): for a file whose name says
/// nothing. Dnsmasq when nothing else fits. Pure.
LeaseFormat sniff_lease_format(std::string_view text);

/// Address → name and MAC → name from a list of lease files, re-read when they change. Owned by
/// one thread (the enrichment worker): refresh() and every other member are called from that
/// thread only; not thread-safe.
///
/// A file is opened with O_NOFOLLOW | O_NONBLOCK (a symbolic link, a FIFO or a device is refused
/// and never blocks), read only when its inode, size, mtime or ctime changed since the last read,
/// and refused when larger than `max_bytes`. A file modified less than kLeaseRacyNs before the
/// `clock`'s wall time is read again at the next refresh(): a server that rewrites its file in
/// place (dnsmasq) twice within one timestamp tick, at the same size, is not missed. A file in a
/// directory anyone may write to (/tmp) is trusted only when owned by root, by this process's user
/// or by a system account (uid < 1000): another user could plant names there. A missing file is no
/// leases and no problem. When files name the same address, the file later in the list wins.
class LeaseIndex {
 public:
  /// Reads nothing yet: the first refresh() does. Repeated paths are read once. `clock` (its
  /// wall time) must outlive the index.
  LeaseIndex(std::vector<std::string> paths, const core::Clock& clock,
             std::size_t max_bytes = kMaxLeaseFileBytes);

  /// Where the common DHCP servers keep their leases on Debian and OpenWrt.
  static std::vector<std::string> default_paths();

  /// Stats every file and re-reads the changed ones. True when the names changed.
  bool refresh();

  /// The name of the host holding a lease on `addr`, if a file names it.
  [[nodiscard]] std::optional<std::string> name_of(const core::IpAddr& addr) const;
  /// The name of the host with hardware address `mac`, if a file names it.
  [[nodiscard]] std::optional<std::string> name_of_mac(const MacAddr& mac) const;

  /// Why files were not read at the last refresh(), "path: reason" (for the status line); empty
  /// when every file was read or is missing.
  [[nodiscard]] const std::vector<std::string>& problems() const { return problems_; }
  /// How many times a file's content has been read (an unchanged file is not read again).
  [[nodiscard]] std::uint64_t reads() const { return reads_; }
  /// Addresses with a name.
  [[nodiscard]] std::size_t size() const { return by_addr_.size(); }

 private:
  /// What identifies a version of a file without reading it.
  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const FileId&) const = default;
  };
  struct Source {
    std::string path;
    std::optional<FileId> id;  ///< the settled version last looked at (read or refused)
    std::vector<Lease> leases;
    std::string problem;  ///< why the file was refused, or ""
  };

  /// Brings one file up to date; true when its leases changed.
  bool refresh_one(Source& src);
  void rebuild();

  std::vector<Source> sources_;
  const core::Clock& clock_;
  std::size_t max_bytes_;
  std::unordered_map<core::IpAddr, std::string, core::SeededIpHash> by_addr_;
  std::map<MacAddr, std::string> by_mac_;
  std::vector<std::string> problems_;
  std::uint64_t reads_ = 0;
};

}  // namespace flowtop::enrich
