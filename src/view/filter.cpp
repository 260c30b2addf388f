#include "flowtop/view/filter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/text.hpp"
#include "view/filter_node.hpp"
#include "view/filter_terms.hpp"
#include "view/filter_values.hpp"

namespace flowtop::view {
namespace detail {
namespace {

constexpr std::size_t kMaxDepth = 100;  // nesting of parentheses and `not`

enum class Kind : std::uint8_t {
  Text,    // = != ~
  Number,  // every operator; ~ on the decimal text
  Bytes,   // number with byte or bit units
  Rate,    // number with byte or bit units, optional /s
  Count,   // number with k/M/G
  Age,     // number with s/m/h/d
  Addr,    // = != network, ~ text
  Port,    // number, or a service name with = !=
  Proto,   // = != name or number, ~ text
  Family,  // = !=
  State,   // = != a state name, ~ text
  Dir,     // = != in out fwd local
  Nat,     // = != snat dnat; bare: any translation
};

// A bare word matches process names and both ends' host names (and addresses).
constexpr core::EnrichNeeds kWordNeeds = core::kNeedProcess | core::kNeedNames;

struct TermSpec {
  std::string_view name;
  Field field;
  Kind kind;
  core::EnrichNeeds needs;  // the enrichment fields the term reads
};

constexpr std::array kTerms{
    TermSpec{"proc", Field::Proc, Kind::Text, core::kNeedProcess},
    TermSpec{"process", Field::Proc, Kind::Text, core::kNeedProcess},
    TermSpec{"pid", Field::Pid, Kind::Number, core::kNeedProcess},
    TermSpec{"user", Field::User, Kind::Text, core::kNeedProcess},
    TermSpec{"host", Field::Host, Kind::Text, core::kNeedNames},
    TermSpec{"addr", Field::Addr, Kind::Addr, 0},
    TermSpec{"address", Field::Addr, Kind::Addr, 0},
    TermSpec{"ip", Field::Addr, Kind::Addr, 0},
    TermSpec{"port", Field::Port, Kind::Port, 0},
    TermSpec{"service", Field::Service, Kind::Text, core::kNeedService},
    TermSpec{"country", Field::Country, Kind::Text, core::kNeedGeo},
    TermSpec{"city", Field::City, Kind::Text, core::kNeedGeo},
    TermSpec{"asn", Field::Asn, Kind::Number, core::kNeedGeo},
    TermSpec{"as", Field::Asn, Kind::Number, core::kNeedGeo},
    TermSpec{"org", Field::Org, Kind::Text, core::kNeedGeo},
    TermSpec{"proto", Field::Proto, Kind::Proto, 0},
    TermSpec{"protocol", Field::Proto, Kind::Proto, 0},
    TermSpec{"family", Field::Family, Kind::Family, 0},
    TermSpec{"state", Field::State, Kind::State, 0},
    TermSpec{"mark", Field::Mark, Kind::Number, 0},
    TermSpec{"zone", Field::Zone, Kind::Number, 0},
    TermSpec{"bytes", Field::Bytes, Kind::Bytes, 0},
    TermSpec{"bytes.out", Field::BytesOut, Kind::Bytes, 0},
    TermSpec{"bytes.in", Field::BytesIn, Kind::Bytes, 0},
    TermSpec{"packets", Field::Packets, Kind::Count, 0},
    TermSpec{"packets.out", Field::PacketsOut, Kind::Count, 0},
    TermSpec{"packets.in", Field::PacketsIn, Kind::Count, 0},
    TermSpec{"rate", Field::Rate, Kind::Rate, 0},
    TermSpec{"rate.out", Field::RateOut, Kind::Rate, 0},
    TermSpec{"rate.in", Field::RateIn, Kind::Rate, 0},
    TermSpec{"age", Field::Age, Kind::Age, 0},
    TermSpec{"dir", Field::Age, Kind::Dir, 0},
    TermSpec{"direction", Field::Age, Kind::Dir, 0},
    TermSpec{"local", Field::Local, Kind::Addr, 0},
    TermSpec{"remote", Field::Remote, Kind::Addr, 0},
    TermSpec{"nat", Field::Age, Kind::Nat, 0},
    TermSpec{"mac", Field::Mac, Kind::Text, core::kNeedProcess},
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_special(char c) {
  return c == '(' || c == ')' || c == '=' || c == '!' || c == '~' || c == '<' || c == '>' ||
         c == '"';
}

std::string_view op_text(Op op) {
  switch (op) {
    case Op::Eq: return "=";
    case Op::Ne: return "!=";
    case Op::Re: return "~";
    case Op::Lt: return "<";
    case Op::Gt: return ">";
    case Op::Le: return "<=";
    case Op::Ge: return ">=";
  }
  return "";
}

[[noreturn]] void fail(std::size_t pos, std::string message) {
  throw FilterError{pos, std::move(message)};
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  NodePtr parse() {
    NodePtr root = parse_or(0);
    skip_ws();
    if (i_ < s_.size()) {
      if (s_[i_] == ')') {
        fail(i_, "unexpected ')'");
      }
      fail(i_, fmt::format("unexpected '{}'", s_[i_]));
    }
    return root;
  }

  [[nodiscard]] core::EnrichNeeds needs() const { return needs_; }

 private:
  void skip_ws() {
    while (i_ < s_.size() && is_space(s_[i_])) {
      ++i_;
    }
  }

  // A run of ordinary characters at i_ (not consumed).
  [[nodiscard]] std::string_view word_at(std::size_t at) const {
    std::size_t j = at;
    while (j < s_.size() && !is_space(s_[j]) && !is_special(s_[j])) {
      ++j;
    }
    return s_.substr(at, j - at);
  }

  // The operator at `at`, and its length.
  [[nodiscard]] std::optional<std::pair<Op, std::size_t>> op_at(std::size_t at) const {
    struct Spelling {
      std::string_view text;
      Op op;
    };
    // Two-character operators first: "<=" is not "<" followed by "=".
    static constexpr std::array<Spelling, 8> kOps{{{"!=", Op::Ne},
                                                   {"<=", Op::Le},
                                                   {">=", Op::Ge},
                                                   {"==", Op::Eq},
                                                   {"=", Op::Eq},
                                                   {"~", Op::Re},
                                                   {"<", Op::Lt},
                                                   {">", Op::Gt}}};
    const std::string_view r = s_.substr(std::min(at, s_.size()));
    for (const Spelling& o : kOps) {
      if (r.starts_with(o.text)) {
        return std::pair{o.op, o.text.size()};
      }
    }
    return std::nullopt;
  }

  // Whether a word at `at` is followed (after blanks) by an operator: then it is a term name.
  [[nodiscard]] bool followed_by_op(std::size_t after) const {
    while (after < s_.size() && is_space(s_[after])) {
      ++after;
    }
    return op_at(after).has_value();
  }

  // The keyword ("and", "or", "not") at i_, lower case, or "".
  [[nodiscard]] std::string keyword() const {
    const std::string_view w = word_at(i_);
    std::string l = core::ascii_lower(w);
    if ((l == "and" || l == "or" || l == "not") && !followed_by_op(i_ + w.size())) {
      return l;
    }
    return "";
  }

  NodePtr parse_or(std::size_t depth) {
    std::vector<NodePtr> terms;
    terms.push_back(parse_and(depth));
    for (;;) {
      skip_ws();
      if (keyword() != "or") {
        break;
      }
      i_ += 2;
      terms.push_back(parse_and(depth));
    }
    return terms.size() == 1 ? std::move(terms.front()) : make_or(std::move(terms));
  }

  NodePtr parse_and(std::size_t depth) {
    std::vector<NodePtr> terms;
    terms.push_back(parse_unary(depth));
    for (;;) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] == ')') {
        break;
      }
      const std::string kw = keyword();
      if (kw == "or") {
        break;
      }
      if (kw == "and") {
        i_ += 3;
      }
      terms.push_back(parse_unary(depth));  // adjacent terms are and-ed
    }
    return terms.size() == 1 ? std::move(terms.front()) : make_and(std::move(terms));
  }

  NodePtr parse_unary(std::size_t depth) {
    if (depth > kMaxDepth) {
      fail(i_, "too deeply nested");
    }
    skip_ws();
    if (i_ >= s_.size()) {
      fail(i_, "expected a term");
    }
    const char c = s_[i_];
    if (c == '(') {
      const std::size_t open = i_++;
      NodePtr inner = parse_or(depth + 1);
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ')') {
        fail(i_, fmt::format("missing ')' for the '(' at {}", open + 1));
      }
      ++i_;
      return inner;
    }
    if (c == ')') {
      fail(i_, "expected a term before ')'");
    }
    if (c == '!' && !(i_ + 1 < s_.size() && s_[i_ + 1] == '=')) {
      ++i_;
      return make_not(parse_unary(depth + 1));
    }
    if (c == '"') {
      needs_ |= kWordNeeds;
      return make_word(quoted());
    }
    const std::size_t start = i_;
    const std::string_view w = word_at(i_);
    if (w.empty()) {
      fail(i_, fmt::format("expected a term before '{}'", c));
    }
    const std::string kw = keyword();
    if (kw == "not") {
      i_ += 3;
      return make_not(parse_unary(depth + 1));
    }
    if (!kw.empty()) {
      fail(start, fmt::format("expected a term before '{}'", w));
    }
    i_ += w.size();
    if (!followed_by_op(i_)) {
      if (core::iequals(w, "nat")) {  // bare `nat`: any address translation
        return make_nat(Op::Eq, 3);
      }
      if (core::iequals(w, "ended")) {  // bare `ended`: a lingering row of an ended flow
        return make_ended();
      }
      needs_ |= kWordNeeds;
      return make_word(std::string(w));
    }
    return term(w, start);
  }

  // A "double-quoted" string at i_ (with \" and \\), consumed.
  std::string quoted() {
    const std::size_t open = i_++;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        ++i_;
      }
      out += s_[i_++];
    }
    if (i_ >= s_.size()) {
      fail(open, "unterminated string");
    }
    ++i_;
    return out;
  }

  // The value after an operator: a quoted string, or the text up to a blank or an unbalanced ')'.
  std::string value(Op op, std::size_t op_pos) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '"') {
      return quoted();
    }
    std::size_t depth = 0;
    const std::size_t start = i_;
    while (i_ < s_.size() && !is_space(s_[i_])) {
      if (s_[i_] == '(') {
        ++depth;
      } else if (s_[i_] == ')') {
        if (depth == 0) {
          break;
        }
        --depth;
      }
      ++i_;
    }
    if (i_ == start) {
      fail(i_ < s_.size() ? i_ : s_.size(),
           fmt::format("expected a value after '{}' at {}", op_text(op), op_pos + 1));
    }
    return std::string(s_.substr(start, i_ - start));
  }

  NodePtr term(std::string_view name, std::size_t name_pos) {
    const std::string lname = core::ascii_lower(name);
    const auto* const spec = std::find_if(kTerms.begin(), kTerms.end(),
                                          [&](const TermSpec& t) { return t.name == lname; });
    if (spec == kTerms.end()) {
      fail(name_pos, fmt::format("unknown term '{}'", name));
    }
    skip_ws();
    const std::size_t op_pos = i_;
    const auto [op, op_len] = *op_at(i_);
    i_ += op_len;
    const bool ordered = op == Op::Lt || op == Op::Gt || op == Op::Le || op == Op::Ge;
    const bool numeric = spec->kind == Kind::Number || spec->kind == Kind::Bytes ||
                         spec->kind == Kind::Rate || spec->kind == Kind::Count ||
                         spec->kind == Kind::Age || spec->kind == Kind::Port;
    if (ordered && !numeric) {
      fail(op_pos, fmt::format("'{}' takes = != ~, not '{}'", lname, op_text(op)));
    }
    if ((spec->kind == Kind::Dir || spec->kind == Kind::Nat) && op != Op::Eq && op != Op::Ne) {
      fail(op_pos, fmt::format("'{}' takes = !=, not '{}'", lname, op_text(op)));
    }
    skip_ws();
    const std::size_t value_pos = i_;
    std::string v = value(op, op_pos);
    if (v.empty() && spec->kind != Kind::Text) {
      fail(value_pos, fmt::format("expected a value after '{}' at {}", op_text(op), op_pos + 1));
    }
    needs_ |= spec->needs;
    if (op == Op::Re) {
      return make_text(spec->field, op, v, std::make_shared<const Regex>(v, value_pos));
    }
    switch (spec->kind) {
      case Kind::Text: return make_text(spec->field, op, std::move(v), nullptr);
      case Kind::Number:
        return make_number(spec->field, op, parse_integer(v, value_pos, lname, spec->field));
      case Kind::Bytes: return make_number(spec->field, op, parse_size(v, value_pos, lname, false));
      case Kind::Rate: return make_number(spec->field, op, parse_size(v, value_pos, lname, true));
      case Kind::Count: return make_number(spec->field, op, parse_count(v, value_pos, lname));
      case Kind::Age: return make_number(spec->field, op, parse_age(v, value_pos, lname));
      case Kind::Port:
        if (std::isdigit(static_cast<unsigned char>(v[0])) == 0) {
          if (ordered) {
            fail(value_pos, fmt::format("'port {}' needs a number, not '{}'", op_text(op), v));
          }
          needs_ |= core::kNeedService;  // port=https: the flow's service name
          return make_text(Field::Service, op, std::move(v), nullptr);
        }
        return make_number(spec->field, op, parse_integer(v, value_pos, lname, spec->field));
      case Kind::Addr:
        return network(op, v, value_pos,
                       spec->field == Field::Local    ? Side::Local
                       : spec->field == Field::Remote ? Side::Remote
                                                      : Side::Any);
      case Kind::Dir: {
        unsigned dirs = 0;
        for (const std::string_view one : split_commas(v)) {
          const std::string l = core::ascii_lower(one);
          const auto bit = [](core::Direction d) { return 1U << static_cast<unsigned>(d); };
          if (l == "out") {
            dirs |= bit(core::Direction::Out);
          } else if (l == "in") {
            dirs |= bit(core::Direction::In);
          } else if (l == "local") {
            dirs |= bit(core::Direction::Local);
          } else if (l == "fwd" || l == "forward") {
            dirs |= bit(core::Direction::Forward);
          } else {
            fail(value_pos, fmt::format("unknown direction '{}' (in, out, fwd, local)", one));
          }
        }
        return make_dir(op, dirs);
      }
      case Kind::Nat: {
        unsigned kinds = 0;
        for (const std::string_view one : split_commas(v)) {
          const std::string l = core::ascii_lower(one);
          if (l == "snat") {
            kinds |= 1U;
          } else if (l == "dnat") {
            kinds |= 2U;
          } else {
            fail(value_pos, fmt::format("unknown translation '{}' (snat or dnat)", one));
          }
        }
        return make_nat(op, kinds);
      }
      case Kind::Proto: return make_proto(op, parse_protos(v, value_pos));
      case Kind::Family: {
        const std::string l = core::ascii_lower(v);
        if (l == "ipv4" || l == "4" || l == "inet" || l == "v4") {
          return make_family(op, core::Family::V4);
        }
        if (l == "ipv6" || l == "6" || l == "inet6" || l == "v6") {
          return make_family(op, core::Family::V6);
        }
        fail(value_pos, fmt::format("unknown family '{}' (ipv4 or ipv6)", v));
      }
      case Kind::State:
        if (const auto flag = status_flag(v); flag && op != Op::Re) {
          return make_status(op, *flag);
        }
        if (!known_state(v)) {
          fail(value_pos, fmt::format("unknown state '{}'", v));
        }
        return make_text(spec->field, op, std::move(v), nullptr);
    }
    fail(name_pos, "unhandled term");
  }

  // "in,out" -> {"in", "out"}.
  static std::vector<std::string_view> split_commas(std::string_view v) {
    std::vector<std::string_view> out;
    while (true) {
      const std::size_t c = v.find(',');
      out.push_back(v.substr(0, c));
      if (c == std::string_view::npos) {
        return out;
      }
      v.remove_prefix(c + 1);
    }
  }

  static NodePtr network(Op op, std::string_view v, std::size_t pos, Side side) {
    const std::size_t slash = v.find('/');
    const auto addr = core::IpAddr::parse(v.substr(0, slash));
    if (!addr) {
      fail(pos, fmt::format("'{}' is not an address or a network (10.0.0.0/8, 2001:db8::/32)",
                            v.substr(0, slash)));
    }
    const unsigned bits = addr->is_v4() ? 32 : 128;
    unsigned len = bits;
    if (slash != std::string_view::npos) {
      const std::string_view p = v.substr(slash + 1);
      const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), len);
      if (p.empty() || ec != std::errc() || end != p.data() + p.size() || len > bits) {
        fail(pos + slash + 1, fmt::format("bad prefix length '{}' (0 to {})", p, bits));
      }
    }
    return make_network(op, *addr, addr->is_v4() ? 96 + len : len, side);
  }

  std::string_view s_;
  std::size_t i_ = 0;
  core::EnrichNeeds needs_ = 0;
};

}  // namespace

NodePtr parse_filter(std::string_view text, core::EnrichNeeds& needs) {
  Parser p(text);
  NodePtr root = p.parse();
  needs = p.needs();
  return root;
}

}  // namespace detail

std::string FilterError::describe() const {
  return fmt::format("at {}: {}", pos + 1, message);
}

FilterResult compile_filter(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return detail::is_space(c); })) {
    return Filter{};
  }
  try {
    core::EnrichNeeds needs = 0;
    std::shared_ptr<const detail::FilterNode> root = detail::parse_filter(text, needs);
    return FilterAccess::make(std::string(text), std::move(root), needs);
  } catch (const FilterError& e) {
    return e;
  }
}

bool matches(const Filter& filter, const core::FlowRecord& rec, const core::Enrichment& enrich,
             std::int64_t realtime_ns) {
  const detail::FilterNode* root = FilterAccess::root(filter);
  return root == nullptr || root->eval(detail::EvalContext{rec, enrich, realtime_ns});
}

}  // namespace flowtop::view
