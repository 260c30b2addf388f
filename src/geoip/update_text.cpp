#include "update_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "flowtop/sys/bounded_file.hpp"

namespace flowtop::geoip::detail {
std::string display_url(std::string_view url) {
  std::string u(url);
  if (const auto scheme = u.find("://"); scheme != std::string::npos) {
    const auto host = scheme + 3;
    const auto end = u.find_first_of("/?#", host);
    const auto at = u.rfind('@', end == std::string::npos ? u.size() : end);
    if (at != std::string::npos && at >= host) {
      u.erase(host, at + 1 - host);
    }
  }
  return sanitize_text(u, 300);
}

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

bool is_safe_file_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '+';
  });
}

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      words.emplace_back(line.substr(start, i - start));
    }
  }
  return words;
}

std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

std::optional<std::string> read_small_file(const std::string& path, std::string& why) {
  constexpr std::size_t kMaxBytes = 1 << 20;
  sys::FileText file = sys::read_bounded_file(path, kMaxBytes);
  if (!file.text) {
    why = file.why;
    return std::nullopt;
  }
  return std::move(file.text);
}

}  // namespace flowtop::geoip::detail
