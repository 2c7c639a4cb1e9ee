// bench_report: how long `mlruns report` takes on a large sweep and how big
// the page is (issue 14: 1,000 runs x 10 metrics x 1,000 steps in under 2 s
// and under 5 MB; docs/performance.md "Reports").
//
//   bench_report [--runs 1000] [--metrics 10] [--steps 1000] [--repeats 5]
//                [--dir /tmp/mlruns-bench-1000x10x1000] [--threads 0] [--out FILE]
//
// Generates the tree once (bench_tree.h, shared with bench_rank; reused
// unless missing), then reports the median wall and CPU time of write_report
// (to a file, as the CLI does) for:
//   default      ranked by m0 DESC, the default 6 charts
//   all metrics  the same with every metric charted (--metric m0 ... m9)
// with the page's size, the points read and drawn, and the process's peak
// resident memory (histories are downsampled as they are read, so it stays
// far below the tree's size).
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "bench_tree.h"
#include "mlruns/reader.h"
#include "mlruns/report.h"

namespace fs = std::filesystem;
using namespace bench;

namespace {

struct Options : CommonArgs {
  Options() {
    runs = 1000;
    steps = 1000;
  }
  std::string out;
};

[[noreturn]] void usage(int code = 2) {
  (code ? std::cerr : std::cout)
      << "usage: bench_report [--runs N] [--metrics M] [--steps S] [--repeats R] [--dir DIR] [--threads T] [--out FILE]\n"
         "Generates an N-run sweep tree (once, under /tmp) and times mlruns report on it; prints medians,\n"
         "the page size and peak memory (docs/performance.md).\n";
  std::exit(code);
}

long peak_rss_kib() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  parse_args(argc, argv, o, usage, [&](const std::string& a, auto& next) {
    if (a != "--out") return false;
    o.out = next();
    return true;
  });
  const fs::path root = fs::absolute(o.dir);
  const fs::path out = o.out.empty() ? fs::temp_directory_path() / "mlruns-bench-report.html" : fs::path(o.out);
  open_or_generate(o.shape(), root);
  const long rss_before = peak_rss_kib();
  std::cout << "runs " << o.runs << " x metrics " << o.metrics << " x steps " << o.steps
            << ", median of " << o.repeats << " (warm cache), cores " << std::max(1u, std::thread::hardware_concurrency())
            << ", load average " << load_average() << "\n\n";

  mlruns::ReaderOptions ropt;
  ropt.threads = o.threads;
  auto run = [&](const char* name, const std::vector<std::string>& metrics) {
    mlruns::ReportSummary summary;
    Sample s = measure(o.repeats, [&] {
      auto reader = mlruns::Reader::open(root.string(), ropt);
      if (!reader) {
        std::cerr << "bench_report: " << reader.error().to_string() << "\n";
        std::exit(1);
      }
      mlruns::ReportOptions ro;
      ro.experiment_ids = {kExp};
      ro.order_by = {"metrics.m0 DESC"};
      ro.metrics = metrics;
      std::ofstream file(out, std::ios::binary | std::ios::trunc);
      auto r = mlruns::write_report(*reader, ro, file);
      if (!r) {
        std::cerr << "bench_report: " << r.error().to_string() << "\n";
        std::exit(1);
      }
      summary = *r;
    });
    const double mb = static_cast<double>(fs::file_size(out)) / 1e6;
    std::printf("%-12s %7.3f s   cpu %7.3f s (%3.0f%% of one core)   %6.2f MB   %zu runs, %zu charts, %zu points read, "
                "%zu drawn\n",
                name, s.wall, s.cpu, s.wall > 0 ? 100.0 * s.cpu / s.wall : 0.0, mb, summary.runs, summary.charts,
                summary.points_read, summary.points_drawn);
  };
  run("default", {});
  std::vector<std::string> all;
  for (int m = 0; m < o.metrics; ++m) all.push_back("m" + std::to_string(m));
  run("all metrics", all);
  std::printf("\npeak resident memory %.1f MiB (%.1f MiB before the reports)\n", peak_rss_kib() / 1024.0,
              rss_before / 1024.0);
  std::cout << "page: " << out.string() << "\n";
  return 0;
}
