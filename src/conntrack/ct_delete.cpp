#include "flowtop/conntrack/ct_delete.hpp"

#include <cerrno>
#include <system_error>

#include "ct_socket.hpp"

namespace flowtop::conntrack {

int delete_entry(const core::FlowKey& key) noexcept {
  try {
    CtSocket socket(0);
    return socket.destroy(key);
  } catch (const std::system_error& e) {
    return e.code().value() != 0 ? e.code().value() : EIO;
  } catch (...) {
    return ENOMEM;
  }
}

}  // namespace flowtop::conntrack
