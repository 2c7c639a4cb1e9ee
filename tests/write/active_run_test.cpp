// The writer facade's runs: meta.yaml and folders, run names, params, tags,
// validation, metrics and the flush policy, RAII ends, resume, nested runs
// and artifacts (spec §4, §5, §6, §7, §8.2, §13.1).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <thread>

#include "format/meta_parse.h"
#include "mlruns/store.h"
#include "store_test_util.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

TEST_CASE("mlflow.source.name is the program's argv[0], as MLflow's sys.argv[0] (tracking/context/default_context.py)",
          "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));  // the tree-confined Env: argv[0] is read outside of it
  ActiveRun run = store.start_run();
  const std::string name = read_file(t.path() / "mlruns/0" / run.id() / "tags/mlflow.source.name");
  INFO(name);
  REQUIRE(name != "<console>");
  // This test binary, under the name it was started with.
  CHECK(fs::path(name).filename() == fs::read_symlink("/proc/self/exe").filename());
  CHECK(fs::equivalent(name, "/proc/self/exe"));
}

TEST_CASE("a run has meta.yaml with 15 keys, four folders and the system tags (spec §4.2, §4.5, §13.1)", "[store]") {
  TempDir t;
  ::setenv("MLFLOW_TRACKING_USERNAME", "alice", 1);
  ::setenv("SLURM_JOB_ID", "4242", 1);
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.run_name = "parent-run", .start_time = 1736942400028});
  ::unsetenv("MLFLOW_TRACKING_USERNAME");
  ::unsetenv("SLURM_JOB_ID");
  fs::path dir = t.path() / "mlruns/0" / run.id();
  CHECK(std::regex_match(run.id(), std::regex("[0-9a-f]{32}")));
  for (const char* sub : {"metrics", "params", "artifacts", "tags"}) CHECK(fs::is_directory(dir / sub));
  std::string expected = "artifact_uri: file://" + t.root() + "/0/" + run.id() +
                         "/artifacts\nend_time: null\nentry_point_name: ''\nexperiment_id: '0'\n"
                         "lifecycle_stage: active\nrun_id: " + run.id() + "\nrun_name: parent-run\nrun_uuid: " +
                         run.id() + "\nsource_name: ''\nsource_type: 4\nsource_version: ''\n"
                         "start_time: 1736942400028\nstatus: 1\ntags: []\nuser_id: alice\n";
  CHECK(read_file(dir / "meta.yaml") == expected);
  CHECK(read_file(dir / "tags/mlflow.runName") == "parent-run");
  CHECK(read_file(dir / "tags/mlflow.user") == "alice");
  CHECK(read_file(dir / "tags/mlflow.source.type") == "LOCAL");
  CHECK_FALSE(read_file(dir / "tags/mlflow.source.name").empty());
  CHECK(read_file(dir / "tags/mlruns.pid") == std::to_string(::getpid()));
  CHECK(read_file(dir / "tags/mlruns.slurm.job_id") == "4242");
  CHECK(fs::exists(dir / "tags/mlruns.host"));
  REQUIRE(run.end(RunStatus::kKilled).is_ok());
  std::string ended = read_file(dir / "meta.yaml");
  CHECK_THAT(ended, Catch::Contains("status: 5\n"));
  CHECK(ended.find("end_time: null") == std::string::npos);
}

TEST_CASE("generated run names are adjective-noun-N within 20 characters (spec §4.4)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  for (int i = 0; i < 20; ++i) {
    ActiveRun run = store.start_run({.system_tags = false});
    CHECK(std::regex_match(run.name(), std::regex("[a-z]+-[a-z]+-([0-9]|[1-9][0-9]{1,2}|1000)")));
    CHECK(run.name().size() <= 20);
    CHECK(read_file(t.path() / "mlruns/0" / run.id() / "tags/mlflow.runName") == run.name());
  }
}

TEST_CASE("params are immutable: same value is fine, another names both values (spec §5.2)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  REQUIRE(run.log_param("lr", "0.01").is_ok());
  REQUIRE(run.log_param("lr", "0.01").is_ok());
  try {
    run.log_param("lr", "0.02");
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(e.status().code() == Code::kAlreadyExists);
    CHECK_THAT(e.status().message(), Catch::Contains("'0.01'") && Catch::Contains("'0.02'"));
  }
  REQUIRE(run.log_param("gamma", 0.99).is_ok());
  REQUIRE(run.log_param("steps", 100).is_ok());
  REQUIRE(run.log_param("tiny", 1e-5).is_ok());
  REQUIRE(run.log_param("env/name", "CartPole-v1").is_ok());
  fs::path dir = t.path() / "mlruns/0" / run.id() / "params";
  CHECK(read_file(dir / "lr") == "0.01");
  CHECK(read_file(dir / "gamma") == "0.99");
  CHECK(read_file(dir / "steps") == "100");
  CHECK(read_file(dir / "tiny") == "1e-05");
  CHECK(read_file(dir / "env/name") == "CartPole-v1");
  // Resumed runs keep the rule: the value on disk counts.
  std::string id = run.id();
  run.end();
  ActiveRun again = store.resume_run(id);
  CHECK_THROWS_AS(again.log_param("lr", "0.5"), Error);
  CHECK(again.log_param("lr", "0.01").is_ok());
}

TEST_CASE("temp files never appear inside params/ or tags/ (spec §11)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  for (int i = 0; i < 50; ++i) {
    run.log_param("p" + std::to_string(i), "v");
    run.set_tag("t" + std::to_string(i), "v");
  }
  fs::path dir = t.path() / "mlruns/0" / run.id();
  for (const char* sub : {"params", "tags"})
    for (auto& e : fs::recursive_directory_iterator(dir / sub))
      CHECK(e.path().filename().string().rfind(".mlruns-tmp", 0) == std::string::npos);
  std::size_t leftovers = 0;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(".mlruns-tmp", 0) == 0) ++leftovers;
  CHECK(leftovers == 0);
}

TEST_CASE("tags: set overwrites, delete removes, mlflow.runName renames the run (spec §4.4, §5.3)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.run_name = "first", .system_tags = false});
  fs::path dir = t.path() / "mlruns/0" / run.id();
  REQUIRE(run.set_tag("model_type", "PPO").is_ok());
  REQUIRE(run.set_tag("model_type", "A2C").is_ok());
  CHECK(read_file(dir / "tags/model_type") == "A2C");
  REQUIRE(run.delete_tag("model_type").is_ok());
  CHECK_FALSE(fs::exists(dir / "tags/model_type"));
  CHECK_THROWS_AS(run.delete_tag("model_type"), Error);
  REQUIRE(run.set_tag("mlflow.runName", "second").is_ok());
  CHECK_THAT(read_file(dir / "meta.yaml"), Catch::Contains("run_name: second\n"));
}

TEST_CASE("a deleted tag or param file stays deleted when the run ends: the end's fsync never creates a file",
          "[store]") {
  // Durability::kOnClose fsyncs every param and tag file once at the end; it
  // used to reopen them with O_CREAT, so a deleted tag came back empty.
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path dir = t.path() / "mlruns/0" / run.id();
  REQUIRE(run.set_tag("draft", "yes").is_ok());
  REQUIRE(run.delete_tag("draft").is_ok());
  REQUIRE(run.log_param("lr", "0.1").is_ok());
  fs::remove(dir / "params/lr");  // removed by another process meanwhile
  REQUIRE(run.end().is_ok());
  CHECK_FALSE(fs::exists(dir / "tags/draft"));
  CHECK_FALSE(fs::exists(dir / "params/lr"));
}

TEST_CASE("validation errors name the value and the rule before touching the disk (spec §6)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path dir = t.path() / "mlruns/0" / run.id();
  auto message = [&](auto f) {
    try {
      f();
    } catch (const Error& e) {
      return e.status().message();
    }
    return std::string("no error");
  };
  CHECK_THAT(message([&] { run.log_param("../x", "1"); }), Catch::Contains("../x") && Catch::Contains("spec"));
  CHECK_THAT(message([&] { run.log_metric("/abs", 1.0); }), Catch::Contains("/abs"));
  CHECK_THAT(message([&] { run.set_tag("a:b", "1"); }), Catch::Contains("a:b"));
  CHECK_THAT(message([&] { run.log_param(std::string("a\0b", 3), "1"); }), Catch::Contains("\\x00"));
  CHECK_THAT(message([&] { run.log_param(std::string(300, 'k'), "1"); }), Catch::Contains("250"));
  CHECK_THAT(message([&] { run.log_param("long", std::string(6001, 'v')); }),
             Catch::Contains("6001") && Catch::Contains("6000"));
  CHECK_THAT(message([&] { run.log_metric("m", 1.0, 0, -5); }), Catch::Contains("-5"));
  CHECK_THAT(message([&] { run.log_text("x", "../escape.txt"); }), Catch::Contains("escape"));
  CHECK_THAT(message([&] { run.log_artifact("/etc/hostname", "/abs"); }), Catch::Contains("/abs"));
  CHECK(fs::is_empty(dir / "params"));
  CHECK_FALSE(fs::exists(t.path() / "mlruns/0" / "escape.txt"));
  CHECK_THAT(message([&] { store.create_experiment("it's"); }), Catch::Contains("it's"));
  CHECK_THAT(message([&] { store.start_run({.experiment_id = "../0"}); }), Catch::Contains("../0"));
}

TEST_CASE("long values are truncated to the limit with LongValues::kTruncate (spec §6.2)", "[store]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.long_values = LongValues::kTruncate;
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.system_tags = false});
  std::string value;
  for (int i = 0; i < 7000; ++i) value += "\xC3\xBC";  // 7000 characters, 14000 bytes
  REQUIRE(run.log_param("p", value).is_ok());
  REQUIRE(run.set_tag("t", std::string(9000, 'x')).is_ok());
  fs::path dir = t.path() / "mlruns/0" / run.id();
  CHECK(read_file(dir / "params/p") == value.substr(0, 12000));
  CHECK(read_file(dir / "tags/t").size() == 8000);
}

TEST_CASE("log_batch enforces MLflow's limits and writes params, metrics, tags (spec §6.3)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  std::vector<Metric> many(1001, Metric{"m", 1.0, 1, 0});
  CHECK_THROWS_AS(run.log_batch(many), Error);
  StringMap params;
  for (int i = 0; i < 101; ++i) params["p" + std::to_string(i)] = "v";
  CHECK_THROWS_AS(run.log_batch({}, params), Error);
  CHECK(fs::is_empty(t.path() / "mlruns/0" / run.id() / "params"));
  REQUIRE(run.log_batch({{"loss", 0.5, 1000, 0}, {"loss", 0.25, 1001, 1}}, {{"lr", "0.1"}}, {{"t", "x"}}).is_ok());
  run.flush();
  fs::path dir = t.path() / "mlruns/0" / run.id();
  CHECK(read_file(dir / "metrics/loss") == "1000 0.5 0\n1001 0.25 1\n");
  CHECK(read_file(dir / "params/lr") == "0.1");
  CHECK(read_file(dir / "tags/t") == "x");
  // By id, from another Store (the CLI's path).
  Store other = Store::open(opts(t));
  REQUIRE(other.log_batch(run.id(), {{"loss", 0.125, 1002, 2}}, {}, {}).is_ok());
  CHECK(read_file(dir / "metrics/loss") == "1000 0.5 0\n1001 0.25 1\n1002 0.125 2\n");
}

TEST_CASE("metric lines are '<ts> <python float> <step>' and buffered until flush (spec §5.1)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path file = t.path() / "mlruns/0" / run.id() / "metrics/val/acc";
  run.log_metric("val/acc", 100.0, 0, 1736942400035);
  run.log_metric("val/acc", 1e-5, 1, 1736942400036);
  run.log_metric("val/acc", std::nan(""), 2, 1736942400037);
  run.log_metric("val/acc", -INFINITY, -3, 1736942400038);
  run.log_metric("val/acc", -0.0, 4, 1736942400039);
  CHECK_FALSE(fs::exists(file));  // buffered
  REQUIRE(run.flush().is_ok());
  CHECK(read_file(file) == "1736942400035 100.0 0\n1736942400036 1e-05 1\n1736942400037 nan 2\n"
                       "1736942400038 -inf -3\n1736942400039 -0.0 4\n");
  CHECK_THROWS_AS(run.log_metric("val", 1.0), Error);  // 'val' is a folder of keys (spec §2.4)
}

TEST_CASE("FlushPolicy: size, age, write-through and end of run bring points to disk", "[store]") {
  TempDir t;
  SECTION("max_points") {
    StoreOptions o = opts(t);
    o.flush.max_points = 3;
    Store store = Store::open(o);
    ActiveRun run = store.start_run({.system_tags = false});
    fs::path file = t.path() / "mlruns/0" / run.id() / "metrics/m";
    run.log_metric("m", 1, 0, 1);
    run.log_metric("m", 2, 1, 2);
    CHECK_FALSE(fs::exists(file));
    run.log_metric("m", 3, 2, 3);
    CHECK(read_file(file) == "1 1.0 0\n2 2.0 1\n3 3.0 2\n");
  }
  SECTION("write_through") {
    StoreOptions o = opts(t);
    o.flush.write_through = true;
    Store store = Store::open(o);
    ActiveRun run = store.start_run({.system_tags = false});
    fs::path file = t.path() / "mlruns/0" / run.id() / "metrics/m";
    for (int i = 0; i < 5; ++i) {
      run.log_metric("m", i, i, 10 + i);
      std::string text = read_file(file);
      CHECK(std::count(text.begin(), text.end(), '\n') == i + 1);
    }
  }
  SECTION("background thread after max_age") {
    StoreOptions o = opts(t);
    o.flush.background_thread = true;
    o.flush.max_age = std::chrono::milliseconds(20);
    Store store = Store::open(o);
    ActiveRun run = store.start_run({.system_tags = false});
    fs::path file = t.path() / "mlruns/0" / run.id() / "metrics/m";
    run.log_metric("m", 1.5, 0, 7);
    bool seen = false;
    for (int i = 0; i < 400 && !seen; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      seen = fs::exists(file) && read_file(file) == "7 1.5 0\n";
    }
    CHECK(seen);
  }
  SECTION("Store::flush and end of run") {
    Store store = Store::open(opts(t));
    std::string id;
    {
      ActiveRun run = store.start_run({.system_tags = false});
      id = run.id();
      run.log_metric("a", 1, 0, 1);
      REQUIRE(store.flush().is_ok());
      CHECK(read_file(t.path() / "mlruns/0" / id / "metrics/a") == "1 1.0 0\n");
      run.log_metric("b", 2, 0, 2);
    }
    CHECK(read_file(t.path() / "mlruns/0" / id / "metrics/b") == "2 2.0 0\n");
  }
}

TEST_CASE("RAII: scope left normally ends FINISHED, by an exception FAILED (spec §7)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  std::string ok_id, failed_id;
  {
    ActiveRun run = store.start_run({.system_tags = false});
    ok_id = run.id();
  }
  try {
    ActiveRun run = store.start_run({.system_tags = false});
    failed_id = run.id();
    throw std::runtime_error("diverged");
  } catch (const std::runtime_error&) {
  }
  CHECK_THAT(read_file(t.path() / "mlruns/0" / ok_id / "meta.yaml"), Catch::Contains("status: 3\n"));
  CHECK_THAT(read_file(t.path() / "mlruns/0" / failed_id / "meta.yaml"), Catch::Contains("status: 4\n"));
  // A run that ends inside a catch block while another exception is in flight still ends FINISHED.
  try {
    throw std::runtime_error("outer");
  } catch (...) {
    ActiveRun run = store.start_run({.system_tags = false});
    ok_id = run.id();
  }
  CHECK_THAT(read_file(t.path() / "mlruns/0" / ok_id / "meta.yaml"), Catch::Contains("status: 3\n"));
  // Move-assigning over a live run ends the old one; a moved-from run is not a run.
  ActiveRun a = store.start_run({.system_tags = false});
  std::string first = a.id();
  a = store.start_run({.system_tags = false});
  CHECK_THAT(read_file(t.path() / "mlruns/0" / first / "meta.yaml"), Catch::Contains("status: 3\n"));
  ActiveRun b = std::move(a);
  CHECK_FALSE(a.ok());
  CHECK(b.ok());
  CHECK(a.log_metric("m", 1.0).code() == Code::kFailedPrecondition);
}

TEST_CASE("resume keeps end_time and sets RUNNING, delete and restore a run (spec §7, §14.19)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  std::string id;
  {
    ActiveRun run = store.start_run({.system_tags = false});
    id = run.id();
  }
  fs::path meta = t.path() / "mlruns/0" / id / "meta.yaml";
  auto info = *detail::parse_run_meta(read_file(meta));
  REQUIRE(info.end_time);
  {
    ActiveRun again = store.resume_run(id);
    auto resumed = *detail::parse_run_meta(read_file(meta));
    CHECK(resumed.status == RunStatus::kRunning);
    CHECK(resumed.end_time == info.end_time);
    again.log_metric("m", 1, 0, 5);
  }
  CHECK(read_file(t.path() / "mlruns/0" / id / "metrics/m") == "5 1.0 0\n");
  REQUIRE(store.delete_run(id).is_ok());
  CHECK_THAT(read_file(meta), Catch::Contains("lifecycle_stage: deleted\n") && Catch::Contains("deleted_time: "));
  CHECK_THROWS_AS(store.resume_run(id), Error);
  REQUIRE(store.restore_run(id).is_ok());
  CHECK(read_file(meta).find("deleted_time") == std::string::npos);
  REQUIRE(store.set_terminated(id, RunStatus::kFailed, 1234).is_ok());
  CHECK_THAT(read_file(meta), Catch::Contains("end_time: 1234\n") && Catch::Contains("status: 4\n"));
}

TEST_CASE("nested runs carry mlflow.parentRunId and the description tag (spec §4.5)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  std::string exp = *store.create_experiment("sweep");
  ActiveRun parent = store.start_run({.experiment_id = exp, .run_name = "parent", .description = "grid"});
  ActiveRun child = parent.start_child({.run_name = "trial_0"});
  CHECK(child.experiment_id() == exp);
  fs::path dir = t.path() / "mlruns" / exp / child.id();
  CHECK(read_file(dir / "tags/mlflow.parentRunId") == parent.id());
  CHECK(read_file(t.path() / "mlruns" / exp / parent.id() / "tags/mlflow.note.content") == "grid");
  CHECK_THROWS_AS(store.start_run({.experiment_id = exp, .parent_run_id = "0123456789abcdef0123456789abcdef"}), Error);
}

TEST_CASE("artifacts: a file, a directory under its name and text land under artifacts/ (spec §8.2)", "[store]") {
  TempDir t;
  write_file(t.path() / "src/checkpoint_000010/policy_state.pkl", "weights");
  write_file(t.path() / "src/checkpoint_000010/sub/rllib_checkpoint.json", "{}");
  write_file(t.path() / "src/params.json", "{\"lr\": 0.1}");
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path art = t.path() / "mlruns/0" / run.id() / "artifacts";
  REQUIRE(run.log_artifact((t.path() / "src/params.json").string()).is_ok());
  REQUIRE(run.log_artifact((t.path() / "src/checkpoint_000010").string()).is_ok());  // keeps its name, as MLflow
  REQUIRE(run.log_artifact((t.path() / "src/params.json").string(), "configs/a").is_ok());
  REQUIRE(run.log_text("hello", "notes/readme.txt").is_ok());
  CHECK(read_file(art / "params.json") == "{\"lr\": 0.1}");
  CHECK(read_file(art / "checkpoint_000010/policy_state.pkl") == "weights");
  CHECK(read_file(art / "checkpoint_000010/sub/rllib_checkpoint.json") == "{}");
  CHECK(read_file(art / "configs/a/params.json") == "{\"lr\": 0.1}");
  CHECK(read_file(art / "notes/readme.txt") == "hello");
  CHECK_THROWS_AS(run.log_artifact((t.path() / "src/missing").string()), Error);
  // By id (the CLI's path).
  REQUIRE(store.log_artifact(run.id(), (t.path() / "src/params.json").string(), "by_id").is_ok());
  CHECK(fs::exists(art / "by_id/params.json"));
  for (auto& e : fs::directory_iterator(t.path() / "mlruns/0" / run.id()))
    CHECK(e.path().filename().string().rfind(".mlruns-tmp", 0) == std::string::npos);
}
