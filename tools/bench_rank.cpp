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
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "mlruns/rank.h"
#include "mlruns/reader.h"
#include "mlruns/search.h"

namespace fs = std::filesystem;

namespace {

struct Options {
  std::size_t runs = 2000;
  int metrics = 10;
  int steps = 100;
  int repeats = 5;
  unsigned threads = 0;
  std::string dir;
  bool clean = false;
};

const char* kExp = "1";

std::string run_id_of(std::size_t i) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08zx%024zx", i * 2654435761u % 0xffffffffu, i);
  return buf;
}

std::string format_value(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // Python's repr: 100.0
  return s;
}

void write(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) {
    std::cerr << "bench_rank: cannot write " << p << "\n";
    std::exit(1);
  }
}

// The tree, and the run that must win (FINISHED, highest latest m0).
std::string generate(const Options& o, const fs::path& root) {
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
    write(run / "meta.yaml",
          "artifact_uri: file://" + (run / "artifacts").string() + "\nend_time: " + std::to_string(start + 900) +
              "\nentry_point_name: ''\nexperiment_id: '" + kExp + "'\nlifecycle_stage: active\nrun_id: " + id +
              "\nrun_name: trial_" + std::to_string(i) + "\nrun_uuid: " + id +
              "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: " + std::to_string(start) +
              "\nstatus: " + (finished ? "3" : "4") + "\ntags: []\nuser_id: bench\n");
    write(run / "params" / "lr", "0.001");
    write(run / "params" / "gamma", "0.99");
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

struct Sample {
  double wall = 0;  // seconds
  double cpu = 0;   // user + system seconds
};

double cpu_seconds() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(self.ru_utime) + sec(self.ru_stime) + sec(children.ru_utime) + sec(children.ru_stime);
}

// Median wall time (and the CPU time of that repeat) after one warm-up.
Sample measure(int repeats, const std::function<void()>& fn) {
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

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
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
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage(0);
    if (a == "--runs") o.runs = std::stoul(next());
    else if (a == "--metrics") o.metrics = std::stoi(next());
    else if (a == "--steps") o.steps = std::stoi(next());
    else if (a == "--repeats") o.repeats = std::stoi(next());
    else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--dir") o.dir = next();
    else if (a == "--clean") o.clean = true;
    else usage();
  }
  if (o.runs == 0 || o.metrics < 1 || o.steps < 1 || o.repeats < 1) usage();
  if (o.dir.empty()) {
    o.dir = (fs::temp_directory_path() / ("mlruns-bench-" + std::to_string(o.runs) + "x" +
                                          std::to_string(o.metrics) + "x" + std::to_string(o.steps)))
                .string();
  }
  const fs::path root = fs::absolute(o.dir);

  std::string winner;
  {
    std::ifstream done(root / ".bench_complete");
    std::string n;
    if (done >> n && n == std::to_string(o.runs)) {
      std::ifstream w(root / ".bench_winner");
      w >> winner;
      std::cout << "tree: " << root.string() << " (reused)\n";
    } else {
      fs::remove_all(root);
      auto t0 = std::chrono::steady_clock::now();
      winner = generate(o, root);
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << "tree: " << root.string() << " (generated in " << s << " s)\n";
    }
  }
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
  if (o.clean) fs::remove_all(root);
  return ok ? 0 : 1;
}
