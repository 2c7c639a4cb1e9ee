// Helpers shared by all tests: fresh temporary trees, whole-file reads and
// writes, the MLflow fixtures (MLRUNS_FIXTURES_DIR).
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace mlruns::testing {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "mlruns-test") {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = fs::temp_directory_path() / (tag + "-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter++) + "-" + std::to_string(rd()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // <dir>/mlruns: the usual tracking root inside the directory.
  std::string root() const { return (path_ / "mlruns").string(); }

 private:
  fs::path path_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file and folder below `root` (relative path -> bytes; folders end in
// '/'), to check that a refused call left a tree byte-identical.
inline std::map<std::string, std::string> tree_snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (it->is_directory()) out[rel + "/"] = "";
    else out[rel] = read_file(it->path());
  }
  return out;
}

// Writes (truncating) `content` to `p`, creating its parent directories.
inline void write_file(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

// `depth` folders named `name`, each in the one before, below `top` (which
// must exist): made with mkdirat from the deepest descriptor, so no path
// string is ever that long (nesting deeper than PATH_MAX, issue 15 item 6).
inline void make_nested_dirs(const fs::path& top, int depth, const char* name) {
  int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd >= 0);
  for (int i = 0; i < depth; ++i) {
    REQUIRE(::mkdirat(fd, name, 0755) == 0);
    int next = ::openat(fd, name, O_RDONLY | O_DIRECTORY);
    REQUIRE(next >= 0);
    ::close(fd);
    fd = next;
  }
  ::close(fd);
}

// MLRUNS_FIXTURES_DIR/<fixture> (e.g. "mlflow-3.8").
inline fs::path fixture_dir(const std::string& fixture) { return fs::path(MLRUNS_FIXTURES_DIR) / fixture; }

// The fixture's expected.json (what MLflow's own API read back from its tree).
inline nlohmann::json load_expected(const std::string& fixture) {
  std::ifstream in(fixture_dir(fixture) / "expected.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// Copies a fixture tree to <dir>/<name> (a "moved" tree) and returns its path.
inline fs::path copy_fixture(const std::string& fixture, const fs::path& dir, const std::string& name = "mlruns") {
  fs::path to = dir / name;
  fs::create_directories(dir);
  fs::copy(fixture_dir(fixture) / "mlruns", to, fs::copy_options::recursive);
  return to;
}

}  // namespace mlruns::testing
