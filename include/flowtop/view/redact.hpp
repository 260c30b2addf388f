#pragma once

// Privacy mode (--redact, the `P` key): the rows and texts a frame shows, with addresses, names,
// MACs and user names replaced by the run's pseudonyms (core::Redactor) for the ends the scope
// names. Applied where rows are copied out for showing or writing (build_rows, the JSON writer),
// never to the snapshot: sorting, filtering, the selection and the collector's shown set keep
// working on the kernel's values. Pure apart from the Redactor's memory.

#include <string>

#include "flowtop/core/flow.hpp"
#include "flowtop/core/redact.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/rows.hpp"

namespace flowtop::view {

/// Masks one flow row for `scope`: each address of both tuples that is the remote end's under
/// Remote, every other one under Local; the remote end's DNS name under Remote; the inside end's
/// name, the LAN device's MAC and lease name, the process's user and namespace under Local. In
/// any scope the process's command line is replaced by its name (it may hold addresses and
/// names). The kernel's key stays in FlowRow::kernel_key. Nothing changes for Off.
void redact_row(FlowRow& row, core::RedactScope scope, const core::Redactor& redactor);

/// Masks one aggregate row of `tab`: Owners: the user, a process's namespace, a LAN device's
/// name and MAC (Local); Hosts: the host's name or address (Remote). With `keys` its key too
/// (output that shows the key: JSON); the screen keeps the key, which the selection and Enter
/// use.
void redact_group(GroupRow& group, Tab tab, core::RedactScope scope, const core::Redactor& redactor,
                  bool keys);

/// A key with both addresses masked, for any scope but Off (the `x` prompt and its outcome: the
/// record that tells which end is remote is not at hand there).
core::FlowKey redact_key(const core::FlowKey& key, core::RedactScope scope,
                         const core::Redactor& redactor);

/// `text` (a filter as typed) with every IPv4 or IPv6 address in it masked; other words stay.
std::string redact_addresses_in(const std::string& text, const core::Redactor& redactor);

/// Whether `state` masks anything now (a scope other than Off and a redactor).
bool redacting(const ViewState& state);

}  // namespace flowtop::view
