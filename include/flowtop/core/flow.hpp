#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flowtop/core/ip_addr.hpp"

namespace flowtop::core {

/// IP protocol numbers conntrack tracks (any other number is a generic entry).
enum class L4Proto : std::uint8_t {
  Icmp = 1,
  Tcp = 6,
  Udp = 17,
  Dccp = 33,
  Gre = 47,
  Icmpv6 = 58,
  Sctp = 132,
  UdpLite = 136,
};

/// "tcp", "udp", "udplite", "sctp", "dccp", "icmp", "icmpv6", "gre", else "unknown".
std::string_view proto_name(std::uint8_t proto);
/// proto_name(), or for other protocols the name /etc/protocols gives ("esp", "ipip"), else the
/// number ("253"). For output of generically tracked protocols.
std::string proto_label(std::uint8_t proto);
/// True for the protocols whose tuples carry ports (TCP, UDP, UDP-lite, SCTP, DCCP).
bool proto_has_ports(std::uint8_t proto);
bool proto_is_icmp(std::uint8_t proto);

/// One direction's tuple. Ports in host byte order; 0 for protocols without ports.
/// For ICMP/ICMPv6 the kernel's tuple holds the echo id (sport here) and type/code (FlowKey).
/// For GRE the kernel's tuple holds the keys (sport/dport here, as the kernel's port fields).
struct FlowTuple {
  IpAddr src;
  IpAddr dst;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;

  bool operator==(const FlowTuple&) const = default;
};

/// The identity of a conntrack entry as the kernel hashes it: original tuple, protocols and zone.
/// (The kernel id is kept in the record and used to tell a reused tuple from the same entry.)
struct FlowKey {
  FlowTuple orig;
  std::uint16_t zone = 0;
  Family family = Family::V4;
  std::uint8_t proto = 0;      ///< L4 protocol number (L4Proto or any other)
  std::uint8_t icmp_type = 0;  ///< ICMP/ICMPv6 only: original direction type
  std::uint8_t icmp_code = 0;  ///< ICMP/ICMPv6 only

  bool operator==(const FlowKey&) const = default;
  [[nodiscard]] std::size_t hash() const;
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const { return k.hash(); }
};

/// Per-direction counters, as the kernel's accounting extension reports them.
struct Counters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  bool operator==(const Counters&) const = default;
};

/// Bytes and packets per second, per direction.
struct Rates {
  double orig_bytes = 0;
  double reply_bytes = 0;
  double orig_packets = 0;
  double reply_packets = 0;
};

/// The window the shown byte rates are averaged over, as iftop's 2, 10 and 40 seconds (`w`,
/// --window). Off: the last interval's rate, as without a window.
enum class RateWindow : std::uint8_t { Off = 0, S2 = 1, S10 = 2, S40 = 3 };
/// 0 (Off), 2, 10, 40.
int rate_window_seconds(RateWindow w);
/// From "2", "10", "40" or "off"; nullopt for anything else.
std::optional<RateWindow> parse_rate_window(std::string_view text);
/// The window after `w` for the `w` key: Off -> 2 -> 10 -> 40 -> Off.
RateWindow next_rate_window(RateWindow w);

/// Which way a flow goes, seen from this machine (core/ends.hpp classifies it):
///  - Out: the original source is one of its addresses (it opened the flow);
///  - In: the reply source, the real responder after any DNAT, is one of them;
///  - Local: both ends are;
///  - Forward: neither (routed through it).
enum class Direction : std::uint8_t { Out = 0, In = 1, Local = 2, Forward = 3 };

/// One conntrack entry as last seen. Written by the collector into the FlowTable (an update
/// rewrites it under the table's per-record sequence lock); read by copying it out.
struct FlowRecord {
  enum Flags : std::uint8_t {
    kHasCounters = 1,   ///< the accounting extension was present (acct on when the flow started)
    kHasTimestamp = 2,  ///< the timestamp extension was present
    kHasState = 4,      ///< the protocol carries a state (TCP, SCTP, DCCP)
    kHasRates = 8,      ///< rate_* are known: a completed window, the flow's lifetime on first
                        ///< sight (merge_sample), or an ended flow's final window
    kHasPorts = 16,     ///< the tuples carry ports (not ICMP, GRE, or a generic entry such as DCCP
                        ///< on kernels without a DCCP tracker)
    kDirectionMask = 32 | 64,  ///< the Direction, shifted by kDirectionShift
    kInsideResponds = 128,     ///< the inside (or local) end is the responder, not the initiator
  };
  static constexpr unsigned kDirectionShift = 5;
  /// The bits core::classify() computes (direction and inside end).
  static constexpr std::uint8_t kEndsBits = kDirectionMask | kInsideResponds;
  /// The record's life, apart from `flags` (whose bits are all taken).
  enum Life : std::uint8_t {
    kSampled = 1,  ///< a full view of the entry was merged (dump, GET or DESTROY), so a missing
                   ///< counter means accounting was off, not "not reported yet" (events without
                   ///< DESTROY carry no counters)
    kEnded = 2,    ///< the kernel destroyed the entry: a lingering row with its final counters
  };

  FlowKey key;
  FlowTuple reply;
  // state and flags fill the 2 bytes after the tuples (no padding: the record is 208 bytes).
  std::uint8_t state = 0;  ///< TCP/SCTP/DCCP state, kernel numbering
  std::uint8_t flags = 0;
  std::uint32_t id = 0;  ///< kernel conntrack id
  /// IPS_* bits. The uapi defines bits 0-15 (__IPS_MAX_BIT 16); 16 bits keep the record at
  /// 200 bytes with `life` beside it.
  std::uint16_t status = 0;
  std::uint8_t life = 0;  ///< Life bits
  std::uint32_t mark = 0;
  std::uint32_t timeout = 0;  ///< seconds left, as the kernel reported
  Counters orig_ctr;
  Counters reply_ctr;
  std::uint64_t start_ns = 0;  ///< CLOCK_REALTIME ns of the flow's start (kHasTimestamp)
  std::int64_t sample_ns = 0;  ///< steady-clock time the counters were received
  // The sample that opened the current rate window, and the rates of the last completed window.
  // An ended flow's window is closed for good: the same 8 bytes hold its stop time instead.
  union {
    std::int64_t rate_base_ns = 0;  ///< live flows: steady time of the window's first sample
    std::uint64_t stop_ns;          ///< kEnded: CLOCK_REALTIME ns of the kernel's stop stamp, 0
                                    ///< when the timestamp extension was off
  };
  // The window base's counters: bytes in full, packets as their low 32 bits (a window never
  // counts 2^32 packets of one flow; rate_base() rebuilds them), which leaves room in the 200
  // bytes for the moving average below (the flow table's 256 B per flow).
  std::uint64_t rate_base_orig_bytes = 0;
  std::uint64_t rate_base_reply_bytes = 0;
  std::uint32_t rate_base_orig_packets = 0;
  std::uint32_t rate_base_reply_packets = 0;
  float rate_orig_bytes = 0;
  float rate_reply_bytes = 0;
  float rate_orig_packets = 0;
  float rate_reply_packets = 0;
  /// The byte rates' exponentially weighted moving average (set with kHasRates): each completed
  /// window moves it towards that window's rate by 1 - exp(-dt / tau), tau the chosen RateWindow
  /// at that moment (MergeContext::avg_ns; Off: tau 0, the last rate itself). One pair, not one
  /// per window: the flow table's 256 B per flow. The first rate seeds it. Read with
  /// avg_rates_of().
  float avg_orig_bytes = 0;
  float avg_reply_bytes = 0;

  [[nodiscard]] bool has(Flags f) const { return (flags & f) != 0; }
  [[nodiscard]] bool has(Life l) const { return (life & l) != 0; }
  [[nodiscard]] bool ended() const { return has(kEnded); }
  [[nodiscard]] Direction direction() const {
    return static_cast<Direction>((flags & kDirectionMask) >> kDirectionShift);
  }
};

/// Asks the CPU to start loading `rec` (all its cache lines). Loops that visit a frame's records
/// in sorted order (a random walk through the snapshot: a cache and TLB miss a row) call it a few
/// rows ahead.
inline void prefetch(const FlowRecord& rec) {
  const auto* p = reinterpret_cast<const char*>(&rec);
  for (std::size_t off = 0; off < sizeof(FlowRecord); off += 64) {
    __builtin_prefetch(p + off);
  }
}
/// How many rows ahead those loops prefetch.
inline constexpr std::size_t kPrefetchAhead = 8;

/// The window base of the original (`reply` false) or reply direction, as counters: the packets
/// rebuilt from their low 32 bits against the record's own counters.
inline Counters rate_base(const FlowRecord& rec, bool reply) {
  const Counters& now = reply ? rec.reply_ctr : rec.orig_ctr;
  const std::uint32_t low = reply ? rec.rate_base_reply_packets : rec.rate_base_orig_packets;
  const auto behind = static_cast<std::uint32_t>(static_cast<std::uint32_t>(now.packets) - low);
  return {now.packets >= behind ? now.packets - behind : 0,
          reply ? rec.rate_base_reply_bytes : rec.rate_base_orig_bytes};
}
/// Sets the window base to these counters.
inline void set_rate_base(FlowRecord& rec, const Counters& orig, const Counters& reply) {
  rec.rate_base_orig_bytes = orig.bytes;
  rec.rate_base_reply_bytes = reply.bytes;
  rec.rate_base_orig_packets = static_cast<std::uint32_t>(orig.packets);
  rec.rate_base_reply_packets = static_cast<std::uint32_t>(reply.packets);
}

/// The rates of the record's last completed window; zero before one completed (see
/// rates_known()).
inline Rates rates_of(const FlowRecord& rec) {
  return {rec.rate_orig_bytes, rec.rate_reply_bytes, rec.rate_orig_packets, rec.rate_reply_packets};
}
/// rates_of() with the byte rates replaced by their moving average (avg_orig_bytes,
/// avg_reply_bytes); the packet rates are the last window's. Same knownness as rates_of().
inline Rates avg_rates_of(const FlowRecord& rec) {
  return {rec.avg_orig_bytes, rec.avg_reply_bytes, rec.rate_orig_packets, rec.rate_reply_packets};
}
/// Puts the averaged byte rates in rate_orig_bytes / rate_reply_bytes, so that whatever reads the
/// record's rates (cells, sorting, sums, filters) reads the chosen window's. A snapshot's copy
/// only.
inline void use_avg_rates(FlowRecord& rec) {
  rec.rate_orig_bytes = rec.avg_orig_bytes;
  rec.rate_reply_bytes = rec.avg_reply_bytes;
}
/// Whether the record's rates are known: counters and a rate (kHasRates). An unknown rate is
/// shown as "-" / null, never 0.
inline bool rates_known(const FlowRecord& rec) {
  return rec.has(FlowRecord::kHasCounters) && rec.has(FlowRecord::kHasRates);
}

/// What a record's counters are, for output that tells "not yet" from "never":
///  - Ok: bytes, packets and rates known;
///  - Pending: counters not read yet (the flow is known from an event only) or its first rate
///    window still open;
///  - Off: a full view of the entry had no counters: accounting was off when it started.
enum class CounterState : std::uint8_t { Ok, Pending, Off };
CounterState counter_state(const FlowRecord& rec);
/// "ok", "pending", "off".
std::string_view counter_state_name(CounterState s);

/// An ended flow's duration in nanoseconds (stop - start, both kernel timestamps); nullopt for a
/// live flow or without timestamps.
std::optional<std::uint64_t> duration_ns(const FlowRecord& rec);

/// What merge_sample() needs to know besides the two records.
struct MergeContext {
  std::int64_t window_ns = 1;    ///< a live flow's rate window closes after this long
  std::int64_t interval_ns = 1;  ///< an ended flow's last bytes are spread over at least this
  std::int64_t wall_ns = 0;      ///< CLOCK_REALTIME when `next` was received; 0: unknown
  /// The moving average's time constant (the chosen RateWindow); 0: none, the average is the
  /// last rate.
  std::int64_t avg_ns = 0;
};

/// Folds the previously published record of an entry into `next`, a fresh sample of it (the
/// collector's merge step). For the same kernel entry (same id):
///  - data the new message lacks (counters, timestamp) is carried over;
///  - counters never go backwards (a late event cannot undo a newer dump): an older sample keeps
///    prev's counters and sample time;
///  - the rate window: when `next.sample_ns - base >= window_ns` the window closes: rates become
///    (counters - base) / elapsed and the base moves to `next`; otherwise prev's rates and base
///    stay.
/// A different id (the tuple was reused) starts afresh. For a new entry the base is its first
/// sample; with counters and a start timestamp it gets at once the rate of its lifetime
/// (bytes / age at `ctx.wall_ns`), so a rate is known from first sight.
/// An ended `next` (kEnded, final counters) closes its window for good: the bytes since the base
/// (all of them for a flow never sampled) over max(time since the base, ctx.interval_ns), so the
/// bytes count in the interval in which they moved, also for a flow that lived less than one
/// interval; the window base then holds the stop time (FlowRecord::stop_ns). A sample of an
/// entry that already ended (a stale dump copy) leaves prev as it was. Each new rate (over dt)
/// moves the moving average (avg_*_bytes) towards it by 1 - exp(-dt / ctx.avg_ns); the first
/// rate seeds it. Pure.
void merge_sample(const FlowRecord* prev, FlowRecord& next, const MergeContext& ctx);
/// merge_sample() with `window_ns` as window and interval, without a wall clock.
void merge_sample(const FlowRecord* prev, FlowRecord& next, std::int64_t window_ns);

/// Protocol state names as the original flowtop prints them ("ESTABLISHED", "COOKIE-WAIT"...);
/// empty for protocols without a state.
std::string_view state_name(std::uint8_t proto, std::uint8_t state);

/// Names of the set IPS_* status bits ("ASSURED", "SEEN_REPLY", ...), in bit order.
/// Calls `out` once per name.
template <class F>
void for_each_status_name(std::uint32_t status, F&& out);
std::string_view status_bit_name(unsigned bit);  ///< "" for unnamed bits

inline constexpr std::uint32_t kStatusSeenReply = 1U << 1U;   ///< IPS_SEEN_REPLY
inline constexpr std::uint32_t kStatusAssured = 1U << 2U;     ///< IPS_ASSURED
inline constexpr std::uint32_t kStatusOffload = 1U << 14U;    ///< IPS_OFFLOAD (a flowtable)
inline constexpr std::uint32_t kStatusHwOffload = 1U << 15U;  ///< IPS_HW_OFFLOAD

/// The flow is handled by a flowtable (software or hardware offload): packets bypass conntrack,
/// so its counters, rates and timeout are stale until it leaves the flowtable.
inline bool offloaded(std::uint32_t status) {
  return (status & (kStatusOffload | kStatusHwOffload)) != 0;
}

template <class F>
void for_each_status_name(std::uint32_t status, F&& out) {
  for (unsigned bit = 0; bit < 32; ++bit) {
    if ((status & (1U << bit)) != 0) {
      if (auto n = status_bit_name(bit); !n.empty()) {
        out(n);
      }
    }
  }
}

}  // namespace flowtop::core
