#include "flowtop/tui/settings.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flowtop/tui/rc_file.hpp"

namespace flowtop::tui {
namespace {

using view::Column;
using view::Tab;

view::ViewState from_text(const std::string& text, std::vector<std::string>* errors = nullptr) {
  view::ViewState s = view::default_view_state();
  const RcFile rc = parse_rc(text, "rc");
  std::vector<std::string> errs = rc.errors;
  apply_rc(rc, "rc", s, errs);
  if (errors != nullptr) {
    *errors = errs;
  }
  return s;
}

TEST(Settings, DefaultsCoverEveryRememberedSetting) {
  const Settings s = settings_of(view::default_view_state());
  for (const char* key :
       {"tab",        "sort.flows",    "sort.owners",    "sort.hosts",    "sort.countries",
        "sort.as",    "columns.flows", "columns.owners", "columns.hosts", "columns.countries",
        "columns.as", "ipv4",          "ipv6",           "tcp",           "udp",
        "dccp",       "icmp",          "sctp",           "other",         "loopback",
        "dns_flows",  "active_only",   "show_src",       "bits",          "dns",
        "geoip",      "footer",        "interval"}) {
    EXPECT_TRUE(s.contains(key)) << key;
  }
  EXPECT_EQ(s.size(), 28U);
  EXPECT_EQ(s.at("columns.hosts"),
            "address,geo,flows,bytes-out,rate-out,bytes-in,rate-in,total-out,total-in,packets-out,"
            "packets-in");
  EXPECT_EQ(s.at("footer"), "1");
  EXPECT_EQ(s.at("tab"), "flows");
  EXPECT_EQ(s.at("tcp"), "1");
  EXPECT_EQ(s.at("udp"), "0");
  EXPECT_EQ(s.at("interval"), "1");
}

TEST(Settings, EveryKeyIsApplied) {
  std::vector<std::string> errors;
  const view::ViewState s = from_text(
      "tab=Hosts\nsort.flows=age asc\nsort.hosts=bytes-out\nudp=1\ntcp=off\nipv6=no\n"
      "icmp=true\nsctp=yes\ndccp=1\nother=1\nloopback=1\ndns_flows=1\nactive_only=1\n"
      "show_src=1\nbits=on\ndns=0\ngeoip=0\nfooter=off\ninterval=0.5\n",
      &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(s.tab, Tab::Hosts);
  EXPECT_EQ(s.sort[static_cast<std::size_t>(Tab::Flows)], (view::SortSpec{Column::Age, false}));
  EXPECT_EQ(s.sort[static_cast<std::size_t>(Tab::Hosts)].column, Column::BytesOut);
  EXPECT_EQ(s.sort[static_cast<std::size_t>(Tab::Hosts)].descending,
            view::descending_by_default(Column::BytesOut));
  EXPECT_TRUE(s.selection.udp);
  EXPECT_FALSE(s.selection.tcp);
  EXPECT_TRUE(s.selection.ipv4);
  EXPECT_FALSE(s.selection.ipv6);
  EXPECT_TRUE(s.selection.icmp && s.selection.sctp && s.selection.dccp && s.selection.other);
  EXPECT_TRUE(s.selection.loopback && s.selection.dns);
  EXPECT_TRUE(s.active_only && s.show_src && s.bits);
  EXPECT_FALSE(s.dns);
  EXPECT_FALSE(s.geoip);
  EXPECT_FALSE(s.footer);
  EXPECT_DOUBLE_EQ(s.interval_s, 0.5);
}

TEST(Settings, BadValuesAreReportedAndSkipped) {
  std::vector<std::string> errors;
  const view::ViewState s = from_text(
      "tab=graphs\nsort.flows=flows\nsort.nope=age\nsort.hosts=flows sideways\nbits=maybe\n"
      "interval=0.01\ninterval2=1\nudp=1\n",
      &errors);
  const std::vector<std::string> want{
      "rc:1: unknown tab 'graphs': expected flows, owners, hosts, countries or as",
      "rc:2: 'flows' is not a column of the Flows tab",
      "rc:3: unknown setting 'sort.nope'",
      "rc:4: bad sort order 'sideways': expected asc or desc",
      "rc:5: bad value 'maybe' for bits: expected 1 or 0",
      "rc:6: bad interval '0.01': expected seconds from 0.1 to 3600",
      "rc:7: unknown setting 'interval2'",
  };
  EXPECT_EQ(errors, want);
  const view::ViewState d = view::default_view_state();
  EXPECT_EQ(s.tab, d.tab);
  EXPECT_EQ(s.sort, d.sort);
  EXPECT_EQ(s.bits, d.bits);
  EXPECT_EQ(s.interval_s, d.interval_s);
  EXPECT_TRUE(s.selection.udp);  // the good line after the bad ones is used
}

TEST(Settings, FormatParseRoundTrip) {
  view::ViewState s = view::default_view_state();
  s.tab = Tab::As;
  s.sort[static_cast<std::size_t>(Tab::Owners)] = {Column::Pid, false};
  s.selection.icmp = true;
  s.bits = true;
  s.interval_s = 2.5;
  const std::string text = format_settings(settings_of(s));
  EXPECT_EQ(text.rfind("# ", 0), 0U);
  std::vector<std::string> errors;
  const view::ViewState back = from_text(text, &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(settings_of(back), settings_of(s));
  EXPECT_NE(text.find("\ninterval=2.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nsort.owners=pid asc\n"), std::string::npos) << text;
}

TEST(Settings, ColumnsRoundTrip) {
  view::ViewState s = view::default_view_state();
  s.columns[static_cast<std::size_t>(Tab::Flows)] = {{Column::Address, true},
                                                     {Column::Process, true},
                                                     {Column::Pid, false},
                                                     {Column::RateIn, true}};
  const std::string text = format_settings(settings_of(s));
  EXPECT_NE(text.find("\ncolumns.flows=address,owner,rate-in\n"), std::string::npos) << text;
  std::vector<std::string> errors;
  const view::ViewState back = from_text(text, &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(view::shown_columns(back, Tab::Flows),
            (std::vector<Column>{Column::Address, Column::Process, Column::RateIn}));
  EXPECT_EQ(view::shown_columns(back, Tab::Hosts), view::shown_columns(s, Tab::Hosts));
  EXPECT_EQ(settings_of(back), settings_of(s));
}

TEST(Settings, UnknownColumnNamesAreReportedAndSkipped) {
  std::vector<std::string> errors;
  const view::ViewState s = from_text(
      "columns.flows=owner, sparkline ,country,rate-in\ncolumns.hosts=nope\ncolumns.nope=owner\n",
      &errors);
  const std::vector<std::string> want{
      "rc:1: 'sparkline' is not a column of the Flows tab: ignored",
      "rc:1: 'country' is not a column of the Flows tab: ignored",
      "rc:2: 'nope' is not a column of the Hosts tab: ignored",
      "rc:2: no column of the Hosts tab to show: every column shown",
      "rc:3: unknown setting 'columns.nope'",
  };
  EXPECT_EQ(errors, want);
  EXPECT_EQ(view::shown_columns(s, Tab::Flows),
            (std::vector<Column>{Column::Process, Column::RateIn}));
  EXPECT_EQ(view::shown_columns(s, Tab::Hosts).size(), view::columns_of(Tab::Hosts).size());
}

// The Processes tab is now Owners. A flowtoprc written before the rename still reads: "processes"
// is the Owners tab's old name (view::parse_tab), for tab= and for its sort key; errors name the
// tab by its new name.
TEST(Settings, TheOwnersTabsOldNameStillReads) {
  std::vector<std::string> errors;
  const view::ViewState s = from_text("tab=processes\nsort.processes=pid asc\n", &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(s.tab, Tab::Owners);
  EXPECT_EQ(s.sort[static_cast<std::size_t>(Tab::Owners)], (view::SortSpec{Column::Pid, false}));
  EXPECT_EQ(settings_of(s).at("tab"), "owners");
  EXPECT_EQ(from_text("tab=Owners\n").tab, Tab::Owners);
  from_text("tab=graphs\n", &errors);
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0],
            "rc:1: unknown tab 'graphs': expected flows, owners, hosts, countries or as");
}

TEST(Settings, MergeKeepsFileValuesAndTakesOnlyWhatChangedOnScreen) {
  const Settings file{{"bits", "0"}, {"tab", "hosts"}, {"udp", "1"}};
  // The command line turned bits on (-b): start differs from the file, but the user did not
  // touch it on screen, so it is not persisted. The user switched tabs and turned UDP off.
  const Settings start{{"bits", "1"}, {"tab", "hosts"}, {"udp", "1"}};
  const Settings end{{"bits", "1"}, {"tab", "flows"}, {"udp", "0"}};
  const Settings want{{"bits", "0"}, {"tab", "flows"}, {"udp", "0"}};
  EXPECT_EQ(merge_changes(file, start, end), want);
  EXPECT_EQ(merge_changes(file, start, start), file);  // nothing chosen: nothing to write
}

}  // namespace
}  // namespace flowtop::tui
