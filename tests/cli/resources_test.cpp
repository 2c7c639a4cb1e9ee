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
