// Shared by the sync tests: a tree with every kind of content sync must
// carry, a check that the stand-in server holds exactly that tree (no
// duplicate run, point or artifact), and a child process to kill.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "mlruns/sync.h"
#include "sync/fake_mlflow_server.h"
#include "test_util.h"

namespace mlruns::testing {

struct SyncTree {
  std::string root;
  std::string parent, child, plain, deleted, nan_run;
  std::string exp_a, exp_b;
};

inline constexpr std::int64_t kT0 = 1704067200000;  // 2024-01-01

// Two experiments; a parent with a child (nested), a run with NaN/±inf and
// a ':' key, a plain run with artifacts in folders, a deleted run.
inline SyncTree make_sync_tree(const std::string& root, int points = 30) {
  StoreOptions so;
  so.tracking_uri = root;
  so.names = NameRules::kMlflow;  // the tree may hold keys with ':' (MLflow >= 2.16 writes them)
  Store store = Store::open(so);
  SyncTree t;
  t.root = store.root();
  t.exp_a = *store.create_experiment("sweep-a", {{"team", "rl"}});
  t.exp_b = *store.create_experiment("sweep-b");
  {
    RunOptions ro;
    ro.experiment_id = t.exp_a;
    ro.run_name = "parent";
    ActiveRun parent = store.start_run(ro);
    t.parent = parent.id();
    parent.log_param("lr", "0.001");
    parent.set_tag("phase", "search");
    RunOptions co;
    co.run_name = "child";
    ActiveRun child = parent.start_child(co);
    t.child = child.id();
    for (int i = 0; i < points; ++i) child.log_metric("loss", 1.0 / (i + 1), i, kT0 + i);
    child.log_param("seed", "7");
    child.end();
    parent.end();
  }
  {
    RunOptions ro;
    ro.experiment_id = t.exp_a;
    ro.run_name = "edges";
    ActiveRun r = store.start_run(ro);
    t.nan_run = r.id();
    r.log_metric("edge", std::numeric_limits<double>::quiet_NaN(), 0, kT0);
    r.log_metric("edge", std::numeric_limits<double>::infinity(), 1, kT0 + 1);
    r.log_metric("edge", -std::numeric_limits<double>::infinity(), 2, kT0 + 2);
    r.log_metric("edge", -0.0, 3, kT0 + 3);
    r.log_metric("edge", 1e-300, 4, kT0 + 4);
    r.log_metric("dup", 5.0, 0, kT0);  // the same point twice: both are the tree's
    r.log_metric("dup", 5.0, 0, kT0);
    r.log_param("a:b", "colon");
    r.end(RunStatus::kFailed);
  }
  {
    RunOptions ro;
    ro.experiment_id = t.exp_b;
    ro.run_name = "plain";
    ActiveRun r = store.start_run(ro);
    t.plain = r.id();
    r.log_text("hello\n", "notes/hello.txt");
    r.log_text(std::string(100000, 'x'), "ckpt/weights.bin");
    r.log_text("{}", "ckpt/deep/er/meta.json");
    for (int i = 0; i < points; ++i) r.log_metric("acc", 0.5 + i * 0.01, i, kT0 + 1000 * i);
    r.set_tag("mlflow.note.content", "a note");
    r.end();
  }
  {
    RunOptions ro;
    ro.experiment_id = t.exp_b;
    ro.run_name = "gone";
    ActiveRun r = store.start_run(ro);
    t.deleted = r.id();
    r.log_param("x", "1");
    r.end();
    (void)store.delete_run(t.deleted);
  }
  store.flush();
  return t;
}

// Resumes a run of the tree, lets `change` log to it (and end it), flushes.
template <typename Change>
void change_run(const std::string& root, const std::string& run_id, Change&& change) {
  StoreOptions so;
  so.tracking_uri = root;
  so.names = NameRules::kMlflow;
  Store store = Store::open(so);
  ActiveRun run = store.resume_run(run_id);
  change(run);
  store.flush();
}

// Every file of the tree made older than sync's "too fresh to trust" window.
inline void age_tree(const std::string& root) {
  auto old = fs::file_time_type::clock::now() - std::chrono::seconds(30);
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    std::error_code ec;
    if (!e.is_symlink()) fs::last_write_time(e.path(), old, ec);
  }
}

inline SyncOptions test_sync_options(const std::string& url) {
  SyncOptions o;
  o.server.url = url;
  o.server.max_retries = 6;
  o.server.backoff_factor = 0.01;
  o.server.backoff_jitter = 0;
  o.server.timeout_seconds = 10;
  o.jobs = 3;
  return o;
}

inline std::string tree_id_of(const std::string& root) {
  std::string id = read_file(fs::path(root) / ".mlruns-sync.trash" / "tree-id");
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

inline std::uint64_t value_bits(double v) {
  if (std::isnan(v)) return 0x7ff8000000000000ull;
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// The server holds exactly the tree: one run per local run (by source
// tag), with its name, times, status, lifecycle, params, tags (parent id
// rewritten), every metric point once, its artifacts byte for byte.
// `skipped_keys` are keys the server could not take (2.x and ':').
inline void check_server_matches_tree(const FakeMlflowServer& server, const std::string& root, bool include_deleted,
                                      const std::set<std::string>& skipped_keys = {}) {
  auto reader = Reader::open(root);
  REQUIRE(reader);
  const std::string tree = tree_id_of(root);
  REQUIRE(tree.size() == 36);
  std::vector<FakeRun> server_runs = server.runs();
  std::map<std::string, int> by_source;
  for (const FakeRun& r : server_runs) {
    auto t = r.tags.find("mlruns.sync.source");
    if (t != r.tags.end()) ++by_source[t->second];
  }
  for (const auto& [source, n] : by_source) {
    INFO("source " << source);
    CHECK(n == 1);  // never a second copy
  }
  auto artifacts = server.artifacts();
  std::size_t expected_runs = 0;
  auto exps = reader->experiments(ViewType::kAll);
  REQUIRE(exps);
  std::map<std::string, std::string> server_id_of;  // local -> server
  for (const FakeRun& r : server_runs) {
    auto t = r.tags.find("mlruns.sync.source");
    if (t != r.tags.end() && t->second.rfind(tree + "/", 0) == 0) server_id_of[t->second.substr(tree.size() + 1)] = r.run_id;
  }
  for (const Experiment& e : *exps) {
    auto runs = reader->runs({e.experiment_id}, ViewType::kAll);
    REQUIRE(runs);
    for (const Run& local : *runs) {
      const bool deleted = local.info.lifecycle_stage == LifecycleStage::kDeleted ||
                           e.lifecycle_stage == LifecycleStage::kDeleted;
      INFO("local run " << local.info.run_id << " (" << local.info.run_name << ")");
      auto srv = server.run_by_source(tree + "/" + local.info.run_id);
      if (deleted && !include_deleted) {
        CHECK_FALSE(srv);
        continue;
      }
      ++expected_runs;
      REQUIRE(srv);
      CHECK(srv->run_name == local.info.run_name);
      CHECK(srv->start_time == local.info.start_time);
      CHECK(srv->end_time == local.info.end_time);
      CHECK(srv->status == std::string(to_string(local.info.status)));
      CHECK(srv->lifecycle_stage == (deleted ? "deleted" : "active"));
      CHECK(srv->user_id == local.info.user_id);
      std::map<std::string, std::string> want_params;
      for (const auto& [k, v] : local.params)
        if (!skipped_keys.count(k)) want_params[k] = v;
      CHECK(srv->params == want_params);
      std::map<std::string, std::string> want_tags;
      for (const auto& [k, v] : local.tags) {
        if (skipped_keys.count(k)) continue;
        want_tags[k] = k == "mlflow.parentRunId" ? server_id_of[v] : v;
      }
      want_tags["mlruns.sync.source"] = tree + "/" + local.info.run_id;
      want_tags["mlflow.runName"] = local.info.run_name;
      CHECK(srv->tags == want_tags);
      // Metric points: the same multiset, so nothing missing and nothing twice.
      std::multiset<std::tuple<std::string, std::int64_t, std::int64_t, std::uint64_t>> want_points, got_points;
      for (const auto& [key, _] : local.metrics) {
        if (skipped_keys.count(key)) continue;
        auto h = reader->metric_history(local.info.run_id, key);
        REQUIRE(h);
        for (const Metric& m : *h) want_points.insert({key, m.step, m.timestamp, value_bits(m.value)});
      }
      for (const FakeMetric& m : srv->metrics) got_points.insert({m.key, m.step, m.timestamp, value_bits(m.value)});
      CHECK(got_points == want_points);
      // Artifacts byte for byte, and none extra.
      auto files = reader->list_artifacts(local.info.run_id, "", true);
      REQUIRE(files);
      auto art_root = reader->artifact_root(local.info.run_id);
      REQUIRE(art_root);
      const std::string prefix = srv->experiment_id + "/" + srv->run_id + "/artifacts/";
      std::size_t on_server = 0;
      for (const auto& [path, content] : artifacts)
        if (path.rfind(prefix, 0) == 0) ++on_server;
      CHECK(on_server == files->size());
      for (const ArtifactEntry& f : *files) {
        auto it = artifacts.find(prefix + f.path);
        REQUIRE(it != artifacts.end());
        CHECK(it->second == read_file(fs::path(*art_root) / f.path));
      }
      CHECK(srv->inputs.size() == local.dataset_inputs.size());
    }
  }
  std::size_t ours = 0;
  for (const auto& [source, n] : by_source)
    if (source.rfind(tree + "/", 0) == 0) ours += static_cast<std::size_t>(n);
  CHECK(ours == expected_runs);
}

// A child process running `mlruns ARGS...` with stdout/stderr to files.
struct Child {
  pid_t pid = -1;
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

}  // namespace mlruns::testing
