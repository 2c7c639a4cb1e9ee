// bench_floor: the system-call floor under search_runs and log_batch, whatever
// the store (docs/performance.md "Python: MlflowClient through mlruns:").
//
//   bench_floor <experiment folder> [--page 1000] [--listed metric0,metric1]
//               [--repeats 9] [--appends-dir /tmp]
//
// Plain POSIX, no mlruns code: what reading the files of a search page, or
// appending a batch's lines, costs in the kernel with the fewest calls, so
// that no engine can be faster on this machine:
//   list          every run folder of the experiment: its meta.yaml and the
//                 --listed metric files (what a filter and an order need)
//   page          --page runs: params/*, tags/* and the metric files not
//                 listed (the rest of a page with everything)
// each file one openat relative to a held folder descriptor (O_NOFOLLOW,
// O_NONBLOCK), one read into a reused buffer, one close: no fstat, no path
// walk from the root, no parsing ("no parse"); then the same with the least
// parse of MLflow's latest value (max of (step, timestamp); only that line's
// value converted). Then the appends of a log_batch: 1,000 files, 10 files,
// one line each (openat O_APPEND, write, close: no lock, no tail check, no
// run check). CPU time (user + sys) medians; the page cache is warm.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench_args.h"

namespace {

std::vector<char> g_buf(1 << 20);
double g_sink = 0;  // keeps the parse from being optimised away

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// The latest point's value: lines "timestamp value step", the max (step, timestamp).
void parse_latest(const char* p, const char* end) {
  long long best_step = 0, best_ts = 0;
  const char* best_value = nullptr;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (!nl) nl = end;
    char* after_ts = nullptr;
    long long ts = std::strtoll(p, &after_ts, 10);
    const char* value = after_ts + 1;
    const char* sp = value < nl ? static_cast<const char*>(std::memchr(value, ' ', static_cast<std::size_t>(nl - value)))
                                : nullptr;
    long long step = sp ? std::strtoll(sp + 1, nullptr, 10) : 0;
    if (!best_value || step > best_step || (step == best_step && ts > best_ts)) {
      best_step = step;
      best_ts = ts;
      best_value = value;
    }
    p = nl + 1;
  }
  if (best_value) g_sink += std::strtod(best_value, nullptr);
}

bool g_parse = false;
long g_files = 0;
std::size_t g_runs = 0;

void read_at(int dir, const char* name) {
  int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, g_buf.data(), g_buf.size());
  close(fd);
  ++g_files;
  if (g_parse && n > 0) parse_latest(g_buf.data(), g_buf.data() + n);
}

int open_dir_at(int dir, const char* name) {
  return openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// The names in an open folder (the descriptor stays open).
std::vector<std::string> names_in(int dir) {
  std::vector<std::string> out;
  int fd = dup(dir);
  if (fd < 0) return out;
  DIR* d = fdopendir(fd);
  if (!d) {
    close(fd);
    return out;
  }
  rewinddir(d);
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  closedir(d);
  return out;
}

void read_all_in(int run, const char* sub, const std::vector<std::string>& skip = {}) {
  int d = open_dir_at(run, sub);
  if (d < 0) return;
  for (const std::string& n : names_in(d))
    if (std::find(skip.begin(), skip.end(), n) == skip.end()) read_at(d, n.c_str());
  close(d);
}

void search_files(const char* exp, std::size_t page, const std::vector<std::string>& listed) {
  int e = open_dir_at(AT_FDCWD, exp);
  if (e < 0) {
    std::perror(exp);
    std::exit(2);
  }
  std::vector<std::string> runs;
  for (std::string& n : names_in(e))
    if (n.size() == 32) runs.push_back(std::move(n));
  std::sort(runs.begin(), runs.end());
  g_runs = runs.size();
  for (const std::string& r : runs) {
    int run = open_dir_at(e, r.c_str());
    if (run < 0) continue;
    read_at(run, "meta.yaml");
    int m = open_dir_at(run, "metrics");
    for (const std::string& k : listed) read_at(m, k.c_str());
    close(m);
    close(run);
  }
  for (std::size_t i = 0; i < std::min(page, runs.size()); ++i) {
    int run = open_dir_at(e, runs[i].c_str());
    read_all_in(run, "params");
    read_all_in(run, "tags");
    read_all_in(run, "metrics", listed);
    close(run);
  }
  close(e);
}

void appends(int dir, int keys, int call) {
  char line[64];
  int len = std::snprintf(line, sizeof line, "1700000000000 0.5 %d\n", call);
  for (int k = 0; k < keys; ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "k%d", k);
    int fd = openat(dir, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) continue;
    if (write(fd, line, static_cast<std::size_t>(len)) != len) std::perror("write");
    close(fd);
  }
}

double median_cpu(int repeats, const std::function<void()>& fn) {
  fn();  // warm-up: page cache, dentries
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    double c0 = cpu_ms();
    fn();
    t.push_back(cpu_ms() - c0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t b = 0; b <= s.size();) {
    std::size_t e = std::min(s.find(',', b), s.size());
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string tool = "bench_floor";
  const char* usage =
      "usage: bench_floor <experiment folder> [--page 1000] [--listed metric0,metric1] [--repeats 9]\n"
      "                   [--appends-dir /tmp]\n"
      "The system-call floor of a search page and of log_batch's appends (CPU ms medians).\n";
  std::string exp;
  std::size_t page = 1000;
  std::vector<std::string> listed{"metric0", "metric1"};
  int repeats = 9;
  std::string appends_dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (a.empty() || a[0] != '-') {
      if (!exp.empty()) bench::die(tool, "one experiment folder only, got '" + exp + "' and '" + a + "'");
      exp = a;
      continue;
    }
    if (a != "--page" && a != "--listed" && a != "--repeats" && a != "--appends-dir") bench::unknown_flag(tool, a);
    if (i + 1 >= argc) bench::missing_value(tool, a);
    const std::string v = argv[++i];
    if (a == "--page") page = static_cast<std::size_t>(bench::whole_number(tool, a, v));
    else if (a == "--listed") listed = split(v);
    else if (a == "--repeats") repeats = static_cast<int>(bench::whole_number(tool, a, v));
    else appends_dir = v;
  }
  if (exp.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  g_files = 0;
  search_files(exp.c_str(), page, listed);
  const long files = g_files;
  g_parse = false;
  double bare = median_cpu(repeats, [&] { search_files(exp.c_str(), page, listed); });
  g_parse = true;
  double parsed = median_cpu(repeats, [&] { search_files(exp.c_str(), page, listed); });
  std::printf("search page floor: %ld files (%zu runs listed with %zu metrics, a page of %zu)\n", files, g_runs,
              listed.size(), std::min(page, g_runs));
  std::printf("  open/read/close, no parse        %8.1f ms CPU\n", bare);
  std::printf("  + the latest value parsed        %8.1f ms CPU\n", parsed);

  std::string tmpl = appends_dir + "/bench_floor.XXXXXX";
  std::vector<char> path(tmpl.begin(), tmpl.end());
  path.push_back('\0');
  if (!mkdtemp(path.data())) {
    std::perror("mkdtemp");
    return 2;
  }
  int dir = open_dir_at(AT_FDCWD, path.data());
  int call = 0;
  for (int keys : {1000, 10}) {
    double t = median_cpu(repeats * 3, [&] { appends(dir, keys, call++); });
    std::printf("log_batch appends floor, %4d files: %8.3f ms CPU\n", keys, t);
  }
  for (const std::string& n : names_in(dir)) unlinkat(dir, n.c_str(), 0);
  close(dir);
  rmdir(path.data());
  std::printf("(g_sink %g)\n", g_sink);
  return 0;
}
