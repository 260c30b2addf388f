#include "flowtop/output/batch_writer.hpp"

#include "flowtop/render/frame.hpp"

namespace flowtop::output {

std::string batch_frame(const view::Rows& rows, const view::ViewState& state, std::size_t width,
                        const render::ReportOptions& options) {
  return render::to_plain_text(render::render_report(rows, state, width, options)) + '\n';
}

bool write_batch_frame(const view::Prepared& prepared, const view::Snapshot& snapshot,
                       const view::ViewState& state, std::size_t width,
                       const render::ReportOptions& options,
                       core::FunctionRef<bool(std::string_view)> sink) {
  const view::Rows head = view::rows_range(prepared, snapshot, state, 0, 0);
  return render::write_report_text(
             head,
             [&](std::size_t first, std::size_t count) {
               return view::rows_range(prepared, snapshot, state, first, count);
             },
             state, width, options, sink) &&
         sink("\n");
}

}  // namespace flowtop::output
