#pragma once

// The leaves and operators of a compiled filter (private to src/view).

#include <memory>
#include <string>
#include <vector>

#include "view/filter_node.hpp"

namespace flowtop::view::detail {

enum class Op : std::uint8_t { Eq, Ne, Re, Lt, Gt, Le, Ge };

/// What a term reads from a flow.
enum class Field : std::uint8_t {
  Proc,
  Pid,
  User,
  Host,
  Addr,
  Port,
  Service,
  Country,
  City,
  Asn,
  Org,
  Proto,
  Family,
  State,
  Mark,
  Zone,
  Bytes,
  BytesOut,
  BytesIn,
  Packets,
  PacketsOut,
  PacketsIn,
  Rate,
  RateOut,
  RateIn,
  Age,
  Local,   ///< the inside (or local) end's address
  Remote,  ///< the remote end's address
  Mac,     ///< the LAN device owning a forwarded flow
};

/// Which addresses an address term looks at.
enum class Side : std::uint8_t { Any, Local, Remote };

/// A compiled POSIX extended regular expression (case-insensitive, unanchored). Thread-safe to
/// match from several threads.
class Regex {
 public:
  /// Throws FilterError at `pos` when `pattern` is not a valid expression.
  Regex(const std::string& pattern, std::size_t pos);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  [[nodiscard]] bool search(const std::string& text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

NodePtr make_and(std::vector<NodePtr> children);
NodePtr make_or(std::vector<NodePtr> children);
NodePtr make_not(NodePtr child);
/// A bare word: substring of the process name, the DNS names, the addresses.
NodePtr make_word(const std::string& word);
/// A text comparison (=, != case-insensitive; ~ with `re`).
NodePtr make_text(Field field, Op op, std::string value, std::shared_ptr<const Regex> re);
/// A number comparison (any operator but ~).
NodePtr make_number(Field field, Op op, double value);
/// addr = / != a network: `net` with `prefix` leading bits (0..128, IPv4 as mapped: 96 + n);
/// `side`: any of the tuples' addresses, or only the inside or the remote end (core/ends.hpp).
NodePtr make_network(Op op, const core::IpAddr& net, unsigned prefix, Side side = Side::Any);
/// dir = / != one of the directions (bit 1 << Direction).
NodePtr make_dir(Op op, unsigned directions);
/// nat (any translation), nat = / != snat (1), dnat (2): `kinds` is the bits to look for.
NodePtr make_nat(Op op, unsigned kinds);
/// Bare `ended`: the flow ended (a lingering row).
NodePtr make_ended();
/// proto = / != one of `protos`.
NodePtr make_proto(Op op, std::vector<std::uint8_t> protos);
/// family = / !=.
NodePtr make_family(Op op, core::Family family);
/// A status flag as `state=` names it: the flow matches when `bit` is set (`set`) or clear.
struct StatusFlag {
  std::uint32_t bit = 0;
  bool set = true;
};
/// state=UNREPLIED (no reply seen), ASSURED, OFFLOAD, HW_OFFLOAD; `op`: Eq or Ne.
NodePtr make_status(Op op, StatusFlag flag);

}  // namespace flowtop::view::detail
