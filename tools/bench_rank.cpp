// bench_rank: how fast mlruns ranks a sweep, against a plain read of the same
// metric files (issue item 7, docs/performance.md "Ranking").
//
//   bench_rank [--runs 2000] [--metrics 10] [--steps 100] [--repeats 5]
//              [--dir /tmp/mlruns-bench-2000] [--threads 0] [--clean]
//
// Generates (once; kept and reused unless --clean) an mlruns tree of
// N runs x M metrics x S steps in MLflow's file format with plain file
// writes, then reports the median wall time over --repeats of:
//   plain read   every <run>/metrics/m0 read fully (open/read/close, one
//                thread), like `find DIR -path '*/metrics/m0' | xargs cat`
//   find|xargs   that very shell command, as the issue measured it
//   rank latest  rank_runs by m0 (MLflow's latest value): get-top-run's path
//   ... 1 thread the same with ReaderOptions::threads = 1 (what 2 cores buy)
//   search       search_runs order_by metrics.m0 DESC, max_results N,
//                fields = info only (what ranking needs)
//   search full  the same returning a 1000-run page with everything
//   rank best    rank_runs by the best m0 over each history
// with the CPU time used (user+sys), to show both cores at work.
// The page cache is warm (one untimed warm-up per measurement).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "bench_tree.h"
#include "mlruns/rank.h"
#include "mlruns/reader.h"
#include "mlruns/search.h"

namespace fs = std::filesystem;

using namespace bench;

namespace {

struct Options : CommonArgs {
  bool clean = false;
};

std::size_t plain_read(const fs::path& root) {
  // Walk like find(1), read every */metrics/m0 like cat(1).
  std::size_t bytes = 0;
  static char buf[1 << 16];
  for (const fs::directory_entry& exp : fs::directory_iterator(root)) {
    if (!exp.is_directory()) continue;
    for (const fs::directory_entry& run : fs::directory_iterator(exp.path())) {
      const fs::path m0 = run.path() / "metrics" / "m0";
      int fd = ::open(m0.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) bytes += static_cast<std::size_t>(n);
      ::close(fd);
    }
  }
  return bytes;
}

void fail_with(const mlruns::Status& s) {
  std::cerr << "bench_rank: " << s.to_string() << "\n";
  std::exit(1);
}

void usage(int code = 2) {
  (code ? std::cerr : std::cout) << "usage: bench_rank [--runs N] [--metrics M] [--steps S] [--repeats R] [--dir DIR] "
               "[--threads T] [--clean]\n"
               "Generates an N-run sweep tree (once, under /tmp) and times ranking and search against a\n"
               "plain read of the metric files; prints medians (docs/performance.md).\n";
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  parse_args(argc, argv, o, usage, [&](const std::string& a, auto&) {
    if (a != "--clean") return false;
    o.clean = true;
    return true;
  });
  const fs::path root = fs::absolute(o.dir);

  const std::string winner = open_or_generate(o.shape(), root);
  std::cout << "runs " << o.runs << " x metrics " << o.metrics << " x steps " << o.steps << ", median of "
            << o.repeats << " (warm cache), cores " << std::max(1u, std::thread::hardware_concurrency())
            << ", reader threads " << (o.threads ? std::to_string(o.threads) : std::string("auto"))
            << ", load average " << load_average() << "\n\n";

  mlruns::ReaderOptions ropt;
  ropt.threads = o.threads;
  auto open = [&] {
    auto r = mlruns::Reader::open(root.string(), ropt);
    if (!r) fail_with(r.error());
    return std::move(*r);
  };

  auto report = [](const char* name, const Sample& s, double base) {
    std::printf("%-13s %9.4f s   cpu %7.4f s (%3.0f%% of one core)", name, s.wall, s.cpu,
                s.wall > 0 ? 100.0 * s.cpu / s.wall : 0.0);
    if (base > 0) std::printf("   %5.2fx plain read", s.wall / base);
    std::printf("\n");
  };

  std::size_t bytes = 0;
  Sample plain = measure(o.repeats, [&] { bytes = plain_read(root); });
  report("plain read", plain, 0);
  std::string cmd = "find '" + root.string() + "' -path '*/metrics/m0' | xargs cat > /dev/null";
  Sample shell = measure(std::max(1, o.repeats / 2), [&] {
    if (std::system(cmd.c_str()) != 0) std::cerr << "bench_rank: find|xargs cat failed\n";
  });
  report("find|xargs", shell, 0);

  std::string top;
  Sample rank_latest = measure(o.repeats, [&] {
    mlruns::Reader reader = open();
    mlruns::RankQuery q;
    q.experiment_ids = {kExp};
    q.metric = "metrics.m0";
    auto r = rank_runs(reader, q);
    if (!r) fail_with(r.error());
    top = r->runs.empty() ? "" : r->runs.front().run.info.run_id;
  });
  report("rank latest", rank_latest, plain.wall);

  Sample rank_latest_1 = measure(o.repeats, [&] {
    mlruns::ReaderOptions one = ropt;
    one.threads = 1;
    auto reader = mlruns::Reader::open(root.string(), one);
    if (!reader) fail_with(reader.error());
    mlruns::RankQuery q;
    q.experiment_ids = {kExp};
    q.metric = "metrics.m0";
    if (auto r = rank_runs(*reader, q); !r) fail_with(r.error());
  });
  report("... 1 thread", rank_latest_1, plain.wall);

  std::string search_top;
  Sample search = measure(o.repeats, [&] {
    mlruns::Reader reader = open();
    mlruns::SearchQuery q;
    q.experiment_ids = {kExp};
    q.order_by = {"metrics.m0 DESC"};
    q.filter = "attributes.status = 'FINISHED'";
    q.max_results = std::min(o.runs, mlruns::kMaxSearchResults);
    q.fields = mlruns::RunFields::info_only();
    auto page = search_runs(reader, q);
    if (!page) fail_with(page.error());
    search_top = page->runs.empty() ? "" : page->runs.front().info.run_id;
  });
  report("search", search, plain.wall);

  Sample search_full = measure(o.repeats, [&] {
    mlruns::Reader reader = open();
    mlruns::SearchQuery q;
    q.experiment_ids = {kExp};
    q.order_by = {"metrics.m0 DESC"};
    auto page = search_runs(reader, q);
    if (!page) fail_with(page.error());
  });
  report("search full", search_full, plain.wall);

  Sample rank_best = measure(o.repeats, [&] {
    mlruns::Reader reader = open();
    mlruns::RankQuery q;
    q.experiment_ids = {kExp};
    q.metric = "m0";
    q.by = mlruns::RankBy::kBest;
    auto r = rank_runs(reader, q);
    if (!r) fail_with(r.error());
  });
  report("rank best", rank_best, plain.wall);

  bool ok = top == winner && search_top == winner;
  std::printf("\nplain read: %zu bytes; top run %s (%s)\n", bytes, top.c_str(),
              ok ? "correct" : ("WRONG, expected " + winner).c_str());
  std::printf("load average at the end: %s\n", load_average().c_str());
  std::printf("MLflow 3.8 (issue 3): 19.9 s for 2,000 runs -> rank latest is %.0fx faster\n",
              19.9 * (static_cast<double>(o.runs) / 2000.0) / rank_latest.wall);
  if (o.clean) remove_tree_dir("bench_rank", root);
  return ok ? 0 : 1;
}
