#include "flowtop/core/flow.hpp"

#include <netdb.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "flowtop/core/hash_seed.hpp"

namespace flowtop::core {
namespace {

// 64-bit mixing (splitmix64 finaliser) over the key's fields; no padding bytes are read.
constexpr std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  return h;
}

std::uint64_t mix_addr(std::uint64_t h, const IpAddr& a) {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  std::memcpy(&lo, a.bytes.data(), 8);  // host byte order: the hash is never stored
  std::memcpy(&hi, a.bytes.data() + 8, 8);
  return mix(mix(h, lo), hi);
}

constexpr std::array<std::string_view, 10> kTcpStates{
    "NONE",       "SYN-SENT", "SYN-RECV",  "ESTABLISHED", "FIN-WAIT",
    "CLOSE-WAIT", "LAST-ACK", "TIME-WAIT", "CLOSE",       "SYN-SENT2"};
constexpr std::array<std::string_view, 10> kSctpStates{
    "NONE",       "CLOSED",     "COOKIE-WAIT", "COOKIE-ECHO", "ESTABLISHED",
    "SHUTD-SENT", "SHUTD-RCVD", "SHUTD-ACK",   "HB-SENT",     "HB-ACKED"};
constexpr std::array<std::string_view, 10> kDccpStates{
    "NONE",      "REQUEST", "RESPOND",   "PARTOPEN", "OPEN",
    "CLOSE-REQ", "CLOSING", "TIME-WAIT", "IGNORE",   "INVALID"};
constexpr std::array<std::string_view, 16> kStatusBits{
    "EXPECTED",   "SEEN_REPLY",   "ASSURED",      "CONFIRMED", "SRC_NAT",       "DST_NAT",
    "SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING",     "FIXED_TIMEOUT", "TEMPLATE",
    "NAT_CLASH",  "HELPER",       "OFFLOAD",      "HW_OFFLOAD"};

float per_second(std::uint64_t now, std::uint64_t base, double seconds) {
  // A counter reset (another entry) never yields a negative rate.
  return now >= base ? static_cast<float>(static_cast<double>(now - base) / seconds) : 0.0F;
}

bool older_than(const FlowRecord& next, const FlowRecord& prev) {
  return next.orig_ctr.bytes < prev.orig_ctr.bytes || next.reply_ctr.bytes < prev.reply_ctr.bytes ||
         next.orig_ctr.packets < prev.orig_ctr.packets ||
         next.reply_ctr.packets < prev.reply_ctr.packets;
}

}  // namespace

std::string_view proto_name(std::uint8_t proto) {
  switch (static_cast<L4Proto>(proto)) {
    case L4Proto::Tcp: return "tcp";
    case L4Proto::Udp: return "udp";
    case L4Proto::UdpLite: return "udplite";
    case L4Proto::Sctp: return "sctp";
    case L4Proto::Dccp: return "dccp";
    case L4Proto::Icmp: return "icmp";
    case L4Proto::Icmpv6: return "icmpv6";
    case L4Proto::Gre: return "gre";
  }
  return "unknown";
}

std::string proto_label(std::uint8_t proto) {
  if (const auto name = proto_name(proto); name != "unknown") {
    return std::string(name);
  }
  protoent entry{};
  protoent* found = nullptr;
  std::array<char, 1024> buf{};
  if (getprotobynumber_r(proto, &entry, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->p_name != nullptr) {
    std::string name = found->p_name;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return std::isalnum(c) != 0 || c == '-' ? std::tolower(c) : '_';
    });
    return name;
  }
  return std::to_string(proto);
}

bool proto_has_ports(std::uint8_t proto) {
  switch (static_cast<L4Proto>(proto)) {
    case L4Proto::Tcp:
    case L4Proto::Udp:
    case L4Proto::UdpLite:
    case L4Proto::Sctp:
    case L4Proto::Dccp: return true;
    default: return false;
  }
}

bool proto_is_icmp(std::uint8_t proto) {
  return proto == static_cast<std::uint8_t>(L4Proto::Icmp) ||
         proto == static_cast<std::uint8_t>(L4Proto::Icmpv6);
}

std::uint64_t hash_seed() {
  static const std::uint64_t seed = [] {
    std::uint64_t v = 0;
    // 8 bytes from the kernel's entropy pool never come short once it is initialised; on a
    // failure the address of a local and the clock still vary per process.
    if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
      v = reinterpret_cast<std::uintptr_t>(&v) ^
          static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    return v;
  }();
  return seed;
}

std::size_t SeededIpHash::operator()(const IpAddr& a) const {
  const std::uint64_t seed = hash_seed();  // one guarded read of the static, not two
  return static_cast<std::size_t>(mix(mix_addr(0x243f6a8885a308d3ULL ^ seed, a), seed));
}

std::size_t FlowKey::hash() const {
  const std::uint64_t seed = hash_seed();  // one guarded read of the static, not two
  std::uint64_t h = 0x6a09e667f3bcc909ULL ^ seed;
  h = mix_addr(h, orig.src);
  h = mix_addr(h, orig.dst);
  h = mix(h, (std::uint64_t{orig.sport} << 48) | (std::uint64_t{orig.dport} << 32) |
                 (std::uint64_t{zone} << 16) | (std::uint64_t{proto} << 8) |
                 static_cast<std::uint64_t>(family));
  h = mix(h, (std::uint64_t{icmp_type} << 8) | icmp_code);
  return static_cast<std::size_t>(mix(h, seed));
}

CounterState counter_state(const FlowRecord& rec) {
  if (rec.has(FlowRecord::kHasCounters)) {
    return rec.has(FlowRecord::kHasRates) ? CounterState::Ok : CounterState::Pending;
  }
  return rec.has(FlowRecord::kSampled) ? CounterState::Off : CounterState::Pending;
}

std::string_view counter_state_name(CounterState s) {
  switch (s) {
    case CounterState::Ok: return "ok";
    case CounterState::Pending: return "pending";
    case CounterState::Off: return "off";
  }
  return "";
}

std::optional<std::uint64_t> duration_ns(const FlowRecord& rec) {
  if (!rec.ended() || !rec.has(FlowRecord::kHasTimestamp) || rec.stop_ns == 0) {
    return std::nullopt;
  }
  return rec.stop_ns > rec.start_ns ? rec.stop_ns - rec.start_ns : 0;
}

int rate_window_seconds(RateWindow w) {
  switch (w) {
    case RateWindow::Off: return 0;
    case RateWindow::S2: return 2;
    case RateWindow::S10: return 10;
    case RateWindow::S40: return 40;
  }
  return 0;
}

std::optional<RateWindow> parse_rate_window(std::string_view text) {
  if (text == "off" || text == "0") {
    return RateWindow::Off;
  }
  if (text == "2") {
    return RateWindow::S2;
  }
  if (text == "10") {
    return RateWindow::S10;
  }
  if (text == "40") {
    return RateWindow::S40;
  }
  return std::nullopt;
}

RateWindow next_rate_window(RateWindow w) {
  switch (w) {
    case RateWindow::Off: return RateWindow::S2;
    case RateWindow::S2: return RateWindow::S10;
    case RateWindow::S10: return RateWindow::S40;
    case RateWindow::S40: return RateWindow::Off;
  }
  return RateWindow::Off;
}

namespace {

// Sets the rates of a window of `seconds` and folds the byte rates into the moving average: it
// moves towards them by alpha = 1 - exp(-seconds / tau), tau = ctx.avg_ns (0: alpha 1). A record
// without a rate before (no kHasRates) seeds the average with this first one.
void set_rates(FlowRecord& next, const Counters& base_orig, const Counters& base_reply,
               double seconds, const MergeContext& ctx) {
  const bool had_rates = next.has(FlowRecord::kHasRates);
  next.rate_orig_bytes = per_second(next.orig_ctr.bytes, base_orig.bytes, seconds);
  next.rate_reply_bytes = per_second(next.reply_ctr.bytes, base_reply.bytes, seconds);
  next.rate_orig_packets = per_second(next.orig_ctr.packets, base_orig.packets, seconds);
  next.rate_reply_packets = per_second(next.reply_ctr.packets, base_reply.packets, seconds);
  next.flags |= FlowRecord::kHasRates;
  if (!had_rates || ctx.avg_ns <= 0) {
    next.avg_orig_bytes = next.rate_orig_bytes;
    next.avg_reply_bytes = next.rate_reply_bytes;
    return;
  }
  const double alpha = 1.0 - std::exp(-seconds * 1e9 / static_cast<double>(ctx.avg_ns));
  const auto fold = [alpha](float& avg, float rate) {
    avg = static_cast<float>(avg + alpha * (static_cast<double>(rate) - avg));
  };
  fold(next.avg_orig_bytes, next.rate_orig_bytes);
  fold(next.avg_reply_bytes, next.rate_reply_bytes);
}

void open_window(FlowRecord& next) {
  next.rate_base_ns = next.sample_ns;
  set_rate_base(next, next.orig_ctr, next.reply_ctr);
}

// An ended flow's last window: the bytes since `base_ns` (steady; 0 for a flow never sampled,
// whose base is zero counters over its lifetime) spread over at least one interval.
void close_for_good(FlowRecord& next, const Counters& base_orig, const Counters& base_reply,
                    std::int64_t base_ns, std::uint64_t stop_ns, const MergeContext& ctx) {
  std::int64_t elapsed = 0;
  if (base_ns != 0) {
    elapsed = next.sample_ns - base_ns;
  } else if (next.has(FlowRecord::kHasTimestamp) && stop_ns > next.start_ns) {
    elapsed = static_cast<std::int64_t>(stop_ns - next.start_ns);
  }
  const auto spread = std::max<std::int64_t>({elapsed, ctx.interval_ns, 1});
  set_rates(next, base_orig, base_reply, static_cast<double>(spread) / 1e9, ctx);
  set_rate_base(next, next.orig_ctr, next.reply_ctr);
  next.stop_ns = stop_ns;
}

}  // namespace

void merge_sample(const FlowRecord* prev, FlowRecord& next, std::int64_t window_ns) {
  merge_sample(prev, next, MergeContext{window_ns, window_ns, 0});
}

void merge_sample(const FlowRecord* prev, FlowRecord& next, const MergeContext& ctx) {
  const bool same = prev != nullptr && prev->id == next.id;
  const bool ending = next.ended();
  // The parser leaves the kernel's stop stamp in stop_ns (the window base's storage).
  const std::uint64_t stop_ns = ending ? next.stop_ns : 0;
  if (same && prev->ended()) {
    next = *prev;  // a sample of an entry that already ended (a stale dump copy)
    return;
  }
  if (same) {
    next.life = static_cast<std::uint8_t>(next.life | (prev->life & FlowRecord::kSampled));
    if (!next.has(FlowRecord::kHasTimestamp) && prev->has(FlowRecord::kHasTimestamp)) {
      next.start_ns = prev->start_ns;
      next.flags |= FlowRecord::kHasTimestamp;
    }
    if (prev->has(FlowRecord::kHasCounters) &&
        (!next.has(FlowRecord::kHasCounters) || older_than(next, *prev))) {
      next.orig_ctr = prev->orig_ctr;
      next.reply_ctr = prev->reply_ctr;
      next.sample_ns = prev->sample_ns;
      next.flags |= FlowRecord::kHasCounters;
    }
  }
  if (!next.has(FlowRecord::kHasCounters)) {
    if (ending) {
      next.stop_ns = stop_ns;
    }
    return;
  }
  if (!same || !prev->has(FlowRecord::kHasCounters)) {
    // First sample of this entry with counters.
    if (ending) {
      close_for_good(next, Counters{}, Counters{}, 0, stop_ns, ctx);
      return;
    }
    open_window(next);
    // On first sight the rate of its lifetime, for a flow younger than one interval too.
    if (next.has(FlowRecord::kHasTimestamp) && ctx.wall_ns > 0 &&
        static_cast<std::uint64_t>(ctx.wall_ns) > next.start_ns) {
      const auto age_ns =
          static_cast<std::int64_t>(static_cast<std::uint64_t>(ctx.wall_ns) - next.start_ns);
      set_rates(next, Counters{}, Counters{}, static_cast<double>(age_ns) / 1e9, ctx);
      // Younger than one window: the window opens at its start (zero counters), not here, so
      // that what it moved before this sample counts in the rates of the window that closes
      // next, also when that is its end (a GET 100 ms after a short flow's NEW must not leave
      // its final window empty, and the frame after it a rate of 0).
      if (age_ns < ctx.window_ns && next.sample_ns > age_ns) {
        next.rate_base_ns = next.sample_ns - age_ns;
        set_rate_base(next, Counters{}, Counters{});
      }
    }
    return;
  }
  next.rate_orig_bytes = prev->rate_orig_bytes;
  next.rate_reply_bytes = prev->rate_reply_bytes;
  next.rate_orig_packets = prev->rate_orig_packets;
  next.rate_reply_packets = prev->rate_reply_packets;
  next.avg_orig_bytes = prev->avg_orig_bytes;
  next.avg_reply_bytes = prev->avg_reply_bytes;
  next.rate_base_ns = prev->rate_base_ns;
  const Counters base_orig = rate_base(*prev, false);
  const Counters base_reply = rate_base(*prev, true);
  set_rate_base(next, base_orig, base_reply);
  next.flags = static_cast<std::uint8_t>(next.flags | (prev->flags & FlowRecord::kHasRates));
  if (ending) {
    close_for_good(next, base_orig, base_reply, prev->rate_base_ns, stop_ns, ctx);
    return;
  }
  const std::int64_t elapsed = next.sample_ns - prev->rate_base_ns;
  if (elapsed < ctx.window_ns || elapsed <= 0) {
    return;
  }
  set_rates(next, base_orig, base_reply, static_cast<double>(elapsed) / 1e9, ctx);
  open_window(next);
}

std::string_view state_name(std::uint8_t proto, std::uint8_t state) {
  switch (static_cast<L4Proto>(proto)) {
    case L4Proto::Tcp: return state < kTcpStates.size() ? kTcpStates[state] : "UNKNOWN";
    case L4Proto::Sctp: return state < kSctpStates.size() ? kSctpStates[state] : "UNKNOWN";
    case L4Proto::Dccp: return state < kDccpStates.size() ? kDccpStates[state] : "UNKNOWN";
    default: return {};
  }
}

std::string_view status_bit_name(unsigned bit) {
  return bit < kStatusBits.size() ? kStatusBits[bit] : std::string_view{};
}

}  // namespace flowtop::core
