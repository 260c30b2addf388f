// libFuzzer target: rtnetlink address, route and neighbour messages (the kernel's, but parsed
// with no trust in their lengths), and the facts built from what they say.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "flowtop/net/net_watcher.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const flowtop::fuzz::Misaligned in(data, size);
  std::vector<flowtop::net::AddrEntry> addrs;
  std::vector<flowtop::net::RouteEntry> routes;
  // Several messages back to back, as a dump delivers them: each says its own length.
  std::span<const std::uint8_t> rest = in.bytes();
  while (rest.size() >= 16) {
    std::uint32_t len = 0;
    std::memcpy(&len, rest.data(), sizeof len);
    if (const auto m = flowtop::net::parse_route_message(rest)) {
      if (m->kind == flowtop::net::RouteMessage::Kind::Addr) {
        addrs.push_back(m->addr);
      } else if (m->kind == flowtop::net::RouteMessage::Kind::Route) {
        routes.push_back(m->route);
      }
    }
    const std::size_t step = (static_cast<std::size_t>(len) + 3U) & ~std::size_t{3};
    if (step < 16 || step > rest.size()) {
      break;
    }
    rest = rest.subspan(step);
  }
  const flowtop::core::NetFacts facts = flowtop::net::facts_from(addrs, routes);
  flowtop::fuzz::keep(facts.local.size() + facts.inside.size());
  return 0;
}
