// Decodes the conntrack statistics messages (IPCTNL_MSG_CT_GET_STATS_CPU and _GET_STATS): the
// replies captured from the kernel (scripts/capture-test-data.sh) against what `conntrack -S` and
// `conntrack -C` printed at the same time, and constructed messages for every bound.
#include "flowtop/conntrack/stats_parser.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace flowtop::conntrack {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::vector<Bytes> load_messages(const char* name) {
  std::ifstream in(std::string(FLOWTOP_TEST_DATA) + "/" + name, std::ios::binary);
  const Bytes all(std::istreambuf_iterator<char>(in), {});
  std::vector<Bytes> out;
  std::size_t off = 0;
  while (off + sizeof(nlmsghdr) <= all.size()) {
    nlmsghdr h{};
    std::memcpy(&h, all.data() + off, sizeof h);
    if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > all.size()) {
      break;
    }
    out.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(off),
                     all.begin() + static_cast<std::ptrdiff_t>(off + h.nlmsg_len));
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
  return out;
}

/// A statistics message built by hand: header, nfgenmsg (res_id = cpu), u32 attributes.
class Msg {
 public:
  explicit Msg(unsigned type = IPCTNL_MSG_CT_GET_STATS_CPU, std::uint16_t cpu = 0,
               unsigned subsys = NFNL_SUBSYS_CTNETLINK) {
    bytes_.resize(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)));
    nlmsghdr h{};
    h.nlmsg_type = static_cast<std::uint16_t>((subsys << 8) | type);
    std::memcpy(bytes_.data(), &h, sizeof h);
    nfgenmsg g{};
    g.nfgen_family = AF_UNSPEC;
    g.res_id = htons(cpu);
    std::memcpy(bytes_.data() + NLMSG_HDRLEN, &g, sizeof g);
  }
  Msg& u32(std::uint16_t type, std::uint32_t v) {
    const std::uint32_t be = htonl(v);
    return attr(type, &be, sizeof be);
  }
  Msg& attr(std::uint16_t type, const void* data, std::size_t len) {
    nlattr a{};
    a.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + len);
    a.nla_type = type;
    const std::size_t at = bytes_.size();
    bytes_.resize(at + NLA_ALIGN(a.nla_len));
    std::memcpy(bytes_.data() + at, &a, sizeof a);
    std::memcpy(bytes_.data() + at + NLA_HDRLEN, data, len);
    return *this;
  }
  /// The bytes with nlmsg_len set to their size (plus `extra`: a header that claims more).
  [[nodiscard]] Bytes done(int extra = 0) const {
    Bytes b = bytes_;
    const auto len = static_cast<std::uint32_t>(static_cast<int>(b.size()) + extra);
    std::memcpy(b.data(), &len, sizeof len);
    return b;
  }

 private:
  Bytes bytes_;
};

StatsParse parse(const Bytes& b, core::CtCpuStats& cpu, core::CtStatsSample& sample) {
  return parse_ct_stats(std::span(b.data(), b.size()), cpu, sample);
}

// "cpu=1   \tfound=0 invalid=6 ..." -> {"cpu": 1, "found": 0, "invalid": 6, ...}
std::vector<std::map<std::string, std::uint64_t>> conntrack_s_lines(std::uint64_t* count) {
  std::ifstream in(std::string(FLOWTOP_TEST_DATA) + "/ct_stats.conntrack-S.txt");
  std::vector<std::map<std::string, std::uint64_t>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu=", 0) != 0) {
      *count = std::stoull(line);  // conntrack -C
      continue;
    }
    std::istringstream words(line);
    std::map<std::string, std::uint64_t> m;
    for (std::string w; words >> w;) {
      const auto eq = w.find('=');
      m[w.substr(0, eq)] = std::stoull(w.substr(eq + 1));
    }
    out.push_back(std::move(m));
  }
  return out;
}

TEST(StatsParser, CapturedRepliesMatchConntrackS) {
  const auto messages = load_messages("ct_stats.bin");
  std::uint64_t count = 0;
  const auto listed = conntrack_s_lines(&count);
  ASSERT_EQ(listed.size(), 2U);  // the capture machine's two CPUs
  core::CtStatsSample sample;
  for (const Bytes& m : messages) {
    core::CtCpuStats cpu;
    const StatsParse r = parse(m, cpu, sample);
    ASSERT_NE(r, StatsParse::Malformed);
    if (r == StatsParse::Cpu) {
      sample.cpus.push_back(cpu);
    }
  }
  ASSERT_EQ(sample.cpus.size(), listed.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const core::CtCpuStats& c = sample.cpus[i];
    auto want = listed[i];
    EXPECT_EQ(c.cpu, want["cpu"]);
    EXPECT_EQ(c.found, want["found"]);
    EXPECT_EQ(c.invalid, want["invalid"]);
    EXPECT_EQ(c.insert, want["insert"]);
    EXPECT_EQ(c.insert_failed, want["insert_failed"]);
    EXPECT_EQ(c.drop, want["drop"]);
    EXPECT_EQ(c.early_drop, want["early_drop"]);
    EXPECT_EQ(c.error, want["error"]);
    EXPECT_EQ(c.search_restart, want["search_restart"]);
    EXPECT_EQ(c.clash_resolve, want["clash_resolve"]);
    EXPECT_EQ(c.chaintoolong, want["chaintoolong"]);
  }
  EXPECT_EQ(sample.cpus[1].invalid, 6U);  // the SYN+FIN segments and their kin
  ASSERT_TRUE(sample.entries.has_value());
  EXPECT_EQ(*sample.entries, count);
  ASSERT_TRUE(sample.max.has_value());
  EXPECT_EQ(*sample.max, 262144U);  // nf_conntrack_max on the capture machine
}

TEST(StatsParser, ConstructedCpuMessageFillsEveryCounter) {
  const Bytes m = Msg(IPCTNL_MSG_CT_GET_STATS_CPU, 3)
                      .u32(CTA_STATS_FOUND, 1)
                      .u32(CTA_STATS_INVALID, 2)
                      .u32(CTA_STATS_INSERT, 3)
                      .u32(CTA_STATS_INSERT_FAILED, 4)
                      .u32(CTA_STATS_DROP, 5)
                      .u32(CTA_STATS_EARLY_DROP, 6)
                      .u32(CTA_STATS_ERROR, 7)
                      .u32(CTA_STATS_SEARCH_RESTART, 8)
                      .u32(CTA_STATS_CLASH_RESOLVE, 9)
                      .u32(CTA_STATS_CHAIN_TOOLONG, 0xffffffffU)
                      .done();
  core::CtCpuStats c;
  core::CtStatsSample s;
  ASSERT_EQ(parse(m, c, s), StatsParse::Cpu);
  EXPECT_EQ(c, (core::CtCpuStats{3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xffffffffU}));
  EXPECT_FALSE(s.entries.has_value());
}

TEST(StatsParser, MissingCountersReadZeroAndUnknownAttributesAreIgnored) {
  const std::uint64_t big = 0x0102030405060708ULL;
  const Bytes m = Msg(IPCTNL_MSG_CT_GET_STATS_CPU, 1)
                      .u32(CTA_STATS_DROP, 42)
                      .attr(99, &big, sizeof big)  // a newer kernel's attribute, any size
                      .done();
  core::CtCpuStats c;
  c.found = 77;  // stale: the parser starts afresh
  core::CtStatsSample s;
  ASSERT_EQ(parse(m, c, s), StatsParse::Cpu);
  EXPECT_EQ(c, (core::CtCpuStats{.cpu = 1, .drop = 42}));
}

TEST(StatsParser, GlobalMessageGivesCountAndLimit) {
  const Bytes m = Msg(IPCTNL_MSG_CT_GET_STATS)
                      .u32(CTA_STATS_GLOBAL_ENTRIES, 1234)
                      .u32(CTA_STATS_GLOBAL_MAX_ENTRIES, 65536)
                      .done();
  core::CtCpuStats c;
  core::CtStatsSample s;
  ASSERT_EQ(parse(m, c, s), StatsParse::Global);
  EXPECT_EQ(s.entries, 1234U);
  EXPECT_EQ(s.max, 65536U);
  // Without the count the message says nothing useful.
  core::CtStatsSample empty;
  EXPECT_EQ(parse(Msg(IPCTNL_MSG_CT_GET_STATS).done(), c, empty), StatsParse::Malformed);
}

TEST(StatsParser, OtherMessagesAreNotDefects) {
  core::CtCpuStats c;
  core::CtStatsSample s;
  EXPECT_EQ(parse(Msg(IPCTNL_MSG_CT_NEW).done(), c, s), StatsParse::Other);
  EXPECT_EQ(parse(Msg(IPCTNL_MSG_CT_GET_STATS_CPU, 0, NFNL_SUBSYS_CTNETLINK_EXP).done(), c, s),
            StatsParse::Other);
  Bytes done = Msg().done();
  const std::uint16_t type = NLMSG_DONE;
  std::memcpy(done.data() + 4, &type, sizeof type);
  EXPECT_EQ(parse(done, c, s), StatsParse::Other);
}

TEST(StatsParser, BoundsAreChecked) {
  core::CtCpuStats c;
  core::CtStatsSample s;
  const Bytes good = Msg().u32(CTA_STATS_DROP, 1).u32(CTA_STATS_ERROR, 2).done();
  // Shorter than a header.
  EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 8), c, s), StatsParse::Malformed);
  // The header claims more than there is.
  EXPECT_EQ(parse(Msg().u32(CTA_STATS_DROP, 1).done(4), c, s), StatsParse::Malformed);
  // Cut inside the last attribute (the header still claims the whole message).
  EXPECT_EQ(parse(Bytes(good.begin(), good.end() - 2), c, s), StatsParse::Malformed);
  // Too short for the nfgenmsg.
  Bytes tiny(good.begin(), good.begin() + NLMSG_HDRLEN + 2);
  const auto len = static_cast<std::uint32_t>(tiny.size());
  std::memcpy(tiny.data(), &len, sizeof len);
  EXPECT_EQ(parse(tiny, c, s), StatsParse::Malformed);
  // A counter that is not 4 bytes.
  const std::uint16_t half = 1;
  EXPECT_EQ(parse(Msg().attr(CTA_STATS_DROP, &half, sizeof half).done(), c, s),
            StatsParse::Malformed);
  // An attribute whose length runs past the message.
  Bytes overrun = good;
  const std::uint16_t bad_len = 200;
  std::memcpy(overrun.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)), &bad_len,
              sizeof bad_len);
  EXPECT_EQ(parse(overrun, c, s), StatsParse::Malformed);
}

TEST(StatsParser, MisalignedInputIsCopiedFirst) {
  const Bytes m = Msg(IPCTNL_MSG_CT_GET_STATS_CPU, 2).u32(CTA_STATS_EARLY_DROP, 9).done();
  Bytes shifted(m.size() + 1);
  std::memcpy(shifted.data() + 1, m.data(), m.size());
  core::CtCpuStats c;
  core::CtStatsSample s;
  ASSERT_EQ(parse_ct_stats(std::span(shifted.data() + 1, m.size()), c, s), StatsParse::Cpu);
  EXPECT_EQ(c.cpu, 2U);
  EXPECT_EQ(c.early_drop, 9U);
}

}  // namespace
}  // namespace flowtop::conntrack
