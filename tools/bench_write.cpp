// Write-throughput benchmark for docs/performance.md (issue 2, item 8):
//   (a) buffered log_metric points/s (default FlushPolicy, flush + end included)
//   (b) write-through points/s (every point in its file before log_metric returns)
//   (c) MLflow-shaped workload: 2,000 runs x 10 metrics x 100 steps, end to end
// Prints the median of several repetitions. Usage:
//   build/tools/bench_write [--dir /tmp/x] [--reps 5] [--runs 2000]
// It writes in a fresh folder it makes under --dir (default: the temporary
// folder) and removes only that folder (bench_dir.h).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench_dir.h"
#include "mlruns/store.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds of this process (all threads): the figure that does not
// depend on how many other jobs share the machine.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Sample {
  double wall = 0, cpu = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

mlruns::Durability g_durability = mlruns::Durability::kOnClose;

mlruns::StoreOptions options(const fs::path& root) {
  mlruns::StoreOptions o;
  o.tracking_uri = root.string();
  o.durability = g_durability;
  return o;
}

const std::vector<std::string> kKeys = {"episode_reward_mean", "episode_reward_max", "episode_reward_min",
                                        "loss", "entropy", "kl", "vf_loss", "policy_loss", "lr",
                                        "timesteps_total"};

// (a) points/s of buffered log_metric, including the final flush and end.
Sample bench_buffered(const fs::path& root, long points) {
  auto store = mlruns::Store::open(options(root));
  auto t0 = Clock::now();
  double c0 = cpu_seconds();
  {
    mlruns::ActiveRun run = store.start_run({.run_name = "buffered"});
    long steps = points / static_cast<long>(kKeys.size());
    for (long s = 0; s < steps; ++s)
      for (const std::string& k : kKeys) run.log_metric(k, 0.5 * static_cast<double>(s), s);
  }
  return {seconds_since(t0), cpu_seconds() - c0};
}

// (b) points/s with FlushPolicy::write_through.
Sample bench_write_through(const fs::path& root, long points) {
  auto o = options(root);
  o.flush.write_through = true;
  auto store = mlruns::Store::open(o);
  auto t0 = Clock::now();
  double c0 = cpu_seconds();
  {
    mlruns::ActiveRun run = store.start_run({.run_name = "write-through"});
    long steps = points / static_cast<long>(kKeys.size());
    for (long s = 0; s < steps; ++s)
      for (const std::string& k : kKeys) run.log_metric(k, 0.25 * static_cast<double>(s), s);
  }
  return {seconds_since(t0), cpu_seconds() - c0};
}

// (c) seconds for runs x 10 metrics x 100 steps, each run started, logged and ended.
Sample bench_workload(const fs::path& root, int runs) {
  auto store = mlruns::Store::open(options(root));
  auto t0 = Clock::now();
  double c0 = cpu_seconds();
  std::string exp = *store.get_or_create_experiment("bench-workload");
  for (int r = 0; r < runs; ++r) {
    mlruns::ActiveRun run = store.start_run({.experiment_id = exp});
    run.log_param("lr", 0.001 * (r % 10 + 1));
    for (int step = 0; step < 100; ++step)
      for (const std::string& k : kKeys) run.log_metric(k, 1.0 / (step + 1), step);
  }
  return {seconds_since(t0), cpu_seconds() - c0};
}

}  // namespace

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a;
  in >> a;
  return a.empty() ? "?" : a;
}

int main(int argc, char** argv) {
  fs::path parent = fs::temp_directory_path();
  int reps = 5;
  int runs = 2000;
  long buffered = 10'000'000, through = 500'000;
  auto usage = [](int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: bench_write [--reps N] [--runs N] [--points N] [--through N] [--dir DIR]\n"
                 "       (writes in a new folder under DIR and removes only that folder)\n"
                 "                   [--durability none|on-close|every-flush]\n"
                 "Measures buffered and write-through log_metric throughput and an MLflow-shaped\n"
                 "workload (runs x 10 metrics x 100 steps); prints medians (docs/performance.md).\n");
    std::exit(code);
  };
  const std::string tool = "bench_write";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") usage(0);
    if (a != "--dir" && a != "--reps" && a != "--runs" && a != "--points" && a != "--through" && a != "--durability")
      bench::unknown_flag(tool, a);
    if (i + 1 >= argc) bench::missing_value(tool, a);
    std::string v = argv[++i];
    if (a == "--dir") parent = v;
    else if (a == "--reps") reps = static_cast<int>(bench::whole_number(tool, a, v));
    else if (a == "--runs") runs = static_cast<int>(bench::whole_number(tool, a, v));
    else if (a == "--points") buffered = static_cast<long>(bench::whole_number(tool, a, v));
    else if (a == "--through") through = static_cast<long>(bench::whole_number(tool, a, v));
    else if (v == "none" || v == "on-close" || v == "every-flush")
      g_durability = v == "none" ? mlruns::Durability::kNone
                     : v == "every-flush" ? mlruns::Durability::kEveryFlush : mlruns::Durability::kOnClose;
    else bench::die(tool, "--durability: '" + v + "' is not none, on-close or every-flush");
  }
  std::vector<double> aw, ac, bw, bc, cw, cc;
  std::printf("load average at start: %s (on %ld cores)\n", loadavg().c_str(), ::sysconf(_SC_NPROCESSORS_ONLN));
  // A fresh folder per repetition, all removed at the end: deleting a big tree
  // between repetitions slows ext4's inode allocation for the next one.
  auto scratch = std::make_unique<bench::ScratchDir>("bench_write", parent, "mlruns-bench-write");
  const fs::path dir = scratch->path();
  for (int i = 0; i < reps; ++i) {
    fs::path rep = dir / ("rep" + std::to_string(i));
    Sample a = bench_buffered(rep / "a", buffered);
    Sample b = bench_write_through(rep / "b", through);
    Sample c = bench_workload(rep / "c", runs);
    aw.push_back(buffered / a.wall), ac.push_back(buffered / a.cpu);
    bw.push_back(through / b.wall), bc.push_back(through / b.cpu);
    cw.push_back(c.wall), cc.push_back(c.cpu);
    std::printf("rep %d: buffered %.0f pts/s (cpu %.0f), write-through %.0f pts/s (cpu %.0f), workload %.2f s (cpu %.2f s)\n",
                i + 1, aw.back(), ac.back(), bw.back(), bc.back(), cw.back(), cc.back());
    std::fflush(stdout);
  }
  scratch.reset();
  double points_c = runs * 10.0 * 100.0;
  double scale = runs / 2000.0;
  std::printf("\nmedian of %d repetitions; load average at end: %s\n", reps, loadavg().c_str());
  std::printf("(a) buffered log_metric: %11.0f points/s wall, %11.0f points/s per CPU second (MLflow 3.8: 2,000 -> x%.0f wall)\n",
              median(aw), median(ac), median(aw) / 2000);
  std::printf("(b) write-through:       %11.0f points/s wall, %11.0f points/s per CPU second (MLflow 3.8: 2,000 -> x%.0f wall)\n",
              median(bw), median(bc), median(bw) / 2000);
  std::printf("(c) %d runs x 10 metrics x 100 steps: %.2f s wall (%.0f points/s), %.2f s CPU (MLflow 3.8: 173 s -> x%.0f wall)\n",
              runs, median(cw), points_c / median(cw), median(cc), 173.0 * scale / median(cw));
  return 0;
}
