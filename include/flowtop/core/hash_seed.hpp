#pragma once

#include <cstddef>
#include <cstdint>

#include "flowtop/core/ip_addr.hpp"

namespace flowtop::core {

/// A random 64-bit value drawn once per process (getrandom): the secret of every hash over keys
/// that strangers choose (ports, IPv6 addresses), so nobody can aim many keys at one bucket. Any
/// thread.
std::uint64_t hash_seed();

/// A seeded hash of an address, for tables keyed by addresses (enrichment caches, work queues).
struct SeededIpHash {
  std::size_t operator()(const IpAddr& a) const;
};

}  // namespace flowtop::core
