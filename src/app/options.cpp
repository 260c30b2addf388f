#include "flowtop/app/options.hpp"

#include <fmt/format.h>
#include <getopt.h>

#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <string_view>
#include <system_error>
#include <variant>

#include "flowtop/core/text.hpp"

#ifndef FLOWTOP_VERSION
#error "FLOWTOP_VERSION must be defined by the build"
#endif

namespace flowtop::app {
namespace {

// Codes of the long-only options (above every char value).
enum LongOnly : int {
  kBatch = 256,
  kJson,
  kLoopback,
  kDnsFlows,
  kOther,
  kNoSysctl,
  kTrack,
  kGeoipDir,
  kLeases,
  kNetns,
  kSort,
  kFilter,
  kStats,
  kTab,
  kEventBuffer,
  kLinger,
  kEvents,
  kReadOnly,
  kRedact,
  kWindow,
};

// One option: getopt_long's table, error messages and --help are all built from this list.
struct OptionSpec {
  const char* name;      // long name
  int has_arg;           // no_argument / required_argument
  int code;              // short letter, or a LongOnly code
  const char* arg_name;  // shown in --help, nullptr without an argument
  const char* help;      // nullptr: hidden from --help
};

constexpr std::array kSpecs{
    OptionSpec{"ipv4", no_argument, '4', nullptr, "show IPv4 flows (with neither -4 nor -6: both)"},
    OptionSpec{"ipv6", no_argument, '6', nullptr, "show IPv6 flows"},
    OptionSpec{"tcp", no_argument, 'T', nullptr, "show TCP flows (the default protocol)"},
    OptionSpec{"udp", no_argument, 'U', nullptr, "show UDP and UDP-lite flows"},
    OptionSpec{"dccp", no_argument, 'D', nullptr, "show DCCP flows"},
    OptionSpec{"icmp", no_argument, 'I', nullptr, "show ICMP and ICMPv6 flows"},
    OptionSpec{"sctp", no_argument, 'S', nullptr, "show SCTP flows (protocol flags add up)"},
    OptionSpec{"other", no_argument, kOther, nullptr, "also show GRE and other generic protocols"},
    OptionSpec{"loopback", no_argument, kLoopback, nullptr, "show 127.0.0.0/8 and ::1 flows"},
    OptionSpec{"dns-flows", no_argument, kDnsFlows, nullptr, "show port-53 (DNS) flows"},
    OptionSpec{"no-dns", no_argument, 'n', nullptr, "no reverse DNS: numeric addresses only"},
    OptionSpec{"no-geoip", no_argument, 'G', nullptr, "no GeoIP: databases are not opened"},
    OptionSpec{"show-src", no_argument, 's', nullptr,
               "also show each flow's local (or inside) end and its NAT"},
    OptionSpec{"bits", no_argument, 'b', nullptr, "rates in bits per second"},
    OptionSpec{"interval", required_argument, 't', "N",
               "refresh interval in seconds (default 1; 0.1 to 3600)"},
    OptionSpec{"window", required_argument, kWindow, "SEC",
               "rates averaged over 2, 10 or 40 seconds, or off (default: last interval)"},
    OptionSpec{"sort", required_argument, kSort, "KEY",
               "sort column (rate-in, bytes-out, age, owner, dir, address, port...)"},
    OptionSpec{"filter", required_argument, kFilter, "EXPR",
               "show only the flows that match (e.g. 'port=443 and rate>1kB/s')"},
    OptionSpec{"tab", required_argument, kTab, "NAME",
               "what --batch/--json show (flows owners hosts countries as)"},
    OptionSpec{"redact", required_argument, kRedact, "WHAT",
               "privacy mode: mask local, remote or all addresses, names, MACs, users"},
    OptionSpec{"batch", no_argument, kBatch, nullptr, "plain-text frames to stdout, like top -b"},
    OptionSpec{"json", no_argument, kJson, nullptr,
               "NDJSON to stdout, one object per flow per frame"},
    OptionSpec{"events", no_argument, kEvents, nullptr,
               "with --json: NDJSON start and end records of flows instead of frames"},
    OptionSpec{"linger", required_argument, kLinger, "SEC",
               "keep ended flows shown, dimmed, for SEC seconds (default 5; 0 off)"},
    OptionSpec{"iterations", required_argument, 'c', "N",
               "stop after N frames (--events: N records)"},
    OptionSpec{"stats", no_argument, kStats, nullptr, "print timing and event statistics at exit"},
    OptionSpec{"no-sysctl", no_argument, kNoSysctl, nullptr,
               "leave nf_conntrack_acct and nf_conntrack_timestamp alone"},
    OptionSpec{"track", no_argument, kTrack, nullptr,
               "make the kernel track connections while flowtop runs"},
    OptionSpec{"read-only", no_argument, kReadOnly, nullptr,
               "disable the screen's actions (x: delete a flow, t: track)"},
    OptionSpec{"geoip-dir", required_argument, kGeoipDir, "DIR", "GeoIP database directory"},
    OptionSpec{"netns", required_argument, kNetns, "NS",
               "watch another network namespace: a name, a path or a process id"},
    OptionSpec{"leases", required_argument, kLeases, "FILE",
               "a DHCP lease file naming LAN devices (repeatable; besides the usual ones)"},
    OptionSpec{"update", no_argument, 'u', nullptr,
               "update the GeoIP databases from geoip.conf, then exit"},
    OptionSpec{"version", no_argument, 'v', nullptr, "print the version and exit"},
    OptionSpec{"help", no_argument, 'h', nullptr, "print this help and exit"},
    OptionSpec{"event-buffer", required_argument, kEventBuffer, "BYTES", nullptr},
};

// Leading ':' makes getopt report a missing argument as ':' rather than '?'.
constexpr const char* kShortOptions = ":46TUDISnGsbuvht:c:";

const OptionSpec* find_spec(int code) {
  for (const auto& spec : kSpecs) {
    if (spec.code == code) {
      return &spec;
    }
  }
  return nullptr;
}

// "-t/--interval" or "--sort".
std::string display_name(const OptionSpec& spec) {
  if (spec.code < 256) {
    return fmt::format("-{}/--{}", static_cast<char>(spec.code), spec.name);
  }
  return fmt::format("--{}", spec.name);
}

// An unknown short option as typed: "-x", or "-\xC3" for a byte that is not printable ASCII.
std::string short_name(int code) {
  if (code > 0x20 && code < 0x7f) {
    return fmt::format("-{}", static_cast<char>(code));
  }
  return fmt::format("-\\x{:02X}", static_cast<unsigned>(code) & 0xFFU);
}

std::string display_name(int code) {
  const OptionSpec* spec = find_spec(code);
  return spec != nullptr ? display_name(*spec) : short_name(code);
}

std::array<option, kSpecs.size() + 1> long_options() {
  std::array<option, kSpecs.size() + 1> out{};
  for (std::size_t i = 0; i < kSpecs.size(); ++i) {
    out[i] = option{kSpecs[i].name, kSpecs[i].has_arg, nullptr, kSpecs[i].code};
  }
  return out;  // the last entry stays all-zero
}

bool is_known_code(int code) {
  return code != 0 && find_spec(code) != nullptr;
}

// The message for getopt_long's '?': an unknown or ambiguous option, or a long option given
// "=value" it does not take. `current` is the argv element getopt consumed (meaningful for long
// options only).
std::string bad_option(int optopt_value, std::string_view current) {
  if (optopt_value != 0 && !is_known_code(optopt_value)) {
    return fmt::format("flowtop: unknown option '{}'", short_name(optopt_value));
  }
  const std::string_view name = current.substr(0, current.find('='));
  if (optopt_value != 0) {
    return fmt::format("flowtop: option '{}' does not take an argument", name);
  }
  int matches = 0;
  if (name.size() > 2) {
    for (const auto& spec : kSpecs) {
      matches += std::string_view(spec.name).starts_with(name.substr(2)) ? 1 : 0;
    }
  }
  return fmt::format("flowtop: {} option '{}'", matches > 1 ? "ambiguous" : "unknown", name);
}

// Seconds in fixed notation ("2", "0.5"), 0.1 .. 3600.
double parse_interval(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(value) || value < 0.1 ||
      value > 3600) {
    throw UsageError(fmt::format(
        "flowtop: invalid interval '{}' for -t/--interval: expected seconds from 0.1 to 3600",
        text));
  }
  return value;
}

// Seconds in fixed notation, 0 .. 3600.
double parse_linger(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(value) || value < 0 ||
      value > 3600) {
    throw UsageError(fmt::format(
        "flowtop: invalid time '{}' for --linger: expected seconds from 0 to 3600", text));
  }
  return value;
}

// A decimal integer in [min, max]; anything else names the option and what was expected.
std::uint64_t parse_integer(std::string_view text, int code, std::uint64_t min, std::uint64_t max,
                            std::string_view what, std::string_view expected) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < min || value > max) {
    throw UsageError(fmt::format("flowtop: invalid {} '{}' for {}: expected {}", what, text,
                                 display_name(code), expected));
  }
  return value;
}

// What the flags said, before defaults are applied.
struct Seen {
  bool ipv4 = false, ipv6 = false;
  bool tcp = false, udp = false, dccp = false, icmp = false, sctp = false;
  bool batch = false, json = false, update = false, version = false, help = false;
  bool events = false;
};

// Applies one option (a code getopt_long returned for a known option).
void apply(int code, const char* arg, Options& opts, Seen& seen) {
  switch (code) {
    case '4': seen.ipv4 = true; break;
    case '6': seen.ipv6 = true; break;
    case 'T': seen.tcp = true; break;
    case 'U': seen.udp = true; break;
    case 'D': seen.dccp = true; break;
    case 'I': seen.icmp = true; break;
    case 'S': seen.sctp = true; break;
    case 'n': opts.no_dns = true; break;
    case 'G': opts.no_geoip = true; break;
    case 's': opts.show_src = true; break;
    case 'b': opts.bits = true; break;
    case 'u': seen.update = true; break;
    case 'v': seen.version = true; break;
    case 'h': seen.help = true; break;
    case 't':
      opts.interval_s = parse_interval(arg);
      opts.interval_given = true;
      break;
    case 'c':
      opts.iterations = parse_integer(arg, 'c', 1, UINT64_MAX, "count", "an integer of at least 1");
      break;
    case kLinger: opts.linger_s = parse_linger(arg); break;
    case kEvents: seen.events = true; break;
    case kBatch: seen.batch = true; break;
    case kJson: seen.json = true; break;
    case kLoopback: opts.selection.loopback = true; break;
    case kDnsFlows: opts.selection.dns = true; break;
    case kOther: opts.selection.other = true; break;
    case kNoSysctl: opts.no_sysctl = true; break;
    case kTrack: opts.track = true; break;
    case kReadOnly: opts.read_only = true; break;
    case kWindow: {
      const auto w = core::parse_rate_window(arg);
      if (!w) {
        throw UsageError(fmt::format(
            "flowtop: invalid window '{}' for --window: expected 2, 10, 40 (seconds) or off",
            core::sanitize(arg, 40)));
      }
      opts.window = w;
      break;
    }
    case kRedact: {
      const auto scope = core::parse_redact_scope(arg);
      if (!scope || *scope == core::RedactScope::Off) {
        throw UsageError(
            fmt::format("flowtop: unknown scope '{}' for --redact: expected local, "
                        "remote or all",
                        core::sanitize(arg, 40)));
      }
      opts.redact = scope;
      break;
    }
    case kStats: opts.stats = true; break;
    case kSort:
      opts.sort = view::parse_column(arg);
      if (!opts.sort) {
        throw UsageError(
            fmt::format("flowtop: unknown sort key '{}' for --sort: expected a column name: {}",
                        core::sanitize(arg, 40), view::column_names()));
      }
      break;
    case kFilter: {
      auto compiled = view::compile_filter(arg);
      if (const auto* err = std::get_if<view::FilterError>(&compiled)) {
        throw UsageError(fmt::format("flowtop: invalid --filter '{}': {}", core::sanitize(arg, 200),
                                     err->describe()));
      }
      opts.filter = std::get<view::Filter>(std::move(compiled));
      break;
    }
    case kTab:
      opts.tab = view::parse_tab(arg);
      if (!opts.tab) {
        throw UsageError(
            fmt::format("flowtop: unknown tab '{}' for --tab: expected flows, owners, hosts, "
                        "countries or as",
                        core::sanitize(arg, 40)));
      }
      break;
    case kGeoipDir:
      if (*arg == '\0') {
        throw UsageError("flowtop: empty directory for --geoip-dir");
      }
      opts.geoip_dir = arg;
      break;
    case kNetns:
      if (*arg == '\0') {
        throw UsageError("flowtop: empty namespace for --netns");
      }
      opts.netns = arg;
      break;
    case kLeases:
      if (*arg == '\0') {
        throw UsageError("flowtop: empty file name for --leases");
      }
      opts.lease_files.emplace_back(arg);
      break;
    case kEventBuffer:
      opts.event_buffer =
          parse_integer(arg, kEventBuffer, 0, INT_MAX, "size", "bytes from 0 to 2147483647");
      break;
    default: break;
  }
}

void finish(const Seen& seen, Options& opts) {
  if (seen.batch && seen.json) {
    throw UsageError("flowtop: --batch and --json cannot be used together");
  }
  if (seen.events && !seen.json) {
    throw UsageError("flowtop: --events needs --json (it writes NDJSON records)");
  }
  if (seen.events && opts.tab && *opts.tab != view::Tab::Flows) {
    throw UsageError("flowtop: --events writes flows: --tab cannot be used with it");
  }
  if (opts.track && opts.read_only) {
    throw UsageError("flowtop: --track changes the firewall: it cannot be used with --read-only");
  }
  opts.events = seen.events;
  auto& sel = opts.selection;
  const bool any_family = seen.ipv4 || seen.ipv6;
  sel.ipv4 = !any_family || seen.ipv4;
  sel.ipv6 = !any_family || seen.ipv6;
  const bool any_proto = seen.tcp || seen.udp || seen.dccp || seen.icmp || seen.sctp;
  opts.families_given = any_family;
  opts.protocols_given = any_proto;
  sel.tcp = !any_proto || seen.tcp;
  sel.udp = seen.udp;
  sel.dccp = seen.dccp;
  sel.icmp = seen.icmp;
  sel.sctp = seen.sctp;
  if (seen.help) {
    opts.mode = Mode::Help;
  } else if (seen.version) {
    opts.mode = Mode::Version;
  } else if (seen.update) {
    opts.mode = Mode::Update;
  } else if (seen.batch) {
    opts.mode = Mode::Batch;
  } else if (seen.json) {
    opts.mode = Mode::Json;
  }
  // --batch and --json show one tab: its sort column must be one of its columns. (The screen
  // sorts every tab that has the column by it.)
  const bool frames = opts.mode == Mode::Batch || opts.mode == Mode::Json;
  const view::Tab tab = opts.tab.value_or(view::Tab::Flows);
  if (frames && opts.sort && !view::has_column(tab, *opts.sort)) {
    std::string names;
    for (const view::Column c : view::columns_of(tab)) {
      names += names.empty() ? "" : " ";
      names += view::column_name(c);
    }
    throw UsageError(fmt::format("flowtop: --sort {}: the {} tab has no such column (it has: {})",
                                 view::column_name(*opts.sort), view::tab_name(tab), names));
  }
}

}  // namespace

Options parse_options(int argc, char* const* argv) {
  static const auto kLongOptions = long_options();
  Options opts;
  Seen seen;
  optind = 0;  // 0, not 1: glibc then re-initialises its whole state (reentrant across calls)
  opterr = 0;
  for (;;) {
    // getopt_long keeps global state: parse_options is for the main thread (and tests) only.
    // NOLINTNEXTLINE(concurrency-mt-unsafe)
    const int code = getopt_long(argc, argv, kShortOptions, kLongOptions.data(), nullptr);
    if (code == -1) {
      break;
    }
    if (code == '?') {
      throw UsageError(bad_option(optopt, optind > 0 && optind <= argc ? argv[optind - 1] : ""));
    }
    if (code == ':') {
      throw UsageError(
          fmt::format("flowtop: option '{}' requires an argument", display_name(optopt)));
    }
    apply(code, optarg, opts, seen);
  }
  if (optind < argc) {
    throw UsageError(fmt::format("flowtop: unexpected argument '{}'", argv[optind]));
  }
  finish(seen, opts);
  return opts;
}

std::string help_text() {
  std::string out =
      "Usage: flowtop [options]\n"
      "A top-like viewer of the flows the kernel's connection tracking keeps.\n\n"
      "Options:\n";
  for (const auto& spec : kSpecs) {
    if (spec.help == nullptr) {
      continue;
    }
    std::string left = spec.code < 256
                           ? fmt::format("-{}, --{}", static_cast<char>(spec.code), spec.name)
                           : fmt::format("    --{}", spec.name);
    if (spec.arg_name != nullptr) {
      left += fmt::format(" {}", spec.arg_name);
    }
    out += fmt::format("  {:<24}{}\n", left, spec.help);
  }
  out +=
      "\nWith no protocol flag, TCP is shown; -46UTDISs shows everything.\n"
      "Loopback and port-53 flows are hidden unless --loopback / --dns-flows.\n";
  return out;
}

std::string version_text() {
  return "flowtop " FLOWTOP_VERSION;
}

}  // namespace flowtop::app
