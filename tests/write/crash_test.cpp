// Crash safety (issue 4 item 2): SIGKILL a writer at random moments, hundreds
// of times, and check the tree after every kill.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "mlruns/fsck.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "resil_util.h"

using namespace mlruns;
using namespace mlruns::test;
namespace fs = std::filesystem;

#ifdef MLRUNS_STRESS_PATH

namespace {

struct Acks {
  std::string experiment;
  std::vector<std::string> runs;
  std::map<std::string, int> flushed_step;  // run -> last step acknowledged flushed
  std::map<std::string, int> ended;         // run -> steps
};

Acks read_acks(const std::string& path) {
  Acks a;
  for (const std::string& line : split_lines(read_file(path))) {
    REQUIRE_FALSE(line.empty());
    char kind = line[0];
    std::string rest = line.substr(2);
    auto sp = rest.find(' ');
    if (kind == 'X') a.experiment = rest;
    if (kind == 'R') a.runs.push_back(rest);
    if (kind == 'P') a.flushed_step[rest.substr(0, sp)] = std::stoi(rest.substr(sp + 1));
    if (kind == 'E') a.ended[rest.substr(0, sp)] = std::stoi(rest.substr(sp + 1));
  }
  return a;
}

// The artifact content the child copies (mlruns_stress.cpp, artifact_content).
std::string artifact_content(const std::string& name, std::size_t size) {
  std::string out;
  while (out.size() < size) out += name + " ";
  out.resize(size);
  return out;
}

struct Totals {
  int kills = 0;
  int runs_checked = 0;
  int acked_points = 0;
  int artifacts_checked = 0;
  int metric_files = 0;
  int meta_files = 0;
};

// Checks the files of one run folder directly, as MLflow would meet them.
void check_run_files(const std::string& run_dir, Totals& t) {
  std::string meta = read_file(run_dir + "/meta.yaml");
  INFO(run_dir);
  REQUIRE_FALSE(meta.empty());
  CHECK(meta.back() == '\n');
  CHECK(meta.find("run_uuid:") != std::string::npos);
  CHECK(meta.find("end_time:") != std::string::npos);
  ++t.meta_files;
  for (const char* sub : {"metrics", "params", "artifacts", "tags"}) CHECK(fs::is_directory(run_dir + "/" + sub));
  for (const auto& e : fs::recursive_directory_iterator(run_dir + "/metrics")) {
    if (!e.is_regular_file()) continue;
    std::string text = read_file(e.path());
    INFO(e.path().string());
    REQUIRE_FALSE(text.empty());  // MLflow: "Metric is malformed. No data found."
    REQUIRE(text.back() == '\n');
    for (const std::string& l : split_lines(text)) {
      REQUIRE_FALSE(l.empty());
      REQUIRE(std::count(l.begin(), l.end(), ' ') == 2);
    }
    ++t.metric_files;
  }
  for (const char* sub : {"params", "tags"}) {
    for (const auto& e : fs::recursive_directory_iterator(run_dir + "/" + sub)) {
      std::string n = e.path().filename().string();
      INFO(e.path().string());
      CHECK(n.rfind(".mlruns-tmp", 0) != 0);  // MLflow would read a temp file as a key
    }
  }
  for (const auto& e : fs::recursive_directory_iterator(run_dir + "/artifacts")) {
    if (!e.is_regular_file()) continue;
    std::string n = e.path().filename().string();
    INFO(e.path().string());
    REQUIRE(n.rfind("part", 0) == 0);  // no temp file under artifacts/
    CHECK(read_file(e.path()) == artifact_content(n, 256 * 1024));  // never half-copied
    ++t.artifacts_checked;
  }
}

}  // namespace

TEST_CASE("SIGKILL at random moments, 300 times: the tree reads cleanly, flushed points survive",
          "[crash]") {
  int kills = 300;
  if (const char* k = std::getenv("MLRUNS_CRASH_KILLS")) kills = std::atoi(k);
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  Store::open({.tracking_uri = root});
  unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  // Delays spread over the child's life: start-up, first run, steady state.
  std::uniform_int_distribution<int> delay_us(0, 150000);
  Totals t;
  std::set<std::string> checked_ended, files_checked;

  for (int k = 0; k < kills; ++k) {
    std::string acks_path = dir.str() + "/ack-" + std::to_string(k);
    pid_t pid = spawn({MLRUNS_STRESS_PATH, "crash", root, acks_path, std::to_string(rng())});
    REQUIRE(pid > 0);
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = wait_child(pid);
    INFO("kill " << k << ": child " << describe_status(status));
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    ++t.kills;

    Acks acks = read_acks(acks_path);
    if (acks.experiment.empty()) continue;  // killed before it logged anything
    std::vector<std::string> warnings;
    ReaderOptions ro;
    ro.on_warning = [&](const Warning& w) { warnings.push_back(w.path + ": " + w.message); };
    auto reader = Reader::open(root, ro);
    REQUIRE(reader.has_value());
    // Every run folder of this child's experiment (acknowledged or not).
    auto runs = reader->runs({acks.experiment}, ViewType::kAll, RunFields::info_only());
    REQUIRE(runs.has_value());
    for (const std::string& w : warnings) FAIL_CHECK("reader warning: " << w);
    std::set<std::string> present;
    for (const Run& r : *runs) present.insert(r.info.run_id);
    // Each run has one writer, dead now: its folder is final. Check every new
    // one, also those killed before they were acknowledged.
    for (const std::string& id : present) {
      if (!files_checked.insert(id).second) continue;
      check_run_files(root + "/" + acks.experiment + "/" + id, t);
    }
    for (const std::string& id : acks.runs) {
      INFO("run " << id);
      REQUIRE(present.count(id) == 1);  // acknowledged runs exist and read cleanly
      ++t.runs_checked;
      int flushed = acks.flushed_step.count(id) ? acks.flushed_step[id] : -1;
      auto ended = acks.ended.find(id);
      int must_have = ended != acks.ended.end() ? ended->second - 1 : flushed;
      for (const char* key : {"loss", "deep/acc"}) {
        auto h = reader->metric_history(id, key);
        REQUIRE(h.has_value());
        REQUIRE(static_cast<int>(h->size()) >= must_have + 1);
        for (int i = 0; i < static_cast<int>(h->size()); ++i) {  // in order, no duplicate
          CHECK((*h)[i].step == i);
        }
        t.acked_points += must_have + 1;
      }
      if (ended != acks.ended.end()) {
        auto r = reader->run(id);
        REQUIRE(r.has_value());
        CHECK(r->info.status == RunStatus::kFinished);
        checked_ended.insert(id);
      }
    }
  }
  // The whole tree, once more, at the end.
  std::vector<std::string> warnings;
  ReaderOptions ro;
  ro.on_warning = [&](const Warning& w) { warnings.push_back(w.path + ": " + w.message); };
  auto reader = Reader::open(root, ro);
  REQUIRE(reader.has_value());
  auto exps = reader->experiments(ViewType::kAll);
  REQUIRE(exps.has_value());
  std::vector<std::string> ids;
  for (const auto& e : *exps) ids.push_back(e.experiment_id);
  auto all = reader->runs(ids, ViewType::kAll);
  REQUIRE(all.has_value());
  CHECK(warnings.empty());
  WARN("crash test: " << t.kills << " kills, " << all->size() << " runs in the tree, " << t.runs_checked
                      << " run checks, " << t.acked_points << " acknowledged points verified, "
                      << t.metric_files << " metric files, " << t.meta_files << " meta.yaml, "
                      << t.artifacts_checked << " artifact files checked, " << checked_ended.size()
                      << " runs finished before a kill");
  CHECK(t.kills == kills);

  // fsck agrees: all writers are dead, so the only findings may be their
  // temp files and staging folders, and --repair moves those aside.
  auto report = fsck(root, {.temp_grace_ms = 0});
  REQUIRE(report.has_value());
  std::size_t leftovers = 0;
  for (const FsckFinding& f : report->findings) {
    INFO(f.check << " " << f.path << ": " << f.problem);
    CHECK(f.check == "temp.leftover");
    leftovers += f.check == "temp.leftover";
  }
  auto repaired = fsck(root, {.repair = true, .temp_grace_ms = 0});
  REQUIRE(repaired.has_value());
  CHECK(repaired->remaining() == 0);
  CHECK(fsck(root, {.temp_grace_ms = 0})->findings.empty());
  WARN("crash test: fsck found " << leftovers << " temp leftovers of killed writers and quarantined them");
}

#endif
