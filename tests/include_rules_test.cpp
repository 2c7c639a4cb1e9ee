// The module layering of docs/design.md, checked on every #include of src/,
// include/mlruns/ and tools/: util < env < format < {write, read} <
// {maint, report, sync} < capi. A module may include its own files and those
// of a lower module; write and read never include each other (not even their
// public headers); report uses neither write nor maint; sync uses none of
// write, maint and report.
// Internal includes are root-relative to src/ ("format/layout.h"). The
// programs in tools/ and the Python binding (python/src/) see only the public
// headers and their own files.
// A new module folder or public header must be added to the tables below.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Rank of each module folder of src/: a module may use a lower rank, never
// an equal one but its own (write and read share rank 3 and are kept apart;
// so are report, maint and sync at rank 4).
const std::vector<std::pair<std::string, int>> kModules = {
    {"util", 0}, {"env", 1}, {"format", 2}, {"write", 3}, {"read", 3}, {"report", 4}, {"maint", 4}, {"sync", 4}, {"capi", 5},
};
// Lower modules a module must not use all the same: report reads a tree and
// never writes (nor runs maintenance); sync reads a tree and writes only its
// own record, so it stays out of write.
const std::map<std::string, std::vector<std::string>> kForbidden = {{"report", {"write", "maint"}}, {"sync", {"write"}}};
const std::map<std::string, int> kModuleRank(kModules.begin(), kModules.end());

// The module each public header of include/mlruns/ belongs to.
const std::map<std::string, std::string> kPublicHeaderModule = {
    {"status.h", "util"},  {"env.h", "env"},         {"key.h", "format"},    {"types.h", "format"},
    {"options.h", "write"}, {"store.h", "write"},     {"signals.h", "write"}, {"liveness.h", "write"},
    {"model.h", "write"},   {"registry.h", "write"},
    {"reader.h", "read"},  {"search.h", "read"},     {"rank.h", "read"},     {"download.h", "read"},
    {"fsck.h", "maint"},   {"gc.h", "maint"},        {"reap.h", "maint"},    {"relocate.h", "maint"},
    {"report.h", "report"}, {"sync.h", "sync"},   {"c.h", "capi"},       {"text.h", "util"},
    {"yaml.h", "format"},
};

bool may_use(const std::string& from, const std::string& to) {
  if (auto it = kForbidden.find(from); it != kForbidden.end())
    if (std::find(it->second.begin(), it->second.end(), to) != it->second.end()) return false;
  return from == to || kModuleRank.at(to) < kModuleRank.at(from);
}

std::string layering_rule(const std::string& from) {
  std::string lower;
  for (const auto& [m, rank] : kModules)
    if (rank < kModuleRank.at(from) && may_use(from, m)) lower += (lower.empty() ? "" : ", ") + m;
  return from + " may use " + (lower.empty() ? std::string("only itself") : from + " and " + lower);
}

struct Checker {
  fs::path root = MLRUNS_SOURCE_DIR;
  std::size_t files = 0;
  std::size_t includes = 0;

  // Reports one broken rule as file:line.
  void broken(const fs::path& file, int line, const std::string& text, const std::string& rule) {
    FAIL_CHECK(fs::relative(file, root).string() << ":" << line << ": " << text << ": " << rule);
  }

  // The module of a public header; reports an unknown one.
  std::optional<std::string> public_module(const fs::path& file, int line, const std::string& text,
                                           const std::string& name) {
    auto it = kPublicHeaderModule.find(name);
    if (it != kPublicHeaderModule.end()) return it->second;
    broken(file, line, text, "not a public header listed in tests/include_rules_test.cpp");
    return std::nullopt;
  }

  // Calls on_include(line, text, quoted, target) for each #include of `file`.
  template <typename F>
  void for_each_include(const fs::path& file, F on_include) {
    static const std::regex include_re(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
    ++files;
    std::ifstream in(file);
    std::string text;
    for (int line = 1; std::getline(in, text); ++line) {
      std::smatch m;
      if (!std::regex_search(text, m, include_re)) continue;
      ++includes;
      on_include(line, m[0].str(), m[1].str() == "\"", m[2].str());
    }
  }

  // A file of src/<from>/ or (for public headers) include/mlruns/ of module `from`.
  void check_library_file(const fs::path& file, const std::string& from) {
    for_each_include(file, [&](int line, const std::string& text, bool quoted, const std::string& target) {
      if (target.starts_with("mlruns/")) {
        auto to = public_module(file, line, text, target.substr(7));
        if (to && !may_use(from, *to)) broken(file, line, text, "public header of " + *to + "; " + layering_rule(from));
        return;
      }
      if (!quoted) return;  // the standard library and third-party headers
      auto slash = target.find('/');
      std::string to = slash == std::string::npos ? "" : target.substr(0, slash);
      if (!kModuleRank.contains(to) || !fs::exists(root / "src" / target)) {
        broken(file, line, text, "internal includes are root-relative to src/ (e.g. \"format/layout.h\")");
        return;
      }
      if (!may_use(from, to)) broken(file, line, text, "internal header of " + to + "; " + layering_rule(from));
    });
  }

  // A program of tools/ or the Python binding in python/src/: public headers
  // and files of its own folder tree (`own`) only.
  void check_tool_file(const fs::path& file, const std::string& own = "tools") {
    for_each_include(file, [&](int line, const std::string& text, bool quoted, const std::string& target) {
      if (target.starts_with("mlruns/")) {
        public_module(file, line, text, target.substr(7));
        return;
      }
      if (!quoted) return;
      fs::path local = (file.parent_path() / target).lexically_normal();
      auto rel = local.lexically_relative(root / own);
      if (!fs::exists(local) || rel.empty() || *rel.begin() == "..")
        broken(file, line, text, own + "/ uses only the public headers <mlruns/...> and its own files");
    });
  }
};

bool is_source(const fs::path& p) {
  auto ext = p.extension();
  return ext == ".h" || ext == ".cpp" || ext == ".c";
}

}  // namespace

TEST_CASE("every #include follows the module layering of docs/design.md", "[layout]") {
  Checker c;
  for (const auto& dir : fs::directory_iterator(c.root / "src")) {
    std::string module = dir.path().filename().string();
    if (!dir.is_directory() || !kModuleRank.contains(module)) {
      c.broken(dir.path(), 0, "", "src/ holds only the module folders listed in tests/include_rules_test.cpp");
      continue;
    }
    for (const auto& e : fs::recursive_directory_iterator(dir.path()))
      if (e.is_regular_file() && is_source(e.path())) c.check_library_file(e.path(), module);
  }
  for (const auto& e : fs::directory_iterator(c.root / "include" / "mlruns")) {
    if (!is_source(e.path())) continue;  // mlruns.f90
    std::string name = e.path().filename().string();
    auto it = kPublicHeaderModule.find(name);
    if (it == kPublicHeaderModule.end()) {
      c.broken(e.path(), 0, "", "a public header missing from the table in tests/include_rules_test.cpp");
      continue;
    }
    c.check_library_file(e.path(), it->second);
  }
  for (const auto& e : fs::recursive_directory_iterator(c.root / "tools"))
    if (e.is_regular_file() && is_source(e.path())) c.check_tool_file(e.path());
  std::size_t binding_files = c.files;
  for (const auto& e : fs::recursive_directory_iterator(c.root / "python" / "src"))
    if (e.is_regular_file() && is_source(e.path())) c.check_tool_file(e.path(), "python/src");
  CHECK(c.files > binding_files);  // the binding was looked at
  // Guards against a vacuous pass (a wrong MLRUNS_SOURCE_DIR).
  CHECK(c.files > 100);
  CHECK(c.includes > 500);
}
