// The writer facade: tree creation, experiments, error modes and races
// (spec §1, §3, §7, §12.1, §13.1). Runs, params, tags, metrics and artifacts
// through ActiveRun are in active_run_test.cpp.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <set>
#include <thread>

#include "format/meta_parse.h"
#include "mlruns/store.h"
#include "store_test_util.h"
#include "test_util.h"

using namespace mlruns;
namespace fs = std::filesystem;
using mlruns::testing::opts;
using mlruns::testing::read_file;
using mlruns::testing::write_file;
using mlruns::testing::TempDir;

namespace {

std::string mask_times(std::string s) {
  return std::regex_replace(s, std::regex(R"((time|_time): \d+)"), "$1: T");
}

}  // namespace

TEST_CASE("a new root gets .trash and experiment 0 Default (spec §1.1, appendix B)", "[store]") {
  TempDir t;
  {
    Store store = Store::open(opts(t));
    REQUIRE(store.ok());
    CHECK(store.root() == t.root());
  }
  CHECK(fs::is_directory(t.path() / "mlruns/.trash"));
  std::string meta = read_file(t.path() / "mlruns/0/meta.yaml");
  CHECK(mask_times(meta) == "artifact_location: file://" + t.root() +
                                "/0\ncreation_time: T\nexperiment_id: '0'\nlast_update_time: T\n"
                                "lifecycle_stage: active\nname: Default\n");
  // Nothing else at the root once the Store is gone: its staging folder
  // (named *.trash, which MLflow skips, spec §1.2, §14.7) is removed.
  std::set<std::string> names;
  for (auto& e : fs::directory_iterator(t.path() / "mlruns")) names.insert(e.path().filename());
  CHECK(names == std::set<std::string>{".trash", "0"});
}

TEST_CASE("opening with a relative path or file: URI makes the root absolute (spec §12.1)", "[store]") {
  TempDir t;
  auto cwd = fs::current_path();
  fs::current_path(t.path());
  Store a = Store::open({.tracking_uri = "rel/mlruns", .flush = {.background_thread = false}});
  Store b = Store::open({.tracking_uri = "file://" + t.str() + "/other%20dir"});
  fs::current_path(cwd);
  CHECK(a.root() == t.str() + "/rel/mlruns");
  CHECK(b.root() == t.str() + "/other dir");
  CHECK(fs::exists(t.path() / "other dir/0/meta.yaml"));
}

TEST_CASE("MLFLOW_TRACKING_URI is used when no URI is given, server URIs are refused (spec §12.1)", "[store]") {
  TempDir t;
  ::setenv("MLFLOW_TRACKING_URI", (t.str() + "/from-env").c_str(), 1);
  Store a = Store::open({});
  ::unsetenv("MLFLOW_TRACKING_URI");
  CHECK(a.root() == t.str() + "/from-env");
  CHECK(fs::exists(t.path() / "from-env/0/meta.yaml"));

  for (const char* uri : {"http://localhost:5000", "https://x", "databricks", "databricks://profile"}) {
    INFO(uri);
    Store s = Store::open({.tracking_uri = uri, .errors = ErrorMode::kCount});
    CHECK_FALSE(s.ok());
    CHECK(s.status().code() == Code::kNotSupported);
    CHECK_THAT(s.status().message(), Catch::Contains("tracking server") && Catch::Contains("mlruns sync --to"));
    CHECK(s.failure_count() == 1);
  }
  CHECK_THROWS_AS(Store::open({.tracking_uri = "http://localhost:5000"}), Error);
}

TEST_CASE("create_experiment writes the six keys with an 18-digit id (spec §3.1, §3.3)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  std::string id = *store.create_experiment("demo experiment", {{"team", "a"}});
  CHECK(std::regex_match(id, std::regex("[1-9][0-9]{17}")));
  std::string meta = read_file(t.path() / "mlruns" / id / "meta.yaml");
  CHECK(mask_times(meta) == "artifact_location: file://" + t.root() + "/" + id +
                                "\ncreation_time: T\nexperiment_id: '" + id +
                                "'\nlast_update_time: T\nlifecycle_stage: active\nname: demo experiment\n");
  CHECK(read_file(t.path() / "mlruns" / id / "tags/team") == "a");
  Experiment e = *store.get_experiment(id);
  CHECK(e.name == "demo experiment");
  CHECK(e.tags.at("team") == "a");
  CHECK(store.get_experiment_by_name("demo experiment")->experiment_id == id);
  // A taken name is refused, naming the holder.
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  Store counting = Store::open(o);
  auto again = counting.create_experiment("demo experiment");
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Code::kAlreadyExists);
  CHECK_THAT(again.error().message(), Catch::Contains(id));
}

TEST_CASE("a relative artifact_location is taken against the current directory, as MLflow's "
          "resolve_uri_if_local (mlflow/utils/uri.py, FileStore.create_experiment)",
          "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  const std::string cwd = fs::canonical(t.path()).string();
  const auto prev = fs::current_path();
  fs::current_path(t.path());
  auto plain = store.create_experiment("plain", {}, "rel/x/../y/");
  auto dotted = store.create_experiment("dotted", {}, "./z//w");
  auto uri = store.create_experiment("uri", {}, "file:rel2?q=1#f");
  auto absolute = store.create_experiment("absolute", {}, "/abs/../p/");
  auto remote = store.create_experiment("remote", {}, "s3://bucket/rel");
  fs::current_path(prev);
  REQUIRE(plain);
  REQUIRE(dotted);
  REQUIRE(uri);
  REQUIRE(absolute);
  REQUIRE(remote);
  // pathlib's join: '.' and empty components dropped, '..' kept; plain stays plain.
  CHECK(store.get_experiment(*plain)->artifact_location == cwd + "/rel/x/../y");
  CHECK(store.get_experiment(*dotted)->artifact_location == cwd + "/z/w");
  // A file: URI with a relative path: file://<cwd>/<path>, query and fragment kept.
  CHECK(store.get_experiment(*uri)->artifact_location == "file://" + cwd + "/rel2?q=1#f");
  // Absolute and remote locations as given.
  CHECK(store.get_experiment(*absolute)->artifact_location == "/abs/../p/");
  CHECK(store.get_experiment(*remote)->artifact_location == "s3://bucket/rel");
}

TEST_CASE("StoreOptions::artifact_root gives new experiments <artifact_root>/<id>, as MLflow's "
          "FileStore(root, artifact_root_uri) and append_to_uri_path (mlflow/utils/uri.py)",
          "[store]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.artifact_root = "s3://bucket/base?region=x";
  Store store = Store::open(o);
  REQUIRE(store.ok());
  // The Default experiment of a new tree, created experiments and get-or-created ones alike.
  CHECK(store.get_experiment("0")->artifact_location == "s3://bucket/base/0?region=x");
  const std::string id = *store.create_experiment("e");
  CHECK(store.get_experiment(id)->artifact_location == "s3://bucket/base/" + id + "?region=x");
  const std::string got = *store.get_or_create_experiment("g");
  CHECK(store.get_experiment(got)->artifact_location == "s3://bucket/base/" + got + "?region=x");
  // A given artifact_location wins.
  const std::string own = *store.create_experiment("own", {}, "/data/own");
  CHECK(store.get_experiment(own)->artifact_location == "/data/own");
  // A run's artifact_uri joins the path, the query stays at the end (FileStore._get_artifact_dir).
  ActiveRun run = store.start_run({.experiment_id = id, .system_tags = false});
  CHECK(run.artifact_uri() == "s3://bucket/base/" + id + "/" + run.id() + "/artifacts?region=x");
  REQUIRE(run.end().is_ok());

  // A relative root is taken against the current directory when the Store opens; a plain path stays plain.
  TempDir t2;
  const auto prev = fs::current_path();
  fs::current_path(t2.path());
  StoreOptions o2 = opts(t2);
  o2.artifact_root = "art/";
  Store relative = Store::open(o2);
  fs::current_path(prev);
  REQUIRE(relative.ok());
  CHECK(relative.get_experiment("0")->artifact_location == fs::canonical(t2.path()).string() + "/art/0");

  // Bad input is refused at open, naming the option.
  StoreOptions bad = opts(t2);
  bad.errors = ErrorMode::kCount;
  bad.on_error = [](const Status&) {};
  bad.artifact_root = std::string("\xff");
  Store refused = Store::open(bad);
  CHECK_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains("artifact_root"));
}

TEST_CASE("Store::delete_tag by run id has MLflow's semantics (file_store.py delete_tag)", "[store]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  o.on_error = [](const Status&) {};
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.system_tags = false});
  REQUIRE(run.set_tag("k", "v").is_ok());
  REQUIRE(run.set_tag("a/b", "nested").is_ok());
  REQUIRE(run.flush().is_ok());
  const std::string id = run.id();
  const fs::path tags = t.path() / "mlruns/0" / id / "tags";
  CHECK(store.delete_tag(id, "k").is_ok());
  CHECK_FALSE(fs::exists(tags / "k"));
  CHECK(store.delete_tag(id, "a/b").is_ok());
  CHECK_FALSE(fs::exists(tags / "a/b"));
  // RESOURCE_DOES_NOT_EXIST: an absent tag, an absent run.
  Status absent = store.delete_tag(id, "k");
  CHECK(absent.code() == Code::kNotFound);
  CHECK_THAT(absent.message(), Catch::Contains("'k'") && Catch::Contains(id));
  CHECK(store.delete_tag(std::string(32, 'a'), "k").code() == Code::kNotFound);
  // A key that cannot be a file name is refused before any file is touched.
  CHECK(store.delete_tag(id, "../meta.yaml").code() == Code::kInvalidArgument);
  CHECK(fs::exists(t.path() / "mlruns/0" / id / "meta.yaml"));
  // Only on active runs (check_run_is_active).
  REQUIRE(run.set_tag("kept", "1").is_ok());
  REQUIRE(run.end().is_ok());
  REQUIRE(store.delete_run(id).is_ok());
  CHECK(store.delete_tag(id, "kept").code() == Code::kFailedPrecondition);
  CHECK(fs::exists(tags / "kept"));
}

TEST_CASE("experiment names that YAML 1.1 would retype are quoted like PyYAML (spec §2.1, §14.4)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  for (std::string name : {"yes", "123", "2024-01-01", "1:20", "null", "a: b"}) {
    std::string id = *store.create_experiment(name);
    std::string meta = read_file(t.path() / "mlruns" / id / "meta.yaml");
    std::string quoted = name == "a: b" ? "'a: b'" : "'" + name + "'";
    CHECK_THAT(meta, Catch::EndsWith("name: " + quoted + "\n"));
    CHECK(detail::parse_experiment_meta(meta, false)->name == name);
  }
}

TEST_CASE("a Store recreates its staging folder when fsck --repair moved it away while the Store idled", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  REQUIRE(store.create_experiment("before"));
  int removed = 0;
  for (auto& e : fs::directory_iterator(t.path() / "mlruns"))
    if (e.path().filename().string().rfind(".mlruns-tmp-", 0) == 0) removed += fs::remove_all(e.path()) > 0;
  REQUIRE(removed == 1);
  auto after = store.create_experiment("after");
  REQUIRE(after);
  CHECK(fs::exists(t.path() / "mlruns" / *after / "meta.yaml"));
}

TEST_CASE("get_or_create_experiment gives every racing thread the same single experiment (spec §11)", "[store][race]") {
  TempDir t;
  Store::open(opts(t));
  constexpr int kThreads = 16;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      Store s = Store::open(opts(t));  // a Store per thread, like separate processes
      ids[i] = *s.get_or_create_experiment("shared-sweep");
    });
  for (auto& th : threads) th.join();
  for (const auto& id : ids) CHECK(id == ids[0]);
  int with_name = 0;
  for (auto& e : fs::directory_iterator(t.path() / "mlruns")) {
    std::string name = e.path().filename();
    CHECK(name.find(".mlruns-tmp") == std::string::npos);  // no staging folder left
    if (fs::exists(e.path() / "meta.yaml") && read_file(e.path() / "meta.yaml").find("name: shared-sweep") != std::string::npos)
      ++with_name;
  }
  CHECK(with_name == 1);
}

TEST_CASE("get_or_create_experiment finds experiments made by create_experiment or MLflow", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  std::string id = *store.create_experiment("made-elsewhere");
  CHECK(*store.get_or_create_experiment("made-elsewhere") == id);
  CHECK(*store.get_or_create_experiment("Default") == "0");
  std::string fresh = *store.get_or_create_experiment("fresh");
  CHECK(*store.get_or_create_experiment("fresh") == fresh);
  CHECK(fresh.size() == 18);
}

TEST_CASE("rename, experiment tags, delete and restore an experiment (spec §3.5, §7)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  std::string id = *store.create_experiment("old");
  std::string run_id;
  {
    ActiveRun run = store.start_run({.experiment_id = id, .run_name = "r"});
    run_id = run.id();
  }
  REQUIRE(store.rename_experiment(id, "new").is_ok());
  CHECK(store.get_experiment(id)->name == "new");
  REQUIRE(store.set_experiment_tag(id, "k", "v").is_ok());
  CHECK(store.get_experiment(id)->tags.at("k") == "v");
  REQUIRE(store.delete_experiment_tag(id, "k").is_ok());
  CHECK(store.get_experiment(id)->tags.empty());

  REQUIRE(store.delete_experiment(id).is_ok());
  CHECK_FALSE(fs::exists(t.path() / "mlruns" / id));
  std::string exp_meta = read_file(t.path() / "mlruns/.trash" / id / "meta.yaml");
  CHECK_THAT(exp_meta, Catch::Contains("lifecycle_stage: deleted"));
  std::string run_meta = read_file(t.path() / "mlruns/.trash" / id / run_id / "meta.yaml");
  CHECK_THAT(run_meta, Catch::Contains("lifecycle_stage: deleted"));
  CHECK_THAT(run_meta, Catch::Contains("deleted_time: "));
  CHECK(store.get_experiment(id)->lifecycle_stage == LifecycleStage::kDeleted);

  REQUIRE(store.restore_experiment(id).is_ok());
  CHECK(fs::exists(t.path() / "mlruns" / id / "meta.yaml"));
  CHECK_THAT(read_file(t.path() / "mlruns" / id / "meta.yaml"), Catch::Contains("lifecycle_stage: active"));
  run_meta = read_file(t.path() / "mlruns" / id / run_id / "meta.yaml");
  CHECK_THAT(run_meta, Catch::Contains("lifecycle_stage: active"));
  CHECK(run_meta.find("deleted_time") == std::string::npos);
  CHECK_THROWS_AS(store.delete_experiment("0"), Error);
}

TEST_CASE("ErrorMode::kCount never throws, counts, reports, and a failed Store yields failing runs", "[store][errors]") {
  TempDir t;
  std::vector<std::string> seen;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  o.on_error = [&](const Status& s) { seen.push_back(s.message()); };
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.system_tags = false});
  Status s = run.log_param("../x", "1");
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(store.failure_count() == 1);
  CHECK(store.last_error() == s);
  REQUIRE(seen.size() == 1);
  CHECK_THAT(seen[0], Catch::Contains("../x"));

  // A tree that cannot be created: a file where the root should be.
  write_file(t.path() / "blocker", "x");
  StoreOptions bad = o;
  bad.tracking_uri = (t.path() / "blocker/mlruns").string();
  Store broken = Store::open(bad);
  CHECK_FALSE(broken.ok());
  CHECK(broken.failure_count() == 1);
  ActiveRun dead = broken.start_run();
  CHECK_FALSE(dead.ok());
  CHECK_FALSE(dead.log_metric("m", 1.0).is_ok());
  CHECK_FALSE(dead.log_param("p", "v").is_ok());
  CHECK_FALSE(dead.end().is_ok());
  CHECK_FALSE(broken.create_experiment("x"));
  CHECK(broken.failure_count() >= 6);
  ActiveRun child = dead.start_child();
  CHECK_FALSE(child.ok());
}

TEST_CASE("runs and params written from many threads at once stay consistent", "[store][race]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  std::vector<std::thread> threads;
  std::atomic<int> param_ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      // Distinct points per thread: identical ones would be written once (metric_buffer.h).
      for (int s = 0; s < 1000; ++s) run.log_metric("m" + std::to_string(i % 2), s * 10.0 + i, s, 1);
      try {
        run.log_param("shared", std::to_string(i));
        ++param_ok;
      } catch (const Error&) {
      }
      ActiveRun own = store.start_run({.system_tags = false});
      own.log_metric("x", 1.0, 0, 1);
    });
  for (auto& th : threads) th.join();
  run.flush();
  CHECK(param_ok == 1);  // exactly one value wins
  fs::path dir = t.path() / "mlruns/0" / run.id() / "metrics";
  std::string m0 = read_file(dir / "m0"), m1 = read_file(dir / "m1");
  CHECK(std::count(m0.begin(), m0.end(), '\n') == 4000);
  CHECK(std::count(m1.begin(), m1.end(), '\n') == 4000);
  CHECK(m0.find("\n\n") == std::string::npos);
}

TEST_CASE("a tree copied with cp -al (hard links): logging to the copy leaves the original's history as it was "
          "(issue 15, docs/hpc.md)",
          "[store][hardlink]") {
  TempDir t;
  const fs::path a = t.path() / "a", b = t.path() / "b";
  std::string exp, run;
  {
    Store store = Store::open({.tracking_uri = a.string(), .flush = {.background_thread = false}});
    exp = *store.create_experiment("e");
    ActiveRun r = store.start_run({.experiment_id = exp});
    REQUIRE(r.log_metric("loss", 1.0, 1).is_ok());
    run = r.id();
    REQUIRE(r.end().is_ok());
  }
  const int rc = std::system(("cp -al '" + a.string() + "' '" + b.string() + "'").c_str());
  REQUIRE(rc == 0);
  REQUIRE(fs::hard_link_count(b / exp / run / "metrics" / "loss") == 2);
  const std::string before = read_file(a / exp / run / "metrics" / "loss");
  {
    Store copy = Store::open({.tracking_uri = b.string(), .flush = {.background_thread = false}});
    REQUIRE(copy.log_batch(run, {Metric{"loss", 99.0, 1, 7, {}, {}}}, {}, {}).is_ok());
  }
  CHECK(read_file(a / exp / run / "metrics" / "loss") == before);  // main: the point appended to both trees
  const std::string after = read_file(b / exp / run / "metrics" / "loss");
  CHECK(after.rfind(before, 0) == 0);
  CHECK(after.find(" 99.0 7\n") != std::string::npos);
  CHECK(fs::hard_link_count(a / exp / run / "metrics" / "loss") == 1);
}

TEST_CASE("an experiment name that cannot be claimed: the error names the experiment first, not a claim's path "
          "(issue 15)", "[store]") {
  TempDir t;
  Store store = Store::open(opts(t));
  // A hostile (or damaged) tree: the claims folder is a file.
  fs::remove_all(t.path() / "mlruns" / ".mlruns-names.trash");
  write_file(t.path() / "mlruns" / ".mlruns-names.trash", "x");
  // main: "not found: <root>/.mlruns-names.trash/experiments/.mlruns-tmp-....claim/name: ..." and the like
  CHECK_THROWS_WITH(store.create_experiment("shared-exp"),
                    Catch::Matchers::StartsWith("I/O error: experiment 'shared-exp': name 'shared-exp': could not be claimed"));
}
