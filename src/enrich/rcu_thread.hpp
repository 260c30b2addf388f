#pragma once

namespace flowtop::enrich {

/// Registers the calling thread with liburcu (the default memb flavour, the one the flow table
/// uses) for its lifetime. The enrichment workers hold one; so do tests' threads. A thread already
/// registered elsewhere (table::RcuThread) must not hold a second one.
class RcuThreadScope {
 public:
  RcuThreadScope();
  ~RcuThreadScope();
  RcuThreadScope(const RcuThreadScope&) = delete;
  RcuThreadScope& operator=(const RcuThreadScope&) = delete;
};

}  // namespace flowtop::enrich
