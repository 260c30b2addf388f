#include "flowtop/app/track_guard.hpp"

#include <nftables/libnftables.h>

#include <stdexcept>
#include <string>

#include "flowtop/sys/shared_state.hpp"

namespace flowtop::app {
namespace {

// `ct state` in a base chain is what makes the kernel register the conntrack hooks of the
// namespace; the counter keeps the rule from being a no-op nft could warn about.
constexpr const char* kAddTable =
    "table inet flowtop_track {\n"
    "  chain track {\n"
    "    type filter hook prerouting priority -150; policy accept;\n"
    "    ct state new,established,related counter\n"
    "  }\n"
    "  chain track_out {\n"
    "    type filter hook output priority -150; policy accept;\n"
    "    ct state new,established,related counter\n"
    "  }\n"
    "}\n";

struct NftResult {
  int rc = 0;
  std::string error;
};

// Runs one nft command in the calling thread's network namespace, output and errors captured.
NftResult run_nft(const std::string& cmd) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    return {-1, "cannot create an nftables context"};
  }
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  NftResult result;
  result.rc = nft_run_cmd_from_buffer(ctx, cmd.c_str());
  if (const char* err = nft_ctx_get_error_buffer(ctx); err != nullptr) {
    result.error = err;
  }
  nft_ctx_free(ctx);
  while (!result.error.empty() && (result.error.back() == '\n' || result.error.back() == ' ')) {
    result.error.pop_back();
  }
  return result;
}

}  // namespace

struct TrackGuard::Impl {
  std::unique_ptr<sys::SharedState> state;
  bool added = false;
  bool restored = false;
};

// No emergency action: deleting a table takes netlink transactions through libnftables, which is
// not async-signal-safe. A table left by a killed or crashed instance is harmless (conntrack simply
// keeps tracking), and the next --track instance of the namespace keeps it and, as the last one
// to leave, deletes it.
TrackGuard::TrackGuard() : impl_(std::make_unique<Impl>()) {
  impl_->state = std::make_unique<sys::SharedState>(sys::run_dir() + "/track-" +
                                                    std::to_string(sys::netns_inode()));
  sys::SharedState& state = *impl_->state;
  if (state.first()) {
    // Our exclusive lock serialises this with every other flowtop of the namespace.
    const bool exists = run_nft(std::string("list table ") + kTable).rc == 0;
    if (!exists) {
      // Recorded first, so that a crash right after adding leaves a trace.
      state.write(std::string(kTable) + "\n");
      if (const NftResult r = run_nft(kAddTable); r.rc != 0) {
        state.remove();  // alone, and nothing to clean up: leave no state behind
        throw std::runtime_error(std::string("--track: cannot add nft table ") + kTable + ": " +
                                 (r.error.empty() ? "nft failed" : r.error));
      }
      impl_->added = true;
    } else if (!state.payload()) {
      state.write(std::string(kTable) + "\n");
    }
  }
  try {
    state.share();
  } catch (...) {
    restore();  // the destructor will not run
    throw;
  }
}

TrackGuard::~TrackGuard() {
  restore();
}

bool TrackGuard::added() const {
  return impl_->added;
}

void TrackGuard::restore() noexcept {
  if (!impl_ || impl_->restored) {
    return;
  }
  impl_->restored = true;
  try {
    if (impl_->state->last()) {
      // Already gone (deleted by hand) is fine; nothing else useful can be done about a failure.
      run_nft(std::string("delete table ") + kTable);
      impl_->state->remove();
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): at exit, nothing better to do
  }
  impl_->state.reset();
}

}  // namespace flowtop::app
