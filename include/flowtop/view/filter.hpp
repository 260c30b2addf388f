#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"

namespace flowtop::view {

namespace detail {
struct FilterNode;  // the compiled expression tree (src/view/filter.cpp)
}

/// A compiled filter expression (the grammar below; README and the man page show it to users). An
/// empty filter matches every flow. Immutable value; cheap to copy (the tree is shared); any thread
/// may call matches() on it.
///
/// Grammar (keywords, term names and string comparisons are case-insensitive):
///   expr    := or
///   or      := and ("or" and)*
///   and     := unary (["and"] unary)*        -- adjacent terms are and-ed
///   unary   := "not" unary | "!" unary | "(" expr ")" | term
///   term    := NAME OP VALUE | WORD
///   OP      := "=" | "!=" | "~" | "<" | ">" | "<=" | ">="    ("==" is "=")
///   VALUE   := a word up to white space or ")", or a "double-quoted string" (\" and \\ escapes)
/// A bare WORD is a case-insensitive substring match on the process name, the DNS names and the
/// addresses of both ends; bare `nat` selects translated flows and bare `ended` ended (lingering)
/// ones. `~` is an extended regular expression (case-insensitive, unanchored).
/// Text terms take = != ~; number terms take every operator.
///
/// Terms (a term on "either end" matches when one end matches; `!=` is the negation of `=`):
///   proc     process name                     pid      process id
///   user     process owner (name or uid)      host     DNS name of either end
///   addr     address of either end, original or reply tuple; `=` takes a CIDR (10.0.0.0/8)
///   port     any port of the flow (both tuples); service name values (port=https) resolve to
///            the flow's service name
///   service  service name of the server port  country  ISO code or name of either end
///   city     city of either end                asn      AS number of either end ("AS15133" ok)
///   org      AS organisation of either end    proto    tcp udp udplite sctp dccp icmp icmpv6
///            gre, or a number
///   family   ipv4/4/inet or ipv6/6/inet6       state    state name (ESTABLISHED, TIME-WAIT...)
///   mark     connmark                          zone     conntrack zone
///   bytes    both directions (also bytes.out, bytes.in)
///   packets  both directions (also packets.out, packets.in)
///   rate     bytes/s of both directions (also rate.out, rate.in)
///   age      seconds since the flow started (an ended flow: its duration)
/// Units: bytes and rates take B kB MB GB TB (decimal), KiB MiB GiB TiB, bit kbit Mbit Gbit
/// (÷8), an optional "/s" ("rate>1MB/s", "rate>8Mbit/s", "bytes>=10MB"); ages take s m h d
/// ("age>5m"). Unknown data (accounting off, no timestamp, no process, lookup pending) never
/// satisfies a comparison, not even `!=`.
class Filter {
 public:
  Filter() = default;  ///< matches everything

  /// The text it was compiled from ("" for the empty filter).
  [[nodiscard]] const std::string& text() const { return text_; }
  [[nodiscard]] bool empty() const { return root_ == nullptr; }
  /// Whether evaluating it reads an enrichment field (process, user, names, geo, service, or a
  /// bare word). When false, matches() may be given an empty Enrichment.
  [[nodiscard]] bool needs_enrichment() const { return needs_ != 0; }
  /// The enrichment fields its terms read (0: none).
  [[nodiscard]] core::EnrichNeeds needs() const { return needs_; }

 private:
  friend struct FilterAccess;
  std::string text_;
  std::shared_ptr<const detail::FilterNode> root_;
  core::EnrichNeeds needs_ = 0;
};

/// Where and why a filter does not parse. `pos` is a byte offset into the text (the start of the
/// offending token, or the text's size at an unexpected end).
struct FilterError {
  std::size_t pos = 0;
  std::string message;  ///< "unknown term 'prot'", "expected a value after '>'", ...

  /// "at 7: unknown term 'prot'" (1-based column, for messages to a user).
  [[nodiscard]] std::string describe() const;
};

/// A compiled filter or the reason it is not one.
using FilterResult = std::variant<Filter, FilterError>;

/// Compiles `text`. White space only compiles to the empty filter. Never throws on bad input.
FilterResult compile_filter(std::string_view text);

/// Whether the flow passes. `realtime_ns` is the frame's wall clock (ages). Pure.
bool matches(const Filter& filter, const core::FlowRecord& rec, const core::Enrichment& enrich,
             std::int64_t realtime_ns);

}  // namespace flowtop::view
