#include "flowtop/output/batch_writer.hpp"

#include "flowtop/render/frame.hpp"

namespace flowtop::output {

std::string batch_frame(const view::Rows& rows, const view::ViewState& state, std::size_t width,
                        const render::ReportOptions& options) {
  return render::to_plain_text(render::render_report(rows, state, width, options)) + '\n';
}

}  // namespace flowtop::output
