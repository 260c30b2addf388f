// Decodes ctnetlink messages captured from the real kernel (scripts/capture-test-data.sh) and
// checks them against what `conntrack -L` printed for the same entries at capture time.
#include "flowtop/conntrack/parser.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace flowtop::conntrack {
namespace {

using core::FlowRecord;
using core::IpAddr;

struct Capture {
  std::vector<std::uint8_t> bytes;
  std::vector<std::span<const std::uint8_t>> messages;
};

Capture load(const char* name) {
  Capture c;
  std::ifstream in(std::string(FLOWTOP_TEST_DATA) + "/" + name, std::ios::binary);
  c.bytes.assign(std::istreambuf_iterator<char>(in), {});
  std::size_t off = 0;
  while (off + sizeof(nlmsghdr) <= c.bytes.size()) {
    nlmsghdr h{};
    std::memcpy(&h, c.bytes.data() + off, sizeof h);
    if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > c.bytes.size()) {
      break;
    }
    c.messages.emplace_back(c.bytes.data() + off, h.nlmsg_len);
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
  return c;
}

std::vector<ParsedMessage> parse_all(const Capture& c, bool event) {
  std::vector<ParsedMessage> out;
  for (auto m : c.messages) {
    auto r = parse_ct_message(m, 42, event);
    EXPECT_TRUE(r.msg.has_value()) << "a captured message failed to parse";
    if (r.msg) {
      out.push_back(*r.msg);
    }
  }
  return out;
}

const FlowRecord* find(const std::vector<ParsedMessage>& msgs, std::uint8_t proto,
                       std::uint16_t dport, core::Family fam = core::Family::V4) {
  for (const auto& m : msgs) {
    if (m.rec.key.proto == proto && m.rec.key.orig.dport == dport && m.rec.key.family == fam) {
      return &m.rec;
    }
  }
  return nullptr;
}

IpAddr ip(const std::string& s) {
  return *IpAddr::parse(s);
}

bool has_status(const FlowRecord& r, std::string_view name) {
  bool found = false;
  core::for_each_status_name(r.status, [&](std::string_view n) { found = found || n == name; });
  return found;
}

/// One line of `conntrack -L -o id,timestamp`: the first occurrence of a key is the original
/// direction, the second the reply direction.
struct ListedEntry {
  std::string line;
  int proto = 0;
  std::string state;
  std::map<std::string, std::string> orig, reply, other;
  bool assured = false, unreplied = false;
};

std::vector<ListedEntry> load_listing() {
  std::ifstream in(std::string(FLOWTOP_TEST_DATA) + "/ct_dump.conntrack-L.txt");
  std::vector<ListedEntry> out;
  std::string line;
  while (std::getline(in, line)) {
    ListedEntry e;
    e.line = line;
    std::istringstream words(line);
    std::string w;
    words >> w >> e.proto >> w;  // name, number, timeout
    while (words >> w) {
      if (w == "[ASSURED]") {
        e.assured = true;
      } else if (w == "[UNREPLIED]") {
        e.unreplied = true;
      } else if (auto eq = w.find('='); eq == std::string::npos) {
        e.state = w;
      } else {
        std::string k = w.substr(0, eq);
        std::string v = w.substr(eq + 1);
        if (k == "srckey" || k == "dstkey") {  // GRE keys sit where ports are
          v = std::to_string(std::stoul(v, nullptr, 16));
          k = k == "srckey" ? "sport" : "dport";
        }
        const bool icmp_id = k == "id" && e.orig.contains("type") &&
                             (!e.orig.contains("id") || !e.reply.contains("id"));
        if (!icmp_id &&
            (k == "mark" || k == "zone" || k == "id" || k == "use" || k == "delta-time")) {
          e.other[k] = v;
        } else if (!e.orig.contains(k)) {
          e.orig[k] = v;
        } else {
          e.reply[k] = v;
        }
      }
    }
    out.push_back(e);
  }
  return out;
}

class ParserDump : public ::testing::Test {
 protected:
  void SetUp() override {
    capture_ = load("ct_dump.bin");
    ASSERT_EQ(capture_.messages.size(), 10U)
        << "tests/data/ct_dump.bin holds the 10 captured entries";
    msgs_ = parse_all(capture_, false);
  }
  Capture capture_;
  std::vector<ParsedMessage> msgs_;
};

TEST_F(ParserDump, EveryEntryIsADumpEntryWithIdAndSampleTime) {
  ASSERT_EQ(msgs_.size(), 10U);
  for (const auto& m : msgs_) {
    EXPECT_EQ(m.kind, MsgKind::Entry);
    EXPECT_NE(m.rec.id, 0U);
    EXPECT_EQ(m.rec.sample_ns, 42);
    EXPECT_TRUE(m.rec.has(FlowRecord::kHasTimestamp)) << "timestamps were on at capture";
    EXPECT_TRUE(m.rec.has(FlowRecord::kHasCounters)) << "accounting was on at capture";
    EXPECT_GT(m.rec.start_ns, 1'700'000'000ULL * 1'000'000'000ULL);
  }
}

void expect_direction(const std::map<std::string, std::string>& want, const core::FlowTuple& t,
                      const core::Counters& c, const FlowRecord& r, const std::string& line) {
  SCOPED_TRACE(line);
  EXPECT_EQ(t.src, ip(want.at("src")));
  EXPECT_EQ(t.dst, ip(want.at("dst")));
  if (want.contains("sport")) {
    EXPECT_EQ(t.sport, std::stoi(want.at("sport")));
    EXPECT_EQ(t.dport, std::stoi(want.at("dport")));
  }
  if (want.contains("type") && &t == &r.key.orig) {
    EXPECT_EQ(r.key.icmp_type, std::stoi(want.at("type")));
    EXPECT_EQ(r.key.icmp_code, std::stoi(want.at("code")));
    EXPECT_EQ(t.sport, std::stoi(want.at("id"))) << "the echo id";
  }
  EXPECT_EQ(c.packets, std::stoull(want.at("packets")));
  EXPECT_EQ(c.bytes, std::stoull(want.at("bytes")));
}

// Every captured entry decodes to exactly what conntrack(8) printed for it.
TEST_F(ParserDump, EveryEntryMatchesConntrackList) {
  const auto listing = load_listing();
  ASSERT_EQ(listing.size(), msgs_.size());
  for (const auto& e : listing) {
    SCOPED_TRACE(e.line);
    const auto id = static_cast<std::uint32_t>(std::stoul(e.other.at("id")));
    const auto it = std::find_if(msgs_.begin(), msgs_.end(),
                                 [&](const ParsedMessage& m) { return m.rec.id == id; });
    ASSERT_NE(it, msgs_.end());
    const FlowRecord& r = it->rec;
    EXPECT_EQ(r.key.proto, e.proto);
    EXPECT_EQ(r.key.family, e.orig.at("src").find(':') != std::string::npos ? core::Family::V6
                                                                            : core::Family::V4);
    expect_direction(e.orig, r.key.orig, r.orig_ctr, r, e.line);
    expect_direction(e.reply, r.reply, r.reply_ctr, r, e.line);
    EXPECT_EQ(r.mark, std::stoul(e.other.at("mark")));
    EXPECT_EQ(r.key.zone, e.other.contains("zone") ? std::stoi(e.other.at("zone")) : 0);
    EXPECT_EQ(has_status(r, "ASSURED"), e.assured);
    EXPECT_EQ(has_status(r, "SEEN_REPLY"), !e.unreplied);
    std::string state = e.state;
    std::replace(state.begin(), state.end(), '_', '-');
    EXPECT_EQ(
        r.has(FlowRecord::kHasState) ? std::string(core::state_name(r.key.proto, r.state)) : "",
        state);
    EXPECT_EQ(r.has(FlowRecord::kHasState), !e.state.empty());
  }
}

TEST_F(ParserDump, EveryProtocolOfTheCaptureIsPresent) {
  EXPECT_NE(find(msgs_, 6, 5001), nullptr) << "TCP over IPv4";
  EXPECT_NE(find(msgs_, 6, 5001, core::Family::V6), nullptr) << "TCP over IPv6";
  EXPECT_NE(find(msgs_, 17, 5002), nullptr) << "UDP";
  EXPECT_NE(find(msgs_, 136, 5003), nullptr) << "UDP-lite";
  EXPECT_NE(find(msgs_, 1, 0), nullptr) << "ICMP";
  EXPECT_NE(find(msgs_, 58, 0, core::Family::V6), nullptr) << "ICMPv6";
  EXPECT_NE(find(msgs_, 132, 7002), nullptr) << "SCTP";
  EXPECT_NE(find(msgs_, 47, 0), nullptr) << "GRE";
  const FlowRecord* d = find(msgs_, 33, 0);
  ASSERT_NE(d, nullptr) << "DCCP appears as a generic protocol-33 entry on this kernel";
  EXPECT_FALSE(d->has(FlowRecord::kHasState));
  EXPECT_FALSE(d->has(FlowRecord::kHasPorts)) << "generic entries have no ports";
  EXPECT_FALSE(find(msgs_, 47, 0)->has(FlowRecord::kHasPorts)) << "GRE keys are not ports";
  EXPECT_FALSE(find(msgs_, 1, 0)->has(FlowRecord::kHasPorts));
  EXPECT_TRUE(find(msgs_, 136, 5003)->has(FlowRecord::kHasPorts));
  const FlowRecord* t = find(msgs_, 6, 443);
  EXPECT_TRUE(t->has(FlowRecord::kHasPorts));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->mark, 7U);
  EXPECT_EQ(t->key.zone, 3);
  EXPECT_TRUE(has_status(*t, "CONFIRMED"));
  EXPECT_GT(t->timeout, 500U);
}

TEST(ParserEvents, NewUpdateAndDestroyAreTold) {
  const Capture c = load("ct_events.bin");
  ASSERT_FALSE(c.messages.empty());
  const auto msgs = parse_all(c, true);
  int news = 0;
  int updates = 0;
  const FlowRecord* destroyed_sctp = nullptr;
  for (const auto& m : msgs) {
    news += m.kind == MsgKind::New ? 1 : 0;
    updates += m.kind == MsgKind::Update ? 1 : 0;
    if (m.kind == MsgKind::Destroy && m.rec.key.proto == 132) {
      destroyed_sctp = &m.rec;
    }
  }
  EXPECT_GE(news, 9) << "every entry of the capture was created while listening";
  EXPECT_GE(updates, 1) << "TCP state changes send updates";
  ASSERT_NE(destroyed_sctp, nullptr) << "the capture deletes the SCTP entry";
  EXPECT_EQ(destroyed_sctp->key.orig.sport, 7001);
  // The destroyed entry is the one the dump showed: same kernel id.
  const auto dump = parse_all(load("ct_dump.bin"), false);
  const FlowRecord* in_dump = find(dump, 132, 7002);
  ASSERT_NE(in_dump, nullptr);
  EXPECT_EQ(destroyed_sctp->id, in_dump->id);
}

// A DESTROY event as the kernel sends it with accounting and timestamps on: tuples, id, status,
// the final counters, and the start and stop stamps.
std::vector<std::uint8_t> destroy_event() {
  alignas(NLMSG_ALIGNTO) static std::array<std::uint8_t, 1024> buf{};
  buf.fill(0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_INET;
  const auto tuple = [nlh](int type, const char* src, const char* dst, std::uint16_t sport,
                           std::uint16_t dport) {
    nlattr* t = mnl_attr_nest_start(nlh, static_cast<std::uint16_t>(type));
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, inet_addr(src));
    mnl_attr_put_u32(nlh, CTA_IP_V4_DST, inet_addr(dst));
    mnl_attr_nest_end(nlh, ip);
    nlattr* pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
    mnl_attr_nest_end(nlh, pr);
    mnl_attr_nest_end(nlh, t);
  };
  tuple(CTA_TUPLE_ORIG, "10.0.0.2", "10.0.0.1", 40000, 9101);
  tuple(CTA_TUPLE_REPLY, "10.0.0.1", "10.0.0.2", 9101, 40000);
  mnl_attr_put_u32(nlh, CTA_ID, htonl(4242));
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED | IPS_ASSURED | IPS_SEEN_REPLY));
  const auto counters = [nlh](int type, std::uint64_t packets, std::uint64_t bytes) {
    nlattr* c = mnl_attr_nest_start(nlh, static_cast<std::uint16_t>(type));
    mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(packets));
    mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(bytes));
    mnl_attr_nest_end(nlh, c);
  };
  counters(CTA_COUNTERS_ORIG, 12, 1064);
  counters(CTA_COUNTERS_REPLY, 75, 103'956);
  nlattr* ts = mnl_attr_nest_start(nlh, CTA_TIMESTAMP);
  mnl_attr_put_u64(nlh, CTA_TIMESTAMP_START, htobe64(1'780'000'000'000'000'000ULL));
  mnl_attr_put_u64(nlh, CTA_TIMESTAMP_STOP, htobe64(1'780'000'000'040'000'000ULL));
  mnl_attr_nest_end(nlh, ts);
  return {buf.begin(), buf.begin() + nlh->nlmsg_len};
}

TEST(ParserEvents, DestroyCarriesFinalCountersAndTimestamps) {
  const std::vector<std::uint8_t> bytes = destroy_event();
  const ParseResult r = parse_ct_message(bytes, 77, true);
  ASSERT_TRUE(r.msg.has_value());
  EXPECT_EQ(r.msg->kind, MsgKind::Destroy);
  const FlowRecord& rec = r.msg->rec;
  EXPECT_EQ(rec.id, 4242U);
  ASSERT_TRUE(rec.has(FlowRecord::kHasCounters));
  EXPECT_EQ(rec.orig_ctr, (core::Counters{12, 1064}));
  EXPECT_EQ(rec.reply_ctr, (core::Counters{75, 103'956}));
  ASSERT_TRUE(rec.has(FlowRecord::kHasTimestamp));
  EXPECT_EQ(rec.start_ns, 1'780'000'000'000'000'000ULL);
  EXPECT_EQ(rec.stop_ns, 1'780'000'000'040'000'000ULL);
  EXPECT_TRUE(rec.has(FlowRecord::kSampled)) << "a DESTROY is a full view: no counters = off";
  EXPECT_EQ(rec.status, IPS_CONFIRMED | IPS_ASSURED | IPS_SEEN_REPLY);
}

TEST(ParserEvents, NewAndUpdateEventsAreNotFullViews) {
  const auto msgs = parse_all(load("ct_events.bin"), true);
  for (const auto& m : msgs) {
    EXPECT_EQ(m.rec.has(FlowRecord::kSampled), m.kind == MsgKind::Destroy);
  }
}

TEST(ParserRobustness, TruncatedAndCorruptedMessagesNeverCrash) {
  const Capture c = load("ct_dump.bin");
  ASSERT_FALSE(c.messages.empty());
  std::size_t malformed = 0;
  for (auto m : c.messages) {
    for (std::size_t len = 0; len < m.size(); ++len) {
      std::vector<std::uint8_t> cut(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(len));
      auto r = parse_ct_message(cut, 0, false);
      malformed += (!r.msg && r.error == ParseError::Malformed) ? 1 : 0;
    }
    std::vector<std::uint8_t> bad(m.begin(), m.end());
    for (std::size_t i = sizeof(nlmsghdr) + 4; i < bad.size(); i += 7) {
      bad[i] ^= 0xA5;
      (void)parse_ct_message(bad, 0, false);  // must not crash or read out of bounds (ASan)
    }
  }
  EXPECT_GT(malformed, 0U) << "a message cut inside its header is reported as malformed";
}

TEST(ParserRobustness, NonConntrackMessagesAreNotErrors) {
  struct {
    nlmsghdr h;
    int err;
  } done{};
  done.h.nlmsg_len = sizeof done;
  done.h.nlmsg_type = NLMSG_DONE;
  auto r = parse_ct_message(std::span(reinterpret_cast<const std::uint8_t*>(&done), sizeof done), 0,
                            false);
  EXPECT_FALSE(r.msg.has_value());
  EXPECT_EQ(r.error, ParseError::NotConntrack);
}

TEST(ParserRobustness, MisalignedInputIsCopied) {
  const Capture c = load("ct_dump.bin");
  ASSERT_FALSE(c.messages.empty());
  std::vector<std::uint8_t> shifted(c.messages[0].size() + 1);
  std::memcpy(shifted.data() + 1, c.messages[0].data(), c.messages[0].size());
  auto r = parse_ct_message(std::span(shifted).subspan(1), 0, false);
  ASSERT_TRUE(r.msg.has_value());
  auto direct = parse_ct_message(c.messages[0], 0, false);
  ASSERT_TRUE(direct.msg.has_value());
  EXPECT_EQ(r.msg->rec.key, direct.msg->rec.key);
}

}  // namespace
}  // namespace flowtop::conntrack
