#pragma once

// What the render tests share: a frame as the UI loop makes it, as text, and its lines.

#include <string>
#include <vector>

#include "flowtop/render/render.hpp"
#include "flowtop/view/rows.hpp"
#include "unit/view/fixture.hpp"

namespace flowtop::render {

// One frame as the UI loop makes it: capacity, rows, settle, render.
inline Frame frame_of(const test::FakeWorld& w, view::ViewState& state, Size size,
                      bool ascii = false, const std::vector<std::string>& health = {}) {
  view::Snapshot snap = w.snapshot();
  snap.status.health = health;
  const std::size_t cap = table_capacity(snap.status, state, size);
  const view::Rows rows = view::build_rows(snap, state, cap);
  view::settle(state, rows);
  return render(rows, state, size, RenderOptions{"0.1.0", ascii});
}

inline std::string text_of(const test::FakeWorld& w, view::ViewState state, Size size,
                           bool ascii = false) {
  return to_plain_text(frame_of(w, state, size, ascii));
}

inline view::ViewState all_protocols() {
  view::ViewState s = view::default_view_state();
  s.selection.udp = s.selection.icmp = true;
  return s;
}

// The line of `text` that contains `needle`, or "".
inline std::string line_with(const std::string& text, const std::string& needle) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) {
      return line;
    }
    start = end + 1;
  }
  return "";
}

}  // namespace flowtop::render
