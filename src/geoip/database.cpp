#include "flowtop/geoip/database.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "flowtop/core/text.hpp"
#include "tor_db.hpp"

namespace flowtop::geoip {
namespace {

// The probe walks this much of the search tree from each end; enough to reach real records in
// any database, bounded so that opening a 100 MB City database stays instant.
constexpr int kProbeNodes = 4096;
constexpr int kProbeRecords = 128;

constexpr const char* kNoDatabase =
    "no GeoIP database found: run 'flowtop -u' to download one (DB-IP Lite, free)";
constexpr const char* kNoLocation =
    "no GeoIP city or country database found: run 'flowtop -u' to download one (DB-IP Lite, free)";
constexpr const char* kTorLabel = "tor-geoipdb (countries only)";

/// File names and metadata are untrusted: no control characters in messages or labels.
std::string printable(std::string_view s, std::size_t max = 256) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

[[noreturn]] void fail(const std::string& path, std::string_view why) {
  throw std::runtime_error(fmt::format("{}: {}", printable(path), why));
}

[[noreturn]] void corrupt(const std::string& path, std::string_view why) {
  fail(path, fmt::format("truncated or corrupt ({})", why));
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

DbKind kind_of(std::string_view type) {
  if (contains(type, "City")) {
    return DbKind::City;
  }
  if (contains(type, "Country")) {
    return DbKind::Country;
  }
  if (contains(type, "ASN")) {
    return DbKind::Asn;
  }
  return DbKind::Unknown;
}

bool is_dbip_type(std::string_view type) {
  return core::istarts_with(type, "dbip") || core::icontains(type, "db-ip");
}

void check_metadata(const MMDB_s& db, const std::string& path) {
  const MMDB_metadata_s& m = db.metadata;
  if (m.binary_format_major_version != 2) {
    fail(path,
         fmt::format("unsupported MaxMind DB format version {}", m.binary_format_major_version));
  }
  if (m.ip_version != 4 && m.ip_version != 6) {
    corrupt(path, fmt::format("metadata ip_version {}", m.ip_version));
  }
  if (m.record_size != 24 && m.record_size != 28 && m.record_size != 32) {
    corrupt(path, fmt::format("metadata record_size {}", m.record_size));
  }
  if (m.node_count == 0) {
    corrupt(path, "metadata node_count 0");
  }
  if (m.database_type == nullptr || *m.database_type == '\0') {
    corrupt(path, "no database_type in the metadata");
  }
  const std::uint64_t tree_size = std::uint64_t{m.node_count} * m.record_size / 4;
  if (db.file_size < 0 || tree_size + 16 > static_cast<std::uint64_t>(db.file_size)) {
    corrupt(path, "the search tree is larger than the file");
  }
}

void decode(MMDB_entry_s entry, const std::string& path) {
  MMDB_entry_data_list_s* list = nullptr;
  const int status = MMDB_get_entry_data_list(&entry, &list);
  MMDB_free_entry_data_list(list);
  if (status != MMDB_SUCCESS) {
    corrupt(path, fmt::format("data section: {}", MMDB_strerror(status)));
  }
}

/// MMDB_open only reads the metadata at the end of the file; a file cut and patched, or a
/// corrupt tree, opens fine and fails on lookups. Walk part of the tree from both ends (the
/// lowest and highest networks, whose records are at both ends of the data section) and decode
/// every record met.
void probe(const MMDB_s& db, const std::string& path) {
  for (const bool right_first : {false, true}) {
    std::vector<std::uint32_t> stack{0};
    int nodes = 0;
    int records = 0;
    while (!stack.empty() && nodes < kProbeNodes && records < kProbeRecords) {
      const std::uint32_t number = stack.back();
      stack.pop_back();
      ++nodes;
      MMDB_search_node_s node{};
      const int status = MMDB_read_node(&db, number, &node);
      if (status != MMDB_SUCCESS) {
        corrupt(path, fmt::format("search tree: {}", MMDB_strerror(status)));
      }
      // Pushed in reverse, so the preferred side is walked first.
      const std::pair<std::uint64_t, std::uint8_t> sides[2] = {
          {right_first ? node.left_record : node.right_record,
           right_first ? node.left_record_type : node.right_record_type},
          {right_first ? node.right_record : node.left_record,
           right_first ? node.right_record_type : node.left_record_type}};
      const MMDB_entry_s entries[2] = {
          right_first ? node.left_record_entry : node.right_record_entry,
          right_first ? node.right_record_entry : node.left_record_entry};
      for (int i = 0; i < 2; ++i) {
        switch (sides[i].second) {
          case MMDB_RECORD_TYPE_SEARCH_NODE:
            stack.push_back(static_cast<std::uint32_t>(sides[i].first));
            break;
          case MMDB_RECORD_TYPE_DATA:
            decode(entries[i], path);
            ++records;
            break;
          case MMDB_RECORD_TYPE_EMPTY: break;
          default: corrupt(path, "search tree points outside the data section");
        }
      }
    }
  }
}

std::optional<std::string> get_string(MMDB_entry_s& entry, const char* const* keys) {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, keys) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return std::nullopt;
  }
  return std::string(data.utf8_string, data.data_size);
}

std::optional<std::uint32_t> get_uint(MMDB_entry_s& entry, const char* const* keys) {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, keys) != MMDB_SUCCESS || !data.has_data) {
    return std::nullopt;
  }
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16: return data.uint16;
    case MMDB_DATA_TYPE_UINT32: return data.uint32;
    case MMDB_DATA_TYPE_INT32:
      return data.int32 >= 0 ? std::optional<std::uint32_t>(data.int32) : std::nullopt;
    case MMDB_DATA_TYPE_UINT64:
      return data.uint64 <= UINT32_MAX ? std::optional<std::uint32_t>(data.uint64) : std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace

struct Database::Impl {
  MMDB_s mmdb{};
  bool open = false;
  std::string path;
  std::string type;
  DbKind kind = DbKind::Unknown;
  bool dbip = false;

  ~Impl() {
    if (open) {
      MMDB_close(&mmdb);
    }
  }
};

Database::Database(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("{}: cannot open", printable(path)));
  }
  if (!S_ISREG(st.st_mode)) {
    fail(path, "not a regular file");
  }
  if (st.st_size == 0) {
    fail(path, "empty file");
  }
  errno = 0;
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &impl_->mmdb);
  if (status != MMDB_SUCCESS) {
    if (status == MMDB_FILE_OPEN_ERROR && errno != 0) {
      throw std::system_error(errno, std::generic_category(),
                              fmt::format("{}: cannot open", printable(path)));
    }
    if (status == MMDB_INVALID_METADATA_ERROR || status == MMDB_UNKNOWN_DATABASE_FORMAT_ERROR) {
      fail(path, fmt::format("not a MaxMind DB file, or truncated ({})", MMDB_strerror(status)));
    }
    corrupt(path, MMDB_strerror(status));
  }
  impl_->open = true;
  check_metadata(impl_->mmdb, path);
  impl_->type = printable(impl_->mmdb.metadata.database_type, 128);
  impl_->kind = kind_of(impl_->type);
  if (impl_->kind == DbKind::Unknown) {
    fail(path, fmt::format("unsupported database type '{}' (need a City, Country or ASN database)",
                           impl_->type));
  }
  impl_->dbip = is_dbip_type(impl_->type);
  probe(impl_->mmdb, path);
}

Database::~Database() = default;

DbKind Database::kind() const {
  return impl_->kind;
}
const std::string& Database::path() const {
  return impl_->path;
}
const std::string& Database::type() const {
  return impl_->type;
}
bool Database::is_dbip() const {
  return impl_->dbip;
}
std::uint64_t Database::build_epoch() const {
  return impl_->mmdb.metadata.build_epoch;
}

bool Database::lookup(const core::IpAddr& addr, core::GeoInfo& out) const {
  sockaddr_storage ss{};
  if (addr.is_v4()) {
    // In an IPv6 database libmaxminddb starts IPv4 lookups at the ::a.b.c.d subtree.
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = addr.v4_be();
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, addr.bytes.data(), 16);
  }
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result =
      MMDB_lookup_sockaddr(&impl_->mmdb, reinterpret_cast<const sockaddr*>(&ss), &mmdb_error);
  // An IPv6 address in an IPv4-only database is an error here: simply not found.
  if (mmdb_error != MMDB_SUCCESS || !result.found_entry) {
    return false;
  }
  out.kind = core::GeoInfo::Kind::Located;
  MMDB_entry_s& entry = result.entry;
  auto set = [](std::string& field, std::optional<std::string> value) {
    if (value && !value->empty()) {
      field = std::move(*value);
    }
  };
  if (impl_->kind == DbKind::City || impl_->kind == DbKind::Country) {
    static constexpr const char* kIso[] = {"country", "iso_code", nullptr};
    static constexpr const char* kName[] = {"country", "names", "en", nullptr};
    // Satellite and anycast networks may only have the registration country.
    static constexpr const char* kRegIso[] = {"registered_country", "iso_code", nullptr};
    static constexpr const char* kRegName[] = {"registered_country", "names", "en", nullptr};
    static constexpr const char* kCity[] = {"city", "names", "en", nullptr};
    if (auto iso = get_string(entry, kIso)) {
      set(out.country, std::move(iso));
      set(out.country_name, get_string(entry, kName));
    } else {
      set(out.country, get_string(entry, kRegIso));
      set(out.country_name, get_string(entry, kRegName));
    }
    set(out.city, get_string(entry, kCity));
  } else {
    static constexpr const char* kAsn[] = {"autonomous_system_number", nullptr};
    static constexpr const char* kOrg[] = {"autonomous_system_organization", nullptr};
    if (auto asn = get_uint(entry, kAsn)) {
      out.asn = *asn;
    }
    set(out.org, get_string(entry, kOrg));
  }
  return true;
}

struct GeoDatabases::Impl {
  std::unique_ptr<Database> city;
  std::unique_ptr<Database> country;
  std::unique_ptr<Database> asn;
  std::optional<TorGeoDb> tor;  // only without a City or Country database
  std::vector<std::string> warnings;

  [[nodiscard]] const Database* location() const { return city ? city.get() : country.get(); }

  void scan(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      if (ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
        warnings.push_back(fmt::format("{}: cannot read ({})", printable(dir), ec.message()));
      }
      return;
    }
    std::vector<std::string> files;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.extension() == ".mmdb" && it->is_regular_file(ec)) {
        files.push_back(p.string());
      }
    }
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      try {
        auto db = std::make_unique<Database>(file);
        std::unique_ptr<Database>* slot = db->kind() == DbKind::City      ? &city
                                          : db->kind() == DbKind::Country ? &country
                                                                          : &asn;
        if (!*slot) {
          *slot = std::move(db);
        }
      } catch (const std::exception& e) {
        warnings.emplace_back(e.what());
      }
    }
  }
};

GeoDatabases::GeoDatabases(const std::vector<std::string>& dirs, const std::string& tor_dir)
    : impl_(std::make_unique<Impl>()) {
  for (const std::string& dir : dirs) {
    impl_->scan(dir);
  }
  if (impl_->city) {
    impl_->country.reset();  // a City database knows the countries too
  }
  if (impl_->location() == nullptr && !tor_dir.empty()) {
    TorGeoDb tor = TorGeoDb::load(tor_dir, impl_->warnings);
    if (!tor.empty()) {
      impl_->tor = std::move(tor);
    }
  }
  if (!any()) {
    impl_->warnings.emplace_back(kNoDatabase);
  } else if (impl_->location() == nullptr && !impl_->tor) {
    impl_->warnings.emplace_back(kNoLocation);
  }
}

GeoDatabases::~GeoDatabases() = default;

std::optional<core::GeoInfo> GeoDatabases::lookup(const core::IpAddr& addr) const {
  if (const auto kind = reserved_kind(addr)) {
    core::GeoInfo info;
    info.kind = *kind;
    return info;
  }
  core::GeoInfo info;
  bool found = false;
  if (const Database* db = impl_->location()) {
    found = db->lookup(addr, info) || found;
  } else if (impl_->tor) {
    info.country = impl_->tor->lookup(addr);
    found = !info.country.empty();
  }
  if (impl_->asn) {
    found = impl_->asn->lookup(addr, info) || found;
  }
  if (!found) {
    return std::nullopt;
  }
  return info;
}

bool GeoDatabases::any() const {
  return impl_->location() != nullptr || impl_->asn || impl_->tor;
}

bool GeoDatabases::uses_dbip() const {
  const Database* loc = impl_->location();
  return (loc != nullptr && loc->is_dbip()) || (impl_->asn && impl_->asn->is_dbip());
}

std::string GeoDatabases::source_label() const {
  std::vector<std::string> parts;
  if (const Database* db = impl_->location()) {
    parts.push_back(db->type());
  } else if (impl_->tor) {
    parts.emplace_back(kTorLabel);
  }
  if (impl_->asn) {
    parts.push_back(impl_->asn->type());
  }
  return fmt::format("{}", fmt::join(parts, " + "));
}

const std::vector<std::string>& GeoDatabases::warnings() const {
  return impl_->warnings;
}

std::string geoip_dir_problem(const std::string& geoip_dir) {
  if (geoip_dir.empty()) {
    return {};
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(geoip_dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return fmt::format("--geoip-dir {}: cannot read ({})", printable(geoip_dir), ec.message());
  }
  if (!fs::exists(st)) {
    return fmt::format("--geoip-dir {}: no such directory", printable(geoip_dir));
  }
  if (!fs::is_directory(st)) {
    return fmt::format("--geoip-dir {}: not a directory", printable(geoip_dir));
  }
  return {};
}

std::vector<std::string> default_dirs(const std::string& geoip_dir) {
  std::vector<std::string> dirs;
  if (!geoip_dir.empty()) {
    dirs.push_back(geoip_dir);
  }
  for (const char* dir : {"/var/lib/flowtop", "/usr/share/GeoIP", "/var/lib/GeoIP"}) {
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) {
      dirs.emplace_back(dir);
    }
  }
  return dirs;
}

}  // namespace flowtop::geoip
