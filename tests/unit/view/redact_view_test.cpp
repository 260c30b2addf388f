// Privacy mode in the view: rows carry pseudonyms for the scope's ends, while the selection, the
// collector's shown set and `x` keep the kernel's keys.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "flowtop/view/command.hpp"
#include "flowtop/view/redact.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::view {
namespace {

using core::RedactScope;

std::shared_ptr<const core::Redactor> redactor() {
  core::Redactor::Key k{};
  k[0] = 42;
  return std::make_shared<const core::Redactor>(k);
}

FlowRow sample_row() {
  FlowRow row;
  row.rec = test::make_flow({.src = "10.0.0.2", .dst = "93.184.216.34"});
  row.enrich.process = test::process(4242, "curl", "alice", "curl -s https://93.184.216.34/");
  row.enrich.inside_name = core::Lookup<std::string>::ready("laptop.lan");
  row.enrich.remote_name = core::Lookup<std::string>::ready("example.com");
  core::HostOwner host;
  host.mac = flowtop::core::MacAddr{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  host.name = "phone";
  row.enrich.host = core::Lookup<core::HostOwner>::ready(host);
  return row;
}

TEST(Redact, AllMasksBothEndsNamesMacsAndUsers) {
  const auto r = redactor();
  FlowRow row = sample_row();
  const core::FlowKey kernel = row.rec.key;
  redact_row(row, RedactScope::All, *r);
  EXPECT_EQ(row.key(), kernel) << "the kernel's key stays for the selection and x";
  EXPECT_EQ(row.rec.key.orig.src, r->address(kernel.orig.src));
  EXPECT_EQ(row.rec.key.orig.dst, r->address(kernel.orig.dst));
  EXPECT_EQ(row.rec.reply.src, r->address(kernel.orig.dst)) << "the same address, the same mask";
  EXPECT_EQ(row.rec.reply.dst, r->address(kernel.orig.src));
  EXPECT_EQ(row.enrich.inside_name.value, r->name("laptop.lan"));
  EXPECT_EQ(row.enrich.remote_name.value, r->name("example.com"));
  EXPECT_EQ(flowtop::core::mac_text(row.enrich.host.value.mac), r->mac("aa:bb:cc:dd:ee:ff"))
      << "the bytes and the text of a MAC get the same mask";
  EXPECT_EQ(row.enrich.host.value.name, r->name("phone"));
  EXPECT_EQ(row.enrich.process.value.user, r->user("alice"));
  EXPECT_EQ(row.enrich.process.value.name, "curl") << "process names are not personal";
  EXPECT_EQ(row.enrich.process.value.cmdline, "curl") << "a command line may hold addresses";
}

TEST(Redact, LocalAndRemoteMaskOnlyTheirEnds) {
  const auto r = redactor();
  FlowRow local = sample_row();
  const core::FlowKey kernel = local.rec.key;
  redact_row(local, RedactScope::Local, *r);
  EXPECT_EQ(local.rec.key.orig.src, r->address(kernel.orig.src));
  EXPECT_EQ(local.rec.key.orig.dst, kernel.orig.dst);
  EXPECT_EQ(local.enrich.remote_name.value, "example.com");
  EXPECT_EQ(local.enrich.process.value.user, r->user("alice"));

  FlowRow remote = sample_row();
  redact_row(remote, RedactScope::Remote, *r);
  EXPECT_EQ(remote.rec.key.orig.src, kernel.orig.src);
  EXPECT_EQ(remote.rec.key.orig.dst, r->address(kernel.orig.dst));
  EXPECT_EQ(remote.enrich.inside_name.value, "laptop.lan");
  EXPECT_EQ(remote.enrich.remote_name.value, r->name("example.com"));
  EXPECT_EQ(remote.enrich.process.value.user, "alice");
}

TEST(Redact, RowsShowPseudonymsAndTheSelectionKeepsTheKernelKey) {
  const test::FakeWorld w = test::sample_world();
  ViewState s = default_view_state();
  s.redactor = redactor();
  s.redact = RedactScope::All;
  const Rows rows = build_rows(w.snapshot(), s, 20);
  ASSERT_FALSE(rows.flows.empty());
  for (const FlowRow& f : rows.flows) {
    EXPECT_NE(f.rec.key.orig.src, f.key().orig.src);
  }
  settle(s, rows);
  ASSERT_TRUE(s.current_cursor().flow.has_value());
  EXPECT_EQ(*s.current_cursor().flow, rows.flows.front().key());
  EXPECT_EQ(visible_keys(rows).front(), rows.flows.front().key());
  bool seen = false;
  for (const auto& rec : w.flows) {
    seen = seen || rec.key == rows.flows.front().key();
  }
  EXPECT_TRUE(seen) << "the kernel key is one of the snapshot's";
}

TEST(Redact, HostsTabMasksLabelsAndKeysOnlyForOutput) {
  const auto r = redactor();
  GroupRow g;
  g.key.addr = *core::IpAddr::parse("93.184.216.34");
  g.label = "93.184.216.34";
  GroupRow screen = g;
  redact_group(screen, Tab::Hosts, RedactScope::All, *r, false);
  EXPECT_EQ(screen.label, r->address(g.key.addr).to_string());
  EXPECT_EQ(screen.key.addr, g.key.addr) << "Enter filters by the real host";
  GroupRow out = g;
  redact_group(out, Tab::Hosts, RedactScope::Remote, *r, true);
  EXPECT_EQ(out.key.addr, r->address(g.key.addr));
  GroupRow named = g;
  named.label = "example.com";
  redact_group(named, Tab::Hosts, RedactScope::Local, *r, true);
  EXPECT_EQ(named.label, "example.com") << "hosts are remote ends";
}

TEST(Redact, FilterTextAndKeysMaskAddresses) {
  const auto r = redactor();
  const auto a = *core::IpAddr::parse("10.61.0.1");
  EXPECT_EQ(redact_addresses_in("addr=10.61.0.1 and port=80", *r),
            "addr=" + r->address(a).to_string() + " and port=80");
  EXPECT_EQ(redact_addresses_in("net=10.61.0.1/24", *r),
            "net=" + r->address(a).to_string() + "/24");
  core::FlowKey k;
  k.orig.src = a;
  k.orig.dst = *core::IpAddr::parse("10.62.0.1");
  const core::FlowKey m = redact_key(k, RedactScope::Local, *r);
  EXPECT_EQ(m.orig.src, r->address(k.orig.src));
  EXPECT_EQ(m.orig.dst, r->address(k.orig.dst)) << "the prompt masks both ends";
}

TEST(Redact, PSwitchesBetweenOffAndTheChosenScope) {
  ViewState s = default_view_state();
  EXPECT_EQ(KeyMap{}.lookup(s, Input{'P'}).kind, Command::Kind::TogglePrivacy);
  ViewState none = apply(s, Command{Command::Kind::TogglePrivacy});
  EXPECT_EQ(none.redact, RedactScope::Off);
  EXPECT_EQ(none.message, "privacy mode is not available");
  s.redactor = redactor();
  s = apply(s, Command{Command::Kind::TogglePrivacy});
  EXPECT_EQ(s.redact, RedactScope::All);
  EXPECT_TRUE(redacting(s));
  s = apply(s, Command{Command::Kind::TogglePrivacy});
  EXPECT_EQ(s.redact, RedactScope::Off);
  s.redact_choice = RedactScope::Remote;  // --redact remote
  s = apply(s, Command{Command::Kind::TogglePrivacy});
  EXPECT_EQ(s.redact, RedactScope::Remote);
  EXPECT_FALSE(s.effects.persist) << "privacy mode is per run, never in flowtoprc";
}

}  // namespace
}  // namespace flowtop::view
