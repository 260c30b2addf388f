// libFuzzer target: the filter language (`/` on the screen, --filter). Any text compiles or is
// refused with an error; a compiled filter is evaluated against a few flows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/view/filter.hpp"
#include "fuzz_input.hpp"

namespace {

flowtop::core::FlowRecord flow(const char* src, const char* dst, std::uint16_t sport,
                               std::uint16_t dport, std::uint8_t proto) {
  flowtop::core::FlowRecord r;
  r.key.family = flowtop::core::IpAddr::parse(src)->is_v4() ? flowtop::core::Family::V4
                                                            : flowtop::core::Family::V6;
  r.key.proto = proto;
  r.key.orig.src = *flowtop::core::IpAddr::parse(src);
  r.key.orig.dst = *flowtop::core::IpAddr::parse(dst);
  r.key.orig.sport = sport;
  r.key.orig.dport = dport;
  r.orig_ctr = {12, 1200};
  r.reply_ctr = {40, 53000};
  r.flags = flowtop::core::FlowRecord::kHasCounters | flowtop::core::FlowRecord::kHasPorts;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  auto result = flowtop::view::compile_filter(in.text());
  if (auto* err = std::get_if<flowtop::view::FilterError>(&result)) {
    flowtop::fuzz::keep(err->describe());
    return 0;
  }
  const auto& filter = std::get<flowtop::view::Filter>(result);
  flowtop::core::Enrichment enr;
  enr.service = "https";
  enr.remote_name = flowtop::core::Lookup<std::string>::ready("example.com");
  flowtop::core::GeoInfo geo;
  geo.country = "DE";
  geo.city = "Berlin";
  geo.asn = 3320;
  geo.org = "DTAG";
  enr.remote_geo = flowtop::core::Lookup<flowtop::core::GeoInfo>::ready(geo);
  flowtop::core::ProcessInfo proc;
  proc.pid = 4242;
  proc.name = "curl";
  proc.user = "alice";
  enr.process = flowtop::core::Lookup<flowtop::core::ProcessInfo>::ready(proc);
  for (const auto& rec : {flow("10.0.0.2", "93.184.216.34", 51234, 443, 6),
                          flow("2001:db8::1", "2001:db8::2", 5353, 53, 17)}) {
    flowtop::fuzz::keep(flowtop::view::matches(filter, rec, enr, 1'795'745'470'000'000'000));
    flowtop::fuzz::keep(flowtop::view::matches(filter, rec, flowtop::core::Enrichment{}, 0));
  }
  return 0;
}
