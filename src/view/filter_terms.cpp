#include "view/filter_terms.hpp"

#include <regex.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "flowtop/core/text.hpp"

namespace flowtop::view::detail {
namespace {

using core::FlowRecord;

bool compare(double lhs, Op op, double rhs) {
  switch (op) {
    case Op::Eq: return lhs == rhs;
    case Op::Ne: return lhs != rhs;
    case Op::Lt: return lhs < rhs;
    case Op::Gt: return lhs > rhs;
    case Op::Le: return lhs <= rhs;
    case Op::Ge: return lhs >= rhs;
    case Op::Re: return false;
  }
  return false;
}

// Calls `fn(value)` for each value of a numeric field the flow has, until it returns true.
// Returns {known, stopped}: whether the flow has the field at all, and whether fn said stop.
template <class F>
std::pair<bool, bool> each_number(Field field, const EvalContext& ctx, F&& fn) {
  const FlowRecord& rec = ctx.rec;
  const core::Enrichment& e = ctx.enrich;
  const bool ctr = rec.has(FlowRecord::kHasCounters);
  const auto one = [&](bool known, double v) -> std::pair<bool, bool> {
    return known ? std::pair{true, fn(v)} : std::pair{false, false};
  };
  switch (field) {
    case Field::Pid: return one(e.process.ok(), static_cast<double>(e.process.value.pid));
    case Field::Port: {
      if (!rec.has(FlowRecord::kHasPorts)) {
        return {false, false};
      }
      const std::array<std::uint16_t, 4> ports{rec.key.orig.sport, rec.key.orig.dport,
                                               rec.reply.sport, rec.reply.dport};
      for (const auto p : ports) {
        if (fn(static_cast<double>(p))) {
          return {true, true};
        }
      }
      return {true, false};
    }
    case Field::Asn: {
      bool known = false;
      for (const auto* g : {&e.inside_geo, &e.remote_geo}) {
        if (g->ok() && g->value.asn != 0) {
          known = true;
          if (fn(static_cast<double>(g->value.asn))) {
            return {true, true};
          }
        }
      }
      return {known, false};
    }
    case Field::Mark: return one(true, rec.mark);
    case Field::Zone: return one(true, rec.key.zone);
    case Field::Proto: return one(true, rec.key.proto);
    case Field::Bytes:
      return one(ctr, static_cast<double>(rec.orig_ctr.bytes + rec.reply_ctr.bytes));
    // .out is what the inside end sent, .in what it received (core/ends.hpp).
    case Field::BytesOut: return one(ctr, static_cast<double>(core::sent_counters(rec).bytes));
    case Field::BytesIn: return one(ctr, static_cast<double>(core::received_counters(rec).bytes));
    case Field::Packets:
      return one(ctr, static_cast<double>(rec.orig_ctr.packets + rec.reply_ctr.packets));
    case Field::PacketsOut: return one(ctr, static_cast<double>(core::sent_counters(rec).packets));
    case Field::PacketsIn:
      return one(ctr, static_cast<double>(core::received_counters(rec).packets));
    // A rate not known yet (the first window still open) satisfies no comparison.
    case Field::Rate: {
      const core::Rates r = core::rates_of(rec);
      return one(core::rates_known(rec), r.orig_bytes + r.reply_bytes);
    }
    case Field::RateOut: return one(core::rates_known(rec), core::sent_rate(rec));
    case Field::RateIn: return one(core::rates_known(rec), core::received_rate(rec));
    case Field::Age: {
      if (!rec.has(FlowRecord::kHasTimestamp)) {
        return {false, false};
      }
      if (const auto lived = core::duration_ns(rec)) {  // an ended flow: its duration
        return one(true, std::floor(static_cast<double>(*lived) / 1e9));
      }
      const auto now = static_cast<double>(ctx.realtime_ns);
      const auto start = static_cast<double>(rec.start_ns);
      return one(true, now > start ? std::floor((now - start) / 1e9) : 0.0);
    }
    default: return {false, false};
  }
}

void add_geo_text(Field field, const core::Lookup<core::GeoInfo>& g,
                  std::vector<std::string>& out) {
  if (!g.ok()) {
    return;
  }
  const core::GeoInfo& v = g.value;
  switch (field) {
    case Field::Country:
      if (!v.country.empty()) {
        out.push_back(v.country);
      }
      if (!v.country_name.empty()) {
        out.push_back(v.country_name);
      }
      if (v.kind != core::GeoInfo::Kind::Located) {
        out.emplace_back(core::geo_kind_label(v.kind));
      }
      break;
    case Field::City:
      if (!v.city.empty()) {
        out.push_back(v.city);
      }
      break;
    case Field::Org:
      if (!v.org.empty()) {
        out.push_back(v.org);
      }
      break;
    default: break;
  }
}

// The texts a text term compares against; empty when the flow does not have the field.
std::vector<std::string> texts(Field field, const EvalContext& ctx) {
  const FlowRecord& rec = ctx.rec;
  const core::Enrichment& e = ctx.enrich;
  std::vector<std::string> out;
  switch (field) {
    case Field::Proc:  // the OWNER column: a process, or a LAN device's lease name
      if (e.process.ok()) {
        out.push_back(e.process.value.name);
      } else if (e.host.ok() && !e.host.value.name.empty()) {
        out.push_back(e.host.value.name);
      }
      break;
    case Field::User:
      if (e.process.ok()) {
        out.push_back(e.process.value.user);
        out.push_back(std::to_string(e.process.value.uid));
      }
      break;
    case Field::Host:
      for (const auto* n : {&e.inside_name, &e.remote_name}) {
        if (n->ok() && !n->value.empty()) {
          out.push_back(n->value);
        }
      }
      break;
    case Field::Addr:
      for (const auto* a : {&rec.key.orig.src, &rec.key.orig.dst, &rec.reply.src, &rec.reply.dst}) {
        out.push_back(a->to_string());
      }
      break;
    case Field::Local: out.push_back(core::ends_of(rec).inside.addr.to_string()); break;
    case Field::Remote: out.push_back(core::ends_of(rec).remote.addr.to_string()); break;
    case Field::Mac:
      if (e.host.ok()) {
        out.push_back(core::mac_text(e.host.value.mac));
      }
      break;
    case Field::Service:
      if (!e.service.empty()) {
        out.push_back(e.service);
      }
      break;
    case Field::Country:
    case Field::City:
    case Field::Org:
      add_geo_text(field, e.inside_geo, out);
      add_geo_text(field, e.remote_geo, out);
      break;
    case Field::Proto: {
      out.emplace_back(core::proto_name(rec.key.proto));
      if (rec.key.proto == static_cast<std::uint8_t>(core::L4Proto::Icmpv6)) {
        out.emplace_back("icmp6");
      }
      out.push_back(std::to_string(rec.key.proto));
      break;
    }
    case Field::Family:
      out.emplace_back(rec.key.family == core::Family::V4 ? "ipv4" : "ipv6");
      break;
    case Field::State:
      if (rec.has(FlowRecord::kHasState)) {
        out.emplace_back(core::state_name(rec.key.proto, rec.state));
      }
      break;
    default:  // numeric fields, as decimal text (port~^44)
      each_number(field, ctx, [&](double v) {
        out.push_back(std::to_string(static_cast<std::uint64_t>(v)));
        return false;
      });
      break;
  }
  return out;
}

class AndNode final : public FilterNode {
 public:
  explicit AndNode(std::vector<NodePtr> c) : children_(std::move(c)) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    return std::all_of(children_.begin(), children_.end(),
                       [&](const NodePtr& n) { return n->eval(ctx); });
  }

 private:
  std::vector<NodePtr> children_;
};

class OrNode final : public FilterNode {
 public:
  explicit OrNode(std::vector<NodePtr> c) : children_(std::move(c)) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    return std::any_of(children_.begin(), children_.end(),
                       [&](const NodePtr& n) { return n->eval(ctx); });
  }

 private:
  std::vector<NodePtr> children_;
};

class NotNode final : public FilterNode {
 public:
  explicit NotNode(NodePtr c) : child_(std::move(c)) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override { return !child_->eval(ctx); }

 private:
  NodePtr child_;
};

class WordNode final : public FilterNode {
 public:
  explicit WordNode(std::string word) : word_(std::move(word)) {
    word_ = core::ascii_lower(word_);
    // Only a word made of address characters can be part of an address: skip formatting them
    // otherwise (a bare word is evaluated on every flow).
    maybe_addr_ = std::all_of(word_.begin(), word_.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':';
    });
  }
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    const core::Enrichment& e = ctx.enrich;
    if (e.process.ok() && core::icontains(e.process.value.name, word_)) {
      return true;
    }
    if (e.host.ok() && core::icontains(e.host.value.name, word_)) {  // a LAN device's lease name
      return true;
    }
    for (const auto* n : {&e.inside_name, &e.remote_name}) {
      if (n->ok() && core::icontains(n->value, word_)) {
        return true;
      }
    }
    if (maybe_addr_) {
      const FlowRecord& rec = ctx.rec;
      for (const auto* a : {&rec.key.orig.src, &rec.key.orig.dst, &rec.reply.src, &rec.reply.dst}) {
        if (core::icontains(a->to_string(), word_)) {
          return true;
        }
      }
    }
    return false;
  }

 private:
  std::string word_;
  bool maybe_addr_ = false;
};

class TextNode final : public FilterNode {
 public:
  TextNode(Field field, Op op, std::string value, std::shared_ptr<const Regex> re)
      : field_(field), op_(op), value_(std::move(value)), re_(std::move(re)) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    const std::vector<std::string> values = texts(field_, ctx);
    if (values.empty()) {
      return false;  // unknown never satisfies a comparison
    }
    if (op_ == Op::Re) {
      return std::any_of(values.begin(), values.end(),
                         [&](const std::string& v) { return re_->search(v); });
    }
    const bool any = std::any_of(values.begin(), values.end(),
                                 [&](const std::string& v) { return core::iequals(v, value_); });
    return op_ == Op::Eq ? any : !any;
  }

 private:
  Field field_;
  Op op_;
  std::string value_;
  std::shared_ptr<const Regex> re_;
};

class NumberNode final : public FilterNode {
 public:
  NumberNode(Field field, Op op, double value) : field_(field), op_(op), value_(value) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    if (op_ == Op::Ne) {  // none of the values equals
      const auto [known, hit] =
          each_number(field_, ctx, [&](double v) { return compare(v, Op::Eq, value_); });
      return known && !hit;
    }
    return each_number(field_, ctx, [&](double v) { return compare(v, op_, value_); }).second;
  }

 private:
  Field field_;
  Op op_;
  double value_;
};

class NetworkNode final : public FilterNode {
 public:
  NetworkNode(Op op, const core::IpAddr& net, unsigned prefix, Side side)
      : op_(op), net_{net, static_cast<std::uint8_t>(prefix)}, side_(side) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    const FlowRecord& rec = ctx.rec;
    bool any = false;
    if (side_ == Side::Any) {
      for (const auto* a : {&rec.key.orig.src, &rec.key.orig.dst, &rec.reply.src, &rec.reply.dst}) {
        any = any || net_.contains(*a);
      }
    } else {
      const core::Ends ends = core::ends_of(rec);
      any = net_.contains(side_ == Side::Local ? ends.inside.addr : ends.remote.addr);
    }
    return op_ == Op::Eq ? any : !any;
  }

 private:
  Op op_;
  core::Prefix net_;
  Side side_;
};

class DirNode final : public FilterNode {
 public:
  DirNode(Op op, unsigned directions) : op_(op), directions_(directions) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    const bool any = ((1U << static_cast<unsigned>(ctx.rec.direction())) & directions_) != 0;
    return op_ == Op::Eq ? any : !any;
  }

 private:
  Op op_;
  unsigned directions_;
};

class NatNode final : public FilterNode {
 public:
  NatNode(Op op, unsigned kinds) : op_(op), kinds_(kinds) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    const core::Nat n = core::nat_of(ctx.rec);
    const unsigned has = (n.snat ? 1U : 0U) | (n.dnat ? 2U : 0U);
    const bool any = (has & kinds_) != 0;
    return op_ == Op::Eq ? any : !any;
  }

 private:
  Op op_;
  unsigned kinds_;
};

class ProtoNode final : public FilterNode {
 public:
  ProtoNode(Op op, std::vector<std::uint8_t> protos) : op_(op), protos_(std::move(protos)) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    const bool any = std::find(protos_.begin(), protos_.end(), ctx.rec.key.proto) != protos_.end();
    return op_ == Op::Eq ? any : !any;
  }

 private:
  Op op_;
  std::vector<std::uint8_t> protos_;
};

class FamilyNode final : public FilterNode {
 public:
  FamilyNode(Op op, core::Family family) : op_(op), family_(family) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    return (ctx.rec.key.family == family_) == (op_ == Op::Eq);
  }

 private:
  Op op_;
  core::Family family_;
};

/// state=UNREPLIED, ASSURED, OFFLOAD, HW_OFFLOAD: the status flags `conntrack -L` prints in
/// brackets. Every entry has a status, so these are never unknown.
class StatusNode final : public FilterNode {
 public:
  StatusNode(Op op, StatusFlag flag) : op_(op), flag_(flag) {}
  [[nodiscard]] bool eval(const EvalContext& ctx) const override {
    const bool hit = ((ctx.rec.status & flag_.bit) != 0) == flag_.set;
    return hit == (op_ == Op::Eq);
  }

 private:
  Op op_;
  StatusFlag flag_;
};

}  // namespace

struct Regex::Impl {
  regex_t re{};
};

namespace {

constexpr std::size_t kMaxPatternBytes = 256;
constexpr unsigned kMaxRepeatCount = 100;
constexpr double kMaxCopies = 4096;  // atoms regcomp would build, counting every copy

// glibc's regcomp copies a repeated subexpression once per repetition, and again for every
// repetition around it: `x++++…`, `((x+)+)+…` or `(x{100}){100}` grow exponentially (the
// fuzzer found a 100-byte filter that took over 2 GB). Such patterns never mean anything useful
// in a filter, so they are refused before regcomp: stacked repetitions, counts over 100, more
// than 4096 atoms once repetitions are unrolled, patterns over 256 bytes. Returns the offset of
// the problem and what it is, or nullopt.
std::optional<std::pair<std::size_t, std::string>> too_costly(const std::string& p) {
  if (p.size() > kMaxPatternBytes) {
    return std::pair{kMaxPatternBytes, std::string("longer than 256 bytes")};
  }
  std::vector<double> open{0};  // atoms of each open group, unrolled
  double last = 0;              // atoms of the item a repetition would apply to
  bool after_repeat = false;    // the previous item was a repetition operator
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    const bool repeat = c == '*' || c == '+' || c == '?' || c == '{';
    if (repeat && after_repeat) {
      return std::pair{i, std::string("a repetition of a repetition (like ++ or {2}*)")};
    }
    if (repeat) {
      double factor = 2;  // x+ is compiled as x x*
      if (c == '{') {
        const std::size_t close = p.find('}', i);
        if (close == std::string::npos) {
          break;  // regcomp says what is wrong
        }
        unsigned n = 0;
        unsigned most = 0;
        for (std::size_t k = i + 1; k < close; ++k) {
          if (p[k] >= '0' && p[k] <= '9') {
            n = n * 10 + static_cast<unsigned>(p[k] - '0');
            if (n > kMaxRepeatCount) {
              return std::pair{k, std::string("a repetition count over 100")};
            }
            most = std::max(most, n);
          } else {
            n = 0;  // the next bound of {m,n}
          }
        }
        factor = static_cast<double>(most) + 1;
        i = close;
      }
      open.back() += last * (factor - 1);
      last *= factor;
      after_repeat = true;
    } else {
      after_repeat = false;
      if (c == '(') {
        open.push_back(0);
        last = 0;
      } else if (c == ')' && open.size() > 1) {
        last = open.back();
        open.pop_back();
        open.back() += last;
      } else if (c == '|') {
        last = 0;
      } else {
        if (c == '\\') {  // an escaped character is one literal
          ++i;
        } else if (c == '[') {  // a bracket expression is one atom: skip to its end
          std::size_t j = i + 1;
          if (j < p.size() && p[j] == '^') {
            ++j;
          }
          if (j < p.size() && p[j] == ']') {
            ++j;
          }
          while (j < p.size() && p[j] != ']') {
            if (p[j] == '[' && j + 1 < p.size() &&
                (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
              const std::size_t end = p.find(']', j + 2);  // "[:alpha:]" ends at its own ']'
              j = end == std::string::npos ? p.size() : end + 1;
            } else {
              ++j;
            }
          }
          i = j;
        }
        last = 1;
        open.back() += 1;
      }
    }
    if (open.back() > kMaxCopies || last > kMaxCopies) {
      return std::pair{i, std::string("too many repetitions of repetitions")};
    }
  }
  return std::nullopt;
}

}  // namespace

Regex::Regex(const std::string& pattern, std::size_t pos) : impl_(std::make_unique<Impl>()) {
  if (const auto bad = too_costly(pattern)) {
    impl_.reset();
    throw FilterError{pos + bad->first, "regular expression too costly: " + bad->second};
  }
  const int rc = regcomp(&impl_->re, pattern.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB);
  if (rc != 0) {
    std::array<char, 256> buf{};
    regerror(rc, &impl_->re, buf.data(), buf.size());
    impl_.reset();  // regcomp failed: nothing to free
    throw FilterError{pos, std::string("bad regular expression: ") + buf.data()};
  }
}

Regex::~Regex() {
  if (impl_) {
    regfree(&impl_->re);
  }
}

bool Regex::search(const std::string& text) const {
  return regexec(&impl_->re, text.c_str(), 0, nullptr, 0) == 0;
}

NodePtr make_and(std::vector<NodePtr> children) {
  return std::make_unique<AndNode>(std::move(children));
}
NodePtr make_or(std::vector<NodePtr> children) {
  return std::make_unique<OrNode>(std::move(children));
}
NodePtr make_not(NodePtr child) {
  return std::make_unique<NotNode>(std::move(child));
}
NodePtr make_word(const std::string& word) {
  return std::make_unique<WordNode>(word);
}
NodePtr make_text(Field field, Op op, std::string value, std::shared_ptr<const Regex> re) {
  return std::make_unique<TextNode>(field, op, std::move(value), std::move(re));
}
NodePtr make_number(Field field, Op op, double value) {
  return std::make_unique<NumberNode>(field, op, value);
}
NodePtr make_network(Op op, const core::IpAddr& net, unsigned prefix, Side side) {
  return std::make_unique<NetworkNode>(op, net, prefix, side);
}
NodePtr make_dir(Op op, unsigned directions) {
  return std::make_unique<DirNode>(op, directions);
}
class EndedNode final : public FilterNode {
 public:
  [[nodiscard]] bool eval(const EvalContext& ctx) const override { return ctx.rec.ended(); }
};

NodePtr make_ended() {
  return std::make_unique<EndedNode>();
}

NodePtr make_nat(Op op, unsigned kinds) {
  return std::make_unique<NatNode>(op, kinds);
}
NodePtr make_proto(Op op, std::vector<std::uint8_t> protos) {
  return std::make_unique<ProtoNode>(op, std::move(protos));
}
NodePtr make_status(Op op, StatusFlag flag) {
  return std::make_unique<StatusNode>(op, flag);
}
NodePtr make_family(Op op, core::Family family) {
  return std::make_unique<FamilyNode>(op, family);
}

}  // namespace flowtop::view::detail
