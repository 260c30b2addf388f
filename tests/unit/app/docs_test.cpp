// The documentation and the shell completions against the program: `--help`, the help screen's
// keys (view::KeyMap::help()), the tabs, columns, sort keys and filter terms must all appear in
// man/flowtop.8, and the completions must offer every option, sort key and filter term.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "flowtop/app/options.hpp"
#include "flowtop/view/column.hpp"
#include "flowtop/view/command.hpp"
#include "flowtop/view/filter.hpp"

namespace flowtop::app {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = fs::path(FLOWTOP_TEST_DATA) / ".." / "..";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos;
       pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// Roff text as a reader sees it: font escapes and macro names gone, \- a hyphen, arrows as
// the screen draws them, quotes of macro arguments dropped.
std::string plain(std::string line) {
  static const std::regex kMacro(R"(^\.(B|I|BR|RB|BI|IB|IR|RI|SM)\s+)");
  line = std::regex_replace(line, kMacro, "");
  static const std::regex kFont(R"(\\f[BIRP])");
  line = std::regex_replace(line, kFont, "");
  line = replace_all(line, "\\-", "-");
  line = replace_all(line, "\\(ua", "↑");
  line = replace_all(line, "\\(da", "↓");
  line = replace_all(line, "\\(ti", "~");
  line = replace_all(line, "\\&", "");
  line = replace_all(line, "\\e", "\\");
  line.erase(std::remove(line.begin(), line.end(), '"'), line.end());
  return line;
}

// The man page's lines from the one equal to `start` up to (not including) the next line that
// starts with one of `ends`.
std::vector<std::string> section(const std::vector<std::string>& man, std::string_view start,
                                 std::initializer_list<std::string_view> ends) {
  std::vector<std::string> out;
  auto it = std::find(man.begin(), man.end(), start);
  EXPECT_NE(it, man.end()) << "man/flowtop.8 has no '" << start << "'";
  if (it == man.end()) {
    return out;
  }
  for (++it; it != man.end(); ++it) {
    if (std::any_of(ends.begin(), ends.end(),
                    [&](std::string_view e) { return it->rfind(e, 0) == 0; })) {
      break;
    }
    out.push_back(*it);
  }
  return out;
}

// The tags of a section's .TP items, as plain text.
std::vector<std::string> tags(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i] == ".TP") {
      out.push_back(plain(lines[i + 1]));
    }
  }
  return out;
}

// Words separated by blanks and commas.
std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::string word;
  for (const char c : text + " ") {
    if (c == ' ' || c == ',' || c == '\t' || c == '\n') {
      if (!word.empty()) {
        out.insert(word);
      }
      word.clear();
    } else {
      word += c;
    }
  }
  return out;
}

std::set<std::string> words(const std::vector<std::string>& texts) {
  std::set<std::string> out;
  for (const auto& t : texts) {
    const auto w = words(t);
    out.insert(w.begin(), w.end());
  }
  return out;
}

const std::vector<std::string>& man_page() {
  static const std::vector<std::string> kMan = lines_of(read_text(kSourceDir / "man/flowtop.8"));
  return kMan;
}

struct HelpOptions {
  std::set<std::string> names;  ///< "--ipv4", "-4", "--other" ...
};

// The options `flowtop --help` lists.
HelpOptions help_options() {
  HelpOptions out;
  static const std::regex kLine(R"(^  (?:-(\S), )?\s*--([a-z0-9-]+))");
  for (const std::string& line : lines_of(help_text())) {
    std::smatch m;
    if (std::regex_search(line, m, kLine)) {
      if (m[1].matched) {
        out.names.insert("-" + m[1].str());
      }
      out.names.insert("--" + m[2].str());
    }
  }
  return out;
}

// Options named in tags: "-t, --interval seconds" -> {-t, --interval}.
std::set<std::string> option_names(const std::vector<std::string>& tag_texts) {
  std::set<std::string> out;
  static const std::regex kOption(R"((?:^|[\s,])(--[a-z0-9][a-z0-9-]*|-[A-Za-z0-9])(?=$|[\s,]))");
  for (const std::string& t : tag_texts) {
    for (auto it = std::sregex_iterator(t.begin(), t.end(), kOption); it != std::sregex_iterator();
         ++it) {
      out.insert((*it)[1].str());
    }
  }
  return out;
}

// Whether `text` has `token` with no word character or '-' right before or after it.
bool has_token(const std::string& text, const std::string& token) {
  const auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  };
  for (std::size_t pos = text.find(token); pos != std::string::npos;
       pos = text.find(token, pos + 1)) {
    const bool before = pos > 0 && word(text[pos - 1]);
    const std::size_t end = pos + token.size();
    const bool after = end < text.size() && word(text[end]);
    if (!before && !after) {
      return true;
    }
  }
  return false;
}

// Every string literal of the view module that is a lower-case word: the candidates for sort
// keys and filter terms, whichever table they are kept in.
std::set<std::string> view_literals() {
  std::set<std::string> out;
  static const std::regex kLiteral(R"re("([a-z][a-z0-9.-]*)")re");
  for (const auto* dir : {"src/view", "include/flowtop/view"}) {
    for (const auto& entry : fs::directory_iterator(kSourceDir / dir)) {
      const std::string text = read_text(entry.path());
      for (auto it = std::sregex_iterator(text.begin(), text.end(), kLiteral);
           it != std::sregex_iterator(); ++it) {
        out.insert((*it)[1].str());
      }
    }
  }
  return out;
}

bool is_sort_key(const std::string& word) {
  return view::parse_column(word).has_value();
}

// A term name: `NAME=VALUE` compiles for some value the term takes.
bool is_filter_term(const std::string& word) {
  for (const char* value : {"0", "x", "ipv4", "tcp", "ESTABLISHED", "10.0.0.0/8", "in", "snat"}) {
    if (std::holds_alternative<view::Filter>(view::compile_filter(word + "=" + value))) {
      return true;
    }
  }
  return false;
}

std::set<std::string> program_sort_keys() {
  std::set<std::string> out = words(view::column_names());  // every name and alias
  for (const std::string& w : out) {
    EXPECT_TRUE(is_sort_key(w)) << w;
  }
  return out;
}

std::set<std::string> program_filter_terms() {
  std::set<std::string> out;
  for (const auto& w : view_literals()) {
    if (is_filter_term(w)) {
      out.insert(w);
    }
  }
  return out;
}

// One completion file's lists.
struct Completion {
  std::string name;
  std::string text;
  std::set<std::string> sort_keys;
  std::set<std::string> filter_terms;
  std::set<std::string> tabs;
};

std::string first_group(const std::string& text, const std::regex& re) {
  std::smatch m;
  return std::regex_search(text, m, re) ? m[1].str() : std::string();
}

Completion bash_completion() {
  Completion c;
  c.name = "completions/flowtop.bash";
  c.text = read_text(kSourceDir / c.name);
  c.sort_keys = words(first_group(c.text, std::regex(R"(--sort\)\s*words='([^']*)')")));
  c.filter_terms = words(first_group(c.text, std::regex(R"(--filter\)\s*words='([^']*)')")));
  c.tabs = words(first_group(c.text, std::regex(R"(--tab\)\s*words='([^']*)')")));
  return c;
}

Completion zsh_completion() {
  Completion c;
  c.name = "completions/_flowtop";
  c.text = read_text(kSourceDir / c.name);
  c.sort_keys = words(first_group(c.text, std::regex(R"(sort_keys=\(([^)]*)\))")));
  // terms=( 'name:description' ... ) up to the line that closes it.
  const std::size_t from = c.text.find("terms=(");
  const std::size_t to = c.text.find("\n  )", from);
  const std::string terms =
      from == std::string::npos || to == std::string::npos ? "" : c.text.substr(from, to - from);
  static const std::regex kTerm(R"('([a-z.]+):)");
  for (auto it = std::sregex_iterator(terms.begin(), terms.end(), kTerm);
       it != std::sregex_iterator(); ++it) {
    c.filter_terms.insert((*it)[1].str());
  }
  c.tabs = words(first_group(c.text, std::regex(R"(--tab=\[[^\]]*\]:tab:\(([^)]*)\))")));
  return c;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& w : s) {
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

TEST(Docs, ManPageOptionsAreTheOptionsOfHelp) {
  const std::set<std::string> help = help_options().names;
  ASSERT_GT(help.size(), 20U) << "cannot read the options of --help:\n" << help_text();
  const std::set<std::string> man =
      option_names(tags(section(man_page(), ".SH OPTIONS", {".SH "})));
  std::set<std::string> missing;
  std::set_difference(help.begin(), help.end(), man.begin(), man.end(),
                      std::inserter(missing, missing.end()));
  EXPECT_TRUE(missing.empty()) << "in --help, not in the man page's OPTIONS: " << join(missing);
  std::set<std::string> extra;
  std::set_difference(man.begin(), man.end(), help.begin(), help.end(),
                      std::inserter(extra, extra.end()));
  EXPECT_TRUE(extra.empty()) << "in the man page's OPTIONS, not in --help: " << join(extra);
}

// README's options table: the option names in the first cell of each row after
// "| option | meaning |".
std::set<std::string> readme_table_options() {
  std::vector<std::string> cells;
  bool in_table = false;
  for (const std::string& line : lines_of(read_text(kSourceDir / "README.md"))) {
    if (line.rfind("| option | meaning |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) {
      continue;
    }
    if (line.rfind('|', 0) != 0) {
      break;
    }
    const std::size_t end = line.find(" |", 1);
    cells.push_back(replace_all(line.substr(1, end == std::string::npos ? end : end - 1), "`", ""));
  }
  return option_names(cells);
}

TEST(Docs, ReadmeOptionsTableHasEveryOptionOfHelp) {
  // An option is in the table by its short or its long name ("-c N" stands for --iterations).
  static const std::regex kLine(R"(^  (?:-(\S), )?\s*--([a-z0-9-]+))");
  const std::set<std::string> readme = readme_table_options();
  ASSERT_GT(readme.size(), 20U) << "cannot read README's options table";
  std::set<std::string> missing;
  for (const std::string& line : lines_of(help_text())) {
    std::smatch m;
    if (!std::regex_search(line, m, kLine)) {
      continue;
    }
    const std::string long_name = "--" + m[2].str();
    if (!readme.contains(long_name) && !(m[1].matched && readme.contains("-" + m[1].str()))) {
      missing.insert(long_name);
    }
  }
  EXPECT_TRUE(missing.empty()) << "in --help, not in README's options table: " << join(missing);
  std::set<std::string> extra;
  const std::set<std::string> help = help_options().names;
  std::set_difference(readme.begin(), readme.end(), help.begin(), help.end(),
                      std::inserter(extra, extra.end()));
  EXPECT_TRUE(extra.empty()) << "in README's options table, not in --help: " << join(extra);
}

TEST(Docs, ManPageListsEveryKeyOfTheHelpScreen) {
  const std::set<std::string> man = words(tags(section(man_page(), ".SS Keys", {".SS ", ".SH "})));
  ASSERT_FALSE(man.empty());
  for (const view::KeyHelp& k : view::KeyMap::help()) {
    for (const std::string& key : words(std::string(k.keys))) {
      EXPECT_TRUE(man.contains(key)) << "help screen key '" << key << "' (" << k.keys << ": "
                                     << k.what << ") is not in the man page's Keys";
    }
  }
}

TEST(Docs, ManPageListsEveryTabAndColumn) {
  const std::set<std::string> tab_tags =
      words(tags(section(man_page(), ".SS Tabs", {".SS ", ".SH "})));
  const std::set<std::string> column_tags =
      words(tags(section(man_page(), ".SS Columns", {".SS ", ".SH "})));
  for (std::size_t t = 0; t < view::kTabCount; ++t) {
    const auto tab = static_cast<view::Tab>(t);
    EXPECT_TRUE(tab_tags.contains(std::string(view::tab_name(tab))))
        << "tab " << view::tab_name(tab) << " is not in the man page's Tabs";
    for (const view::Column column : view::columns_of(tab)) {
      std::string label(view::column_label(tab, column, false));
      if (label.empty()) {  // an unlabelled mark column (DIR): documented by its name
        for (const char c : view::column_name(column)) {
          label += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
      }
      EXPECT_TRUE(column_tags.contains(label))
          << "column " << label << " of " << view::tab_name(tab)
          << " is not in the man page's Columns";
    }
  }
}

TEST(Docs, ManPageListsEverySortKeyAndFilterTerm) {
  std::string sort_text;
  bool in_sort = false;
  for (const std::string& line : section(man_page(), ".SH OPTIONS", {".SH "})) {
    if (line == ".TP" || line.rfind(".SS", 0) == 0) {
      in_sort = false;
    }
    in_sort = in_sort || line.find("\\-\\-sort") != std::string::npos;
    sort_text += in_sort ? plain(line) + "\n" : "";
  }
  for (const std::string& key : program_sort_keys()) {
    EXPECT_TRUE(has_token(sort_text, key)) << "sort key '" << key << "' is not under --sort";
  }
  const std::set<std::string> term_tags =
      words(tags(section(man_page(), ".SH FILTER LANGUAGE", {".SH "})));
  const std::set<std::string> terms = program_filter_terms();
  ASSERT_GT(terms.size(), 20U);
  for (const std::string& term : terms) {
    EXPECT_TRUE(term_tags.contains(term)) << "filter term '" << term << "' is not in the man page";
  }
}

TEST(Docs, CompletionsOfferEveryOptionOfHelp) {
  for (const Completion& c : {bash_completion(), zsh_completion()}) {
    for (const std::string& option : help_options().names) {
      EXPECT_TRUE(has_token(c.text, option)) << c.name << " does not offer " << option;
    }
  }
}

TEST(Docs, CompletionSortKeysAreTheProgramsOwn) {
  const std::set<std::string> program = program_sort_keys();
  for (const Completion& c : {bash_completion(), zsh_completion()}) {
    EXPECT_EQ(join(c.sort_keys), join(program)) << c.name << ": --sort keys";
  }
}

TEST(Docs, CompletionFilterTermsAreTheProgramsOwn) {
  const std::set<std::string> program = program_filter_terms();
  for (const Completion& c : {bash_completion(), zsh_completion()}) {
    EXPECT_EQ(join(c.filter_terms), join(program)) << c.name << ": --filter terms";
  }
}

TEST(Docs, CompletionTabsAreTheProgramsOwn) {
  std::set<std::string> program;
  for (std::size_t t = 0; t < view::kTabCount; ++t) {
    std::string name(view::tab_name(static_cast<view::Tab>(t)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    program.insert(name);
  }
  for (const Completion& c : {bash_completion(), zsh_completion()}) {
    EXPECT_EQ(join(c.tabs), join(program)) << c.name << ": --tab values";
  }
}

}  // namespace
}  // namespace flowtop::app
