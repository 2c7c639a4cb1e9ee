// bench_sync URL [--runs 200] [--metrics 10] [--steps 1000] [--artifact-mib 1] [--jobs 4] [--repeat 3]
//                [--resyncs 5]
//
// Writes a tree of RUNS runs x METRICS metrics x STEPS steps plus one
// artifact of ARTIFACT_MIB MiB per run, syncs it to the tracking server at
// URL (first sync), then syncs it again unchanged RESYNCS times. Prints wall time, CPU
// time, points/s and MiB/s per repetition and the medians (docs/performance.md).
// Each repetition makes a new tree, so the server gains RUNS runs each time:
// use a server made for the benchmark.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench_dir.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "mlruns/sync.h"

namespace fs = std::filesystem;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string tool = "bench_sync";
  auto usage = [](int code) {
    (code ? std::cerr : std::cout)
        << "usage: bench_sync URL [--runs N] [--metrics N] [--steps N] [--artifact-mib N] [--jobs N] [--repeat N]"
           " [--resyncs N]\n"
           "Times mlruns sync of a generated tree to the MLflow server at URL (first sync, then re-syncs\n"
           "with nothing new); prints medians (docs/performance.md).\n";
    std::exit(code);
  };
  std::string url;
  int runs = 200, metrics = 10, steps = 1000, artifact_mib = 1, repeat = 3, resyncs = 5;
  unsigned jobs = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") usage(0);
    if (a.empty() || a[0] != '-') {
      if (!url.empty()) bench::die(tool, "unexpected argument '" + a + "' (the URL is '" + url + "')");
      url = a;
      continue;
    }
    int* target = a == "--runs" ? &runs : a == "--metrics" ? &metrics : a == "--steps" ? &steps
                : a == "--artifact-mib" ? &artifact_mib : a == "--repeat" ? &repeat : a == "--resyncs" ? &resyncs
                : nullptr;
    if (target == nullptr && a != "--jobs") bench::unknown_flag(tool, a);
    if (i + 1 >= argc) bench::missing_value(tool, a);
    const long long v = bench::whole_number(tool, a, argv[++i], a == "--artifact-mib" ? 0 : 1);
    if (target != nullptr) *target = static_cast<int>(v);
    else jobs = static_cast<unsigned>(v);
  }
  if (url.empty()) {
    std::cerr << "bench_sync: needs the server URL; see 'bench_sync --help'\n";
    return 2;
  }
  auto server = mlruns::ServerOptions::from_environment(url);
  if (!server) {
    std::cerr << "bench_sync: " << server.error().to_string() << "\n";
    return 2;
  }
  const double points = static_cast<double>(runs) * metrics * steps;
  std::vector<double> first_wall, first_cpu, again_wall, again_cpu, pts_rate, mib_rate;
  for (int r = 0; r < repeat; ++r) {
    bench::ScratchDir scratch("bench_sync", fs::temp_directory_path(), "bench_sync");  // removed at the end of the repetition
    const fs::path dir = scratch.path();
    {
      std::ofstream blob(dir / "model.bin", std::ios::binary);
      std::string mib(1 << 20, '\0');
      for (std::size_t i = 0; i < mib.size(); ++i) mib[i] = static_cast<char>((i * 2654435761u) >> 13);
      for (int i = 0; i < artifact_mib; ++i) blob << mib;
    }
    mlruns::StoreOptions so;
    so.tracking_uri = (dir / "mlruns").string();
    mlruns::Store store = mlruns::Store::open(so);
    const std::string exp = *store.create_experiment("bench-sync-" + std::to_string(::getpid()) + "-" + std::to_string(r));
    const std::int64_t t0 = 1704067200000;
    for (int i = 0; i < runs; ++i) {
      mlruns::RunOptions ro;
      ro.experiment_id = exp;
      mlruns::ActiveRun run = store.start_run(ro);
      run.log_param("index", i);
      for (int s = 0; s < steps; ++s)
        for (int m = 0; m < metrics; ++m) run.log_metric("metric_" + std::to_string(m), s * 0.001 + m, s, t0 + s);
      if (artifact_mib > 0) run.log_artifact((dir / "model.bin").string());
      run.end();
    }
    store.flush();
    auto reader = mlruns::Reader::open(so.tracking_uri);
    mlruns::SyncOptions opt;
    opt.server = *server;
    opt.jobs = jobs;
    for (int pass = 0; pass <= resyncs; ++pass) {
      const double c0 = cpu_seconds();
      const auto w0 = std::chrono::steady_clock::now();
      auto result = mlruns::sync_tree(*reader, opt);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
      const double cpu = cpu_seconds() - c0;
      if (!result || !result->complete()) {
        std::cerr << "bench_sync: sync failed: " << (result ? "incomplete" : result.error().to_string()) << "\n";
        return 1;
      }
      if (pass == 0) {
        first_wall.push_back(wall);
        first_cpu.push_back(cpu);
        pts_rate.push_back(points / wall);
        mib_rate.push_back(static_cast<double>(result->bytes_sent) / (1 << 20) / wall);
        std::printf("first sync   %d: %7.2f s wall, %6.2f s CPU, %9.0f points/s, %6.1f MiB/s (%llu requests)\n", r, wall,
                    cpu, points / wall, static_cast<double>(result->bytes_sent) / (1 << 20) / wall,
                    static_cast<unsigned long long>(result->write_requests + result->read_requests));
      } else {
        again_wall.push_back(wall);
        again_cpu.push_back(cpu);
        std::printf("unchanged    %d.%d: %7.3f s wall, %6.3f s CPU, %llu write requests\n", r, pass, wall, cpu,
                    static_cast<unsigned long long>(result->write_requests));
      }
    }
  }
  std::printf("median: first sync %.2f s (%.0f points/s, %.1f MiB/s, %.2f s CPU); unchanged re-sync %.3f s (%.3f s CPU)\n",
              median(first_wall), median(pts_rate), median(mib_rate), median(first_cpu), median(again_wall),
              median(again_cpu));
  return 0;
}
