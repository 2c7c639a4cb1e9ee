// Helpers for the reader and download tests: fresh temporary trees.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "mlruns/reader.h"

namespace mlruns::testing {

namespace fs = std::filesystem;

// A fresh directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("mlruns-reader-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Copies a fixture tree to <dir>/<name> (a "moved" tree) and returns its path.
inline fs::path copy_fixture(const std::string& fixture, const fs::path& dir, const std::string& name = "mlruns") {
  fs::path to = dir / name;
  fs::create_directories(dir);
  fs::copy(fs::path(MLRUNS_FIXTURES_DIR) / fixture / "mlruns", to, fs::copy_options::recursive);
  return to;
}

// Collects warnings.
struct Warnings {
  std::vector<Warning> list;
  ReaderOptions options() {
    ReaderOptions o;
    o.on_warning = [this](const Warning& w) { list.push_back(w); };
    return o;
  }
  // True if some warning's path contains `path_part` and its message `message_part`.
  bool has(const std::string& path_part, const std::string& message_part = "") const {
    for (const Warning& w : list)
      if (w.path.find(path_part) != std::string::npos && w.message.find(message_part) != std::string::npos)
        return true;
    return false;
  }
  std::string dump() const {
    std::string out;
    for (const Warning& w : list) out += w.path + ": " + w.message + "\n";
    return out;
  }
};

// A minimal canonical run meta.yaml (spec Appendix B).
inline std::string run_meta(const std::string& exp, const std::string& run, const std::string& extra = "",
                            const std::string& root = "/nonexistent/mlruns") {
  return "artifact_uri: file://" + root + "/" + exp + "/" + run + "/artifacts\nend_time: 1700000001000\n"
         "entry_point_name: ''\nexperiment_id: '" + exp + "'\nlifecycle_stage: active\nrun_id: " + run +
         "\nrun_name: name-" + run + "\nrun_uuid: " + run +
         "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\nstatus: 3\ntags: []\n"
         "user_id: tester\n" + extra;
}

inline std::string exp_meta(const std::string& exp, const std::string& name, long long created = 1700000000000) {
  return "artifact_location: file:///nonexistent/mlruns/" + exp + "\ncreation_time: " + std::to_string(created) +
         "\nexperiment_id: '" + exp + "'\nlast_update_time: " + std::to_string(created) +
         "\nlifecycle_stage: active\nname: " + name + "\n";
}

}  // namespace mlruns::testing
