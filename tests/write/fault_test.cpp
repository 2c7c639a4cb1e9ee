// Faults (issue 4 item 4): through the Env seam, every write the library
// makes fails with ENOSPC, EDQUOT, EIO, EACCES, EINTR or a short write.
// Under each: no partial line or torn meta.yaml remains, the error names the
// path, acknowledged data is intact; in ErrorMode::kCount nothing throws and
// buffered points are written once the fault clears.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <filesystem>
#include <string>
#include <vector>

#include "fault_env.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "resil_util.h"

using namespace mlruns;
using namespace mlruns::test;
namespace fs = std::filesystem;

namespace {

struct Fault {
  const char* name;
  int error;
  bool short_write;
};
const Fault kFaults[] = {{"ENOSPC", ENOSPC, false}, {"EDQUOT", EDQUOT, false}, {"EIO", EIO, false},
                         {"EACCES", EACCES, false}, {"EINTR", EINTR, false},   {"short write", ENOSPC, true}};

std::uint64_t g_injected = 0;  // reported per test case

// The tree reads with no warning at all; returns the reader.
Reader clean_reader(const std::string& root) {
  std::vector<std::string> warnings;
  ReaderOptions o;
  o.on_warning = [&warnings](const Warning& w) { warnings.push_back(w.path + ": " + w.message); };
  auto r = Reader::open(root, o);
  REQUIRE(r.has_value());
  auto exps = r->experiments(ViewType::kAll);
  REQUIRE(exps.has_value());
  std::vector<std::string> ids;
  for (const auto& e : *exps) ids.push_back(e.experiment_id);
  REQUIRE(r->runs(ids, ViewType::kAll).has_value());
  for (const auto& w : warnings) FAIL_CHECK("reader warning: " << w);
  // Re-open without the callback that refers to this frame.
  auto again = Reader::open(root);
  REQUIRE(again.has_value());
  return std::move(*again);
}

// No file of the run is torn: metric files end in whole 3-field lines,
// meta.yaml is complete, no temp file sits where MLflow reads keys.
void check_no_torn_files(const std::string& run_dir) {
  INFO(run_dir);
  std::string meta = read_file(run_dir + "/meta.yaml");
  REQUIRE_FALSE(meta.empty());
  CHECK(meta.back() == '\n');
  CHECK(meta.find("run_uuid:") != std::string::npos);
  for (const auto& e : fs::recursive_directory_iterator(run_dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), run_dir).string();
    INFO(rel);
    bool in_keys = rel.rfind("metrics/", 0) == 0 || rel.rfind("params/", 0) == 0 || rel.rfind("tags/", 0) == 0 ||
                   rel.rfind("artifacts/", 0) == 0;
    if (in_keys) CHECK(e.path().filename().string().rfind(".mlruns-tmp", 0) != 0);
    if (rel.rfind("metrics/", 0) == 0) {
      std::string text = read_file(e.path());
      REQUIRE_FALSE(text.empty());
      REQUIRE(text.back() == '\n');
      for (const auto& l : split_lines(text)) REQUIRE(std::count(l.begin(), l.end(), ' ') == 2);
    }
  }
}

FaultEnv::Rule rule_for(const Fault& f, unsigned ops, std::string path) {
  FaultEnv::Rule r;
  r.ops = ops;
  r.path_contains = std::move(path);
  r.error = f.error;
  r.short_write = f.short_write;
  return r;
}

StoreOptions count_options(const std::string& root, FaultEnv& env) {
  StoreOptions o;
  o.tracking_uri = root;
  o.env = &env;
  o.errors = ErrorMode::kCount;
  o.flush.background_thread = false;
  o.flush.max_points = 1u << 20;
  return o;
}

}  // namespace

TEST_CASE("Metric flushes under every fault: acknowledged lines intact, the rest written once it clears",
          "[faults]") {
  g_injected = 0;
  for (const Fault& f : kFaults) {
    for (bool first_flush : {false, true}) {
      INFO(f.name << (first_flush ? ", creating the file" : ", appending"));
      TempDir dir;
      std::string root = dir.str() + "/mlruns";
      FaultEnv env;
      Store store = Store::open(count_options(root, env));
      ActiveRun run = store.start_run({.run_name = "faulty"});
      std::string file = root + "/0/" + run.id() + "/metrics/loss";
      int acked = 0;
      if (!first_flush) {
        for (; acked < 10; ++acked) run.log_metric("loss", acked, acked, 1700000000000 + acked);
        REQUIRE(run.flush().is_ok());
      }
      std::string before = read_file(file);
      // Every write on the way to the file fails: open, append, rename of a new file.
      env.add_rule(rule_for(f, FaultEnv::kAppend | FaultEnv::kOpenWrite | FaultEnv::kRename,
                            first_flush ? std::string("/") : std::string("/metrics/")));
      Status s;
      CHECK_NOTHROW([&] {
        for (int i = acked; i < 30; ++i) run.log_metric("loss", i, i, 1700000000000 + i);
        s = run.flush();
      }());
      REQUIRE_FALSE(s.is_ok());
      CHECK(s.os_error() == f.error);
      CHECK(s.message().find(first_flush ? "/" : "/metrics/loss") != std::string::npos);
      CHECK(s.message().find("metric 'loss'") != std::string::npos);
      CHECK(store.failure_count() >= 1);
      CHECK(read_file(file) == before);  // no partial line, nothing lost
      CHECK(fs::exists(file) == !first_flush);  // never an empty metric file
      g_injected += env.injected();
      env.clear_rules();
      REQUIRE(run.flush().is_ok());  // the fault cleared: buffered points go out, once
      REQUIRE(run.end().is_ok());
      check_no_torn_files(root + "/0/" + run.id());
      Reader reader = clean_reader(root);
      auto h = reader.metric_history(run.id(), "loss");
      REQUIRE(h.has_value());
      REQUIRE(h->size() == 30);
      for (int i = 0; i < 30; ++i) CHECK((*h)[i].step == i);
    }
  }
  WARN("metric flush faults injected: " << g_injected);
}

TEST_CASE("A short append whose undo also fails never leaves a torn line behind", "[faults]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FaultEnv env;
  Store store = Store::open(count_options(root, env));
  ActiveRun run = store.start_run();
  run.log_metric("loss", 1.0, 0, 1);
  REQUIRE(run.flush().is_ok());
  int a = env.add_rule({.ops = FaultEnv::kAppend, .path_contains = "/metrics/", .error = ENOSPC,
                        .short_write = true});
  int t = env.add_rule({.ops = FaultEnv::kTruncate, .path_contains = "/metrics/", .error = EIO});
  run.log_metric("loss", 2.0, 1, 2);
  Status s = run.flush();
  CHECK(s.os_error() == ENOSPC);
  CHECK(s.message().find("truncating back failed") != std::string::npos);
  env.remove_rule(a);
  // The torn tail is on disk now; while it cannot be cut, nothing is appended after it.
  run.log_metric("loss", 3.0, 2, 3);
  CHECK_FALSE(run.flush().is_ok());
  env.remove_rule(t);
  REQUIRE(run.flush().is_ok());
  REQUIRE(run.end().is_ok());
  CHECK(read_file(root + "/0/" + run.id() + "/metrics/loss") == "1 1.0 0\n2 2.0 1\n3 3.0 2\n");
  WARN("torn-tail faults injected: " << env.injected());
}

TEST_CASE("meta.yaml, param and tag writes under every fault: old file intact, error names the path",
          "[faults]") {
  g_injected = 0;
  for (const Fault& f : kFaults) {
    INFO(f.name);
    TempDir dir;
    std::string root = dir.str() + "/mlruns";
    FaultEnv env;
    Store store = Store::open(count_options(root, env));
    ActiveRun run = store.start_run({.run_name = "before"});
    REQUIRE(run.log_param("lr", "0.1").is_ok());
    std::string run_dir = root + "/0/" + run.id();
    std::string meta_before = read_file(run_dir + "/meta.yaml");

    // Every write inside the run folder (temp files live there) fails.
    env.add_rule(rule_for(f, FaultEnv::kAllWrites & ~FaultEnv::kCreateDir, run.id()));
    Status s;
    CHECK_NOTHROW(s = run.set_tag("mlflow.runName", "after"));  // tag file + meta.yaml
    CHECK(s.os_error() == f.error);
    CHECK(s.message().find(run.id()) != std::string::npos);
    CHECK_NOTHROW(s = run.log_param("gamma", "0.99"));
    CHECK(s.os_error() == f.error);
    CHECK_FALSE(fs::exists(run_dir + "/params/gamma"));
    CHECK_NOTHROW(s = run.end());  // meta.yaml rewrite fails: still RUNNING, retried later
    CHECK_FALSE(s.is_ok());
    CHECK(read_file(run_dir + "/meta.yaml") == meta_before);
    CHECK(read_file(run_dir + "/params/lr") == "0.1");
    CHECK(store.failure_count() >= 3);
    check_no_torn_files(run_dir);
    {
      Reader reader = clean_reader(root);
      auto r = reader.run(run.id());
      REQUIRE(r.has_value());
      CHECK(r->info.status == RunStatus::kRunning);
      CHECK(r->info.run_name == "before");
    }
    g_injected += env.injected();
    env.clear_rules();
    REQUIRE(run.set_tag("mlflow.runName", "after").is_ok());
    REQUIRE(run.log_param("gamma", "0.99").is_ok());
    REQUIRE(run.end().is_ok());
    Reader reader = clean_reader(root);
    auto r = reader.run(run.id());
    REQUIRE(r.has_value());
    CHECK(r->info.status == RunStatus::kFinished);
    CHECK(r->info.run_name == "after");
    CHECK(r->params.at("gamma") == "0.99");
  }
  WARN("meta/param/tag faults injected: " << g_injected);
}

TEST_CASE("Artifact copies under every fault: nothing half-copied under its final name", "[faults]") {
  g_injected = 0;
  TempDir src;
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  fs::create_directories(src.str() + "/ckpt/sub");
  write_file(src.str() + "/ckpt/model.bin", big);
  write_file(src.str() + "/ckpt/sub/opt.bin", big.substr(0, 1000));
  for (const Fault& f : kFaults) {
    INFO(f.name);
    TempDir dir;
    std::string root = dir.str() + "/mlruns";
    FaultEnv env;
    Store store = Store::open(count_options(root, env));
    ActiveRun run = store.start_run();
    std::string art = root + "/0/" + run.id() + "/artifacts";
    // The disk fills up 100 kB into the copy.
    FaultEnv::Rule r = rule_for(f, FaultEnv::kAppend, "");
    r.after_bytes = f.short_write ? 100000 : 0;
    r.path_contains = f.short_write ? "" : ".artifact";
    env.add_rule(r);
    Status s;
    CHECK_NOTHROW(s = run.log_artifacts(src.str() + "/ckpt", "checkpoint_000010"));
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.os_error() == f.error);
    CHECK(s.message().find(run.id()) != std::string::npos);
    CHECK_FALSE(fs::exists(art + "/checkpoint_000010/model.bin"));
    for (const auto& e : fs::recursive_directory_iterator(root + "/0/" + run.id()))
      if (e.is_regular_file()) CHECK(e.path().filename().string().find(".artifact") == std::string::npos);
    g_injected += env.injected();
    env.clear_rules();
    REQUIRE(run.log_artifacts(src.str() + "/ckpt", "checkpoint_000010").is_ok());
    CHECK(read_file(art + "/checkpoint_000010/model.bin") == big);
    CHECK(read_file(art + "/checkpoint_000010/sub/opt.bin") == big.substr(0, 1000));
    REQUIRE(run.end().is_ok());
    clean_reader(root);
  }
  WARN("artifact faults injected: " << g_injected);
}

TEST_CASE("Experiment creation under every fault: no half-made experiment is visible", "[faults]") {
  g_injected = 0;
  for (const Fault& f : kFaults) {
    for (unsigned ops : {unsigned(FaultEnv::kCreateDir), unsigned(FaultEnv::kAppend), unsigned(FaultEnv::kOpenWrite),
                         unsigned(FaultEnv::kRename)}) {
      INFO(f.name << ", op mask " << ops);
      TempDir dir;
      std::string root = dir.str() + "/mlruns";
      Store::open({.tracking_uri = root});
      FaultEnv env;
      Store store = Store::open(count_options(root, env));
      env.add_rule(rule_for(f, ops, root));
      Result<std::string> id;
      CHECK_NOTHROW(id = store.get_or_create_experiment("sweep"));
      REQUIRE_FALSE(id.has_value());
      CHECK(id.error().os_error() == f.error);
      CHECK(id.error().message().find(root) != std::string::npos);
      CHECK(store.failure_count() == 1);
      {
        Reader reader = clean_reader(root);
        auto exps = reader.experiments(ViewType::kAll);
        REQUIRE(exps.has_value());
        CHECK(exps->size() == 1);  // Default only
      }
      for (const auto& e : fs::directory_iterator(root)) {
        std::string n = e.path().filename().string();
        INFO(n);
        CHECK((n == "0" || n.ends_with(".trash")));  // MLflow ignores *.trash folders
      }
      g_injected += env.injected();
      env.clear_rules();
      id = store.get_or_create_experiment("sweep");
      REQUIRE(id.has_value());
      Reader reader = clean_reader(root);
      CHECK(reader.experiment_by_name("sweep").has_value());
    }
  }
  WARN("experiment creation faults injected: " << g_injected);
}

TEST_CASE("kThrow: a fault throws mlruns::Error naming the path and keeps the points", "[faults]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FaultEnv env;
  StoreOptions o = count_options(root, env);
  o.errors = ErrorMode::kThrow;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  run.log_metric("loss", 1.0, 0, 1);
  REQUIRE(run.flush().is_ok());
  env.add_rule({.ops = FaultEnv::kAppend, .path_contains = "/metrics/", .error = EDQUOT});
  run.log_metric("loss", 2.0, 1, 2);
  try {
    run.flush();
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.status().os_error() == EDQUOT);
    CHECK(std::string(e.what()).find("/metrics/loss") != std::string::npos);
  }
  env.clear_rules();
  run.flush();
  run.end();
  CHECK(read_file(root + "/0/" + run.id() + "/metrics/loss") == "1 1.0 0\n2 2.0 1\n");
}

TEST_CASE("Power loss with Durability::kEveryFlush keeps every flushed point and a whole meta.yaml",
          "[faults][power]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FaultEnv env;
  StoreOptions o = count_options(root, env);
  o.durability = Durability::kEveryFlush;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  env.mark_all_durable();  // the run exists (its creation was synced)
  for (int i = 0; i < 20; ++i) run.log_metric("loss", i, i, 1);
  REQUIRE(run.flush().is_ok());  // acknowledged: fsynced
  REQUIRE(run.set_tag("mlflow.runName", "renamed").is_ok());
  for (int i = 20; i < 40; ++i) run.log_metric("loss", i, i, 1);  // buffered only
  // The machine dies now: what was not synced is gone.
  env.drop_unsynced_data();
  std::string run_dir = root + "/0/" + run.id();
  check_no_torn_files(run_dir);
  Reader reader = clean_reader(root);
  auto h = reader.metric_history(run.id(), "loss");
  REQUIRE(h.has_value());
  CHECK(h->size() == 20);
  auto r = reader.run(run.id());
  REQUIRE(r.has_value());
  CHECK(r->info.run_name == "renamed");
  run.end();
}

TEST_CASE("kCount with the background flusher: a full disk is counted, the points follow once it clears",
          "[faults]") {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FaultEnv env;
  StoreOptions o = count_options(root, env);
  o.flush = {.max_points = 1u << 20, .max_age = std::chrono::milliseconds(10), .background_thread = true};
  std::vector<Status> errors;
  std::mutex mu;
  o.on_error = [&](const Status& s) {
    std::lock_guard lock(mu);
    errors.push_back(s);
  };
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  std::string file = root + "/0/" + run.id() + "/metrics/loss";
  env.add_rule({.ops = FaultEnv::kAppend | FaultEnv::kOpenWrite, .path_contains = "/", .error = ENOSPC});
  for (int i = 0; i < 100; ++i) CHECK(run.log_metric("loss", i, i, 1).is_ok());  // buffered: no error yet
  // Wait (bounded) until the background thread has failed a few times.
  for (int i = 0; i < 500 && store.failure_count() < 3; ++i) ::usleep(10000);
  CHECK(store.failure_count() >= 3);
  CHECK_FALSE(fs::exists(file));
  {
    std::lock_guard lock(mu);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors.front().os_error() == ENOSPC);
  }
  env.clear_rules();  // the user cleaned up the scratch space
  for (int i = 0; i < 500 && !fs::exists(file); ++i) ::usleep(10000);
  REQUIRE(fs::exists(file));
  auto lines = split_lines(read_file(file));
  CHECK(lines.size() == 100);  // every point once, in order
  CHECK(lines.front() == "1 0.0 0");
  CHECK(lines.back() == "1 99.0 99");
  REQUIRE(run.end().is_ok());
  WARN("background flush failures counted while the disk was full: " << store.failure_count());
}
