#include "flowtop/view/redact.hpp"

#include "flowtop/core/ends.hpp"
#include "flowtop/view/cells.hpp"

namespace flowtop::view {
namespace {

using core::RedactScope;

void mask_name(core::Lookup<std::string>& name, const core::Redactor& r) {
  if (!name.value.empty()) {
    name.value = r.name(name.value);
  }
}

// A label that is an address or a name.
std::string mask_label(const std::string& label, const core::Redactor& r) {
  if (label.empty() || label == "-") {
    return label;
  }
  if (const auto addr = core::IpAddr::parse(label)) {
    return r.address(*addr).to_string();
  }
  return r.name(label);
}

void mask_tuple_addresses(core::FlowTuple& t, const core::IpAddr& remote, RedactScope scope,
                          const core::Redactor& r) {
  for (core::IpAddr* a : {&t.src, &t.dst}) {
    const bool is_remote = *a == remote;
    if (is_remote ? core::redacts_remote(scope) : core::redacts_local(scope)) {
      *a = r.address(*a);
    }
  }
}

}  // namespace

std::string redact_addresses_in(const std::string& text, const core::Redactor& redactor) {
  const auto addr_char = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
  };
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!addr_char(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && addr_char(text[end])) {
      ++end;
    }
    const std::string word = text.substr(i, end - i);
    const auto addr = core::IpAddr::parse(word);
    out += addr ? redactor.address(*addr).to_string() : word;
    i = end;
  }
  return out;
}

bool redacting(const ViewState& state) {
  return state.redact != RedactScope::Off && state.redactor != nullptr;
}

core::FlowKey redact_key(const core::FlowKey& key, RedactScope scope,
                         const core::Redactor& redactor) {
  if (scope == RedactScope::Off) {
    return key;
  }
  // Without the record it is not known which end is remote: both are masked (never less than
  // the rows mask; the same pseudonyms as theirs).
  core::FlowKey out = key;
  out.orig.src = redactor.address(key.orig.src);
  out.orig.dst = redactor.address(key.orig.dst);
  return out;
}

void redact_row(FlowRow& row, RedactScope scope, const core::Redactor& redactor) {
  if (scope == RedactScope::Off) {
    return;
  }
  if (!row.kernel_key) {
    row.kernel_key = row.rec.key;
  }
  const core::IpAddr remote = core::ends_of(row.rec).remote.addr;
  mask_tuple_addresses(row.rec.key.orig, remote, scope, redactor);
  mask_tuple_addresses(row.rec.reply, remote, scope, redactor);
  core::Enrichment& e = row.enrich;
  if (core::redacts_remote(scope)) {
    mask_name(e.remote_name, redactor);
  }
  if (core::redacts_local(scope)) {
    mask_name(e.inside_name, redactor);
    if (e.host.ok()) {
      e.host.value.mac = redactor.mac(e.host.value.mac);
    }
    if (!e.host.value.name.empty()) {
      e.host.value.name = redactor.name(e.host.value.name);
    }
    if (!e.process.value.user.empty()) {
      e.process.value.user = redactor.user(e.process.value.user);
    }
    if (!e.process.value.netns.empty()) {
      e.process.value.netns = redactor.name(e.process.value.netns);
    }
  }
  e.process.value.cmdline = e.process.value.name;
}

void redact_group(GroupRow& g, Tab tab, RedactScope scope, const core::Redactor& redactor,
                  bool keys) {
  switch (tab) {
    case Tab::Owners:
      if (!core::redacts_local(scope)) {
        return;
      }
      if (g.key.name.starts_with('\x01')) {  // a LAN device: label name or address, detail MAC
        g.label = mask_label(g.label, redactor);
        g.detail = g.detail.empty() ? g.detail : redactor.mac(g.detail);
        if (keys) {
          g.key.name = "\x01" + redactor.mac(g.key.name.substr(1));
        }
      } else {
        if (const std::size_t at = g.label.find('@');
            at != std::string::npos && g.label.compare(0, at, g.key.name) == 0) {
          g.label = g.key.name + "@" + redactor.name(g.label.substr(at + 1));  // name@netns
        }
        if (!g.detail.empty() && g.detail != "-") {
          g.detail = redactor.user(g.detail);
        }
      }
      break;
    case Tab::Hosts:
      if (!core::redacts_remote(scope)) {
        return;
      }
      g.label = mask_label(g.label, redactor);
      if (keys) {
        g.key.addr = redactor.address(g.key.addr);
      }
      break;
    case Tab::Flows:
    case Tab::Countries:
    case Tab::As: break;
  }
}

}  // namespace flowtop::view
