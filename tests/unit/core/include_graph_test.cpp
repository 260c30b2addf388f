// The module graph of DESIGN.md, enforced: each module includes only the modules it may use, and
// third-party C headers stay inside the one module that wraps them (never in public headers).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;

const std::map<std::string, std::set<std::string>> kAllowed = {
    {"core", {}},
    {"sys", {"core"}},
    {"rcu", {"core"}},
    {"table", {"core", "rcu"}},
    {"conntrack", {"core", "sys", "table", "rcu"}},
    {"geoip", {"core", "sys"}},
    {"enrich", {"core", "sys", "geoip", "rcu", "net"}},
    {"net", {"core", "sys"}},
    {"view", {"core"}},
    {"render", {"view", "core"}},
    {"tui", {"render", "view", "core", "sys"}},
    {"output", {"render", "view", "core"}},
    {"app",
     {"core", "sys", "rcu", "table", "conntrack", "geoip", "enrich", "net", "view", "render", "tui",
      "output"}},
};

// Third-party headers and the only module allowed to include them.
const std::map<std::string, std::set<std::string>> kWrappedBy = {
    {"urcu", {"rcu"}},  // the one RCU layer under the flow table and caches
    {"libmnl/", {"conntrack", "enrich", "net"}},  // ctnetlink; sock_diag; rtnetlink
    {"libnetfilter_conntrack/", {"conntrack"}},
    {"ncurses", {"tui"}},
    {"curses.h", {"tui"}},
    {"maxminddb", {"geoip"}},
    {"curl/", {"geoip"}},
    {"archive", {"geoip"}},
    {"zlib.h", {"geoip"}},
    {"nftables/", {"app"}},
    {"cap-ng.h", {"sys"}},  // capabilities (libcap-ng)
    // SHA-256 of MaxMind downloads; AES and HMAC of privacy mode's pseudonyms (core/redact)
    {"openssl/", {"geoip", "core"}},
};

fs::path root() {
  return fs::path(FLOWTOP_TEST_DATA).parent_path().parent_path();
}

/// The path of an #include line ("flowtop/core/flow.hpp"), or "" for any other line.
std::string included(const std::string& line) {
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos || line[i] != '#') {
    return "";
  }
  i = line.find_first_not_of(" \t", i + 1);
  if (i == std::string::npos || line.compare(i, 7, "include") != 0) {
    return "";
  }
  const std::size_t open = line.find_first_of("<\"", i + 7);
  if (open == std::string::npos) {
    return "";
  }
  const std::size_t close = line.find_first_of(">\"", open + 1);
  return close == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

struct Violation {
  std::string file, include, why;
};

std::vector<Violation> check_dir(const fs::path& dir, const std::string& module, bool is_public) {
  std::vector<Violation> out;
  if (!fs::exists(dir)) {
    return out;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      const std::string inc = included(line);
      if (inc.empty()) {
        continue;
      }
      const std::string rel = fs::relative(entry.path(), root()).string();
      if (inc.rfind("flowtop/", 0) == 0) {
        const std::string dep = inc.substr(8, inc.find('/', 8) - 8);
        if (dep != module && kAllowed.at(module).count(dep) == 0) {
          out.push_back({rel, inc, module + " may not use " + dep});
        }
        continue;
      }
      for (const auto& [prefix, owners] : kWrappedBy) {
        if (inc.rfind(prefix, 0) == 0 && (is_public || owners.count(module) == 0)) {
          out.push_back(
              {rel, inc,
               is_public ? "third-party header in a public header"
                         : "only " + *owners.begin() + " (and the modules listed) may include it"});
        }
      }
    }
  }
  return out;
}

TEST(IncludeGraph, ModulesIncludeOnlyWhatDesignAllows) {
  ASSERT_TRUE(fs::exists(root() / "include" / "flowtop")) << root();
  std::vector<Violation> all;
  std::size_t modules_seen = 0;
  for (const auto& [module, deps] : kAllowed) {
    const auto pub = check_dir(root() / "include" / "flowtop" / module, module, true);
    const auto priv = check_dir(root() / "src" / module, module, false);
    all.insert(all.end(), pub.begin(), pub.end());
    all.insert(all.end(), priv.begin(), priv.end());
    modules_seen += fs::exists(root() / "src" / module) ? 1 : 0;
  }
  EXPECT_GE(modules_seen, 6U) << "core, sys, table, conntrack, output and app at least";
  for (const auto& v : all) {
    ADD_FAILURE() << v.file << ": #include <" << v.include << ">: " << v.why;
  }
}

TEST(IncludeGraph, UnknownModuleDirectoriesAreFlagged) {
  for (const auto& entry : fs::directory_iterator(root() / "src")) {
    if (entry.is_directory()) {
      EXPECT_TRUE(kAllowed.contains(entry.path().filename().string()))
          << "src/" << entry.path().filename().string() << " is not a module of DESIGN.md";
    }
  }
}

}  // namespace
