#include "flowtop/view/column.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace flowtop::view {
namespace {

using C = Column;

constexpr std::array kFlowsColumns{C::Process, C::Pid,    C::Proto,      C::State,    C::Age,
                                   C::Address, C::Port,   C::Geo,        C::BytesOut, C::RateOut,
                                   C::BytesIn, C::RateIn, C::PacketsOut, C::PacketsIn};
constexpr std::array kProcessColumns{C::Process,    C::Pid,      C::User,    C::Flows,
                                     C::BytesOut,   C::RateOut,  C::BytesIn, C::RateIn,
                                     C::PacketsOut, C::PacketsIn};
constexpr std::array kHostColumns{C::Address, C::Geo,    C::Flows,      C::BytesOut, C::RateOut,
                                  C::BytesIn, C::RateIn, C::PacketsOut, C::PacketsIn};
constexpr std::array kCountryColumns{C::Country,  C::CountryName, C::Flows,
                                     C::BytesOut, C::RateOut,     C::BytesIn,
                                     C::RateIn,   C::PacketsOut,  C::PacketsIn};
constexpr std::array kAsColumns{C::Asn,     C::Org,    C::Flows,      C::BytesOut, C::RateOut,
                                C::BytesIn, C::RateIn, C::PacketsOut, C::PacketsIn};

constexpr std::array<std::string_view, kColumnCount> kNames{
    "process",   "pid",      "user",     "proto",        "state",       "age",       "address",
    "port",      "geo",      "country",  "country-name", "asn",         "org",       "flows",
    "bytes-out", "rate-out", "bytes-in", "rate-in",      "packets-out", "packets-in"};

struct Alias {
  std::string_view name;
  Column column;
};
constexpr std::array kAliases{
    Alias{"time", C::Age},      Alias{"host", C::Address},      Alias{"service", C::Port},
    Alias{"bytes", C::BytesIn}, Alias{"rate", C::RateIn},       Alias{"name", C::Process},
    Alias{"as", C::Asn},        Alias{"packets", C::PacketsIn},
};

}  // namespace

std::string_view tab_name(Tab tab) {
  switch (tab) {
    case Tab::Flows: return "Flows";
    case Tab::Processes: return "Processes";
    case Tab::Hosts: return "Hosts";
    case Tab::Countries: return "Countries";
    case Tab::As: return "AS";
  }
  return "";
}

std::optional<Tab> parse_tab(std::string_view name) {
  for (std::size_t i = 0; i < kTabCount; ++i) {
    const auto tab = static_cast<Tab>(i);
    const std::string_view n = tab_name(tab);
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return tab;
    }
  }
  return std::nullopt;
}

std::span<const Column> columns_of(Tab tab) {
  switch (tab) {
    case Tab::Flows: return kFlowsColumns;
    case Tab::Processes: return kProcessColumns;
    case Tab::Hosts: return kHostColumns;
    case Tab::Countries: return kCountryColumns;
    case Tab::As: return kAsColumns;
  }
  return {};
}

bool has_column(Tab tab, Column column) {
  const auto cols = columns_of(tab);
  return std::find(cols.begin(), cols.end(), column) != cols.end();
}

std::string_view column_name(Column column) {
  const auto i = static_cast<std::size_t>(column);
  return i < kNames.size() ? kNames[i] : std::string_view{};
}

std::optional<Column> parse_column(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == lower) {
      return static_cast<Column>(i);
    }
  }
  for (const Alias& a : kAliases) {
    if (a.name == lower) {
      return a.column;
    }
  }
  return std::nullopt;
}

bool descending_by_default(Column column) {
  switch (column) {
    case C::Age:
    case C::Flows:
    case C::BytesOut:
    case C::RateOut:
    case C::BytesIn:
    case C::RateIn:
    case C::PacketsOut:
    case C::PacketsIn: return true;
    default: return false;
  }
}

}  // namespace flowtop::view
