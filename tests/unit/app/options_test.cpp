#include "flowtop/app/options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

namespace flowtop::app {
namespace {

// Owns argv for one call ("flowtop" prepended); getopt_long may permute it.
Options parse(const std::vector<const char*>& args) {
  std::vector<std::string> storage{"flowtop"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(storage.size() + 1);
  for (auto& s : storage) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(storage.size()), argv.data());
}

Options parse(std::initializer_list<const char*> args) {
  return parse(std::vector<const char*>(args));
}

// The UsageError message for `args`, or "" when they parse.
std::string error_of(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Options, DefaultsAreBothFamiliesTcpOnlyScreenMode) {
  const Options o = parse({});
  EXPECT_EQ(o.mode, Mode::Screen);
  EXPECT_TRUE(o.selection.ipv4);
  EXPECT_TRUE(o.selection.ipv6);
  EXPECT_TRUE(o.selection.tcp);
  EXPECT_FALSE(o.selection.udp);
  EXPECT_FALSE(o.selection.dccp);
  EXPECT_FALSE(o.selection.icmp);
  EXPECT_FALSE(o.selection.sctp);
  EXPECT_FALSE(o.selection.other);
  EXPECT_FALSE(o.selection.loopback);
  EXPECT_FALSE(o.selection.dns);
  EXPECT_FALSE(o.no_dns);
  EXPECT_FALSE(o.no_geoip);
  EXPECT_FALSE(o.show_src);
  EXPECT_FALSE(o.bits);
  EXPECT_DOUBLE_EQ(o.interval_s, 1.0);
  EXPECT_FALSE(o.iterations.has_value());
  EXPECT_FALSE(o.no_sysctl);
  EXPECT_FALSE(o.track);
  EXPECT_FALSE(o.stats);
  EXPECT_TRUE(o.geoip_dir.empty());
  EXPECT_FALSE(o.sort.has_value());
  EXPECT_TRUE(o.filter.empty());
  EXPECT_FALSE(o.tab.has_value());
  EXPECT_EQ(o.event_buffer, 0U);
}

TEST(Options, OneFamilyFlagSelectsOnlyThatFamily) {
  Options o = parse({"-4"});
  EXPECT_TRUE(o.selection.ipv4);
  EXPECT_FALSE(o.selection.ipv6);
  o = parse({"--ipv6"});
  EXPECT_FALSE(o.selection.ipv4);
  EXPECT_TRUE(o.selection.ipv6);
  o = parse({"-4", "-6"});
  EXPECT_TRUE(o.selection.ipv4);
  EXPECT_TRUE(o.selection.ipv6);
}

TEST(Options, OneProtocolFlagReplacesTheTcpDefault) {
  const Options o = parse({"-U"});
  EXPECT_FALSE(o.selection.tcp);
  EXPECT_TRUE(o.selection.udp);
  EXPECT_FALSE(o.selection.icmp);
}

TEST(Options, ProtocolFlagsAddUp) {
  const Options o = parse({"-UT"});
  EXPECT_TRUE(o.selection.tcp);
  EXPECT_TRUE(o.selection.udp);
  EXPECT_FALSE(o.selection.dccp);
  EXPECT_FALSE(o.selection.icmp);
  EXPECT_FALSE(o.selection.sctp);
}

TEST(Options, EachProtocolLongOption) {
  EXPECT_TRUE(parse({"--tcp"}).selection.tcp);
  EXPECT_TRUE(parse({"--udp"}).selection.udp);
  EXPECT_TRUE(parse({"--dccp"}).selection.dccp);
  EXPECT_TRUE(parse({"--icmp"}).selection.icmp);
  EXPECT_TRUE(parse({"--sctp"}).selection.sctp);
  EXPECT_TRUE(parse({"-D"}).selection.dccp);
  EXPECT_TRUE(parse({"-I"}).selection.icmp);
  EXPECT_TRUE(parse({"-S"}).selection.sctp);
  EXPECT_FALSE(parse({"-S"}).selection.tcp);
}

TEST(Options, ShowEverythingExampleFromTheManual) {
  const Options o = parse({"-46UTDISs"});
  const auto& s = o.selection;
  EXPECT_TRUE(s.ipv4 && s.ipv6 && s.tcp && s.udp && s.dccp && s.icmp && s.sctp);
  EXPECT_TRUE(o.show_src);
  EXPECT_FALSE(s.other);
}

TEST(Options, OtherAddsGenericProtocolsToTheDefault) {
  Options o = parse({"--other"});
  EXPECT_TRUE(o.selection.other);
  EXPECT_TRUE(o.selection.tcp);  // --other is "also", not a protocol choice
  o = parse({"--other", "-U"});
  EXPECT_TRUE(o.selection.other);
  EXPECT_TRUE(o.selection.udp);
  EXPECT_FALSE(o.selection.tcp);
}

TEST(Options, LoopbackAndDnsFlows) {
  const Options o = parse({"--loopback", "--dns-flows"});
  EXPECT_TRUE(o.selection.loopback);
  EXPECT_TRUE(o.selection.dns);
  EXPECT_FALSE(parse({"--loopback"}).selection.dns);
}

TEST(Options, BooleanFlagsShortAndLong) {
  for (const auto& args :
       {std::vector<const char*>{"-n", "-G", "-s", "-b"},
        std::vector<const char*>{"--no-dns", "--no-geoip", "--show-src", "--bits"},
        std::vector<const char*>{"-nGsb"}}) {
    const Options o = parse(args);
    EXPECT_TRUE(o.no_dns);
    EXPECT_TRUE(o.no_geoip);
    EXPECT_TRUE(o.show_src);
    EXPECT_TRUE(o.bits);
  }
}

TEST(Options, LongOnlyFlags) {
  const Options o = parse({"--no-sysctl", "--track", "--stats"});
  EXPECT_TRUE(o.no_sysctl);
  EXPECT_TRUE(o.track);
  EXPECT_TRUE(o.stats);
}

TEST(Options, WindowIsTwoTenOrFortySecondsOrOff) {
  EXPECT_FALSE(parse({}).window.has_value()) << "default: the last interval's rates";
  EXPECT_EQ(parse({"--window", "2"}).window, core::RateWindow::S2);
  EXPECT_EQ(parse({"--window=10"}).window, core::RateWindow::S10);
  EXPECT_EQ(parse({"--window", "40"}).window, core::RateWindow::S40);
  EXPECT_EQ(parse({"--window", "off"}).window, core::RateWindow::Off);
  for (const char* bad : {"5", "", "10s", "x", "-2"}) {
    EXPECT_THROW(parse({"--window", bad}), UsageError) << bad;
  }
  EXPECT_NE(help_text().find("--window SEC"), std::string::npos);
}

TEST(Options, ReadOnlyDisablesActionsAndRefusesTrack) {
  EXPECT_FALSE(parse({}).read_only);
  EXPECT_TRUE(parse({"--read-only"}).read_only);
  EXPECT_THROW(parse({"--read-only", "--track"}), UsageError);
  EXPECT_NE(help_text().find("--read-only"), std::string::npos);
}

TEST(Options, RedactTakesAScope) {
  EXPECT_FALSE(parse({}).redact.has_value());
  EXPECT_EQ(parse({"--redact", "local"}).redact, core::RedactScope::Local);
  EXPECT_EQ(parse({"--redact=all"}).redact, core::RedactScope::All);
  EXPECT_EQ(parse({"--redact", "remote"}).redact, core::RedactScope::Remote);
  EXPECT_THROW(parse({"--redact", "off"}), UsageError);
  EXPECT_THROW(parse({"--redact", "some"}), UsageError);
}

TEST(Options, ValuesAreCheckedAndKept) {
  const Options o = parse(
      {"--geoip-dir", "/tmp/geo", "--sort=rate", "--filter", "port=443 and x", "--tab", "Hosts"});
  EXPECT_EQ(o.geoip_dir, "/tmp/geo");
  EXPECT_EQ(o.sort, view::Column::RateIn);  // "rate" is rate-in's alias
  EXPECT_EQ(o.filter.text(), "port=443 and x");
  EXPECT_EQ(o.tab, view::Tab::Hosts);
  EXPECT_EQ(parse({"--sort", "TIME"}).sort, view::Column::Age);
}

TEST(Options, BadSortFilterOrTabIsOneUsageLine) {
  const std::string sort = error_of({"--sort", "nonsense"});
  EXPECT_TRUE(
      sort.starts_with("flowtop: unknown sort key 'nonsense' for --sort: expected a "
                       "column name: owner process name pid"))
      << sort;
  EXPECT_EQ(error_of({"--filter", "prot=tcp"}),
            "flowtop: invalid --filter 'prot=tcp': at 1: unknown term 'prot'");
  EXPECT_EQ(error_of({"--tab", "flow"}),
            "flowtop: unknown tab 'flow' for --tab: expected flows, owners, hosts, countries "
            "or as");
  EXPECT_EQ(parse({"--tab", "processes"}).tab, view::Tab::Owners) << "the tab's old name";
  EXPECT_EQ(error_of({"--leases", ""}), "flowtop: empty file name for --leases");
  EXPECT_EQ(error_of({"--netns", ""}), "flowtop: empty namespace for --netns");
  EXPECT_EQ(parse({"--netns", "4242"}).netns, "4242");
  EXPECT_EQ(error_of({"--sort", "\x1b[2J"}).find('\x1b'), std::string::npos) << "sanitised";
}

TEST(Options, BatchAndJsonSortByAColumnOfTheirTab) {
  EXPECT_EQ(parse({"--batch", "--tab", "hosts", "--sort", "flows"}).sort, view::Column::Flows);
  EXPECT_EQ(error_of({"--json", "--sort", "flows"}),
            "flowtop: --sort flows: the Flows tab has no such column (it has: owner pid proto "
            "state age dir address port nat geo bytes-out rate-out bytes-in rate-in packets-out "
            "packets-in)");
  EXPECT_EQ(error_of({"--batch", "--tab", "as", "--sort", "state"}).substr(0, 46),
            "flowtop: --sort state: the AS tab has no such ");
  // The screen sorts every tab that has the column: any column will do.
  EXPECT_EQ(parse({"--sort", "flows"}).sort, view::Column::Flows);
}

TEST(Options, Modes) {
  EXPECT_EQ(parse({"--batch"}).mode, Mode::Batch);
  EXPECT_EQ(parse({"--json"}).mode, Mode::Json);
  EXPECT_EQ(parse({"-u"}).mode, Mode::Update);
  EXPECT_EQ(parse({"--update"}).mode, Mode::Update);
  EXPECT_EQ(parse({"-v"}).mode, Mode::Version);
  EXPECT_EQ(parse({"--version"}).mode, Mode::Version);
  EXPECT_EQ(parse({"-h"}).mode, Mode::Help);
  EXPECT_EQ(parse({"--help"}).mode, Mode::Help);
  EXPECT_EQ(parse({"--batch", "-h"}).mode, Mode::Help);
  EXPECT_EQ(parse({"--json", "-v"}).mode, Mode::Version);
}

TEST(Options, BatchAndJsonAreExclusive) {
  EXPECT_EQ(error_of({"--batch", "--json"}), "flowtop: --batch and --json cannot be used together");
}

TEST(Options, IntervalAcceptsFractionsAndBounds) {
  EXPECT_DOUBLE_EQ(parse({"-t", "2"}).interval_s, 2.0);
  EXPECT_DOUBLE_EQ(parse({"-t0.5"}).interval_s, 0.5);
  EXPECT_DOUBLE_EQ(parse({"--interval", "0.1"}).interval_s, 0.1);
  EXPECT_DOUBLE_EQ(parse({"--interval=3600"}).interval_s, 3600.0);
  EXPECT_DOUBLE_EQ(parse({"-t", "1.25", "-t", "3"}).interval_s, 3.0);  // the last one wins
}

TEST(Options, IntervalRejectsBadValues) {
  EXPECT_EQ(error_of({"-t", "0"}),
            "flowtop: invalid interval '0' for -t/--interval: expected seconds from 0.1 to 3600");
  for (const char* bad : {"0", "-1", "0.09", "3600.5", "nan", "inf", "-inf", "1x", "", " 1", "1e1",
                          "0x1p0", "+1", "1.2.3", "."}) {
    const std::string msg = error_of({"-t", bad});
    EXPECT_EQ(msg, std::string("flowtop: invalid interval '") + bad +
                       "' for -t/--interval: expected seconds from 0.1 to 3600")
        << "value '" << bad << "'";
  }
}

TEST(Options, LingerTakesSecondsFromZero) {
  EXPECT_DOUBLE_EQ(parse({}).linger_s, 5.0);
  EXPECT_DOUBLE_EQ(parse({"--linger", "0"}).linger_s, 0.0);
  EXPECT_DOUBLE_EQ(parse({"--linger=1.5"}).linger_s, 1.5);
  for (const char* bad : {"-1", "3601", "x", "", "nan"}) {
    EXPECT_EQ(error_of({"--linger", bad}), std::string("flowtop: invalid time '") + bad +
                                               "' for --linger: expected seconds from 0 to 3600")
        << bad;
  }
}

TEST(Options, EventsNeedJsonAndTheFlowsTab) {
  EXPECT_TRUE(parse({"--json", "--events"}).events);
  EXPECT_FALSE(parse({"--json"}).events);
  EXPECT_EQ(error_of({"--events"}), "flowtop: --events needs --json (it writes NDJSON records)");
  EXPECT_EQ(error_of({"--batch", "--events"}),
            "flowtop: --events needs --json (it writes NDJSON records)");
  EXPECT_EQ(error_of({"--json", "--events", "--tab", "hosts"}),
            "flowtop: --events writes flows: --tab cannot be used with it");
}

TEST(Options, Iterations) {
  EXPECT_EQ(parse({"-c", "1"}).iterations, 1U);
  EXPECT_EQ(parse({"--iterations=25"}).iterations, 25U);
  EXPECT_EQ(parse({"-c18446744073709551615"}).iterations, 18446744073709551615ULL);
  for (const char* bad : {"0", "-1", "1.5", "x", "", "2x", "18446744073709551616", " 3"}) {
    EXPECT_EQ(error_of({"-c", bad}), std::string("flowtop: invalid count '") + bad +
                                         "' for -c/--iterations: expected an integer of at least 1")
        << "value '" << bad << "'";
  }
}

TEST(Options, HiddenEventBuffer) {
  EXPECT_EQ(parse({"--event-buffer", "65536"}).event_buffer, 65536U);
  EXPECT_EQ(parse({"--event-buffer=0"}).event_buffer, 0U);
  EXPECT_EQ(error_of({"--event-buffer", "big"}),
            "flowtop: invalid size 'big' for --event-buffer: expected bytes from 0 to 2147483647");
  EXPECT_NE(error_of({"--event-buffer", "2147483648"}), "");
  EXPECT_EQ(help_text().find("event-buffer"), std::string::npos);
}

TEST(Options, EmptyGeoipDirIsAnError) {
  EXPECT_EQ(error_of({"--geoip-dir="}), "flowtop: empty directory for --geoip-dir");
}

TEST(Options, UnknownOptions) {
  EXPECT_EQ(error_of({"--frob"}), "flowtop: unknown option '--frob'");
  EXPECT_EQ(error_of({"--frob=1"}), "flowtop: unknown option '--frob'");
  EXPECT_EQ(error_of({"-x"}), "flowtop: unknown option '-x'");
  EXPECT_EQ(error_of({"-4x6"}), "flowtop: unknown option '-x'");
  EXPECT_EQ(error_of({"-4", "-Q"}), "flowtop: unknown option '-Q'");
  EXPECT_EQ(error_of({"-\x1b"}), "flowtop: unknown option '-\\x1B'");
}

TEST(Options, AmbiguousAbbreviation) {
  EXPECT_EQ(error_of({"--ipv"}), "flowtop: ambiguous option '--ipv'");
  // A unique prefix is getopt_long's usual abbreviation.
  EXPECT_EQ(parse({"--ite", "3"}).iterations, 3U);
}

TEST(Options, FlagGivenAnArgument) {
  EXPECT_EQ(error_of({"--tcp=1"}), "flowtop: option '--tcp' does not take an argument");
  EXPECT_EQ(error_of({"--batch=yes"}), "flowtop: option '--batch' does not take an argument");
}

TEST(Options, MissingArgument) {
  EXPECT_EQ(error_of({"-t"}), "flowtop: option '-t/--interval' requires an argument");
  EXPECT_EQ(error_of({"--interval"}), "flowtop: option '-t/--interval' requires an argument");
  EXPECT_EQ(error_of({"-c"}), "flowtop: option '-c/--iterations' requires an argument");
  EXPECT_EQ(error_of({"--sort"}), "flowtop: option '--sort' requires an argument");
  EXPECT_EQ(error_of({"--filter"}), "flowtop: option '--filter' requires an argument");
  EXPECT_EQ(error_of({"--geoip-dir"}), "flowtop: option '--geoip-dir' requires an argument");
  EXPECT_EQ(error_of({"--event-buffer"}), "flowtop: option '--event-buffer' requires an argument");
}

TEST(Options, OperandsAreRejected) {
  EXPECT_EQ(error_of({"eth0"}), "flowtop: unexpected argument 'eth0'");
  EXPECT_EQ(error_of({"-4", "--", "-6"}), "flowtop: unexpected argument '-6'");
}

TEST(Options, ErrorsAreOneLine) {
  for (const auto& msg : {error_of({"--frob"}), error_of({"-t", "0"}), error_of({"-c"}),
                          error_of({"--batch", "--json"})}) {
    ASSERT_FALSE(msg.empty());
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_TRUE(msg.starts_with("flowtop: ")) << msg;
  }
}

TEST(Options, ReentrantAfterAnError) {
  EXPECT_NE(error_of({"-4x"}), "");  // leaves getopt mid-cluster
  const Options o = parse({"-6", "-U"});
  EXPECT_FALSE(o.selection.ipv4);
  EXPECT_TRUE(o.selection.udp);
  EXPECT_FALSE(o.selection.tcp);
}

TEST(Options, HelpListsEveryOptionAligned) {
  const std::string help = help_text();
  for (const char* opt : {"-4, --ipv4",       "-6, --ipv6",         "-T, --tcp",  "-U, --udp",
                          "-D, --dccp",       "-I, --icmp",         "-S, --sctp", "-n, --no-dns",
                          "-G, --no-geoip",   "-s, --show-src",     "-b, --bits", "-u, --update",
                          "-t, --interval N", "-v, --version",      "-h, --help", "--batch",
                          "--json",           "-c, --iterations N", "--loopback", "--dns-flows",
                          "--other",          "--no-sysctl",        "--track",    "--geoip-dir DIR",
                          "--sort KEY",       "--filter EXPR",      "--stats",    "--tab NAME"}) {
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
  }
  // Every option line's description starts in the same column.
  std::istringstream in(help);
  std::string line;
  std::size_t column = 0;
  int option_lines = 0;
  while (std::getline(in, line)) {
    const std::size_t first = line.find_first_not_of(' ');
    if (first == std::string::npos || first < 2 || line[first] != '-') {
      continue;
    }
    ++option_lines;
    const std::size_t desc = line.find_first_not_of(' ', line.find("  ", first));
    if (column == 0) {
      column = desc;
    }
    EXPECT_EQ(desc, column) << line;
    EXPECT_LE(line.size(), 100U) << line;
  }
  EXPECT_EQ(option_lines, 35);
}

TEST(Options, VersionText) {
  // "flowtop X.Y.Z" (the number is the build's FLOWTOP_VERSION).
  const std::string v = version_text();
  ASSERT_TRUE(v.starts_with("flowtop ")) << v;
  const std::string number = v.substr(8);
  EXPECT_EQ(std::count(number.begin(), number.end(), '.'), 2) << v;
  EXPECT_EQ(number.find_first_not_of("0123456789."), std::string::npos) << v;
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(number.front())) &&
              std::isdigit(static_cast<unsigned char>(number.back())))
      << v;
}

}  // namespace
}  // namespace flowtop::app
