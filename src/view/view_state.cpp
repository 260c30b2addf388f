#include "flowtop/view/view_state.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace flowtop::view {
namespace {

constexpr std::array kIntervalSteps{0.1,  0.2,  0.5,   1.0,   2.0,    5.0,   10.0,
                                    30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0};

}  // namespace

ViewState default_view_state() {
  ViewState state;
  for (SortSpec& s : state.sort) {
    s = SortSpec{Column::RateIn, true};
  }
  return state;
}

std::vector<ColumnChoice> column_choice(const ViewState& state, Tab tab) {
  const auto all = columns_of(tab);
  const std::vector<ColumnChoice>& chosen = state.columns[static_cast<std::size_t>(tab)];
  std::vector<ColumnChoice> out;
  std::array<bool, kColumnCount> seen{};
  for (const ColumnChoice& c : chosen) {
    const auto i = static_cast<std::size_t>(c.column);
    if (i < kColumnCount && has_column(tab, c.column) && !seen[i]) {
      seen[i] = true;
      out.push_back(c);
    }
  }
  for (const Column c : all) {
    if (!seen[static_cast<std::size_t>(c)]) {
      out.push_back(ColumnChoice{c, chosen.empty()});
    }
  }
  if (std::none_of(out.begin(), out.end(), [](const ColumnChoice& c) { return c.shown; })) {
    for (ColumnChoice& c : out) {
      c.shown = true;
    }
  }
  return out;
}

std::vector<Column> shown_columns(const ViewState& state, Tab tab) {
  std::vector<Column> out;
  for (const ColumnChoice& c : column_choice(state, tab)) {
    if (c.shown) {
      out.push_back(c.column);
    }
  }
  return out;
}

Effects take_effects(ViewState& state) {
  return std::exchange(state.effects, Effects{});
}

double next_interval(double interval_s, int direction) {
  // A small tolerance so that 0.1 + float noise still counts as the step 0.1.
  constexpr double kEps = 1e-9;
  if (direction > 0) {
    for (const double step : kIntervalSteps) {
      if (step > interval_s + kEps) {
        return step;
      }
    }
    return kMaxInterval;
  }
  if (direction < 0) {
    // NOLINTNEXTLINE(modernize-loop-convert): std::views::reverse is not in clang 14's library
    for (auto it = kIntervalSteps.rbegin(); it != kIntervalSteps.rend(); ++it) {
      if (*it < interval_s - kEps) {
        return *it;
      }
    }
    return kMinInterval;
  }
  return interval_s;
}

}  // namespace flowtop::view
