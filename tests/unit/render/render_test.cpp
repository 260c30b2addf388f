#include "flowtop/render/render.hpp"

#include <gtest/gtest.h>

#include <string>

#include "flowtop/core/text.hpp"
#include "flowtop/view/command.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::render {
namespace {

using view::Command;
using K = view::Command::Kind;

// One frame as the UI loop makes it: capacity, rows, settle, render.
Frame frame_of(const test::FakeWorld& w, view::ViewState& state, Size size, bool ascii = false,
               const std::vector<std::string>& health = {}) {
  view::Snapshot snap = w.snapshot();
  snap.status.health = health;
  const std::size_t cap = table_capacity(snap.status, state, size);
  const view::Rows rows = view::build_rows(snap, state, cap);
  view::settle(state, rows);
  return render(rows, state, size, RenderOptions{"0.1.0", ascii});
}

std::string text_of(const test::FakeWorld& w, view::ViewState state, Size size,
                    bool ascii = false) {
  return to_plain_text(frame_of(w, state, size, ascii));
}

view::ViewState all_protocols() {
  view::ViewState s = view::default_view_state();
  s.selection.udp = s.selection.icmp = true;
  return s;
}

// The line of `text` that contains `needle`, or "".
std::string line_with(const std::string& text, const std::string& needle) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) {
      return line;
    }
    start = end + 1;
  }
  return "";
}

std::size_t line_width(const Line& line) {
  std::size_t w = 0;
  for (const Span& s : line.spans) {
    w += core::display_width(s.text);
  }
  return w;
}

// No control character, escape or C1 control in any span.
bool clean(const Frame& f) {
  for (const Line& line : f.lines) {
    for (const Span& s : line.spans) {
      for (std::size_t i = 0; i < s.text.size(); ++i) {
        const auto c = static_cast<unsigned char>(s.text[i]);
        if (c < 0x20 || c == 0x7F) {
          return false;
        }
        if (c == 0xC2 && i + 1 < s.text.size()) {
          const auto n = static_cast<unsigned char>(s.text[i + 1]);
          if (n >= 0x80 && n <= 0x9F) {
            return false;
          }
        }
      }
    }
  }
  return true;
}

TEST(Render, GoldenFrame80x24) {
  const std::string want =
      " flowtop 0.1.0                                                         every 1s\n"
      " 7 shown · 9 tracked · 2 hidden: loopback 1, DNS 1 · ↑ 125.2 kB/s ↓ 2.4 MB/s\n"
      " Flows   Processes   Hosts   Countries   AS\n"
      "PROCESS PROTO  STATE       ADDRESS          PORT       RATE↑   BYTES↓     RATE↓▼\n"
      "firefo… tcp4   ESTABLISHED lhr25s34-in-f14… https  25.0 kB/s 910.0 MB   2.4 MB/s\n"
      "curl    tcp4   ESTABLISHED example.com      https    120 B/s  53.0 kB   5.3 kB/s\n"
      "-       tcp4   ESTABLISHED ?]0;pwned??[2Je… 22    100.0 kB/s 150.0 kB   2.0 kB/s\n"
      "-       icmp4              198.51.100.200   8/0       84 B/s     84 B     84 B/s\n"
      "?[31m…  udp4               ns.example.org   5353\n"
      "firefo… tcp6   ESTABLISHED 2a00-1450.examp… https             70.0 kB\n"
      "sshd    tcp4   ESTABLISHED backup.lan       50022          -        -          -\n"
      "\n\n\n\n\n\n\n\n\n\n\n\n\n";
  EXPECT_EQ(text_of(test::sample_world(), all_protocols(), {80, 24}), want);
}

TEST(Render, GoldenFrame120x40WithDetailPane) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SelectRow, 2});
  s = view::apply(s, Command{K::Enter});
  s = view::apply(s, Command{K::ToggleSource});
  const std::string got = text_of(test::sample_world(), s, {120, 40});
  const std::string want =
      " flowtop 0.1.0                                                                              "
      "                   every 1s\n"
      " 7 shown · 9 tracked · 2 hidden: loopback 1, DNS 1 · ↑ 125.2 kB/s ↓ 2.4 MB/s · "
      "TCP+UDP+ICMP, IPv4+IPv6\n"
      " Flows   Processes   Hosts   Countries   AS\n"
      "PROCESS        PID PROTO  STATE       TIME ADDRESS                     PORT  GEO   BYTES↑   "
      "   RATE↑   BYTES↓     RATE↓▼\n"
      "firefox-e…    1201 tcp4   ESTABLISHED   1h lhr25s34-in-f14.1e100.net   https GB   25.0 MB  "
      "25.0 kB/s 910.0 MB   2.4 MB/s\n"
      "                                           from 10.0.0.2:51000\n"
      "curl          4242 tcp4   ESTABLISHED   1m example.com                 https US    1.2 kB   "
      " 120 B/s  53.0 kB   5.3 kB/s\n"
      "                                           from 10.0.0.2:40000\n"
      "-                - tcp4   ESTABLISHED   2d ?]0;pwned??[2Jevil.example  22    NL    4.0 MB "
      "100.0 kB/s 150.0 kB   2.0 kB/s\n"
      "                                           from 192.168.1.50:33000\n"
      "-                - icmp4                2s 198.51.100.200              8/0   US      84 B   "
      "  84 B/s     84 B     84 B/s\n"
      "                                           from 10.0.0.2\n"
      "?[31m日本…     777 udp4                 5s ns.example.org              5353  JP     500 B\n"
      "                                           from 10.0.0.2:5353\n"
      "firefox-e…    1201 tcp6   ESTABLISHED  30s 2a00-1450.example.net       https DE    3.0 kB   "
      "          70.0 kB\n"
      "                                           from [2001:db8::2]:51002\n"
      "sshd           900 tcp4   ESTABLISHED    - backup.lan                  50022 lan        -   "
      "       -        -          -\n"
      "                                           from 10.0.0.2:22\n"
      "\n\n\n\n"
      " Flow tcp4 ESTABLISHED   id 4   zone 0   mark 0x10   timeout 431999s\n"
      "orig     192.168.1.50:33000 → 198.51.100.7:22\n"
      "reply    198.51.100.7:22 → 203.0.113.9:33000  NAT: source\n"
      "out ↑    4,000,000 B (4.0 MB)  12 packets  100.0 kB/s  1000.0 pkt/s\n"
      "in ↓     150,000 B (150.0 kB)  40 packets  2.0 kB/s  2.0 pkt/s\n"
      "process  - (no local socket: forwarded, or already closed)\n"
      "source   192.168.1.50  name looking up  geo looking up\n"
      "dest     198.51.100.7  ?]0;pwned??[2Jevil.example  NL Netherlands, Amsterdam, AS1136 KPN "
      "B.V.\n"
      "started  2026-05-26 12:53:20 UTC (2d ago)\n"
      "status   SEEN_REPLY ASSURED CONFIRMED\n"
      "\n\n\n\n\n\n\n\n";
  EXPECT_EQ(got, want);
}

// Every size from 1x1 to 300x100: no line wider than the terminal, never more lines than it has,
// and nothing unsanitised, in the busiest states.
TEST(Render, EverySizeFits) {
  const test::FakeWorld w = test::sample_world();
  const std::vector<std::string> health{
      "accounting was off: only flows created since have counters (sysctl turned on)",
      "events were lost: resynchronised 3 times", "the table is 91% full (nf_conntrack_max)",
      "no GeoIP database: flowtop -u downloads DB-IP Lite"};
  std::vector<view::ViewState> states;
  states.push_back(all_protocols());
  {
    view::ViewState s = all_protocols();
    s = view::apply(s, Command{K::Enter});
    s = view::apply(s, Command{K::ToggleSource});
    s = view::apply(s, Command{K::ToggleBits});
    s = view::apply(s, Command{K::OpenFilter});
    for (const char c : std::string("proc~日本 and (rate>1MB/s or bogus")) {
      s = view::apply(s, Command{K::FilterInsert, static_cast<unsigned char>(c)});
    }
    s = view::apply(s, Command{K::FilterAccept});
    s = view::apply(s, Command{K::SortMenu});
    states.push_back(s);
  }
  {
    view::ViewState s = all_protocols();
    s.help_open = true;
    states.push_back(s);
  }
  {
    view::ViewState s = all_protocols();
    s.tab = view::Tab::Processes;
    s.h_scroll = 2;
    states.push_back(s);
  }
  for (std::size_t k = 0; k < states.size(); ++k) {
    for (int cols = 1; cols <= 300; ++cols) {
      for (int lines = 1; lines <= 100; ++lines) {
        view::ViewState s = states[k];
        const Frame f = frame_of(w, s, {cols, lines}, k % 2 == 1, health);
        ASSERT_LE(f.lines.size(), static_cast<std::size_t>(lines))
            << k << ": " << cols << "x" << lines;
        for (std::size_t i = 0; i < f.lines.size(); ++i) {
          ASSERT_LE(line_width(f.lines[i]), static_cast<std::size_t>(cols))
              << k << ": " << cols << "x" << lines << " line " << i;
        }
        ASSERT_TRUE(clean(f)) << k << ": " << cols << "x" << lines;
        if (f.cursor) {
          ASSERT_LT(f.cursor->first, lines);
          ASSERT_LT(f.cursor->second, cols);
        }
      }
    }
  }
}

TEST(Render, TooSmall) {
  const test::FakeWorld w = test::sample_world();
  EXPECT_EQ(text_of(w, all_protocols(), {39, 10}), "terminal too small\nflowtop needs 40x10\n");
  EXPECT_EQ(text_of(w, all_protocols(), {40, 9}), "terminal too small\nflowtop needs 40x10\n");
  EXPECT_EQ(text_of(w, all_protocols(), {10, 1}), "terminal …\n");
  EXPECT_EQ(text_of(w, all_protocols(), {0, 0}), "");
  EXPECT_NE(text_of(w, all_protocols(), {40, 10}).find("tcp4"), std::string::npos);
}

// The header at a width: which columns show, in the original's order.
std::string header_at(int cols, bool bits = false) {
  view::ViewState s = all_protocols();
  s.bits = bits;
  return line_with(text_of(test::sample_world(), s, {cols, 24}), "ADDRESS");
}

TEST(Render, ColumnsDropLeastImportantFirst) {
  EXPECT_EQ(header_at(40), "PROTO  ADDRESS                    RATE↓▼");
  EXPECT_EQ(header_at(60), "PROTO  ADDRESS          PORT       RATE↑   BYTES↓     RATE↓▼");
  EXPECT_EQ(header_at(80),
            "PROCESS PROTO  STATE       ADDRESS          PORT       RATE↑   BYTES↓     RATE↓▼");
  EXPECT_EQ(header_at(80, true),
            "PROCESS PROTO  ADDRESS                  PORT         RATE↑   BYTES↓       RATE↓▼");
  EXPECT_EQ(header_at(120),
            "PROCESS        PID PROTO  STATE       TIME ADDRESS                     PORT  GEO   "
            "BYTES↑      RATE↑   BYTES↓     RATE↓▼");
  const std::string wide = header_at(200);
  for (const char* c : {"PROCESS", "PID", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "GEO",
                        "BYTES↑", "RATE↑", "BYTES↓", "RATE↓", "PKTS↑", "PKTS↓"}) {
    EXPECT_NE(wide.find(c), std::string::npos) << c;
  }
  // At 200 columns GEO has room for the city and the AS.
  EXPECT_NE(text_of(test::sample_world(), all_protocols(), {200, 24}).find("GB London AS15169"),
            std::string::npos);
}

TEST(Render, HorizontalScrollBringsDroppedColumnsBack) {
  view::ViewState s = all_protocols();
  s.h_scroll = 1;  // PROCESS scrolled off
  const std::string header = line_with(text_of(test::sample_world(), s, {80, 24}), "ADDRESS");
  EXPECT_EQ(header.find("PROCESS"), std::string::npos);
  EXPECT_NE(header.find("BYTES↑"), std::string::npos);
}

TEST(Render, ZeroIsBlankAndUnknownIsDash) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {120, 24});
  // sshd: accounting and timestamps were off.
  EXPECT_EQ(
      line_with(text, "sshd"),
      "sshd           900 tcp4   ESTABLISHED    - backup.lan                  50022 lan        -"
      "          -        -          -");
  // The IPv6 flow: idle, nothing sent back yet counted as blank, not 0.
  EXPECT_EQ(
      line_with(text, "2a00-1450"),
      "firefox-e…    1201 tcp6   ESTABLISHED  30s 2a00-1450.example.net       https DE    3.0 kB"
      "             70.0 kB");
}

TEST(Render, HostileNamesAreSanitised) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {200, 30});
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("?]0;pwned??[2Jevil.example"), std::string::npos);
  view::ViewState processes = all_protocols();
  processes.tab = view::Tab::Processes;
  const std::string by_process = text_of(test::sample_world(), processes, {200, 30});
  EXPECT_EQ(by_process.find('\x1b'), std::string::npos);
  // The colour escape is defused and the invalid byte is one U+FFFD.
  EXPECT_NE(by_process.find("?[31m日本語ツール\xEF\xBF\xBD"), std::string::npos);
}

TEST(Render, WideCharactersAreCutOnTheirBoundary) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {120, 24});
  // PROCESS is 10 columns: "?[31m" (5) + 日本 (4) + "…" (1).
  EXPECT_EQ(line_with(text, "udp4").substr(0, std::string("?[31m日本…").size()), "?[31m日本…");
}

TEST(Render, SourceRowsWithDashS) {
  view::ViewState s = all_protocols();
  s.show_src = true;
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(line_with(text, "from 10.0.0.2:51000"),
            "                           from 10.0.0.2:51000");
  EXPECT_NE(text.find("from [2001:db8::2]:51002"), std::string::npos);
  EXPECT_NE(text.find("from 10.0.0.2\n"), std::string::npos);  // ICMP: no port
  EXPECT_EQ(table_capacity({}, s, {80, 24}), 10U);             // two lines per flow
}

TEST(Render, DetailPaneShowsBothTuplesSoNatIsVisible) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SelectRow, 2});  // the forwarded, masqueraded flow
  s = view::apply(s, Command{K::Enter});
  const std::string text = text_of(test::sample_world(), s, {120, 40});
  EXPECT_NE(text.find("orig     192.168.1.50:33000 → 198.51.100.7:22"), std::string::npos);
  EXPECT_NE(text.find("reply    198.51.100.7:22 → 203.0.113.9:33000  NAT: source"),
            std::string::npos);
  EXPECT_NE(text.find("mark 0x10"), std::string::npos);
  EXPECT_NE(text.find("4,000,000 B (4.0 MB)"), std::string::npos);
  EXPECT_NE(text.find("status   SEEN_REPLY ASSURED CONFIRMED"), std::string::npos);
  EXPECT_NE(text.find("NL Netherlands, Amsterdam, AS1136 KPN B.V."), std::string::npos);
  EXPECT_NE(text.find("no local socket"), std::string::npos);
}

TEST(Render, DetailPaneShowsTheProcessAndItsCommandLine) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SelectRow, 1});
  s = view::apply(s, Command{K::Enter});
  const std::string text = text_of(test::sample_world(), s, {120, 40});
  EXPECT_NE(text.find("process  curl  pid 4242  user alice"), std::string::npos);
  EXPECT_NE(text.find("cmdline  curl -s https://example.com/"), std::string::npos);
  EXPECT_NE(text.find("started  2026-05-28 20:25:07 UTC (1m ago)"), std::string::npos);
  EXPECT_NE(text.find("service  https"), std::string::npos);
}

TEST(Render, HelpListsEveryKey) {
  view::ViewState s = all_protocols();
  s.help_open = true;
  const std::string text = text_of(test::sample_world(), s, {120, 40});
  for (const view::KeyHelp& k : view::KeyMap::help()) {
    EXPECT_NE(text.find(std::string(k.keys)), std::string::npos) << k.keys;
    EXPECT_NE(text.find(std::string(k.what)), std::string::npos) << k.what;
  }
  // At 80x24 it still fits.
  const std::string small = text_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(small.find("taller terminal"), std::string::npos);
}

TEST(Render, HelpCarriesTheDbIpAttributionWhenDbIpDataIsUsed) {
  view::ViewState s = all_protocols();
  s.help_open = true;
  test::FakeWorld w = test::sample_world();
  EXPECT_EQ(text_of(w, s, {120, 40}).find("IP Geolocation by DB-IP"), std::string::npos);
  w.dbip = true;
  EXPECT_NE(text_of(w, s, {120, 40}).find("IP Geolocation by DB-IP (https://db-ip.com"),
            std::string::npos);
}

TEST(Render, SortMenuAndIndicator) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SortMenu});
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_NE(text.find(" Sort by"), std::string::npos);
  EXPECT_NE(text.find(" RATE↓ ▼"), std::string::npos);
  s = view::apply(view::apply(s, Command{K::SortMenuUp}), Command{K::SortMenuAccept});
  s = view::apply(s, Command{K::SortReverse});
  EXPECT_NE(line_with(text_of(test::sample_world(), s, {80, 24}), "ADDRESS").find("BYTES↓▲"),
            std::string::npos);
}

TEST(Render, AsciiTerminal) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {80, 24}, true);
  EXPECT_EQ(line_with(text, "ADDRESS"),
            "PROCESS PROTO  STATE       ADDRESS          PORT      RATE-O  BYTES-I    RATE-Iv");
  EXPECT_NE(text.find("firefo~"), std::string::npos);
  EXPECT_NE(text.find(" | out 125.2 kB/s in 2.4 MB/s"), std::string::npos);
}

TEST(Render, StatusLineSaysWhatIsHiddenAndPaused) {
  view::ViewState s = view::default_view_state();
  s.paused = true;
  s.filter = std::get<view::Filter>(view::compile_filter("firefox"));
  const std::string status = text_of(test::sample_world(), s, {200, 24});
  EXPECT_NE(status.find(" PAUSED · 2 shown · 9 tracked · 7 hidden: loopback 1, protocol 3, filter 3"
                        " · ↑ 25.0 kB/s ↓ 2.4 MB/s · TCP, IPv4+IPv6 · filter: firefox · tcp 6 udp 2"
                        " icmp 1"),
            std::string::npos)
      << status;
}

TEST(Render, EmptyTableSaysWhy) {
  view::ViewState s = view::default_view_state();
  s.selection.tcp = false;
  s.selection.sctp = true;
  EXPECT_NE(
      text_of(test::sample_world(), s, {80, 24}).find(" no flows match SCTP, IPv4+IPv6 (9 hidden)"),
      std::string::npos);
  EXPECT_NE(text_of(test::FakeWorld{}, s, {80, 24})
                .find(" conntrack is not tracking in this namespace: try --track"),
            std::string::npos);
}

TEST(Render, HealthLinesShowAndGiveWayOnSmallTerminals) {
  const test::FakeWorld w = test::sample_world();
  view::ViewState s = all_protocols();
  const std::vector<std::string> health{"events were lost: resynchronised 2 times"};
  const std::string text = to_plain_text(frame_of(w, s, {80, 24}, false, health));
  EXPECT_EQ(line_with(text, "events were lost"), " events were lost: resynchronised 2 times");
  // At 40x10 the table keeps at least 3 lines: health lines go first.
  const std::vector<std::string> many{"a", "b", "c", "d"};
  view::Snapshot snap = w.snapshot();
  snap.status.health = many;
  EXPECT_EQ(table_capacity(snap.status, s, {40, 10}), 6U - 3U);
  EXPECT_EQ(table_capacity(snap.status, s, {40, 30}), 30U - 4U - 3U);
}

TEST(Render, FilterPromptWithCursorAndError) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::OpenFilter});
  for (const char c : std::string("rate>1XB")) {
    s = view::apply(s, Command{K::FilterInsert, c});
  }
  s = view::apply(s, Command{K::FilterLeft});
  Frame f = frame_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(to_plain_text(f).substr(to_plain_text(f).rfind("/rate")), "/rate>1XB\n");
  ASSERT_TRUE(f.cursor);
  EXPECT_EQ(*f.cursor, (std::pair{23, 8}));
  s = view::apply(s, Command{K::FilterAccept});
  f = frame_of(test::sample_world(), s, {80, 24});
  const std::string text = to_plain_text(f);
  EXPECT_NE(text.find("/rate>1XB\n       ^ at 7: unknown unit 'XB'"), std::string::npos) << text;
}

TEST(Render, ClicksMapToCommands) {
  view::ViewState s = all_protocols();
  const Frame f = frame_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(hit_test(f, 2, 10), (Command{K::SetTab, 1}));  // " Processes "
  EXPECT_EQ(hit_test(f, 3, 0),
            (Command{K::SortBy, static_cast<std::int64_t>(view::Column::Process)}));
  EXPECT_EQ(hit_test(f, 3, 30),
            (Command{K::SortBy, static_cast<std::int64_t>(view::Column::Address)}));
  EXPECT_EQ(hit_test(f, 6, 40), (Command{K::SelectRow, 2}));
  EXPECT_FALSE(hit_test(f, 20, 5));  // below the rows
  EXPECT_FALSE(hit_test(f, 0, 5));
}

TEST(Render, AggregateViews) {
  view::ViewState s = all_protocols();
  s.tab = view::Tab::Processes;
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(line_with(text, "FLOWS"),
            "PROCESS              PID USER      FLOWS   BYTES↑      RATE↑   BYTES↓     RATE↓▼");
  EXPECT_EQ(line_with(text, "firefox"),
            "firefox-esr         1201 alice         2  25.0 MB  25.0 kB/s 910.1 MB   2.4 MB/s");
  EXPECT_EQ(line_with(text, "sshd"),
            "sshd                 900 root          1        -          -        -          -");
  s.tab = view::Tab::Countries;
  EXPECT_NE(line_with(text_of(test::sample_world(), s, {80, 24}), "United States").find(" 2 "),
            std::string::npos);
}

}  // namespace
}  // namespace flowtop::render
