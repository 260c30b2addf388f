#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flowtop/core/flow.hpp"

namespace flowtop::enrich {

/// The largest tcp.conf/udp.conf read (the shipped ones are ~20 KiB).
inline constexpr std::size_t kMaxConfBytes = 1 << 20;

/// Port → service name for one protocol, as parsed from a tcp.conf/udp.conf text.
struct ServiceTable {
  std::unordered_map<std::uint16_t, std::string> names;
  std::vector<std::string> errors;  ///< "file:line: reason", one per skipped line
};

/// Parses the original netsniff-ng format: one `<port>, <name>` per line; blank lines and lines
/// whose first non-blank character is `#` are ignored; blanks around the port and the name are
/// trimmed; later lines win. A bad line (no comma, a port that is not a number in 1..65535, an
/// empty name, a name with control characters or longer than 64 bytes) is reported as
/// "`label`:LINE: reason" and skipped. Pure.
ServiceTable parse_services(std::string_view text, std::string_view label);

/// Service names by protocol and port: tcp.conf / udp.conf first, then the system services
/// database (nsswitch "services", i.e. /etc/services). Immutable after construction: lookups are
/// lock-free from any thread.
///
/// The system database is read once, at construction, with getservent_r (the same data
/// getservbyport_r would give, without a file read per lookup on the screen's thread).
class ServiceNames {
 public:
  /// Empty: no names at all (tests).
  ServiceNames() = default;
  /// Reads `tcp_conf` and `udp_conf` (an empty path or a missing file = none; an unreadable one, a
  /// FIFO or device in its place, or one over kMaxConfBytes is an error line, never read) and,
  /// when `system_db`, the system services database.
  ServiceNames(const std::string& tcp_conf, const std::string& udp_conf, bool system_db = true);
  /// From already parsed tables (tests), plus the system database when `system_db`.
  ServiceNames(ServiceTable tcp, ServiceTable udp, bool system_db);

  /// The name of `port` for `proto` ("https"), or "" when none is known. TCP uses tcp.conf, UDP
  /// and UDP-lite udp.conf; SCTP and DCCP the system database for their protocol, then TCP's
  /// names (IANA assigns them the same numbers). Other protocols: "".
  [[nodiscard]] std::string_view name(std::uint8_t proto, std::uint16_t port) const;

  /// The port that identifies the service of a flow (its server end), from the original tuple:
  ///  1. exactly one port below 1024 (a well-known port): that one — so an inbound flow seen in
  ///     the "wrong" direction (orig sport 443, dport 51234) still names its server port;
  ///  2. both below 1024: the original destination port (the end that was contacted);
  ///  3. both 1024 or above: the one that has a name when exactly one has; otherwise the original
  ///     destination port.
  /// 0 for protocols without ports.
  [[nodiscard]] std::uint16_t server_port(std::uint8_t proto, std::uint16_t orig_sport,
                                          std::uint16_t orig_dport) const;
  /// name(server_port) for a flow; "" when the flow has no ports or the port no name.
  [[nodiscard]] std::string_view service(const core::FlowRecord& rec) const;

  /// Bad lines and unreadable files, "file:line: reason".
  [[nodiscard]] const std::vector<std::string>& errors() const { return errors_; }

 private:
  void load_system();

  using Map = std::unordered_map<std::uint16_t, std::string>;
  Map tcp_, udp_;  // conf files (win over the system database)
  Map sys_tcp_, sys_udp_, sys_sctp_, sys_dccp_;
  std::vector<std::string> errors_;
};

}  // namespace flowtop::enrich
