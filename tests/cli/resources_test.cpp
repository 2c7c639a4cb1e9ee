// Issue 15 item 3: no input makes a verb's memory grow with what is on disk.
// A run with a 120 MB metric file and a 1 GB sparse one; each verb runs as a
// child and its peak memory (ru_maxrss from wait4, not a time) must stay
// below a fixed bound far under the files' sizes (docs/reading.md, "Limits").
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_test_util.h"
#include "sparse_file.h"
#include "mlruns/store.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

struct Usage {
  int code = -1;
  long max_rss_kib = 0;
};

// Runs the CLI with stdout to /dev/null; returns its exit code and peak RSS.
Usage measure(const std::vector<std::string>& args, const std::string& uri) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) exec_cli_quiet(args, uri, 300);
  struct rusage ru {};
  const int code = wait_exit_code(pid, &ru);
  return Usage{code, ru.ru_maxrss};
}

struct Output {
  Usage usage;
  std::uintmax_t out_bytes = 0, err_bytes = 0;
};

// measure() with stdout and stderr to files, whose sizes it returns too.
Output measure_output(const std::vector<std::string>& args, const std::string& uri) {
  TempDir io;
  const fs::path out = io.path() / "out", err = io.path() / "err";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("MLFLOW_TRACKING_URI", uri.c_str(), 1);
    ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    ::alarm(300);
    exec_cli(args);
  }
  struct rusage ru {};
  const int code = wait_exit_code(pid, &ru);
  return Output{Usage{code, ru.ru_maxrss}, fs::file_size(out), fs::file_size(err)};
}

void write_repeated(const fs::path& p, char c, std::size_t n) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << std::string(n, c);
}

}  // namespace

TEST_CASE("history, get-top-run --rank-by best and fsck stream metric files: memory bounded, not by file size",
          "[cli][resources]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  std::string exp, big, sparse;
  {
    Store store = Store::open({.tracking_uri = uri});
    exp = *store.create_experiment("big");
    for (std::string* id : {&big, &sparse}) {
      ActiveRun r = store.start_run({.experiment_id = exp});
      r.log_metric("loss", 1.0, 0);
      *id = r.id();
    }
  }
  // 120 MB of real lines: 10 million points.
  {
    std::string chunk;
    for (int i = 0; i < 100000; ++i) chunk += "1700000000000 0.5 " + std::to_string(i) + "\n";
    fs::path p = fs::path(uri) / exp / big / "metrics" / "loss";
    std::ofstream out(p, std::ios::binary | std::ios::app);
    std::size_t total = 0;
    while (total < (120u << 20)) {
      out << chunk;
      total += chunk.size();
    }
  }
  // 1 GB that is one hole: a long line of NULs, then a good point.
  {
    fs::path p = fs::path(uri) / exp / sparse / "metrics" / "loss";
    int fd = ::open(p.c_str(), O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 1ll << 30) == 0);
    const char line[] = "\n1700000000000 2.0 7\n";
    REQUIRE(::write(fd, line, sizeof line - 1) == static_cast<ssize_t>(sizeof line - 1));
    ::close(fd);
  }
  const long kBoundKiB = 96 * 1024;  // the files: 120 MiB and 1 GiB; main: 4.1 GB, 9.3 GB, 3.1 GB
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  std::vector<Case> cases = {
      {{"history", big, "loss", "--csv"}, 0},
      {{"history", big, "loss", "--json"}, 0},
      {{"history", sparse, "loss", "--csv"}, 0},
      {{"get-top-run", "-e", "big", "-m", "loss", "--rank-by", "best", "--include-unfinished", "--no-download"}, 0},
      {{"get-top-run", "-e", "big", "-m", "loss", "--rank-by", "step:99999", "--include-unfinished", "--no-download"}, 0},
      {{"fsck"}, 7},
  };
  for (const Case& c : cases) {
    std::string shown;
    for (const std::string& a : c.args) shown += a + " ";
    Usage u = measure(c.args, uri);
    INFO("mlruns " << shown << "-> exit " << u.code << ", peak " << u.max_rss_kib / 1024 << " MiB");
    CHECK(u.code == c.code);
    CHECK(u.max_rss_kib < kBoundKiB);
  }
}

// Issue 15 item 3, the other read and maintenance verbs: a hostile tree with
// a 120 MB metric file, 4 GB-apparent sparse metric, param and tag files,
// 50 MB param and tag values and a 50 MB run name (far above MLflow's limits
// of 6,000 and 8,000 characters, spec §6.3), a 50 MB run name in a meta.yaml
// and a sparse meta.yaml. Each verb's peak memory and output stay bounded.
TEST_CASE("every read and maintenance verb: memory and output bounded on a hostile tree, not by file sizes",
          "[cli][resources]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  std::string exp, big, sparse, longv, longname, sparsemeta, gone;
  {
    Store store = Store::open({.tracking_uri = uri});
    exp = *store.create_experiment("big");
    for (std::string* id : {&big, &sparse, &longv, &longname, &sparsemeta, &gone}) {
      ActiveRun r = store.start_run({.experiment_id = exp});
      r.log_metric("loss", 1.0, 0);
      r.log_param("p", "1");
      *id = r.id();
    }
    REQUIRE(store.delete_run(gone));
  }
  const fs::path e = fs::path(uri) / exp;
  {
    std::string chunk;
    for (int i = 0; i < 100000; ++i) chunk += "1700000000000 0.5 " + std::to_string(i) + "\n";
    std::ofstream out(e / big / "metrics" / "loss", std::ios::binary | std::ios::app);
    for (std::size_t total = 0; total < (120u << 20); total += chunk.size()) out << chunk;
  }
  write_sparse(e / sparse / "metrics" / "loss", "", 4ull << 30, "\n1700000000000 2.0 7\n");
  write_sparse(e / sparse / "params" / "holes", "", 200u << 20, "x");  // under max_file_bytes (256 MiB)
  write_sparse(e / sparse / "tags" / "holes", "", 200u << 20, "x");
  write_sparse(e / sparse / "artifacts" / "model.bin", "", 4ull << 30, "x");
  write_repeated(e / longv / "params" / "huge", 'y', 50u << 20);
  write_repeated(e / longv / "tags" / "huge", 'z', 50u << 20);
  write_repeated(e / longv / "tags" / "mlflow.runName", 'n', 50u << 20);
  {
    const fs::path meta = e / longname / "meta.yaml";
    std::string text = read_file(meta);
    const std::size_t at = text.find("run_name: ");
    REQUIRE(at != std::string::npos);
    text.replace(at, text.find('\n', at) - at, "run_name: " + std::string(50u << 20, 'n'));
    write_file(meta, text);
  }
  write_sparse(e / sparsemeta / "meta.yaml", "", 200u << 20, "\n");

  const long kBoundKiB = 96 * 1024;              // main: up to ~650 MiB (show --json of the 50 MB values)
  const std::uintmax_t kOutputBound = 16u << 20;  // three values cut at 1 MiB, twice in JSON, and the rest
  struct Case {
    std::vector<std::string> args;
    std::vector<int> codes;  // any of these
  };
  const std::vector<Case> cases = {
      {{"runs", "-e", "big", "--filter", "metrics.loss > 0 and params.huge LIKE '%y%y%y%q'", "--order-by",
        "metrics.loss DESC"},
       {0}},
      {{"runs", "-e", "big", "--order-by", "params.huge", "--json"}, {0}},
      {{"runs", "-e", "big", "--csv", "--view", "all"}, {0}},
      {{"show", longv, "--json"}, {0}},
      {{"show", longv}, {0}},
      {{"show", sparse, "--json"}, {0}},
      {{"artifacts", sparse, "--recursive", "--json"}, {0}},
      {{"experiments", "--view", "all"}, {0}},
      {{"relocate", "--dry-run"}, {0}},
      {{"relocate"}, {0}},
      {{"gc", "--dry-run"}, {0}},
      {{"reap", "--dry-run", "--older-than", "0s"}, {0}},
      {{"reap", "--older-than", "0s"}, {0}},
  };
  for (const Case& c : cases) {
    std::string shown;
    for (const std::string& a : c.args) shown += a.substr(0, 60) + " ";
    Output o = measure_output(c.args, uri);
    INFO("mlruns " << shown << "-> exit " << o.usage.code << ", peak " << o.usage.max_rss_kib / 1024 << " MiB, "
                   << o.out_bytes << " bytes out, " << o.err_bytes << " bytes err");
    CHECK(std::count(c.codes.begin(), c.codes.end(), o.usage.code) == 1);
    CHECK(o.usage.max_rss_kib < kBoundKiB);
    CHECK(o.out_bytes + o.err_bytes < kOutputBound);
  }
}
