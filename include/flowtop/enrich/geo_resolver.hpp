#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flowtop/core/clock.hpp"
#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/ip_addr.hpp"

namespace flowtop::enrich {

/// A GeoIP source as the geo worker uses it (geoip::GeoDatabases in the app, a fake in tests).
/// Called on the worker thread only.
class GeoSource {
 public:
  GeoSource() = default;
  GeoSource(const GeoSource&) = delete;
  GeoSource& operator=(const GeoSource&) = delete;
  virtual ~GeoSource() = default;
  /// What the source knows of `addr`; nullopt when nothing.
  [[nodiscard]] virtual std::optional<core::GeoInfo> lookup(const core::IpAddr& addr) const = 0;
  /// Health lines (missing or corrupt databases).
  [[nodiscard]] virtual std::vector<std::string> notes() const = 0;
  /// Whether DB-IP data answers lookups (its licence asks for an attribution where it is used).
  [[nodiscard]] virtual bool uses_dbip() const { return false; }
};

/// Opens the source (on the worker thread). May return nullptr: no source.
using GeoOpener = std::function<std::unique_ptr<GeoSource>()>;

struct GeoResolverOptions {
  std::size_t queue_limit = 4096;
  std::size_t max_entries = 65536;
  std::int64_t ttl_ns = 3'600'000'000'000;  ///< the databases do not change while flowtop runs
  bool open_at_start = true;                ///< open the source at once (else on the first request)
  const core::Clock* clock = nullptr;       ///< nullptr = core::system_clock()
};

/// GeoIP lookups on one worker thread (fast MMDB lookups, but kept off the collector and the
/// screen), with a bounded de-duplicating queue and an RCU cache. request()/lookup() never block.
/// Thread-safety: request()/lookup()/notes()/stats from any RCU-registered thread. The destructor
/// joins the worker.
class GeoResolver {
 public:
  explicit GeoResolver(GeoOpener open, GeoResolverOptions opts = {});
  ~GeoResolver();
  GeoResolver(const GeoResolver&) = delete;
  GeoResolver& operator=(const GeoResolver&) = delete;

  /// Asks the worker to open the source now (when not open_at_start); never blocks.
  void open();
  void request(const core::IpAddr& addr);
  /// Ok(info), Failed (no source knows it), or Pending.
  [[nodiscard]] core::Lookup<core::GeoInfo> lookup(const core::IpAddr& addr) const;
  core::Lookup<core::GeoInfo> lookup_or_request(const core::IpAddr& addr);
  /// The source's notes once it is open (empty before).
  [[nodiscard]] std::vector<std::string> notes() const;
  /// Whether the open source uses DB-IP data (false before it is open).
  [[nodiscard]] bool uses_dbip() const;
  /// True once the worker tried to open the source.
  [[nodiscard]] bool opened() const;
  [[nodiscard]] std::uint64_t lookups() const;
  [[nodiscard]] std::uint64_t dropped() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowtop::enrich
