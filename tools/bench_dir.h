// Where the benchmarks write, and what they may delete: only what they made.
// `--dir DIR` never means "delete DIR": a scratch benchmark (bench_write,
// bench_sync) works in a fresh folder it creates under DIR with mkdtemp and
// removes just that folder; a benchmark that keeps a generated tree for
// reuse (bench_rank, bench_report) marks the folder it generates and
// refuses to regenerate or remove a non-empty folder without its mark.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace bench {

namespace fs = std::filesystem;

// The mark a generated tree carries (an empty file at its top).
inline constexpr const char* kTreeMark = ".mlruns-bench-tree";

[[noreturn]] inline void die(const std::string& tool, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", tool.c_str(), message.c_str());
  std::exit(2);
}

// A folder made fresh under `parent` (created if missing, never removed):
// parent/<prefix>-XXXXXX. The folder and everything in it is removed when
// this goes out of scope; nothing else is.
class ScratchDir {
 public:
  ScratchDir(const std::string& tool, const fs::path& parent, const std::string& prefix) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string pattern = (parent / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      die(tool, "cannot create a scratch folder under '" + parent.string() + "': " + std::strerror(errno));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// True if `dir` holds a tree a benchmark generated (it carries kTreeMark, or
// .bench_complete from trees generated before the mark).
inline bool is_bench_tree(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kTreeMark, ec) || fs::is_regular_file(dir / ".bench_complete", ec);
}

// Empties `dir` for a new tree and marks it: a missing or empty folder, or
// one a benchmark generated. Exits 2 naming the folder if it holds anything
// else, which is left untouched.
inline void claim_tree_dir(const std::string& tool, const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !is_bench_tree(dir)) {
    if (!fs::is_directory(dir, ec)) die(tool, "--dir '" + dir.string() + "' is not a folder");
    if (!fs::is_empty(dir, ec))
      die(tool, "--dir '" + dir.string() +
                    "' is not empty and holds no benchmark tree; give a new or empty folder (nothing was deleted)");
  }
  if (is_bench_tree(dir)) fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) die(tool, "cannot create '" + dir.string() + "': " + ec.message());
  std::ofstream(dir / kTreeMark).flush();
}

// Removes `dir` if a benchmark generated it; says so on stderr otherwise.
inline void remove_tree_dir(const std::string& tool, const fs::path& dir) {
  std::error_code ec;
  if (is_bench_tree(dir)) fs::remove_all(dir, ec);
  else std::fprintf(stderr, "%s: left '%s' in place: it holds no benchmark tree\n", tool.c_str(), dir.c_str());
}

}  // namespace bench
