#include "flowtop/enrich/service_names.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <mutex>
#include <system_error>
#include <utility>

#include "flowtop/core/text.hpp"
#include "flowtop/sys/bounded_file.hpp"

namespace flowtop::enrich {
namespace {

constexpr std::size_t kMaxName = 64;

/// The reason a line is bad, or "" when `port`/`name` were filled in.
std::string parse_line(std::string_view line, std::uint16_t& port, std::string& name) {
  const std::size_t comma = line.find(',');
  if (comma == std::string_view::npos) {
    return "expected '<port>, <name>'";
  }
  const std::string_view port_text = core::trim(line.substr(0, comma));
  const std::string_view name_text = core::trim(line.substr(comma + 1));
  if (port_text.empty()) {
    return "missing port number before ','";
  }
  unsigned long value = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return fmt::format("port {} out of range (1-65535)", port_text);
  }
  if (ec != std::errc() || end != port_text.data() + port_text.size()) {
    return fmt::format("port '{}' is not a number", port_text);
  }
  if (value < 1 || value > 65535) {
    return fmt::format("port {} out of range (1-65535)", value);
  }
  if (name_text.empty()) {
    return "empty service name";
  }
  if (name_text.size() > kMaxName) {
    return fmt::format("service name longer than {} bytes", kMaxName);
  }
  for (const char c : name_text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return "control character in service name";
    }
  }
  port = static_cast<std::uint16_t>(value);
  name.assign(name_text);
  return "";
}

// getservent_r walks one process-wide cursor (setservent/endservent): one walk at a time.
std::mutex& servent_mutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

ServiceTable parse_services(std::string_view text, std::string_view label) {
  ServiceTable out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    const std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const std::string_view line = core::trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::uint16_t port = 0;
    std::string name;
    if (std::string why = parse_line(line, port, name); !why.empty()) {
      out.errors.push_back(fmt::format("{}:{}: {}", label, line_no, why));
      continue;
    }
    out.names[port] = std::move(name);  // later lines win
  }
  return out;
}

namespace {

/// Reads and parses a conf file; a missing file is no table and no error. A FIFO, a device or a
/// file over kMaxConfBytes is an error, never read.
ServiceTable load_conf(const std::string& path) {
  if (path.empty()) {
    return {};
  }
  const sys::FileText file = sys::read_bounded_file(path, kMaxConfBytes);
  if (!file.text) {
    if (file.error == ENOENT) {
      return {};
    }
    ServiceTable t;
    t.errors.push_back(fmt::format("{}: cannot read: {}", path, file.why));
    return t;
  }
  return parse_services(*file.text, path);
}

}  // namespace

ServiceNames::ServiceNames(const std::string& tcp_conf, const std::string& udp_conf, bool system_db)
    : ServiceNames(load_conf(tcp_conf), load_conf(udp_conf), system_db) {}

ServiceNames::ServiceNames(ServiceTable tcp, ServiceTable udp, bool system_db)
    : tcp_(std::move(tcp.names)), udp_(std::move(udp.names)) {
  errors_ = std::move(tcp.errors);
  errors_.insert(errors_.end(), udp.errors.begin(), udp.errors.end());
  if (system_db) {
    load_system();
  }
}

void ServiceNames::load_system() {
  const std::lock_guard lock(servent_mutex());
  // One walk at a time (the mutex); nothing else in flowtop walks the services database.
  setservent(0);  // NOLINT(concurrency-mt-unsafe)
  servent ent{};
  servent* result = nullptr;
  std::array<char, 4096> buf{};
  while (getservent_r(&ent, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
    const auto port = static_cast<std::uint16_t>(ntohs(static_cast<std::uint16_t>(ent.s_port)));
    const std::string_view proto = ent.s_proto != nullptr ? ent.s_proto : "";
    Map* map = proto == "tcp"    ? &sys_tcp_
               : proto == "udp"  ? &sys_udp_
               : proto == "sctp" ? &sys_sctp_
               : proto == "dccp" ? &sys_dccp_
                                 : nullptr;
    if (map != nullptr && port != 0 && ent.s_name != nullptr) {
      map->emplace(port, ent.s_name);  // the first entry for a port is the one getservbyport gives
    }
  }
  endservent();  // NOLINT(concurrency-mt-unsafe)
}

std::string_view ServiceNames::name(std::uint8_t proto, std::uint16_t port) const {
  const auto in = [port](const Map& m) -> std::string_view {
    const auto it = m.find(port);
    return it != m.end() ? std::string_view(it->second) : std::string_view();
  };
  const auto first = [](std::string_view a, std::string_view b) { return a.empty() ? b : a; };
  switch (static_cast<core::L4Proto>(proto)) {
    case core::L4Proto::Tcp: return first(in(tcp_), in(sys_tcp_));
    case core::L4Proto::Udp:
    case core::L4Proto::UdpLite: return first(in(udp_), in(sys_udp_));
    case core::L4Proto::Sctp: return first(in(sys_sctp_), first(in(tcp_), in(sys_tcp_)));
    case core::L4Proto::Dccp: return first(in(sys_dccp_), first(in(tcp_), in(sys_tcp_)));
    default: return {};
  }
}

std::uint16_t ServiceNames::server_port(std::uint8_t proto, std::uint16_t orig_sport,
                                        std::uint16_t orig_dport) const {
  if (!core::proto_has_ports(proto)) {
    return 0;
  }
  const bool s_known = orig_sport != 0 && orig_sport < 1024;
  const bool d_known = orig_dport != 0 && orig_dport < 1024;
  if (s_known != d_known) {
    return s_known ? orig_sport : orig_dport;
  }
  if (!s_known) {
    const bool s_named = !name(proto, orig_sport).empty();
    const bool d_named = !name(proto, orig_dport).empty();
    if (s_named && !d_named) {
      return orig_sport;
    }
  }
  return orig_dport;
}

std::string_view ServiceNames::service(const core::FlowRecord& rec) const {
  if (!rec.has(core::FlowRecord::kHasPorts)) {
    return {};
  }
  // The responder's own port (reply.sport): after a DNAT, the internal server's.
  const std::uint16_t port = server_port(rec.key.proto, rec.key.orig.sport, rec.reply.sport);
  return port == 0 ? std::string_view() : name(rec.key.proto, port);
}

}  // namespace flowtop::enrich
