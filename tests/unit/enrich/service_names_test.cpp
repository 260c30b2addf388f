#include "flowtop/enrich/service_names.hpp"

#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using flowtop::core::FlowRecord;
using flowtop::core::L4Proto;
using flowtop::enrich::parse_services;
using flowtop::enrich::ServiceNames;
using flowtop::enrich::ServiceTable;

constexpr auto kTcp = static_cast<std::uint8_t>(L4Proto::Tcp);
constexpr auto kUdp = static_cast<std::uint8_t>(L4Proto::Udp);
constexpr auto kUdpLite = static_cast<std::uint8_t>(L4Proto::UdpLite);
constexpr auto kSctp = static_cast<std::uint8_t>(L4Proto::Sctp);
constexpr auto kIcmp = static_cast<std::uint8_t>(L4Proto::Icmp);

fs::path conf_dir() {
  return fs::path(FLOWTOP_TEST_DATA).parent_path().parent_path() / "conf";
}

TEST(ParseServices, ReadsTheOriginalFormat) {
  const ServiceTable t = parse_services(
      "# TCP services\n"
      "\n"
      "22, ssh\n"
      "   # an indented comment\n"
      "80, http\n"
      "6001, X11:1\n"
      "8080,  web proxy  \n",
      "tcp.conf");
  EXPECT_TRUE(t.errors.empty()) << t.errors.front();
  ASSERT_EQ(t.names.size(), 4U);
  EXPECT_EQ(t.names.at(22), "ssh");
  EXPECT_EQ(t.names.at(80), "http");
  EXPECT_EQ(t.names.at(6001), "X11:1");
  EXPECT_EQ(t.names.at(8080), "web proxy") << "blanks around the name are trimmed";
}

TEST(ParseServices, LaterLinesWin) {
  const ServiceTable t = parse_services("443, https\n443, my-tls\n", "x");
  EXPECT_EQ(t.names.at(443), "my-tls");
}

TEST(ParseServices, AcceptsCrlfAndAMissingFinalNewline) {
  const ServiceTable t = parse_services("53, domain\r\n123, ntp", "udp.conf");
  EXPECT_TRUE(t.errors.empty());
  EXPECT_EQ(t.names.at(53), "domain");
  EXPECT_EQ(t.names.at(123), "ntp");
}

TEST(ParseServices, BadLinesAreReportedWithFileAndLineAndSkipped) {
  const ServiceTable t = parse_services(
      "22, ssh\n"                  // 1 good
      "80 http\n"                  // 2 no comma
      "http, 80\n"                 // 3 port not a number
      "0, zero\n"                  // 4 out of range
      "70000, big\n"               // 5 out of range
      "99999999999999999999, x\n"  // 6 out of range (overflow)
      "25,\n"                      // 7 empty name
      ", nothing\n"                // 8 no port
      "-1, negative\n"             // 9 not a number
      "7, bell\aname\n"            // 10 control character
      "443, https\n",              // 11 good
      "/etc/flowtop/tcp.conf");
  EXPECT_EQ(t.names.size(), 2U);
  EXPECT_EQ(t.names.at(22), "ssh");
  EXPECT_EQ(t.names.at(443), "https");
  const std::vector<std::string> want = {
      "/etc/flowtop/tcp.conf:2: expected '<port>, <name>'",
      "/etc/flowtop/tcp.conf:3: port 'http' is not a number",
      "/etc/flowtop/tcp.conf:4: port 0 out of range (1-65535)",
      "/etc/flowtop/tcp.conf:5: port 70000 out of range (1-65535)",
      "/etc/flowtop/tcp.conf:6: port 99999999999999999999 out of range (1-65535)",
      "/etc/flowtop/tcp.conf:7: empty service name",
      "/etc/flowtop/tcp.conf:8: missing port number before ','",
      "/etc/flowtop/tcp.conf:9: port '-1' is not a number",
      "/etc/flowtop/tcp.conf:10: control character in service name",
  };
  EXPECT_EQ(t.errors, want);
}

TEST(ParseServices, OverlongNamesAreRefused) {
  const ServiceTable t =
      parse_services("1, " + std::string(65, 'n') + "\n2, " + std::string(64, 'n') + "\n", "f");
  ASSERT_EQ(t.errors.size(), 1U);
  EXPECT_EQ(t.errors[0], "f:1: service name longer than 64 bytes");
  EXPECT_EQ(t.names.count(2), 1U);
}

TEST(ShippedConf, ParsesCleanlyWithCommonServices) {
  for (const char* file : {"tcp.conf", "udp.conf"}) {
    std::ifstream in(conf_dir() / file);
    ASSERT_TRUE(in) << conf_dir() / file;
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const ServiceTable t = parse_services(text, file);
    EXPECT_TRUE(t.errors.empty()) << t.errors.front();
    EXPECT_GT(t.names.size(), 30U) << file;
  }
  const ServiceNames names((conf_dir() / "tcp.conf").string(), (conf_dir() / "udp.conf").string(),
                           false);
  EXPECT_TRUE(names.errors().empty());
  EXPECT_EQ(names.name(kTcp, 443), "https");
  EXPECT_EQ(names.name(kTcp, 22), "ssh");
  EXPECT_EQ(names.name(kUdp, 53), "domain");
  EXPECT_EQ(names.name(kUdp, 123), "ntp");
  EXPECT_EQ(names.name(kUdpLite, 53), "domain") << "UDP-lite uses udp.conf";
  EXPECT_EQ(names.name(kTcp, 5353), "") << "mdns is UDP only";
}

class ConfFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flowtop-services-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(ConfFiles, BadLinesOfBothFilesAreCollected) {
  const std::string tcp = write("tcp.conf", "22, ssh\nbogus\n");
  const std::string udp = write("udp.conf", "\n\n53 domain\n");
  const ServiceNames names(tcp, udp, false);
  EXPECT_EQ(names.errors(), (std::vector<std::string>{tcp + ":2: expected '<port>, <name>'",
                                                      udp + ":3: expected '<port>, <name>'"}));
  EXPECT_EQ(names.name(kTcp, 22), "ssh");
}

TEST_F(ConfFiles, MissingFileIsNoErrorAndEmptyPathIsNone) {
  const ServiceNames names((dir_ / "absent.conf").string(), "", false);
  EXPECT_TRUE(names.errors().empty());
  EXPECT_EQ(names.name(kTcp, 22), "");
}

TEST_F(ConfFiles, ConfWinsOverTheSystemDatabase) {
  const std::string tcp = write("tcp.conf", "22, secure-shell\n");
  const ServiceNames names(tcp, "", true);
  EXPECT_EQ(names.name(kTcp, 22), "secure-shell");
}

TEST(SystemServices, FallBackToTheServicesDatabase) {
  servent* ssh = getservbyport(htons(22), "tcp");
  if (ssh == nullptr) {
    GTEST_SKIP() << "no services database entry for 22/tcp on this machine";
  }
  const std::string want = ssh->s_name;
  const ServiceNames names("", "", true);
  EXPECT_EQ(names.name(kTcp, 22), want);
  servent* domain = getservbyport(htons(53), "udp");
  if (domain != nullptr) {
    EXPECT_EQ(names.name(kUdp, 53), std::string(domain->s_name));
  }
  EXPECT_EQ(names.name(kIcmp, 22), "") << "no ports, no names";
  const ServiceNames none("", "", false);
  EXPECT_EQ(none.name(kTcp, 22), "");
}

ServiceNames table_of(const char* tcp_text, const char* udp_text = "") {
  return ServiceNames(parse_services(tcp_text, "tcp"), parse_services(udp_text, "udp"), false);
}

TEST(ServerPort, OutboundFlowUsesTheWellKnownDestination) {
  const ServiceNames n = table_of("443, https\n");
  EXPECT_EQ(n.server_port(kTcp, 51234, 443), 443);
}

TEST(ServerPort, InboundOrReversedFlowUsesTheWellKnownSource) {
  // Seen first from the server side (e.g. picked up mid-stream): orig sport is the service.
  const ServiceNames n = table_of("443, https\n");
  EXPECT_EQ(n.server_port(kTcp, 443, 51234), 443);
}

TEST(ServerPort, BothWellKnownPrefersTheOriginalDestination) {
  const ServiceNames n = table_of("");
  EXPECT_EQ(n.server_port(kTcp, 1023, 514), 514);  // rsh from a privileged source port
  EXPECT_EQ(n.server_port(kUdp, 123, 123), 123);
  EXPECT_EQ(n.server_port(kTcp, 22, 80), 80);
}

TEST(ServerPort, HighPortsPreferTheNamedOneThenTheDestination) {
  const ServiceNames n = table_of("8080, http-alt\n5432, postgresql\n");
  EXPECT_EQ(n.server_port(kTcp, 40000, 8080), 8080);
  EXPECT_EQ(n.server_port(kTcp, 8080, 40000), 8080) << "the named source port (reversed flow)";
  EXPECT_EQ(n.server_port(kTcp, 40000, 50000), 50000) << "neither named: the destination";
  EXPECT_EQ(n.server_port(kTcp, 5432, 8080), 8080) << "both named: the destination";
}

TEST(ServerPort, NamesFollowTheProtocol) {
  const ServiceNames n = table_of("5000, upnp-tcp\n", "5353, mdns\n");
  EXPECT_EQ(n.server_port(kUdp, 5353, 40000), 5353);
  EXPECT_EQ(n.server_port(kTcp, 5353, 40000), 40000) << "5353 has no TCP name";
  EXPECT_EQ(n.server_port(kIcmp, 1, 2), 0);
}

FlowRecord flow(std::uint8_t proto, std::uint16_t sport, std::uint16_t dport, bool ports = true) {
  FlowRecord rec;
  rec.key.proto = proto;
  rec.key.orig.sport = sport;
  rec.key.orig.dport = dport;
  rec.reply.sport = dport;
  rec.reply.dport = sport;
  rec.flags = ports ? FlowRecord::kHasPorts : 0;
  return rec;
}

TEST(Service, NamesTheServerEndOfAFlow) {
  const ServiceNames n = table_of("443, https\n22, ssh\n", "53, domain\n");
  EXPECT_EQ(n.service(flow(kTcp, 51234, 443)), "https");
  EXPECT_EQ(n.service(flow(kTcp, 22, 60000)), "ssh");
  EXPECT_EQ(n.service(flow(kUdp, 40000, 53)), "domain");
  EXPECT_EQ(n.service(flow(kUdpLite, 40000, 53)), "domain");
  EXPECT_EQ(n.service(flow(kSctp, 40000, 443)), "https") << "SCTP falls back to TCP's names";
  EXPECT_EQ(n.service(flow(kTcp, 40000, 50000)), "") << "no name: empty";
  EXPECT_EQ(n.service(flow(kIcmp, 77, 0, false)), "") << "ICMP has no ports";
}

// A FIFO or device in place of tcp.conf is refused (a blocking read would hang flowtop's start),
// and so is a file over kMaxConfBytes.
TEST(ServiceNames, AFifoOrAHugeConfIsAnErrorNeverRead) {
  std::string tmpl = (fs::temp_directory_path() / "flowtop-svc-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  ASSERT_EQ(::mkfifo((dir / "tcp.conf").c_str(), 0600), 0);
  std::ofstream(dir / "udp.conf") << "53, domain\n"
                                  << std::string(flowtop::enrich::kMaxConfBytes, '#');
  const ServiceNames n((dir / "tcp.conf").string(), (dir / "udp.conf").string(), false);
  ASSERT_EQ(n.errors().size(), 2U);
  EXPECT_EQ(n.errors()[0], (dir / "tcp.conf").string() + ": cannot read: not a regular file");
  EXPECT_EQ(n.errors()[1], (dir / "udp.conf").string() + ": cannot read: larger than 1 MiB");
  EXPECT_EQ(n.name(17, 53), "");
  fs::remove_all(dir);
}

}  // namespace
