// The sweep tree the benchmarks read (bench_rank, bench_report) and how they
// time it: N runs x M metrics (m0, m1, ...) x S steps in MLflow's file
// format, written with plain file writes (no mlruns code involved), kept
// under /tmp and reused (bench_dir.h: never written over a folder it did not
// generate); medians over repeats with a warm page cache.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "bench_dir.h"
#include "mlruns/yaml.h"

namespace bench {

namespace fs = std::filesystem;

inline const char* const kExp = "1";

struct TreeShape {
  std::size_t runs = 2000;
  int metrics = 10;
  int steps = 100;
};

inline std::string run_id_of(std::size_t i) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08zx%024zx", i * 2654435761u % 0xffffffffu, i);
  return buf;
}

inline std::string format_value(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // Python's repr: 100.0
  return s;
}

inline void write(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) {
    std::cerr << "bench: cannot write " << p << "\n";
    std::exit(1);
  }
}

// The tree, and the run that must win (FINISHED, highest latest m0). Every
// 10th run FAILED; params lr (10 values) and gamma (2) vary, as in a sweep.
inline std::string generate(const TreeShape& o, const fs::path& root) {
  const fs::path exp = root / kExp;
  fs::create_directories(exp);
  const std::int64_t t0 = 1700000000000;
  write(exp / "meta.yaml", "artifact_location: file://" + exp.string() + "\ncreation_time: " + std::to_string(t0) +
                               "\nexperiment_id: '" + kExp + "'\nlast_update_time: " + std::to_string(t0) +
                               "\nlifecycle_stage: active\nname: bench\n");
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> noise(-5.0, 5.0);
  std::string winner;
  double best = -1e300;
  for (std::size_t i = 0; i < o.runs; ++i) {
    const std::string id = run_id_of(i);
    const fs::path run = exp / id;
    fs::create_directories(run / "metrics");
    fs::create_directories(run / "params");
    fs::create_directories(run / "tags");
    fs::create_directories(run / "artifacts");
    // Every 10th run failed, so that ranking must skip it.
    const bool finished = i % 10 != 7;
    const std::int64_t start = t0 + static_cast<std::int64_t>(i) * 1000;
    // The run id as yaml.safe_dump writes it: quoted where YAML 1.1 reads the
    // plain scalar as an int (run 0's all-digit id), else plain (spec §14.4).
    const std::string yaml_id = mlruns::yaml_quote_if_ambiguous(id);
    write(run / "meta.yaml",
          "artifact_uri: file://" + (run / "artifacts").string() + "\nend_time: " + std::to_string(start + 900) +
              "\nentry_point_name: ''\nexperiment_id: '" + kExp +
              "'\nlifecycle_stage: active\nrun_id: " + yaml_id + "\nrun_name: trial_" + std::to_string(i) +
              "\nrun_uuid: " + yaml_id +
              "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: " + std::to_string(start) +
              "\nstatus: " + (finished ? "3" : "4") + "\ntags: []\nuser_id: bench\n");
    write(run / "params" / "lr", format_value(1e-4 * static_cast<double>(1 + i % 10)));
    write(run / "params" / "gamma", i % 2 ? "0.999" : "0.99");
    write(run / "tags" / "mlflow.runName", "trial_" + std::to_string(i));
    write(run / "tags" / "mlflow.user", "bench");
    const double slope = 0.5 + static_cast<double>((i * 7919) % 1000) / 1000.0;
    for (int m = 0; m < o.metrics; ++m) {
      std::string text;
      text.reserve(static_cast<std::size_t>(o.steps) * 32);
      double last = 0;
      for (int s = 0; s < o.steps; ++s) {
        last = slope * s + noise(rng);
        text += std::to_string(start + s * 10);
        text += ' ';
        text += format_value(last);
        text += ' ';
        text += std::to_string(s);
        text += '\n';
      }
      write(run / "metrics" / ("m" + std::to_string(m)), text);
      if (m == 0 && finished && last > best) {
        best = last;
        winner = id;
      }
    }
  }
  write(root / ".bench_winner", winner);
  write(root / ".bench_complete", std::to_string(o.runs));
  return winner;
}

// The tree at `root`, generated unless a complete one of that many runs is
// there; returns the winner. Says which on stdout.
inline std::string open_or_generate(const TreeShape& shape, const fs::path& root) {
  std::ifstream done(root / ".bench_complete");
  std::string n;
  if (is_bench_tree(root) && done >> n && n == std::to_string(shape.runs)) {
    std::ifstream w(root / ".bench_winner");
    std::string winner;
    w >> winner;
    std::cout << "tree: " << root.string() << " (reused)\n";
    return winner;
  }
  claim_tree_dir("benchmark", root);  // never deletes a folder it did not generate
  auto t0 = std::chrono::steady_clock::now();
  std::string winner = generate(shape, root);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "tree: " << root.string() << " (generated in " << s << " s)\n";
  return winner;
}

// /tmp/mlruns-bench-<runs>x<metrics>x<steps>
inline fs::path default_dir(const TreeShape& o) {
  return fs::temp_directory_path() /
         ("mlruns-bench-" + std::to_string(o.runs) + "x" + std::to_string(o.metrics) + "x" + std::to_string(o.steps));
}

// The arguments every benchmark takes.
struct CommonArgs {
  std::size_t runs = 2000;
  int metrics = 10;
  int steps = 100;
  int repeats = 5;
  unsigned threads = 0;  // Reader threads; 0: one per core
  std::string dir;       // empty: default_dir
  TreeShape shape() const { return {runs, metrics, steps}; }
};

// Reads argv: --help/-h call usage(0); --runs, --metrics, --steps, --repeats,
// --threads and --dir fill `o`; any other argument goes to on_other(arg,
// next), which returns false for one it does not know; next() returns the
// argument's value. An unknown flag, a missing value or a number that is
// not one exits 2 naming it (bench_args.h). Then fills in o.dir.
template <typename OnOther>
void parse_args(int argc, char** argv, CommonArgs& o, void (*usage)(int), OnOther&& on_other) {
  const std::string tool = fs::path(argv[0]).filename().string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) missing_value(tool, a);
      return argv[++i];
    };
    auto count = [&](long long min) { return whole_number(tool, a, next(), min); };
    if (a == "--help" || a == "-h") usage(0);
    else if (a == "--runs") o.runs = static_cast<std::size_t>(count(1));
    else if (a == "--metrics") o.metrics = static_cast<int>(count(1));
    else if (a == "--steps") o.steps = static_cast<int>(count(1));
    else if (a == "--repeats") o.repeats = static_cast<int>(count(1));
    else if (a == "--threads") o.threads = static_cast<unsigned>(count(0));
    else if (a == "--dir") o.dir = next();
    else if (!on_other(a, next)) unknown_flag(tool, a);
  }
  if (o.dir.empty()) o.dir = default_dir(o.shape()).string();
}

struct Sample {
  double wall = 0;  // seconds
  double cpu = 0;   // user + system seconds
};

inline double cpu_seconds() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(self.ru_utime) + sec(self.ru_stime) + sec(children.ru_utime) + sec(children.ru_stime);
}

// Median wall time (and the CPU time of that repeat) after one warm-up.
inline Sample measure(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<Sample> samples;
  for (int r = 0; r < repeats; ++r) {
    double c0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    samples.push_back({std::chrono::duration<double>(t1 - t0).count(), cpu_seconds() - c0});
  }
  std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.wall < b.wall; });
  return samples[samples.size() / 2];
}

inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
}

}  // namespace bench
