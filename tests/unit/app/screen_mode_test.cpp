// The screen's starting state: defaults, then flowtoprc, then the command line on top.
#include "app/screen_mode.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flowtop/app/options.hpp"

namespace flowtop::app {
namespace {

Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "flowtop");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

view::ViewState start(const std::vector<std::string>& args, const std::string& rc,
                      std::vector<std::string>* errors = nullptr) {
  std::vector<std::string> errs;
  view::ViewState s = initial_state(parse(args), rc, "/home/u/.config/flowtop/flowtoprc", errs);
  if (errors != nullptr) {
    *errors = errs;
  }
  return s;
}

const view::SortSpec& sort_of(const view::ViewState& s, view::Tab tab) {
  return s.sort[static_cast<std::size_t>(tab)];
}

TEST(ScreenStart, FlowtoprcIsUsedWhenTheCommandLineSaysNothing) {
  const auto s = start({}, "tab=hosts\nudp=1\ntcp=0\nipv6=0\nbits=1\ninterval=2\ndns=0\n");
  EXPECT_EQ(s.tab, view::Tab::Hosts);
  EXPECT_TRUE(s.selection.udp);
  EXPECT_FALSE(s.selection.tcp);
  EXPECT_FALSE(s.selection.ipv6);
  EXPECT_TRUE(s.bits);
  EXPECT_DOUBLE_EQ(s.interval_s, 2.0);
  EXPECT_FALSE(s.dns);
}

TEST(ScreenStart, ProtocolAndFamilyFlagsOverrideTheFile) {
  // -T alone is also the default: given explicitly, it still wins over the file's UDP.
  const auto s = start({"-T", "-4"}, "udp=1\ntcp=0\nipv4=0\nipv6=1\n");
  EXPECT_TRUE(s.selection.tcp);
  EXPECT_FALSE(s.selection.udp);
  EXPECT_TRUE(s.selection.ipv4);
  EXPECT_FALSE(s.selection.ipv6);
}

TEST(ScreenStart, IntervalFlagOverridesTheFileEvenWhenItIsTheDefault) {
  EXPECT_DOUBLE_EQ(start({"-t", "1"}, "interval=5\n").interval_s, 1.0);
  EXPECT_DOUBLE_EQ(start({}, "interval=5\n").interval_s, 5.0);
}

TEST(ScreenStart, OnOnlyFlagsTurnSettingsOn) {
  const auto s = start({"-b", "-s", "--loopback", "--dns-flows", "--other"},
                       "bits=0\nshow_src=0\nloopback=0\ndns_flows=0\nother=0\n");
  EXPECT_TRUE(s.bits && s.show_src && s.selection.loopback && s.selection.dns && s.selection.other);
}

TEST(ScreenStart, NoDnsAndNoGeoipTurnThemOff) {
  const auto s = start({"-n", "-G"}, "dns=1\ngeoip=1\n");
  EXPECT_FALSE(s.dns);
  EXPECT_FALSE(s.geoip);
}

TEST(ScreenStart, SortFlagSortsEveryTabThatHasTheColumn) {
  const auto s = start({"--sort", "bytes-out"}, "sort.flows=age asc\n");
  EXPECT_EQ(sort_of(s, view::Tab::Flows).column, view::Column::BytesOut);
  EXPECT_EQ(sort_of(s, view::Tab::Hosts).column, view::Column::BytesOut);
  const auto t = start({"--sort", "age"}, "sort.hosts=flows asc\n");
  EXPECT_EQ(sort_of(t, view::Tab::Flows).column, view::Column::Age);
  EXPECT_EQ(sort_of(t, view::Tab::Hosts), (view::SortSpec{view::Column::Flows, false}));
}

TEST(ScreenStart, TabFlagChoosesTheFirstTab) {
  EXPECT_EQ(start({"--tab", "countries"}, "tab=hosts\n").tab, view::Tab::Countries);
  EXPECT_EQ(start({}, "tab=hosts\n").tab, view::Tab::Hosts);
}

TEST(BatchState, CommandLineOnlyNoFile) {
  const view::ViewState s = state_from_options(parse({"--batch", "-U", "--sort", "age"}));
  EXPECT_EQ(s.tab, view::Tab::Flows);
  EXPECT_TRUE(s.selection.udp);
  EXPECT_FALSE(s.selection.tcp);
  EXPECT_EQ(s.current_sort(), (view::SortSpec{view::Column::Age, true}));
}

TEST(ScreenStart, FilterFlagIsApplied) {
  const auto s = start({"--filter", "port=443"}, "");
  EXPECT_EQ(s.filter.text(), "port=443");
}

TEST(ScreenStart, BadFileLinesAreReportedAndTheRestUsed) {
  std::vector<std::string> errors;
  const auto s = start({}, "tab=hosts\ngarbage\nbits=2\n", &errors);
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_EQ(errors[0], "/home/u/.config/flowtop/flowtoprc:2: expected key=value, got 'garbage'");
  EXPECT_EQ(errors[1],
            "/home/u/.config/flowtop/flowtoprc:3: bad value '2' for bits: expected 1 or 0");
  EXPECT_EQ(s.tab, view::Tab::Hosts);
}

}  // namespace
}  // namespace flowtop::app
