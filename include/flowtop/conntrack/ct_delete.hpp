#pragma once

#include "flowtop/core/flow.hpp"

namespace flowtop::conntrack {

/// Deletes one conntrack entry, as `conntrack -D` does: IPCTNL_MSG_CT_DELETE with the entry's
/// original tuple (and its zone when it has one), in the calling thread's network namespace, on
/// a request socket of its own. Returns 0 when the kernel deleted it, ENOENT when it had no
/// such entry (already gone), or the errno of the failure (EPERM without CAP_NET_ADMIN). Never
/// throws for a kernel answer; blocks for one netlink round trip. Any thread that holds
/// CAP_NET_ADMIN (the UI thread keeps it).
int delete_entry(const core::FlowKey& key) noexcept;

}  // namespace flowtop::conntrack
