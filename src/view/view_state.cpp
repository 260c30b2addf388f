#include "flowtop/view/view_state.hpp"

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
