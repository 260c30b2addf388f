#pragma once

// The compiled form of a filter (private to src/view): an expression tree evaluated per flow.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flowtop/core/enrichment.hpp"
#include "flowtop/core/flow.hpp"
#include "flowtop/view/filter.hpp"

namespace flowtop::view {
namespace detail {

/// What a node reads while it is evaluated for one flow.
struct EvalContext {
  const core::FlowRecord& rec;
  const core::Enrichment& enrich;
  std::int64_t realtime_ns;
};

struct FilterNode {
  FilterNode() = default;
  FilterNode(const FilterNode&) = delete;
  FilterNode& operator=(const FilterNode&) = delete;
  virtual ~FilterNode() = default;
  [[nodiscard]] virtual bool eval(const EvalContext& ctx) const = 0;
};

using NodePtr = std::unique_ptr<const FilterNode>;

/// Parses `text` into a tree; throws FilterError (by value) on bad input. Sets `needs` to the
/// enrichment fields its terms read.
NodePtr parse_filter(std::string_view text, core::EnrichNeeds& needs);

}  // namespace detail

/// Builds and reads Filter values (its friend).
struct FilterAccess {
  static Filter make(std::string text, std::shared_ptr<const detail::FilterNode> root,
                     core::EnrichNeeds needs) {
    Filter f;
    f.text_ = std::move(text);
    f.root_ = std::move(root);
    f.needs_ = needs;
    return f;
  }
  static const detail::FilterNode* root(const Filter& f) { return f.root_.get(); }
};

}  // namespace flowtop::view
