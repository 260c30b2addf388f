#include "flowtop/app/track_guard.hpp"

#include <nftables/libnftables.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

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
  std::string output;
};

// Runs one nft command in the calling thread's network namespace, output and errors captured;
// `echo`: the output shows what was added, with the kernel's handles.
NftResult run_nft(const std::string& cmd, bool echo = false) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    return {-1, "cannot create an nftables context", ""};
  }
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  nft_ctx_output_set_flags(ctx, static_cast<unsigned>(NFT_CTX_OUTPUT_HANDLE) |
                                    (echo ? static_cast<unsigned>(NFT_CTX_OUTPUT_ECHO) : 0U));
  NftResult result;
  result.rc = nft_run_cmd_from_buffer(ctx, cmd.c_str());
  if (const char* err = nft_ctx_get_error_buffer(ctx); err != nullptr) {
    result.error = err;
  }
  if (const char* out = nft_ctx_get_output_buffer(ctx); out != nullptr) {
    result.output = out;
  }
  nft_ctx_free(ctx);
  while (!result.error.empty() && (result.error.back() == '\n' || result.error.back() == ' ')) {
    result.error.pop_back();
  }
  return result;
}

// The handle nft shows after `prefix` ("add table inet flowtop_track # handle 7"), if any.
std::optional<std::uint64_t> handle_after(std::string_view text, std::string_view prefix) {
  const auto at = text.find(prefix);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(at + prefix.size());
  rest = rest.substr(0, rest.find('\n'));
  constexpr std::string_view kMark = "# handle ";
  const auto mark = rest.find(kMark);
  if (mark == std::string_view::npos) {
    return std::nullopt;
  }
  rest.remove_prefix(mark + kMark.size());
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec != std::errc{} || end == rest.data()) {
    return std::nullopt;
  }
  return v;
}

// The handle of the namespace's table of our name, whoever made it; nullopt when there is none.
std::optional<std::uint64_t> current_handle() {
  const NftResult r = run_nft(std::string("list table ") + TrackGuard::kTable);
  if (r.rc != 0) {
    return std::nullopt;
  }
  return handle_after(r.output, std::string("table ") + TrackGuard::kTable + " {");
}

}  // namespace

std::optional<std::uint64_t> parse_track_payload(std::string_view payload) {
  return handle_after(payload, std::string(TrackGuard::kTable) + " ");
}

std::string track_payload(std::uint64_t handle) {
  return std::string(TrackGuard::kTable) + " # handle " + std::to_string(handle) + "\n";
}

struct TrackGuard::Impl {
  std::unique_ptr<sys::SharedState> state;
  bool added = false;
  bool restored = false;
};

// No emergency action: deleting a table takes netlink transactions through libnftables, which is
// not async-signal-safe. A table left by a killed or crashed instance is harmless (conntrack simply
// keeps tracking), and the next --track instance of the namespace keeps it and, as the last one
// to leave, deletes it.
//
// The state file records the handle the kernel gave the table flowtop added ("inet flowtop_track
// # handle 7"); table handles are never reused within a namespace. Only a table with that handle
// is ever deleted: an administrator's table of the same name is left alone.
TrackGuard::TrackGuard() : impl_(std::make_unique<Impl>()) {
  impl_->state =
      std::make_unique<sys::SharedState>(sys::run_dir() + "/track-" + sys::netns_name().name);
  sys::SharedState& state = *impl_->state;
  if (state.first()) {
    // Our exclusive lock serialises this with every other flowtop of the namespace.
    const auto recorded = parse_track_payload(state.payload().value_or(""));
    const auto existing = current_handle();
    if (existing && recorded && *existing == *recorded) {
      // Left by a killed instance: kept, and deleted by the last instance.
    } else if (existing) {
      // Someone else's table of the same name: used as it is, never deleted. (A table flowtop
      // added but could not record before a crash is treated the same way.)
      state.write("");
    } else {
      const NftResult r = run_nft(kAddTable, true);
      if (r.rc != 0) {
        state.remove();  // alone, and nothing to clean up: leave no state behind
        throw std::runtime_error(std::string("--track: cannot add nft table ") + kTable + ": " +
                                 (r.error.empty() ? "nft failed" : r.error));
      }
      const auto handle = handle_after(r.output, std::string("add table ") + kTable);
      state.write(handle ? track_payload(*handle) : std::string());
      impl_->added = true;
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
      // Only the table flowtop added, by its handle. Already gone (deleted by hand) is fine;
      // nothing else useful can be done about a failure.
      if (const auto handle = parse_track_payload(impl_->state->payload().value_or(""))) {
        run_nft("delete table inet handle " + std::to_string(*handle));
      }
      impl_->state->remove();
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): at exit, nothing better to do
  }
  impl_->state.reset();
}

}  // namespace flowtop::app
