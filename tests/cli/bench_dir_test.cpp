// The benchmarks under tools/ never delete what they did not make
// (tools/bench_dir.h): `--dir DIR` names where they work, not what to wipe;
// and each answers --help and refuses a bad command line (tools/bench_args.h).
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

#if defined(MLRUNS_BENCH_WRITE_PATH) && defined(MLRUNS_BENCH_RANK_PATH)

namespace fs = std::filesystem;
using mlruns::testing::read_file;
using mlruns::testing::TempDir;

namespace {

// Runs `command` through the shell; its exit code (stderr into `err`).
int run(const std::string& command, const fs::path& err) {
  const int status = std::system((command + " >/dev/null 2>'" + err.string() + "'").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("bench_write --dir works in a folder of its own and leaves the rest of DIR alone", "[cli][bench]") {
  TempDir t;
  const fs::path dir = t.path() / "user-data";
  write(dir / "results.csv", "precious\n");
  write(dir / "sub" / "notes.txt", "also precious\n");
  const int code = run(std::string(MLRUNS_BENCH_WRITE_PATH) +
                           " --reps 1 --runs 1 --points 100 --through 10 --durability none --dir '" + dir.string() + "'",
                       t.path() / "err");
  INFO(read_file(t.path() / "err"));
  REQUIRE(code == 0);
  CHECK(read_file(dir / "results.csv") == "precious\n");
  CHECK(read_file(dir / "sub" / "notes.txt") == "also precious\n");
  CHECK(entries(dir) == 2);  // its scratch folder is gone too
}

TEST_CASE("bench_rank refuses a non-empty --dir it did not generate and deletes nothing", "[cli][bench]") {
  TempDir t;
  const fs::path dir = t.path() / "user-data";
  write(dir / "results.csv", "precious\n");
  const std::string base = std::string(MLRUNS_BENCH_RANK_PATH) + " --runs 3 --metrics 1 --steps 2 --repeats 1 --dir '";
  const int code = run(base + dir.string() + "' --clean", t.path() / "err");
  CHECK(code == 2);
  CHECK(read_file(t.path() / "err").find("is not empty and holds no benchmark tree") != std::string::npos);
  CHECK(read_file(dir / "results.csv") == "precious\n");

  SECTION("a folder it generated is reused, regenerated and removed by --clean") {
    const fs::path own = t.path() / "tree";
    REQUIRE(run(base + own.string() + "'", t.path() / "err") == 0);
    REQUIRE(fs::exists(own / ".mlruns-bench-tree"));
    REQUIRE(run(base + own.string() + "' --clean", t.path() / "err") == 0);
    CHECK_FALSE(fs::exists(own));
  }
}

TEST_CASE("bench_rank deletes no folder by a legacy .bench_complete or an empty mark, only by its own signature",
          "[cli][bench]") {
  TempDir t;
  const std::string base = std::string(MLRUNS_BENCH_RANK_PATH) + " --runs 3 --metrics 1 --steps 2 --repeats 1 --dir '";
  // A user's --dir that happens to hold a file named like the old marker, or
  // an empty (old-style) mark: neither is proof the bench made it.
  for (const std::string marker : {".bench_complete", ".mlruns-bench-tree"}) {
    INFO(marker);
    const fs::path dir = t.path() / ("user-" + marker.substr(1));
    write(dir / marker, marker == ".bench_complete" ? "3" : "");
    write(dir / "results.csv", "precious\n");
    CHECK(run(base + dir.string() + "' --clean", t.path() / "err") == 2);
    CHECK(read_file(t.path() / "err").find("holds no benchmark tree") != std::string::npos);
    CHECK(read_file(dir / "results.csv") == "precious\n");
  }
  // Its own tree carries the signature and is removed by --clean.
  const fs::path own = t.path() / "tree";
  REQUIRE(run(base + own.string() + "'", t.path() / "err") == 0);
  CHECK(read_file(own / ".mlruns-bench-tree").rfind("mlruns benchmark tree", 0) == 0);
  REQUIRE(run(base + own.string() + "' --clean", t.path() / "err") == 0);
  CHECK_FALSE(fs::exists(own));
}

#endif

// ---- every benchmark: --help, unknown flags, bad numbers ---------------------------

#if defined(MLRUNS_BENCH_WRITE_PATH) && defined(MLRUNS_BENCH_RANK_PATH)

TEST_CASE("every benchmark answers --help and -h with its usage, refuses unknown flags and bad numbers (exit 2)",
          "[cli][bench]") {
  TempDir t;
  std::vector<std::pair<std::string, std::string>> benches = {{MLRUNS_BENCH_WRITE_PATH, "--reps"},
                                                              {MLRUNS_BENCH_RANK_PATH, "--runs"}};
#ifdef MLRUNS_BENCH_REPORT_PATH
  benches.emplace_back(MLRUNS_BENCH_REPORT_PATH, "--runs");
#endif
#ifdef MLRUNS_BENCH_SYNC_PATH
  benches.emplace_back(MLRUNS_BENCH_SYNC_PATH, "--runs");
#endif
#ifdef MLRUNS_BENCH_FLOOR_PATH
  benches.emplace_back(MLRUNS_BENCH_FLOOR_PATH, "--repeats");
#endif
  const fs::path out = t.path() / "out";
  for (const auto& [bench, number_flag] : benches) {
    const std::string name = fs::path(bench).filename().string();
    INFO(name);
    for (const char* help : {"--help", "-h"}) {
      const int status = std::system((bench + " " + help + " >'" + out.string() + "' 2>&1").c_str());
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
      CHECK(read_file(out).rfind("usage: " + name, 0) == 0);
    }
    CHECK(run(bench + " --no-such-flag 1", t.path() / "err") == 2);
    CHECK(read_file(t.path() / "err") == name + ": unknown option '--no-such-flag'; see '" + name + " --help'\n");
    CHECK(run(bench + " " + number_flag + " ten", t.path() / "err") == 2);
    CHECK(read_file(t.path() / "err").find(number_flag + ": 'ten' is not a whole number") != std::string::npos);
    CHECK(run(bench + " " + number_flag, t.path() / "err") == 2);
    CHECK(read_file(t.path() / "err").find(number_flag + " needs a value") != std::string::npos);
  }
}

#endif
