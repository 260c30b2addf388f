// Flows seen from this machine: the direction, the inside (or local) end and the remote end, and
// NAT, as the Flows, Owners and Hosts tabs show them, on a server and on a router.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "flowtop/core/ends.hpp"
#include "flowtop/view/cells.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/command.hpp"
#include "flowtop/view/rows.hpp"
#include "unit/view/ends_fixture.hpp"

namespace flowtop::view {
namespace {

using test::FakeWorld;

constexpr std::size_t kAll = 1000;

Rows all_rows(const FakeWorld& w, const ViewState& s) {
  return build_rows(w.snapshot(), s, kAll);
}

std::vector<std::uint32_t> ids_of(const Rows& rows) {
  std::vector<std::uint32_t> out;
  for (const FlowRow& r : rows.flows) {
    out.push_back(r.rec.id);
  }
  return out;
}

const FlowRow& row_of(const Rows& rows, std::uint32_t id) {
  const auto it = std::find_if(rows.flows.begin(), rows.flows.end(),
                               [&](const FlowRow& r) { return r.rec.id == id; });
  EXPECT_NE(it, rows.flows.end()) << "no row for flow " << id;
  return *it;
}

// A Flows cell as the screen shows it (before sanitising), `width` wide.
std::string cell(const FlowRow& row, Column c, const ViewState& s = default_view_state(),
                 std::size_t width = 10, bool ascii = false) {
  const CellContext ctx{s, test::kNowNs, width, ascii};
  return spec_of(c).flow_cell(row, ctx);
}

std::string group_cell(const GroupRow& g, Column c, const ViewState& s) {
  const CellContext ctx{s, test::kNowNs, 20, false};
  return spec_of(c).group_cell(g, ctx);
}

const GroupRow* group(const Rows& rows, const std::string& label) {
  for (const GroupRow& g : rows.groups) {
    if (g.label == label) {
      return &g;
    }
  }
  return nullptr;
}

std::vector<std::string> labels(const Rows& rows) {
  std::vector<std::string> out;
  for (const GroupRow& g : rows.groups) {
    out.push_back(g.label);
  }
  return out;
}

// Enter on the aggregate row labelled `label`: the Flows tab, filtered to that row's flows.
ViewState enter_on(const FakeWorld& w, ViewState s, const std::string& label) {
  Rows rows = all_rows(w, s);
  settle(s, rows);
  const auto it = std::find_if(rows.groups.begin(), rows.groups.end(),
                               [&](const GroupRow& g) { return g.label == label; });
  EXPECT_NE(it, rows.groups.end()) << label;
  s = apply(s, Command{Command::Kind::SelectRow, it - rows.groups.begin()});
  rows = all_rows(w, s);
  settle(s, rows);
  return apply(s, Command{Command::Kind::Enter});
}

TEST(Ends, TheFixturesAreClassifiedAsTheirMachinesSeeThem) {
  const auto direction = [](const FakeWorld& w, std::uint32_t id) {
    for (const auto& r : w.flows) {
      if (r.id == id) {
        return std::string(dir_word(r.direction()));
      }
    }
    return std::string("?");
  };
  const FakeWorld server = test::server_world();
  EXPECT_EQ(direction(server, 21), "in");
  EXPECT_EQ(direction(server, 22), "in");
  EXPECT_EQ(direction(server, 24), "out");
  const FakeWorld router = test::router_world();
  EXPECT_EQ(direction(router, 31), "fwd");
  EXPECT_EQ(direction(router, 32), "fwd");
  EXPECT_EQ(direction(router, 33), "fwd");
  EXPECT_EQ(direction(router, 34), "out");
}

TEST(EndsView, AnInboundFlowOnAServerShowsTheClientAsTheRemoteEnd) {
  const FakeWorld w = test::server_world();
  ViewState s = default_view_state();
  const Rows rows = all_rows(w, s);
  // By RATE↓, what the server received: apt's download first, then what clients sent it.
  EXPECT_EQ(ids_of(rows), (std::vector<std::uint32_t>{24, 21, 22, 23}));
  const FlowRow& ssh = row_of(rows, 21);
  EXPECT_EQ(cell(ssh, Column::Dir), "←");
  EXPECT_EQ(cell(ssh, Column::Dir, s, 1, true), "<");
  EXPECT_EQ(cell(ssh, Column::Process), "sshd");
  EXPECT_EQ(cell(ssh, Column::Address), "client.example.net");
  EXPECT_EQ(cell(ssh, Column::Port), "ssh");  // the server's port, not the client's 50123
  EXPECT_EQ(cell(ssh, Column::Nat), "");
  // ↑ is what the server sent: the reply direction of a flow the client opened.
  EXPECT_EQ(cell(ssh, Column::BytesOut), "2.0 MB");
  EXPECT_EQ(cell(ssh, Column::BytesIn), "4.0 kB");
  EXPECT_EQ(cell(ssh, Column::RateOut), "200.0 kB/s");
  EXPECT_EQ(cell(ssh, Column::RateIn), "400 B/s");
  EXPECT_EQ(cell(ssh, Column::PacketsOut), "1500");
  EXPECT_EQ(cell(ssh, Column::PacketsIn), "80");
  EXPECT_EQ(source_text(ssh, true), "local server.example.org (192.0.2.10:22)");
  EXPECT_EQ(source_text(ssh, false), "local 192.0.2.10:22");
  s.dns = false;
  EXPECT_EQ(cell(ssh, Column::Address, s), "198.51.100.23");

  // IPv6: no name for the client, its address.
  const FlowRow& web6 = row_of(rows, 22);
  EXPECT_EQ(cell(web6, Column::Dir), "←");
  EXPECT_EQ(cell(web6, Column::Address), "2001:db8:99::5");
  EXPECT_EQ(cell(web6, Column::Port), "https");
  EXPECT_EQ(cell(web6, Column::BytesOut), "80.0 kB");
  EXPECT_EQ(source_text(web6, true), "local [2001:db8:5::10]:443");

  // The server's own download is outbound, as before.
  const FlowRow& apt = row_of(rows, 24);
  EXPECT_EQ(cell(apt, Column::Dir), "→");
  EXPECT_EQ(cell(apt, Column::Address), "example.com");
  EXPECT_EQ(cell(apt, Column::BytesIn), "5.0 MB");

  // The status line's totals are the server's: sent ↑ and received ↓.
  EXPECT_DOUBLE_EQ(rows.counts.rate_out, 60 + 200'000 + 8'000 + 3'000);
  EXPECT_DOUBLE_EQ(rows.counts.rate_in, 500'000 + 400 + 150 + 90);
}

TEST(EndsView, SortingByAddressPortAndDirectionUsesTheEndsTheyShow) {
  const FakeWorld w = test::server_world();
  ViewState s = default_view_state();
  s.sort[0] = SortSpec{Column::Port, false};  // 22 (ssh), then 443 three times; not 50123
  EXPECT_EQ(ids_of(all_rows(w, s)).front(), 21U);
  s.sort[0] = SortSpec{Column::Dir, false};  // out before in
  EXPECT_EQ(ids_of(all_rows(w, s)).front(), 24U);
  s.sort[0] = SortSpec{Column::Address, false};  // names, then addresses
  EXPECT_EQ(ids_of(all_rows(w, s)), (std::vector<std::uint32_t>{21, 23, 24, 22}));
  s.sort[0] = SortSpec{Column::BytesOut, true};  // what the server sent
  EXPECT_EQ(ids_of(all_rows(w, s)), (std::vector<std::uint32_t>{21, 22, 23, 24}));
}

TEST(EndsView, HostsOnAServerAreItsClientsNeverItself) {
  const FakeWorld w = test::server_world();
  ViewState s = default_view_state();
  s.tab = Tab::Hosts;
  const Rows rows = all_rows(w, s);
  EXPECT_EQ(labels(rows),
            (std::vector<std::string>{"example.com", "client.example.net", "2001:db8:99::5"}));
  for (const GroupRow& g : rows.groups) {
    EXPECT_NE(g.key.addr, test::addr("192.0.2.10")) << g.label;
    EXPECT_NE(g.key.addr, test::addr("2001:db8:5::10")) << g.label;
  }
  const GroupRow* client = group(rows, "client.example.net");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->flows, 2U);
  EXPECT_EQ(client->detail, "GB");
  EXPECT_EQ(client->bytes_out, 2'030'000U);  // the server sent it
  EXPECT_EQ(client->bytes_in, 4'900U);       // it sent the server
  EXPECT_DOUBLE_EQ(client->rate_out, 203'000);
  EXPECT_DOUBLE_EQ(client->rate_in, 490);
  EXPECT_EQ(group_cell(*client, Column::BytesOut, s), "2.0 MB");

  // Enter: that client's flows.
  const ViewState flows = enter_on(w, s, "client.example.net");
  EXPECT_EQ(flows.tab, Tab::Flows);
  EXPECT_EQ(flows.filter.text(), "remote=198.51.100.23");
  EXPECT_EQ(ids_of(all_rows(w, flows)), (std::vector<std::uint32_t>{21, 23}));
  const ViewState v6 = enter_on(w, s, "2001:db8:99::5");
  EXPECT_EQ(v6.filter.text(), "remote=2001:db8:99::5");
  EXPECT_EQ(ids_of(all_rows(w, v6)), (std::vector<std::uint32_t>{22}));
}

TEST(EndsView, AMasqueradedFlowOnARouterShowsItsLanClient) {
  const FakeWorld w = test::router_world();
  const ViewState s = default_view_state();
  const Rows rows = all_rows(w, s);
  // By RATE↓, what the inside end received: for the port forward, what the client sent the NAS.
  EXPECT_EQ(ids_of(rows), (std::vector<std::uint32_t>{33, 31, 34, 32, 35}));
  const FlowRow& snat = row_of(rows, 31);
  EXPECT_EQ(cell(snat, Column::Dir), "⇄");
  EXPECT_EQ(cell(snat, Column::Dir, s, 1, true), "~");
  EXPECT_EQ(cell(snat, Column::Process), "laptop");  // the LAN device's lease name
  EXPECT_EQ(cell(snat, Column::Pid), "-");
  EXPECT_EQ(cell(snat, Column::Address), "example.com");
  EXPECT_EQ(cell(snat, Column::Port), "https");
  EXPECT_EQ(cell(snat, Column::Nat, s, 6), "SNAT");
  EXPECT_EQ(cell(snat, Column::Nat, s, 8), "SNAT");
  EXPECT_EQ(cell(snat, Column::Nat, s, 30), "SNAT 203.0.113.9:61000");
  EXPECT_EQ(cell(snat, Column::BytesOut), "1.2 kB");  // the laptop sent
  EXPECT_EQ(cell(snat, Column::BytesIn), "53.0 kB");
  EXPECT_EQ(source_text(snat, true),
            "inside laptop.lan (192.168.77.23:41000) · SNAT to 203.0.113.9:61000");

  // Not a neighbour (or not yet known): no owner, and the flow still shows.
  const FlowRow& unknown = row_of(rows, 35);
  EXPECT_EQ(cell(unknown, Column::Process), "-");
  EXPECT_EQ(cell(unknown, Column::Nat, s, 30), "SNAT 203.0.113.9:62000");

  // The router's own flow: a process, outbound, no NAT.
  const FlowRow& own = row_of(rows, 34);
  EXPECT_EQ(cell(own, Column::Dir), "→");
  EXPECT_EQ(cell(own, Column::Process), "curl");
  EXPECT_EQ(cell(own, Column::Nat, s, 30), "");
  EXPECT_EQ(source_text(own, true), "local 203.0.113.9:45000");
}

TEST(EndsView, APortForwardShowsTheInternalServerAndItsPort) {
  FakeWorld w = test::router_world();
  ViewState s = default_view_state();
  Rows rows = all_rows(w, s);
  const FlowRow& dnat = row_of(rows, 32);
  EXPECT_EQ(cell(dnat, Column::Dir), "⇄");
  EXPECT_EQ(cell(dnat, Column::Process), "nas");
  EXPECT_EQ(cell(dnat, Column::Address), "198.51.100.99");  // the Internet client
  EXPECT_EQ(cell(dnat, Column::Port), "ssh");
  EXPECT_EQ(cell(dnat, Column::Nat, s, 6), "DNAT");
  EXPECT_EQ(cell(dnat, Column::Nat, s, 30), "DNAT 192.168.77.10:22");
  // ↑ what the NAS sent (the reply direction), ↓ what it received.
  EXPECT_EQ(cell(dnat, Column::BytesOut), "900.0 kB");
  EXPECT_EQ(cell(dnat, Column::BytesIn), "3.0 kB");
  EXPECT_EQ(cell(dnat, Column::RateOut), "90.0 kB/s");
  EXPECT_EQ(source_text(dnat, true), "inside 192.168.77.10:22 · DNAT from 203.0.113.9:2222");
  // Without a service name, PORT is the internal server's port: 22, not the forwarded 2222.
  w.enrichment[32].service.clear();
  rows = all_rows(w, s);
  EXPECT_EQ(cell(row_of(rows, 32), Column::Port), "22");

  // Sorted by NAT: the flows without any last, whichever way.
  s.sort[0] = SortSpec{Column::Nat, false};
  std::vector<std::uint32_t> ids = ids_of(all_rows(w, s));
  ASSERT_EQ(ids.size(), 5U);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{31, 35, 32, ids[3], ids[4]}));
  s.sort[0] = SortSpec{Column::Nat, true};
  ids = ids_of(all_rows(w, s));
  ASSERT_EQ(ids.size(), 5U);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{32, 31, 35, ids[3], ids[4]}));
  EXPECT_EQ(std::min(ids[3], ids[4]), 33U);
  EXPECT_EQ(std::max(ids[3], ids[4]), 34U);
}

TEST(EndsView, ForwardedIpv6WithoutNat) {
  const FakeWorld w = test::router_world();
  const ViewState s = default_view_state();
  const Rows rows = all_rows(w, s);
  const FlowRow& v6 = row_of(rows, 33);
  EXPECT_EQ(cell(v6, Column::Dir), "⇄");
  EXPECT_EQ(cell(v6, Column::Process), "laptop");
  EXPECT_EQ(cell(v6, Column::Address), "2a00-1450.example.net");
  EXPECT_EQ(cell(v6, Column::Nat, s, 30), "");
  EXPECT_EQ(source_text(v6, true), "inside laptop.lan ([2001:db8:77::23]:42000)");
  EXPECT_EQ(source_text(v6, false), "inside [2001:db8:77::23]:42000");
}

TEST(EndsView, OwnersOnARouterAreProcessesAndLanDevices) {
  const FakeWorld w = test::router_world();
  ViewState s = default_view_state();
  s.tab = Tab::Owners;
  const Rows rows = all_rows(w, s);
  EXPECT_EQ(labels(rows), (std::vector<std::string>{"laptop", "curl", "nas", "-"}));
  const GroupRow* laptop = group(rows, "laptop");
  ASSERT_NE(laptop, nullptr);
  EXPECT_EQ(laptop->flows, 2U);  // its IPv4 and IPv6 flows: one device, by its MAC
  EXPECT_EQ(laptop->key.pid, 0);
  EXPECT_EQ(group_cell(*laptop, Column::User, s), "aa:bb:cc:00:00:23");
  EXPECT_EQ(group_cell(*laptop, Column::Pid, s), "-");
  EXPECT_EQ(laptop->bytes_out, 3'200U);
  EXPECT_EQ(laptop->bytes_in, 123'000U);
  const GroupRow* nas = group(rows, "nas");
  ASSERT_NE(nas, nullptr);
  EXPECT_EQ(nas->bytes_out, 900'000U);  // what the NAS sent through the port forward
  const GroupRow* curl = group(rows, "curl");
  ASSERT_NE(curl, nullptr);
  EXPECT_EQ(group_cell(*curl, Column::Pid, s), "4242");
  EXPECT_EQ(group_cell(*curl, Column::User, s), "alice");

  // Enter on a device: its flows, by MAC.
  const ViewState flows = enter_on(w, s, "laptop");
  EXPECT_EQ(flows.filter.text(), "mac=aa:bb:cc:00:00:23");
  EXPECT_EQ(ids_of(all_rows(w, flows)), (std::vector<std::uint32_t>{33, 31}));
  // Enter on "-": the flows without an owner.
  const ViewState none = enter_on(w, s, "-");
  EXPECT_EQ(ids_of(all_rows(w, none)), (std::vector<std::uint32_t>{35}));
}

TEST(EndsView, ADeviceWithoutALeaseNameIsNamedByItsInsideEnd) {
  FakeWorld w = test::router_world();
  w.enrichment[31].host = test::device("aa:bb:cc:00:00:23", "");
  w.enrichment[33].host = test::device("aa:bb:cc:00:00:23", "");
  ViewState s = default_view_state();
  const Rows rows = all_rows(w, s);
  EXPECT_EQ(cell(row_of(rows, 31), Column::Process), "laptop.lan");  // its reverse DNS name
  s.dns = false;
  EXPECT_EQ(cell(row_of(all_rows(w, s), 31), Column::Process, s), "192.168.77.23");
}

TEST(EndsView, HostsOnARouterAreTheRemoteEnds) {
  const FakeWorld w = test::router_world();
  ViewState s = default_view_state();
  s.tab = Tab::Hosts;
  const Rows rows = all_rows(w, s);
  const GroupRow* example = group(rows, "example.com");
  ASSERT_NE(example, nullptr);
  EXPECT_EQ(example->flows, 2U);  // the laptop's, masqueraded, and the router's own
  EXPECT_NE(group(rows, "198.51.100.99"), nullptr);  // the port forward's client
  for (const GroupRow& g : rows.groups) {
    EXPECT_FALSE(test::prefix("192.168.77.0", 24).contains(g.key.addr)) << g.label;
    EXPECT_NE(g.key.addr, test::addr("203.0.113.9")) << g.label;
  }
  EXPECT_EQ(rows.groups.size(), 4U);
}

}  // namespace
}  // namespace flowtop::view
