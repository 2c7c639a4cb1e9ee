// Concurrency (issue 4 item 1): many threads on one run, many processes on
// one experiment name. Exact counts and contents, checked with the Reader
// and by reading the files.
#include <fcntl.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "resil_util.h"

using namespace mlruns;
using namespace mlruns::test;
namespace fs = std::filesystem;

namespace {

// Reader that fails the test on any warning: a clean tree has none.
Reader clean_reader(const std::string& root, std::vector<std::string>* warnings) {
  ReaderOptions o;
  o.on_warning = [warnings](const Warning& w) { warnings->push_back(w.path + ": " + w.message); };
  auto r = Reader::open(root, o);
  REQUIRE(r.has_value());
  return std::move(*r);
}

// Every line of a metric file: "<int> <float> <int>".
void check_whole_lines(const std::string& path, std::size_t expected_lines) {
  std::string text = read_file(path);
  REQUIRE_FALSE(text.empty());
  CHECK(text.back() == '\n');
  auto lines = split_lines(text);
  CHECK(lines.size() == expected_lines);
  for (const auto& l : lines) {
    int spaces = 0;
    for (char c : l) spaces += c == ' ';
    INFO(path << ": '" << l << "'");
    REQUIRE(spaces == 2);
    REQUIRE(l.front() != ' ');
    REQUIRE(l.back() != ' ');
  }
}

}  // namespace

TEST_CASE("Many threads logging to one run lose, tear and interleave no line", "[concurrency]") {
  constexpr int kThreads = 8;
  constexpr int kPoints = 4000;
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FlushPolicy policy;
  SECTION("buffered, small batches") { policy = {.max_points = 97, .max_age = std::chrono::milliseconds(1)}; }
  SECTION("write-through") { policy = {.write_through = true}; }

  auto store = Store::open({.tracking_uri = root, .flush = policy});
  ActiveRun run = store.start_run({.run_name = "threads"});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&run, t] {
      std::string own = "thread/" + std::to_string(t);
      run.log_param("p" + std::to_string(t), std::to_string(t));
      for (int i = 0; i < kPoints; ++i) {
        run.log_metric(own, i + 0.5, i, 1700000000000 + i);
        run.log_metric("shared", t * 100000.0 + i, i, 1700000000000 + i);  // one file, all threads
        if (i % 1000 == 999) run.flush();
        if (i % 1500 == 0) run.set_tag("t" + std::to_string(t), std::to_string(i));
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(run.end().is_ok());
  CHECK(store.failure_count() == 0);

  std::vector<std::string> warnings;
  Reader reader = clean_reader(root, &warnings);
  auto shared = reader.metric_history(run.id(), "shared");
  REQUIRE(shared.has_value());
  REQUIRE(shared->size() == kThreads * kPoints);
  std::set<std::pair<double, std::int64_t>> seen;
  for (const Metric& m : *shared) seen.insert({m.value, m.step});
  CHECK(seen.size() == kThreads * kPoints);  // every point exactly once
  for (int t = 0; t < kThreads; ++t) {
    auto own = reader.metric_history(run.id(), "thread/" + std::to_string(t));
    REQUIRE(own.has_value());
    REQUIRE(own->size() == kPoints);
    for (int i = 0; i < kPoints; ++i) {  // one writer per key: file order is log order
      CHECK((*own)[i].step == i);
      CHECK((*own)[i].value == i + 0.5);
    }
  }
  auto r = reader.run(run.id());
  REQUIRE(r.has_value());
  CHECK(r->info.status == RunStatus::kFinished);
  for (int t = 0; t < kThreads; ++t) CHECK(r->params.at("p" + std::to_string(t)) == std::to_string(t));
  std::string run_dir = root + "/0/" + run.id();
  check_whole_lines(run_dir + "/metrics/shared", kThreads * kPoints);
  CHECK(warnings.empty());
}

#ifdef MLRUNS_STRESS_PATH
TEST_CASE("64 processes get-or-create one experiment at once: one experiment, 64 complete runs",
          "[concurrency][processes]") {
  constexpr int kProcs = 64;
  constexpr int kPoints = 200;
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  Store::open({.tracking_uri = root});  // the tree exists; the experiment does not
  const std::string name = "sweep-" + std::to_string(::getpid());

  int barrier[2];
  REQUIRE(::pipe(barrier) == 0);
  ::fcntl(barrier[1], F_SETFD, FD_CLOEXEC);  // only we hold the write end: closing it is the start
  std::vector<Child> children;
  for (int rank = 0; rank < kProcs; ++rank) {
    children.push_back(spawn_piped({MLRUNS_STRESS_PATH, "concurrent", root, name, std::to_string(rank),
                                    std::to_string(kPoints), std::to_string(barrier[0])}));
    REQUIRE(children.back().pid > 0);
  }
  ::close(barrier[0]);
  ::close(barrier[1]);  // all ranks start now

  std::set<std::string> exp_ids, run_ids;
  for (auto& c : children) {
    std::string line = c.read_line(120000);
    int status = c.wait();
    INFO("child " << describe_status(status) << " said '" << line << "'");
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    auto space = line.find(' ');
    REQUIRE(space != std::string::npos);
    exp_ids.insert(line.substr(0, space));
    run_ids.insert(line.substr(space + 1));
  }
  REQUIRE(exp_ids.size() == 1);  // every rank got the same id
  REQUIRE(run_ids.size() == kProcs);
  const std::string exp = *exp_ids.begin();

  std::vector<std::string> warnings;
  Reader reader = clean_reader(root, &warnings);
  auto exps = reader.experiments(ViewType::kAll);
  REQUIRE(exps.has_value());
  int with_name = 0;
  for (const auto& e : *exps) with_name += e.name == name;
  CHECK(with_name == 1);
  CHECK(exps->size() == 2);  // Default and ours: no half-made leftovers
  // No stray folder in the root besides the two experiments, .trash and our staging area.
  for (const auto& entry : fs::directory_iterator(root)) {
    std::string n = entry.path().filename().string();
    INFO(n);
    CHECK((n == "0" || n == exp || n.ends_with(".trash")));
  }

  auto runs = reader.runs({exp});
  REQUIRE(runs.has_value());
  REQUIRE(runs->size() == kProcs);
  std::set<std::string> ranks;
  for (const Run& r : *runs) {
    INFO("run " << r.info.run_id);
    CHECK(run_ids.count(r.info.run_id) == 1);
    CHECK(r.info.status == RunStatus::kFinished);
    CHECK(r.info.end_time.has_value());
    std::string rank = r.params.at("rank");
    ranks.insert(rank);
    CHECK(r.info.run_name == "rank-" + rank);
    CHECK(r.tags.at("rank") == rank);
    CHECK(r.params.at("points") == std::to_string(kPoints));
    int rk = std::stoi(rank);
    for (const char* key : {"loss", "train/acc"}) {
      auto h = reader.metric_history(r.info.run_id, key);
      REQUIRE(h.has_value());
      REQUIRE(h->size() == kPoints);
      int k = std::string(key) == "loss" ? 0 : 1;
      for (int i = 0; i < kPoints; ++i) {
        CHECK((*h)[i].step == i);
        CHECK((*h)[i].value == rk * 1000.0 + i + k * 0.25);
      }
    }
    check_whole_lines(root + "/" + exp + "/" + r.info.run_id + "/metrics/loss", kPoints);
    auto root_dir = reader.artifact_root(r.info.run_id);
    REQUIRE(root_dir.has_value());
    CHECK(read_file(*root_dir + "/out/rank.txt") == "rank " + rank + "\n");
  }
  CHECK(ranks.size() == kProcs);
  CHECK(warnings.empty());
}
#endif
