// Test helpers for the maintenance tools: a fixture copied to a temp dir.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

namespace maint_test {

namespace fs = std::filesystem;

struct TempTree {
  fs::path dir;
  fs::path root;
  explicit TempTree(const std::string& fixture = "mlflow-3.8") {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("mlruns-maint-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir);
    root = dir / "mlruns";
    fs::copy(fs::path(MLRUNS_FIXTURES_DIR) / fixture / "mlruns", root, fs::copy_options::recursive);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline void spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}
// First run folder of experiment `exp` (sorted).
inline fs::path first_run(const fs::path& exp) {
  std::vector<fs::path> runs;
  for (auto& e : fs::directory_iterator(exp))
    if (e.is_directory() && fs::exists(e.path() / "meta.yaml") && e.path().filename() != "tags") runs.push_back(e.path());
  std::sort(runs.begin(), runs.end());
  return runs.at(0);
}

// Every file and folder under `root` (relative path -> bytes; folders end
// in '/', symlinks read "-> target"), to compare a whole tree before/after.
inline std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    if (it->is_symlink()) out[rel] = "-> " + fs::read_symlink(it->path()).string();
    else if (it->is_directory()) out[rel + "/"] = "";
    else out[rel] = slurp(it->path());
  }
  return out;
}

// Makes `run` say RUNNING with no end_time, as a writer that was killed left it.
inline fs::path make_running(const fs::path& run) {
  std::string m = slurp(run / "meta.yaml");
  auto p = m.find("status: ");
  m.replace(p, m.find('\n', p) - p, "status: 1");
  p = m.find("end_time: ");
  m.replace(p, m.find('\n', p) - p, "end_time: null");
  spit(run / "meta.yaml", m);
  return run;
}

}  // namespace maint_test
