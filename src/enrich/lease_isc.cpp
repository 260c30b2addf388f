// ISC dhcpd's lease database (dhcpd.leases, dhcpd6.leases): a tokenizer and the few statements
// that name a host. Every nested block is read by its own loop or skipped by counting braces, so
// the recursion depth is fixed whatever the input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lease_records.hpp"

namespace flowtop::enrich::lease_detail {
namespace {

/// Tokens of dhcpd.leases: words, quoted strings (unescaped), '{', '}', ';'. `#` starts a
/// comment outside strings.
class IscLexer {
 public:
  enum class Kind : std::uint8_t { Word, String, Open, Close, Semi, End };
  // A token's stored text is cut here: a longer one is no name or address anyway.
  static constexpr std::size_t kMaxToken = 1024;

  explicit IscLexer(std::string_view text) : text_(text) {}

  Kind next(std::string& out) {
    out.clear();
    skip_blanks_and_comments();
    if (pos_ >= text_.size()) {
      return Kind::End;
    }
    const char c = text_[pos_];
    switch (c) {
      case '{': ++pos_; return Kind::Open;
      case '}': ++pos_; return Kind::Close;
      case ';': ++pos_; return Kind::Semi;
      case '"':
        ++pos_;
        read_string(out);
        return Kind::String;
      default: break;
    }
    while (pos_ < text_.size() && !is_blank(text_[pos_]) && !is_special(text_[pos_])) {
      append(out, text_[pos_++]);
    }
    return Kind::Word;
  }

 private:
  static bool is_special(char c) {
    return c == '{' || c == '}' || c == ';' || c == '"' || c == '#';
  }
  static void append(std::string& out, char c) {
    if (out.size() < kMaxToken) {
      out.push_back(c);
    }
  }

  void skip_blanks_and_comments() {
    while (pos_ < text_.size()) {
      if (is_blank(text_[pos_])) {
        ++pos_;
      } else if (text_[pos_] == '#') {
        const std::size_t nl = text_.find('\n', pos_);
        pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
      } else {
        return;
      }
    }
  }

  static int digit(char c, int base) {
    int d = 16;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    }
    return d < base ? d : -1;
  }

  /// Up to `max` digits of `base` at pos_, as one byte.
  char number(int base, int max) {
    unsigned value = 0;
    for (int i = 0; i < max && pos_ < text_.size(); ++i) {
      const int d = digit(text_[pos_], base);
      if (d < 0) {
        break;
      }
      value = value * static_cast<unsigned>(base) + static_cast<unsigned>(d);
      ++pos_;
    }
    return static_cast<char>(static_cast<unsigned char>(value & 0xFFU));
  }

  /// After the opening quote: up to the closing one (or the end of an unterminated string).
  void read_string(std::string& out) {
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') {
        return;
      }
      if (c != '\\' || pos_ >= text_.size()) {
        append(out, c);
        continue;
      }
      const char e = text_[pos_];
      if (digit(e, 8) >= 0) {
        append(out, number(8, 3));
        continue;
      }
      ++pos_;
      switch (e) {
        case 'n': append(out, '\n'); break;
        case 't': append(out, '\t'); break;
        case 'r': append(out, '\r'); break;
        case 'b': append(out, '\b'); break;
        case 'x': append(out, number(16, 2)); break;
        default: append(out, e); break;  // \" \\ \$ \'
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

/// One statement: its words (at most kMaxWords kept) and how it ended.
struct Statement {
  static constexpr std::size_t kMaxWords = 8;
  std::vector<std::string> words;
  IscLexer::Kind end = IscLexer::Kind::End;  ///< Semi, Open (a block follows), Close or End
};

Statement read_statement(IscLexer& lx) {
  Statement st;
  std::string tok;
  for (;;) {
    const IscLexer::Kind k = lx.next(tok);
    if (k == IscLexer::Kind::Word || k == IscLexer::Kind::String) {
      if (st.words.size() < Statement::kMaxWords) {
        st.words.push_back(std::move(tok));
        tok = std::string();
      }
      continue;
    }
    st.end = k;
    return st;
  }
}

/// Skips the rest of a block whose '{' was read; false when the text ended first.
bool skip_block(IscLexer& lx) {
  std::size_t depth = 1;
  std::string tok;
  for (;;) {
    switch (lx.next(tok)) {
      case IscLexer::Kind::Open: ++depth; break;
      case IscLexer::Kind::Close:
        if (--depth == 0) {
          return true;
        }
        break;
      case IscLexer::Kind::End: return false;
      default: break;
    }
  }
}

/// What a lease or iaaddr block says.
struct IscBinding {
  bool active = true;  // very old files have no binding state
  std::optional<MacAddr> mac;
  std::string hostname;
  std::string ddns_name;

  /// Takes one statement of the block.
  void take(const std::vector<std::string>& w) {
    if (w.size() >= 3 && w[0] == "binding" && w[1] == "state") {
      active = w[2] == "active";
    } else if (w.size() == 1 && w[0] == "abandoned") {
      active = false;
    } else if (w.size() >= 3 && w[0] == "hardware" && w[1] == "ethernet") {
      mac = parse_mac(w[2]);
    } else if (w.size() >= 2 && w[0] == "client-hostname") {
      hostname = w[1];
    } else if (w.size() >= 4 && w[0] == "set" && w[1] == "ddns-fwd-name" && w[2] == "=") {
      ddns_name = w[3];
    }
  }
  [[nodiscard]] std::string name() const {
    return clean_name(hostname.empty() ? ddns_name : hostname);
  }
};

/// Reads the statements of a block whose '{' was read into `b`; a nested block goes to
/// `on_block(words)`, which must read it. False when the text ended first.
template <class OnBlock>
bool read_block(IscLexer& lx, IscBinding& b, OnBlock&& on_block) {
  for (;;) {
    const Statement st = read_statement(lx);
    switch (st.end) {
      case IscLexer::Kind::Semi: b.take(st.words); break;
      case IscLexer::Kind::Open:
        if (!on_block(st.words)) {
          return false;
        }
        break;
      case IscLexer::Kind::Close: return true;
      default: return false;
    }
  }
}

/// The iaaddr blocks of an ia-na / ia-ta block whose '{' was read.
bool read_ia(IscLexer& lx, std::vector<LeaseRecord>& recs) {
  IscBinding ia;  // a name at the ia level applies to its addresses without one
  std::vector<std::pair<LeaseRecord, IscBinding>> addrs;
  const bool closed = read_block(lx, ia, [&](const std::vector<std::string>& w) {
    const auto addr = w.size() >= 2 && w[0] == "iaaddr" ? core::IpAddr::parse(w[1]) : std::nullopt;
    if (!addr) {
      return skip_block(lx);
    }
    IscBinding b;
    if (!read_block(lx, b, [&](const std::vector<std::string>&) { return skip_block(lx); })) {
      return false;
    }
    LeaseRecord r;
    r.lease.addr = *addr;
    addrs.emplace_back(std::move(r), std::move(b));
    return true;
  });
  if (!closed) {
    return false;
  }
  for (auto& [r, b] : addrs) {
    r.active = b.active;
    r.lease.name = b.name();
    if (r.lease.name.empty()) {
      r.lease.name = ia.name();
    }
    r.lease.mac = b.mac ? b.mac : ia.mac;
    recs.push_back(std::move(r));
  }
  return true;
}

}  // namespace

std::vector<LeaseRecord> parse_isc_records(std::string_view text) {
  std::vector<LeaseRecord> recs;
  IscLexer lx(text);
  for (;;) {
    const Statement st = read_statement(lx);
    if (st.end == IscLexer::Kind::End) {
      break;
    }
    if (st.end != IscLexer::Kind::Open) {
      continue;  // `authoring-byte-order ...;`, `server-duid ...;`, a stray '}'
    }
    const std::vector<std::string>& w = st.words;
    const bool lease = w.size() >= 2 && w[0] == "lease";
    const auto addr = lease ? core::IpAddr::parse(w[1]) : std::nullopt;
    if (addr) {
      IscBinding b;
      if (!read_block(lx, b, [&](const std::vector<std::string>&) { return skip_block(lx); })) {
        break;  // cut short: the server is writing it
      }
      LeaseRecord r;
      r.lease.addr = *addr;
      r.lease.name = b.name();
      r.lease.mac = b.mac;
      r.active = b.active;
      recs.push_back(std::move(r));
    } else if (!w.empty() && (w[0] == "ia-na" || w[0] == "ia-ta")) {
      if (!read_ia(lx, recs)) {
        break;
      }
    } else if (!skip_block(lx)) {  // ia-pd, host, failover peer, ...
      break;
    }
  }
  return recs;
}

}  // namespace flowtop::enrich::lease_detail
