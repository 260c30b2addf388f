#include "flowtop/render/render.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "flowtop/core/text.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/command.hpp"
#include "unit/render/render_fixture.hpp"
#include "unit/view/ends_fixture.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::render {
namespace {

using view::Command;
using K = view::Command::Kind;

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

TEST(Render, RatesNotKnownYetAreDashesNeverZero) {
  test::FakeWorld w;
  core::FlowRecord r = test::make_flow({});
  r.flags = static_cast<std::uint8_t>(r.flags & ~core::FlowRecord::kHasRates);  // window open
  w.flows.push_back(r);
  const std::string text = text_of(w, view::default_view_state(), {80, 12});
  EXPECT_NE(text.find("↑ - ↓ -"), std::string::npos) << text;
  const std::string row = line_with(text, "tcp4");
  EXPECT_TRUE(row.ends_with(" 443  -            -          -")) << row;  // GEO, RATE↑, RATE↓
  // One known rate makes the sums known.
  w.flows.push_back(test::make_flow({.sport = 40001, .id = 2}));
  EXPECT_NE(text_of(w, view::default_view_state(), {80, 12}).find("↑ 120 B/s ↓ 5.3 kB/s"),
            std::string::npos);
}

TEST(Render, EndedFlowIsDimmedAndSaysEnded) {
  test::FakeWorld w;
  core::FlowRecord r = test::make_flow({});
  r.life = core::FlowRecord::kEnded | core::FlowRecord::kSampled;
  r.stop_ns = r.start_ns + 3 * test::kSecond;
  r.rate_orig_bytes = r.rate_reply_bytes = 0;  // one interval after its end
  w.flows.push_back(r);
  w.flows.push_back(test::make_flow({.sport = 40001, .id = 2}));  // live, first: selected
  view::ViewState state = view::default_view_state();
  const Frame f = frame_of(w, state, {80, 12});
  const std::string text = to_plain_text(f);
  const std::string row = line_with(text, "ENDED");
  EXPECT_NE(row.find("tcp4"), std::string::npos) << text;
  EXPECT_NE(text.find("1 ended"), std::string::npos) << text;
  bool dim = false;
  for (const Line& line : f.lines) {
    for (const Span& sp : line.spans) {
      dim = dim || (sp.text.find("ENDED") != std::string::npos && sp.style == Style::Dim);
    }
  }
  EXPECT_TRUE(dim);
}

TEST(Render, GoldenFrame80x24) {
  const std::string want =
      " flowtop 0.1.0                                                         every 1s\n"
      " 7 shown · 9 tracked · 2 hidden: loopback 1, DNS 1 · ↑ 125.2 kB/s ↓ 2.4 MB/s\n"
      " Flows   Owners   Hosts   Countries   AS\n"
      "OWNER   PROTO STATE       TIME   ADDRESS         PORT  GEO      RATE↑     RATE↓▼\n"
      "firefo… tcp4  ESTABLISHED   1h → lhr25s34-in-f1… https GB   25.0 kB/s   2.4 MB/s\n"
      "curl    tcp4  ESTABLISHED   1m → example.com     https US     120 B/s   5.3 kB/s\n"
      "-       tcp4  ESTABLISHED   2d → ?]0;pwned??[2J… 22    NL  100.0 kB/s   2.0 kB/s\n"
      "-       icmp4               2s → 198.51.100.200  8/0   US      84 B/s     84 B/s\n"
      "?[31m…  udp4                5s → ns.example.org  5353  JP\n"
      "firefo… tcp6  ESTABLISHED  30s → 2a00-1450.exam… https DE\n"
      "sshd    tcp4  ESTABLISHED    - → backup.lan      50022 lan          -          -\n"
      "\n\n\n\n\n\n\n\n\n\n\n\n"
      "?Help /Filter F6Sort ⏎Detail Tab View Space Pause h l Scroll F2Columns q Quit\n";
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
      " Flows   Owners   Hosts   Countries   AS\n"
      "OWNER          PID PROTO STATE       TIME   ADDRESS                    PORT  GEO   BYTES↑   "
      "   RATE↑   BYTES↓     RATE↓▼\n"
      "firefox-esr   1201 tcp4  ESTABLISHED   1h → lhr25s34-in-f14.1e100.net  https GB   25.0 MB  "
      "25.0 kB/s 910.0 MB   2.4 MB/s\n"
      "                                            local 10.0.0.2:51000\n"
      "curl          4242 tcp4  ESTABLISHED   1m → example.com                https US    1.2 kB   "
      " 120 B/s  53.0 kB   5.3 kB/s\n"
      "                                            local 10.0.0.2:40000\n"
      "-                - tcp4  ESTABLISHED   2d → ?]0;pwned??[2Jevil.example 22    NL    4.0 MB "
      "100.0 kB/s 150.0 kB   2.0 kB/s\n"
      "                                            local 192.168.1.50:33000 · SNAT to "
      "203.0.113.9:33000\n"
      "-                - icmp4               2s → 198.51.100.200             8/0   US      84 B   "
      "  84 B/s     84 B     84 B/s\n"
      "                                            local 10.0.0.2\n"
      "?[31m日本語…   777 udp4                5s → ns.example.org             5353  JP     500 B\n"
      "                                            local 10.0.0.2:5353\n"
      "firefox-esr   1201 tcp6  ESTABLISHED  30s → 2a00-1450.example.net      https DE    3.0 kB   "
      "          70.0 kB\n"
      "                                            local [2001:db8::2]:51002\n"
      "sshd           900 tcp4  ESTABLISHED    - → backup.lan                 50022 lan        -   "
      "       -        -          -\n"
      "                                            local 10.0.0.2:22\n"
      "\n\n\n\n"
      " Flow tcp4 ESTABLISHED   id 4   zone 0   mark 0x10   timeout 431999s\n"
      "direction  → outbound (opened here)\n"
      "orig       192.168.1.50:33000 → 198.51.100.7:22\n"
      "reply      198.51.100.7:22 → 203.0.113.9:33000\n"
      "nat        SNAT to 203.0.113.9:33000\n"
      "sent ↑     4,000,000 B (4.0 MB)  12 packets  100.0 kB/s  1000.0 pkt/s\n"
      "received ↓ 150,000 B (150.0 kB)  40 packets  2.0 kB/s  2.0 pkt/s\n"
      "owner      - (no local socket: forwarded, or already closed)\n"
      "local      192.168.1.50  name looking up  geo looking up\n"
      "remote     198.51.100.7  ?]0;pwned??[2Jevil.example  NL Netherlands, Amsterdam, AS1136 KPN "
      "B.V.\n"
      "started    2026-05-26 12:53:20 UTC (2d ago)\n"
      "status     SEEN_REPLY ASSURED CONFIRMED\n"
      "\n\n\n\n\n"
      "?Help /Filter F6Sort ⏎Close Tab View Space Pause h l Scroll F2Columns q Quit\n";
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
    s.tab = view::Tab::Owners;
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
  // DIR (its label is empty) stands between STATE/TIME and ADDRESS from 40 columns on; NAT is
  // among the first to go.
  EXPECT_EQ(header_at(40), "PROTO   ADDRESS         PORT      RATE↓▼");
  EXPECT_EQ(header_at(60), "OWNER   PROTO   ADDRESS          PORT       RATE↑     RATE↓▼");
  EXPECT_EQ(header_at(80),
            "OWNER   PROTO STATE       TIME   ADDRESS         PORT  GEO      RATE↑     RATE↓▼");
  EXPECT_EQ(header_at(80, true),
            "OWNER   PROTO STATE       TIME   ADDRESS         PORT         RATE↑       RATE↓▼");
  EXPECT_EQ(header_at(120),
            "OWNER          PID PROTO STATE       TIME   ADDRESS                    PORT  GEO   "
            "BYTES↑      RATE↑   BYTES↓     RATE↓▼");
  const std::string wide = header_at(200);
  for (const char* c : {"OWNER", "PID", "PROTO", "STATE", "TIME", "ADDRESS", "PORT", "NAT", "GEO",
                        "BYTES↑", "RATE↑", "BYTES↓", "RATE↓", "PKTS↑", "PKTS↓"}) {
    EXPECT_NE(wide.find(c), std::string::npos) << c;
  }
  // At 200 columns GEO has room for the city and the AS.
  EXPECT_NE(text_of(test::sample_world(), all_protocols(), {200, 24}).find("GB London AS15169"),
            std::string::npos);
}

TEST(Render, HorizontalScrollBringsDroppedColumnsBack) {
  view::ViewState s = all_protocols();
  EXPECT_EQ(line_with(text_of(test::sample_world(), s, {80, 24}), "ADDRESS").find("BYTES↑"),
            std::string::npos);
  s.h_scroll = 1;  // OWNER scrolled off: PID, the column scrolled to, stands first
  EXPECT_EQ(line_with(text_of(test::sample_world(), s, {80, 24}), "ADDRESS"),
            " PID PROTO STATE       TIME   ADDRESS            PORT  GEO      RATE↑     RATE↓▼");
  s.h_scroll = 5;  // from DIR on: the room brings the byte totals back
  const std::string header = line_with(text_of(test::sample_world(), s, {80, 24}), "ADDRESS");
  EXPECT_EQ(header.find("OWNER"), std::string::npos);
  EXPECT_EQ(header.find("PROTO"), std::string::npos);
  EXPECT_NE(header.find("BYTES↑"), std::string::npos) << header;
}

TEST(Render, ZeroIsBlankAndUnknownIsDash) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {120, 24});
  // sshd: accounting and timestamps were off.
  EXPECT_EQ(
      line_with(text, "sshd"),
      "sshd           900 tcp4  ESTABLISHED    - → backup.lan                 50022 lan        -"
      "          -        -          -");
  // The IPv6 flow: idle, nothing sent back yet counted as blank, not 0.
  EXPECT_EQ(
      line_with(text, "2a00-1450"),
      "firefox-esr   1201 tcp6  ESTABLISHED  30s → 2a00-1450.example.net      https DE    3.0 kB"
      "             70.0 kB");
}

TEST(Render, HostileNamesAreSanitised) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {200, 30});
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("?]0;pwned??[2Jevil.example"), std::string::npos);
  view::ViewState processes = all_protocols();
  processes.tab = view::Tab::Owners;
  const std::string by_process = text_of(test::sample_world(), processes, {200, 30});
  EXPECT_EQ(by_process.find('\x1b'), std::string::npos);
  // The colour escape is defused and the invalid byte is one U+FFFD.
  EXPECT_NE(by_process.find("?[31m日本語ツール\xEF\xBF\xBD"), std::string::npos);
}

TEST(Render, WideCharactersAreCutOnTheirBoundary) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {120, 24});
  // OWNER is 13 columns: "?[31m" (5) + 日本語 (6) + "…" (1) + a blank where half of ツ was.
  EXPECT_EQ(line_with(text, "udp4").substr(0, std::string("?[31m日本語…  ").size()),
            "?[31m日本語…  ");
}

TEST(Render, SourceRowsWithDashS) {
  view::ViewState s = all_protocols();
  s.show_src = true;
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  // The inside end, under ADDRESS (the remote end).
  EXPECT_EQ(line_with(text, "local 10.0.0.2:51000"),
            "                                 local 10.0.0.2:51000");
  EXPECT_NE(text.find("local [2001:db8::2]:51002"), std::string::npos);
  EXPECT_NE(text.find("local 10.0.0.2\n"), std::string::npos);  // ICMP: no port
  EXPECT_EQ(line_with(text, "local 192.168.1.50"),
            "                                 local 192.168.1.50:33000 · SNAT to 203.0.113.9…");
  EXPECT_EQ(table_capacity({}, s, {80, 24}), 9U);  // two lines per flow (and the key bar)
}

TEST(Render, DetailPaneShowsBothTuplesSoNatIsVisible) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SelectRow, 2});  // the forwarded, masqueraded flow
  s = view::apply(s, Command{K::Enter});
  const std::string text = text_of(test::sample_world(), s, {120, 40});
  EXPECT_NE(text.find("orig       192.168.1.50:33000 → 198.51.100.7:22\n"), std::string::npos);
  EXPECT_NE(text.find("reply      198.51.100.7:22 → 203.0.113.9:33000\n"), std::string::npos);
  EXPECT_NE(text.find("nat        SNAT to 203.0.113.9:33000\n"), std::string::npos);
  EXPECT_NE(text.find("mark 0x10"), std::string::npos);
  EXPECT_NE(text.find("4,000,000 B (4.0 MB)"), std::string::npos);
  EXPECT_NE(text.find("status     SEEN_REPLY ASSURED CONFIRMED"), std::string::npos);
  EXPECT_NE(text.find("NL Netherlands, Amsterdam, AS1136 KPN B.V."), std::string::npos);
  EXPECT_NE(text.find("no local socket"), std::string::npos);
}

TEST(Render, DetailPaneShowsTheProcessAndItsCommandLine) {
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SelectRow, 1});
  s = view::apply(s, Command{K::Enter});
  const std::string text = text_of(test::sample_world(), s, {120, 40});
  EXPECT_NE(text.find("direction  → outbound (opened here)"), std::string::npos);
  EXPECT_NE(text.find("owner      curl  pid 4242  user alice"), std::string::npos);
  EXPECT_NE(text.find("cmdline    curl -s https://example.com/"), std::string::npos);
  EXPECT_NE(text.find("local      10.0.0.2  name -  private"), std::string::npos);
  EXPECT_NE(text.find("remote     93.184.216.34  example.com  US United States, Norwell"),
            std::string::npos);
  EXPECT_NE(text.find("started    2026-05-28 20:25:07 UTC (1m ago)"), std::string::npos);
  EXPECT_NE(text.find("service    https"), std::string::npos);
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

TEST(Render, DeletePromptNamesTheFlowOnTheLastLine) {
  view::ViewState s = all_protocols();
  const test::FakeWorld w = test::sample_world();
  frame_of(w, s, {120, 30});  // settles the selection on the first row
  s = view::apply(s, Command{K::DeleteFlow});
  ASSERT_TRUE(s.confirm_delete.has_value());
  const Frame f = frame_of(w, s, {120, 30});
  ASSERT_EQ(f.lines.size(), 30U);
  std::string last;
  for (const Span& span : f.lines.back().spans) {
    last += span.text;
  }
  EXPECT_EQ(last, "delete " + view::flow_text(*s.confirm_delete) + "? y/N");
  EXPECT_EQ(f.lines.back().spans.front().style, Style::Prompt);
}

TEST(Render, TitleShowsTheRateWindow) {
  view::ViewState s = all_protocols();
  EXPECT_TRUE(
      text_of(test::sample_world(), s, {80, 24})
          .starts_with(
              " flowtop 0.1.0                                                         every 1s\n"))
      << "no window: the title as before";
  s.window = core::RateWindow::S10;
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(text.substr(0, text.find('\n')),
            " flowtop 0.1.0                                                avg 10s, every 1s");
}

TEST(Render, ActionNoteLeadsTheStatusLine) {
  view::ViewState s = all_protocols();
  s.message = "read-only: actions are disabled (--read-only)";
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_NE(line_with(text, "read-only: actions are disabled").find("shown"), std::string::npos)
      << text;
}

TEST(Render, PrivacyModeSaysSoAndShowsNoRealAddress) {
  view::ViewState s = all_protocols();
  core::Redactor::Key key{};
  key[0] = 1;
  s.redactor = std::make_shared<const core::Redactor>(key);
  s.redact = core::RedactScope::All;
  const test::FakeWorld w = test::sample_world();
  const std::string text = text_of(w, s, {160, 40});
  EXPECT_NE(line_with(text, "redacted: all").find("shown"), std::string::npos) << text;
  for (const core::FlowRecord& rec : w.flows) {
    for (const core::IpAddr& a :
         {rec.key.orig.src, rec.key.orig.dst, rec.reply.src, rec.reply.dst}) {
      if (!a.is_loopback()) {  // loopback flows are hidden
        EXPECT_EQ(text.find(a.to_string()), std::string::npos) << a.to_string() << text;
      }
    }
  }
  EXPECT_EQ(text.find("example.com"), std::string::npos) << text;
  EXPECT_EQ(text.find("alice"), std::string::npos) << text;
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
  EXPECT_NE(line_with(text_of(test::sample_world(), s, {120, 24}), "ADDRESS").find("BYTES↓▲"),
            std::string::npos);
}

// The state after F2 and `keys` in the chooser.
view::ViewState chooser(view::ViewState s, const std::vector<std::int32_t>& keys, bool close) {
  const view::KeyMap map;
  s = view::apply(s, map.lookup(s, view::Input{view::kKeyF2}));
  for (const std::int32_t k : keys) {
    s = view::apply(s, map.lookup(s, view::Input{k}));
  }
  if (close) {
    s = view::apply(s, map.lookup(s, view::Input{view::kKeyEscape}));
  }
  return s;
}

TEST(Render, ColumnChooserPaneAt80x24) {
  const view::ViewState s = chooser(all_protocols(), {view::kKeyDown, ' '}, false);
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_NE(text.find(" Columns: Flows"), std::string::npos) << text;
  EXPECT_NE(text.find(" [x] OWNER       owner"), std::string::npos) << text;
  EXPECT_NE(text.find(" [ ] PID         pid"), std::string::npos) << text;
  EXPECT_NE(text.find(" [x] RATE↓       rate-in"), std::string::npos) << text;
  EXPECT_NE(text.find(" [x] PKTS↓       packets-in"), std::string::npos) << text;
  // The highlighted entry is the selected one; the footer says the chooser's keys.
  view::ViewState copy = s;
  const Frame f = frame_of(test::sample_world(), copy, {80, 24});
  bool pid_selected = false;
  for (const Line& line : f.lines) {
    for (const Span& span : line.spans) {
      if (span.text.find("PID") != std::string::npos && span.style == Style::MenuSelected) {
        pid_selected = true;
      }
    }
  }
  EXPECT_TRUE(pid_selected);
  EXPECT_NE(line_with(text, "Show/hide").find("Move"), std::string::npos) << text;
  EXPECT_EQ(text.find("taller terminal"), std::string::npos);
}

TEST(Render, AHiddenColumnIsNotInTheTable) {
  // PROTO is the third column of the Flows tab.
  const view::ViewState s = chooser(all_protocols(), {view::kKeyDown, view::kKeyDown, ' '}, true);
  for (const Size size : {Size{80, 24}, Size{200, 40}}) {
    const std::string text = text_of(test::sample_world(), s, size);
    const std::string header = line_with(text, "ADDRESS");
    EXPECT_EQ(header.find("PROTO"), std::string::npos) << header;
    EXPECT_NE(header.find("OWNER"), std::string::npos) << header;
    EXPECT_EQ(text.find("tcp4"), std::string::npos) << text;
  }
  // Scrolled sideways as far as it goes, it does not come back.
  view::ViewState scrolled = s;
  for (int i = 0; i < 30; ++i) {
    scrolled = view::apply(scrolled, Command{K::ScrollRight});
  }
  EXPECT_EQ(text_of(test::sample_world(), scrolled, {80, 24}).find("PROTO"), std::string::npos);
}

TEST(Render, TheChosenOrderIsTheTablesOrder) {
  // RATE↓ moved from its place to the front; ADDRESS before OWNER.
  view::ViewState s = all_protocols();
  const auto cols = view::columns_of(view::Tab::Flows);
  std::vector<std::int32_t> keys;
  const auto rate = std::find(cols.begin(), cols.end(), view::Column::RateIn) - cols.begin();
  for (std::ptrdiff_t i = 0; i < rate; ++i) {
    keys.push_back(view::kKeyDown);
  }
  for (std::ptrdiff_t i = 0; i < rate; ++i) {
    keys.push_back('[');
  }
  s = chooser(s, keys, true);
  const std::string header = line_with(text_of(test::sample_world(), s, {80, 24}), "ADDRESS");
  EXPECT_EQ(header.find_first_not_of(' '), header.find("RATE↓▼")) << header;
  EXPECT_LT(header.find("OWNER"), header.find("PROTO")) << header;
}

TEST(Render, AHiddenSortColumnIsNamedOnTheStatusLine) {
  view::ViewState s = all_protocols();
  const auto cols = view::columns_of(view::Tab::Flows);
  std::vector<std::int32_t> keys;
  const auto rate = std::find(cols.begin(), cols.end(), view::Column::RateIn) - cols.begin();
  for (std::ptrdiff_t i = 0; i < rate; ++i) {
    keys.push_back(view::kKeyDown);
  }
  keys.push_back(' ');
  s = chooser(s, keys, true);
  const std::string text = text_of(test::sample_world(), s, {200, 24});
  EXPECT_EQ(line_with(text, "ADDRESS").find("RATE↓"), std::string::npos) << text;
  EXPECT_NE(line_with(text, "shown").find("sort: RATE↓▼"), std::string::npos) << text;
}

TEST(Render, TheReportLaysOutTheChosenColumns) {
  const view::ViewState s =
      chooser(all_protocols(), {view::kKeyDown, view::kKeyDown, ' ', ']'}, true);
  const test::FakeWorld w = test::sample_world();
  const view::Snapshot snap = w.snapshot();
  const view::Rows rows = view::build_rows(snap, s, 100);
  const std::string text = to_plain_text(render_report(rows, s, 200, ReportOptions{"0.1.0"}));
  const std::string header = line_with(text, "ADDRESS");
  EXPECT_EQ(header.find("PROTO"), std::string::npos) << header;
  EXPECT_NE(header.find("OWNER"), std::string::npos) << header;
}

TEST(Render, AsciiTerminal) {
  const std::string text = text_of(test::sample_world(), all_protocols(), {80, 24}, true);
  EXPECT_EQ(line_with(text, "ADDRESS"),
            "OWNER   PROTO STATE       TIME   ADDRESS         PORT  GEO     RATE-O    RATE-Iv");
  EXPECT_EQ(line_with(text, "curl"),
            "curl    tcp4  ESTABLISHED   1m > example.com     https US     120 B/s   5.3 kB/s");
  EXPECT_NE(text.find("firefo~"), std::string::npos);
  EXPECT_NE(text.find(" | out 125.2 kB/s in 2.4 MB/s"), std::string::npos);
}

TEST(Render, StatusLineSaysWhatIsHiddenAndPaused) {
  view::ViewState s = view::default_view_state();
  s.paused = true;
  s.filter = std::get<view::Filter>(view::compile_filter("firefox"));
  const std::string status = text_of(test::sample_world(), s, {200, 24});
  EXPECT_NE(status.find(" PAUSED · filter: firefox · 2 shown · 9 tracked · 7 hidden: loopback 1, "
                        "protocol 3, filter 3 · ↑ 25.0 kB/s ↓ 2.4 MB/s · TCP, IPv4+IPv6 · tcp 6 "
                        "udp 2 icmp 1"),
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

TEST(Render, EmptyTableOffersTheTrackKeyAndTheStatusLineSaysWhenTracking) {
  view::ViewState s = view::default_view_state();
  view::Snapshot snap = test::FakeWorld{}.snapshot();
  const auto text = [&] {
    const view::Rows rows = view::build_rows(snap, s, table_capacity(snap.status, s, {100, 24}));
    return to_plain_text(render(rows, s, {100, 24}, RenderOptions{"0.1.0", false}));
  };
  snap.status.tracking = view::Tracking::Offered;
  std::string t = text();
  EXPECT_NE(t.find(" conntrack is not tracking in this namespace: press t to track it"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("tracking for this session"), std::string::npos) << t;
  snap.status.tracking = view::Tracking::Session;
  t = text();
  EXPECT_NE(line_with(t, " shown · ").find("tracking for this session"), std::string::npos) << t;
  EXPECT_EQ(t.find("press t"), std::string::npos) << t;
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
  EXPECT_EQ(table_capacity(snap.status, s, {40, 30}), 30U - 4U - 3U - 1U);  // and the key bar
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
  EXPECT_EQ(hit_test(f, 2, 10), (Command{K::SetTab, 1}));  // " Owners "
  EXPECT_EQ(hit_test(f, 3, 0),
            (Command{K::SortBy, static_cast<std::int64_t>(view::Column::Process)}));
  EXPECT_EQ(hit_test(f, 3, 35),
            (Command{K::SortBy, static_cast<std::int64_t>(view::Column::Address)}));
  EXPECT_EQ(hit_test(f, 6, 40), (Command{K::SelectRow, 2}));
  EXPECT_FALSE(hit_test(f, 20, 5));  // below the rows
  EXPECT_FALSE(hit_test(f, 0, 5));
}

TEST(Render, AggregateViews) {
  view::ViewState s = all_protocols();
  s.tab = view::Tab::Owners;
  const std::string text = text_of(test::sample_world(), s, {80, 24});
  EXPECT_EQ(line_with(text, "FLOWS"),
            "OWNER            PID USER   FLOWS   BYTES↑      RATE↑   BYTES↓     RATE↓▼  PKTS↓");
  EXPECT_EQ(line_with(text, "firefox"),
            "firefox-esr     1201 alice      2  25.0 MB  25.0 kB/s 910.1 MB   2.4 MB/s 640.0k");
  EXPECT_EQ(line_with(text, "sshd"),
            "sshd             900 root       1        -          -        -          -      -");
  s.tab = view::Tab::Countries;
  EXPECT_NE(line_with(text_of(test::sample_world(), s, {80, 24}), "United States").find(" 2 "),
            std::string::npos);
}

// ---- flows with a direction and two ends (unit/view/ends_fixture.hpp) ----

TEST(Render, ARoutersFlowsShowTheirDirectionAndTheirLanOwner) {
  const test::FakeWorld w = test::router_world();
  const std::string text = text_of(w, view::default_view_state(), {80, 12});
  EXPECT_EQ(line_with(text, "ADDRESS"),
            "OWNER  PROTO STATE       TIME   ADDRESS          PORT  GEO      RATE↑     RATE↓▼");
  EXPECT_EQ(line_with(text, "example.com"),
            "laptop tcp4  ESTABLISHED   1m ⇄ example.com      https US     120 B/s   5.3 kB/s");
  EXPECT_EQ(line_with(text, "curl"),
            "curl   tcp4  ESTABLISHED   1m → example.com      https US      60 B/s   2.0 kB/s");
  // The port forward: the Internet client, the internal server's service (22, not 2222), and
  // ↑ what the NAS sent.
  EXPECT_EQ(line_with(text, "nas"),
            "nas    tcp4  ESTABLISHED   1m ⇄ 198.51.100.99    ssh   NL   90.0 kB/s    300 B/s");
  EXPECT_EQ(line_with(text, "tcp6"),
            "laptop tcp6  ESTABLISHED   1m ⇄ 2a00-1450.examp… https DE     200 B/s   7.0 kB/s");
  EXPECT_EQ(line_with(text, "198.51.100.7 "),
            "-      tcp4  ESTABLISHED   1m ⇄ 198.51.100.7     80    US      10 B/s     20 B/s");
  // The status line sums what the inside ends sent and received.
  EXPECT_NE(text.find(" 5 shown · 5 tracked · ↑ 90.4 kB/s ↓ 14.6 kB/s"), std::string::npos);
  // ASCII: "~" forwarded, ">" out.
  const std::string ascii = text_of(w, view::default_view_state(), {80, 12}, true);
  EXPECT_NE(ascii.find("laptop tcp4  ESTABLISHED   1m ~ example.com"), std::string::npos) << ascii;
  EXPECT_NE(ascii.find("curl   tcp4  ESTABLISHED   1m > example.com"), std::string::npos) << ascii;
}

TEST(Render, TheNatColumnShowsTheTranslatedEndWhenThereIsRoom) {
  const test::FakeWorld w = test::router_world();
  const std::string text = text_of(w, view::default_view_state(), {240, 12});
  const std::string header = line_with(text, "ADDRESS");
  EXPECT_NE(header.find("PORT  NAT                    GEO"), std::string::npos) << header;
  EXPECT_NE(line_with(text, "example.com  ").find("https SNAT 203.0.113.9:61000 US "),
            std::string::npos)
      << text;
  EXPECT_NE(line_with(text, "nas").find(" ssh   DNAT 192.168.77.10:22  NL "), std::string::npos);
  EXPECT_NE(line_with(text, "198.51.100.7 ").find(" 80    SNAT 203.0.113.9:62000 US "),
            std::string::npos);
  // No NAT: blank.
  EXPECT_NE(line_with(text, "curl").find(" https                        US "), std::string::npos)
      << line_with(text, "curl");
  // At 80 columns NAT is among the first columns to go.
  EXPECT_EQ(line_with(text_of(w, view::default_view_state(), {80, 12}), "ADDRESS").find("NAT"),
            std::string::npos);
}

TEST(Render, SourceRowsOnARouterShowTheInsideEndAndNat) {
  view::ViewState s = view::default_view_state();
  s.show_src = true;
  const std::string text = text_of(test::router_world(), s, {120, 16});
  const std::string pad(37, ' ');  // under ADDRESS
  EXPECT_EQ(line_with(text, "192.168.77.23:41000"),
            pad + "inside laptop.lan (192.168.77.23:41000) · SNAT to 203.0.113.9:61000");
  EXPECT_EQ(line_with(text, "192.168.77.10"),
            pad + "inside 192.168.77.10:22 · DNAT from 203.0.113.9:2222");
  EXPECT_EQ(line_with(text, "2001:db8:77::23"),
            pad + "inside laptop.lan ([2001:db8:77::23]:42000)");
  EXPECT_EQ(line_with(text, "local 203.0.113.9"), pad + "local 203.0.113.9:45000");
}

TEST(Render, AServersInboundFlowsShowTheClientAndWhatTheServerSent) {
  view::ViewState s = view::default_view_state();
  s.show_src = true;
  const std::string text = text_of(test::server_world(), s, {120, 16});
  EXPECT_NE(text.find(" 4 shown · 4 tracked · ↑ 211.1 kB/s ↓ 500.6 kB/s"), std::string::npos);
  EXPECT_EQ(
      line_with(text, "sshd"),
      "sshd   900 tcp4  ESTABLISHED   1m ← client.example.net ssh   GB      2.0 MB 200.0 kB/s "
      "  4.0 kB    400 B/s   1500     80");
  EXPECT_EQ(line_with(text, "(192.0.2.10:22)"),
            std::string(36, ' ') + "local server.example.org (192.0.2.10:22)");
  EXPECT_EQ(
      line_with(text, "tcp6"),
      "nginx 1300 tcp6  ESTABLISHED   1m ← 2001:db8:99::5     https DE     80.0 kB   8.0 kB/s "
      "  1.5 kB    150 B/s     60     10");
  EXPECT_EQ(line_with(text, "[2001:db8:5::10]"),
            std::string(36, ' ') + "local [2001:db8:5::10]:443");
  EXPECT_EQ(
      line_with(text, "apt"),
      "apt   2000 tcp4  ESTABLISHED   1m → example.com        https US       600 B     60 B/s "
      "  5.0 MB 500.0 kB/s      6   3500");
  EXPECT_NE(text_of(test::server_world(), s, {120, 16}, true).find(" 1m < client.example.net"),
            std::string::npos);
}

TEST(Render, DetailPaneOfAnInboundFlow) {
  view::ViewState s = view::default_view_state();
  s = view::apply(s, Command{K::SelectRow, 1});  // sshd
  s = view::apply(s, Command{K::Enter});
  const std::string text = text_of(test::server_world(), s, {120, 30});
  const std::size_t from = text.find(" Flow tcp4");
  const std::size_t to = text.find("CONFIRMED\n", from);
  ASSERT_NE(to, std::string::npos) << text;
  const std::string pane = text.substr(from, to + 10 - from);
  EXPECT_EQ(
      pane,
      " Flow tcp4 ESTABLISHED   id 21   zone 0   mark 0x0   timeout 431999s\n"
      "direction  ← inbound (answered here)\n"
      "orig       198.51.100.23:50123 → 192.0.2.10:22\n"
      "reply      192.0.2.10:22 → 198.51.100.23:50123\n"
      "sent ↑     2,000,000 B (2.0 MB)  1,500 packets  200.0 kB/s  200.0 pkt/s\n"
      "received ↓ 4,000 B (4.0 kB)  80 packets  400 B/s  4.0 pkt/s\n"
      "owner      sshd  pid 900  user root\n"
      "local      192.0.2.10  server.example.org  geo looking up\n"
      "remote     198.51.100.23  client.example.net  GB United Kingdom, London, AS5089 Virgin "
      "Media\n"
      "service    ssh\n"
      "started    2026-05-28 20:25:07 UTC (1m ago)\n"
      "status     SEEN_REPLY ASSURED CONFIRMED\n");
}

TEST(Render, DetailPaneOfAPortForward) {
  view::ViewState s = view::default_view_state();
  s = view::apply(s, Command{K::SelectRow, 3});  // nas
  s = view::apply(s, Command{K::Enter});
  const std::string text = text_of(test::router_world(), s, {120, 32});
  const std::size_t from = text.find(" Flow tcp4");
  const std::size_t to = text.find("CONFIRMED\n", from);
  ASSERT_NE(to, std::string::npos) << text;
  const std::string pane = text.substr(from, to + 10 - from);
  EXPECT_EQ(pane,
            " Flow tcp4 ESTABLISHED   id 32   zone 0   mark 0x0   timeout 431999s\n"
            "direction  ⇄ forwarded (routed through here)\n"
            "orig       198.51.100.99:55555 → 203.0.113.9:2222\n"
            "reply      192.168.77.10:22 → 198.51.100.99:55555\n"
            "nat        DNAT to 192.168.77.10:22\n"
            "sent ↑     900,000 B (900.0 kB)  700 packets  90.0 kB/s  90.0 pkt/s\n"
            "received ↓ 3,000 B (3.0 kB)  50 packets  300 B/s  3.0 pkt/s\n"
            "owner      LAN device aa:bb:cc:00:00:10  nas\n"
            "inside     192.168.77.10  name -  private\n"
            "remote     198.51.100.99  name -  NL Netherlands, Amsterdam, AS1136 KPN B.V.\n"
            "service    ssh\n"
            "started    2026-05-28 20:25:07 UTC (1m ago)\n"
            "status     SEEN_REPLY ASSURED CONFIRMED\n");
  // The masqueraded flow: the LAN client inside, SNAT.
  s = view::apply(view::default_view_state(), Command{K::SelectRow, 1});
  s = view::apply(s, Command{K::Enter});
  const std::string snat = text_of(test::router_world(), s, {120, 30});
  EXPECT_NE(snat.find("\nnat        SNAT to 203.0.113.9:61000\n"), std::string::npos);
  EXPECT_NE(snat.find("\nowner      LAN device aa:bb:cc:00:00:23  laptop\n"), std::string::npos);
  EXPECT_NE(snat.find("\ninside     192.168.77.23  laptop.lan  private\n"), std::string::npos);
}

TEST(Render, OwnersOnARouterListItsLanDevices) {
  view::ViewState s = view::default_view_state();
  s.tab = view::Tab::Owners;
  const std::string text = text_of(test::router_world(), s, {80, 12});
  EXPECT_EQ(line_with(text, "FLOWS"),
            "OWNER   PID USER               FLOWS   BYTES↑      RATE↑   BYTES↓     RATE↓▼");
  // The laptop's IPv4 and IPv6 flows are one device (one MAC); sent ↑, received ↓.
  EXPECT_TRUE(line_with(text, "laptop").starts_with("laptop    - aa:bb:cc:00:00:"))
      << line_with(text, "laptop");
  EXPECT_TRUE(
      line_with(text, "laptop").ends_with("      2   3.2 kB    320 B/s 123.0 kB  12.3 kB/s"))
      << line_with(text, "laptop");
  EXPECT_TRUE(line_with(text, "nas").ends_with("      1 900.0 kB  90.0 kB/s   3.0 kB    300 B/s"))
      << line_with(text, "nas");
  EXPECT_EQ(line_with(text, "curl"),
            "curl   4242 alice                  1    600 B     60 B/s  20.0 kB   2.0 kB/s");
  EXPECT_EQ(line_with(text, "  20 B/s"),
            "-         - -                      1    100 B     10 B/s    200 B     20 B/s");
}

// A LAN device's USER cell is its MAC: two devices of one vendor differ only at its end, so it
// must not be cut where there is room for it (beside the TOTAL columns from 140 columns on).
TEST(Render, OwnersShowTheWholeMacOfALanDevice) {
  view::ViewState s = view::default_view_state();
  s.tab = view::Tab::Owners;
  for (const int cols : {140, 200}) {
    const std::string text = text_of(test::router_world(), s, {cols, 12});
    EXPECT_NE(line_with(text, "laptop").find("aa:bb:cc:00:00:23"), std::string::npos)
        << cols << ": " << line_with(text, "laptop");
    EXPECT_NE(line_with(text, "nas").find("aa:bb:cc:00:00:10"), std::string::npos)
        << cols << ": " << line_with(text, "nas");
  }
}

// Marks, NAT cells and inside-end lines fit every width, in UTF-8 and in ASCII.
TEST(Render, ARoutersFlowsFitEveryWidth) {
  const test::FakeWorld w = test::router_world();
  view::ViewState s = view::default_view_state();
  s = view::apply(s, Command{K::SelectRow, 3});
  s = view::apply(s, Command{K::Enter});
  s.show_src = true;
  for (const view::Tab tab : {view::Tab::Flows, view::Tab::Owners, view::Tab::Hosts}) {
    for (int cols = 1; cols <= 300; ++cols) {
      for (const int lines : {10, 40}) {
        for (const bool ascii : {false, true}) {
          view::ViewState t = s;
          t.tab = tab;
          const Frame f = frame_of(w, t, {cols, lines}, ascii);
          for (std::size_t i = 0; i < f.lines.size(); ++i) {
            ASSERT_LE(line_width(f.lines[i]), static_cast<std::size_t>(cols))
                << view::tab_name(tab) << " " << cols << "x" << lines << " line " << i;
          }
          ASSERT_TRUE(clean(f)) << cols << "x" << lines;
        }
      }
    }
  }
}

// Without UTF-8 the ends read in ASCII too: the marks, the arrows, and the separators of the -s
// line ("inside ... · SNAT to ...").
TEST(Render, AsciiTerminalGetsTheEndsInAscii) {
  view::ViewState s = view::default_view_state();
  s = view::apply(s, Command{K::SelectRow, 3});  // the port forward, in the detail pane
  s = view::apply(s, Command{K::Enter});
  s.show_src = true;
  const std::string text = text_of(test::router_world(), s, {120, 40}, true);
  EXPECT_NE(text.find("direction  ~ forwarded (routed through here)"), std::string::npos);
  EXPECT_NE(text.find("orig       198.51.100.99:55555 -> 203.0.113.9:2222"), std::string::npos);
  EXPECT_NE(text.find("inside 192.168.77.10:22"), std::string::npos);
  EXPECT_NE(text.find("DNAT from 203.0.113.9:2222"), std::string::npos);
  for (const char* utf8 : {"⇄", "→", "←", "↑", "↓", "·", "…"}) {
    EXPECT_EQ(text.find(utf8), std::string::npos) << utf8 << " in:\n" << text;
  }
}

TEST(Render, HostsOnAServerAreItsClients) {
  view::ViewState s = view::default_view_state();
  s.tab = view::Tab::Hosts;
  const std::string text = text_of(test::server_world(), s, {80, 12});
  EXPECT_EQ(line_with(text, "client"),
            "client.example.net GB       2   2.0 MB 203.0 kB/s   4.9 kB    490 B/s     89");
  EXPECT_EQ(line_with(text, "2001:db8:99::5"),
            "2001:db8:99::5     DE       1  80.0 kB   8.0 kB/s   1.5 kB    150 B/s     10");
  EXPECT_EQ(text.find("192.0.2.10"), std::string::npos);
  EXPECT_EQ(text.find("server.example.org"), std::string::npos);
  EXPECT_EQ(text.find("2001:db8:5::10"), std::string::npos);
}

}  // namespace
}  // namespace flowtop::render

namespace flowtop::render {
namespace {

// A snapshot under pressure: 85% full, drops and early drops over the last second, two CPUs,
// lost events, one offloaded flow.
view::Snapshot pressured(const test::FakeWorld& w) {
  view::Snapshot snap = w.snapshot();
  core::CtStatsSample prev;
  prev.steady_ns = 1'000'000'000;
  prev.cpus = {{.cpu = 0, .drop = 10, .early_drop = 2}, {.cpu = 1, .insert_failed = 1}};
  core::CtStatsSample now = prev;
  now.steady_ns = 2'000'000'000;
  now.cpus[0].drop = 22;
  now.cpus[0].early_drop = 5;
  now.cpus[1].found = 7;
  now.entries = 222823;
  now.max = 262144;
  snap.status.pressure = core::pressure_between(prev, now);
  snap.status.events = 1500;
  snap.status.enobufs = 2;
  snap.status.resyncs = 1;
  snap.status.offloaded = 1;
  return snap;
}

std::string pressure_text(const test::FakeWorld& w, view::ViewState& s, Size size) {
  const view::Snapshot snap = pressured(w);
  const std::size_t cap = table_capacity(snap.status, s, size);
  const view::Rows rows = view::build_rows(snap, s, cap);
  view::settle(s, rows);
  const Frame f = render(rows, s, size, RenderOptions{"0.1.0", false});
  EXPECT_TRUE(clean(f));
  for (const Line& l : f.lines) {
    EXPECT_LE(line_width(l), static_cast<std::size_t>(size.cols));
  }
  return to_plain_text(f);
}

TEST(Render, PressurePaneShowsFillDropsLostEventsAndEveryCpu) {
  const test::FakeWorld w = test::sample_world();
  view::ViewState s = view::apply(all_protocols(), Command{K::TogglePressure});
  const std::string text = pressure_text(w, s, {160, 40});
  EXPECT_NE(text.find(" Conntrack pressure   (p or Esc closes)"), std::string::npos);
  EXPECT_EQ(line_with(text, "table "),
            "table      85.0% full: 222,823 of nf_conntrack_max 262,144  (when full, new flows "
            "are dropped)");
  EXPECT_EQ(line_with(text, "dropped "),
            "dropped    drop 22 (12/s)  early_drop 5 (3.0/s)  insert_failed 1 (0.0/s)  error 0 "
            "(0.0/s)");
  EXPECT_EQ(line_with(text, "flowtop    "),
            "flowtop    1,500 events; lost events 2 times (ENOBUFS), 1 resync dump");
  EXPECT_EQ(line_with(text, "offloaded "),
            "offloaded  1 flow in a flowtable (STATE OFFLOAD): counters and rates are stale");
  EXPECT_NE(line_with(text, "who ").find("state=UNREPLIED"), std::string::npos);
  EXPECT_EQ(line_with(text, "cpu=1 "),
            "cpu=1      found=7 invalid=0 insert=0 insert_failed=1 drop=0 early_drop=0 error=0 "
            "search_restart=0 clash_resolve=0 chaintoolong=0");
  // Any tab; and every size fits (checked in pressure_text).
  s = view::apply(s, Command{K::NextTab});
  EXPECT_NE(pressure_text(w, s, {80, 24}).find("Conntrack pressure"), std::string::npos);
  for (int cols : {40, 60, 100}) {
    for (int lines : {10, 17, 30}) {
      pressure_text(w, s, {cols, lines});
    }
  }
}

TEST(Render, PressurePaneWithoutKernelStatistics) {
  const test::FakeWorld w = test::sample_world();
  view::ViewState s = view::apply(all_protocols(), Command{K::TogglePressure});
  view::Snapshot snap = w.snapshot();
  snap.status.ct_max = 0;
  const std::size_t cap = table_capacity(snap.status, s, {120, 40});
  const view::Rows rows = view::build_rows(snap, s, cap);
  const std::string text = to_plain_text(render(rows, s, {120, 40}, RenderOptions{"0.1.0", false}));
  EXPECT_NE(text.find("limit unknown"), std::string::npos);
  EXPECT_NE(text.find("dropped    - (the kernel gave no statistics)"), std::string::npos);
  EXPECT_NE(text.find("offloaded  no flow in a flowtable"), std::string::npos);
}

TEST(Render, OffloadedFlowsAreMarkedInStateAndDetail) {
  test::FakeWorld w = test::sample_world();
  w.flows[0].status |= core::kStatusOffload;  // curl's flow
  view::ViewState s = all_protocols();
  s = view::apply(s, Command{K::SelectRow, 1});
  s = view::apply(s, Command{K::Enter});
  const std::string text = text_of(w, s, {160, 40});
  EXPECT_NE(line_with(text, "curl").find("OFFLOAD"), std::string::npos);
  EXPECT_NE(text.find("offload    a flowtable handles this flow: its counters and rates are stale"),
            std::string::npos);
  EXPECT_NE(text.find("status     SEEN_REPLY ASSURED CONFIRMED OFFLOAD"), std::string::npos);
  w.flows[0].status |= core::kStatusHwOffload;
  EXPECT_NE(line_with(text_of(w, s, {160, 40}), "curl").find("HW-OFFLOAD"), std::string::npos);
}

}  // namespace
}  // namespace flowtop::render
