// A run id in two experiments (an experiment folder copied inside the tree):
// every verb naming a run by id alone refuses it as ambiguous, naming both
// experiments, and takes it from the one given with -e
// (StoreOptions/ReaderOptions::run_experiment_id; format/layout.h
// pick_run); gc keeps an outside artifact folder another run still uses
// (issue 15). MLflow's FileStore takes whichever it lists first
// (_find_run_root, spec §10.4).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "cli_test_util.h"
#include "mlruns/gc.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "test_util.h"

namespace fs = std::filesystem;
using mlruns::testing::run_cli;
using mlruns::testing::TempDir;

namespace {

// Replaces every `from` in the file with `to`.
void replace_in(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = mlruns::testing::read_file(file);
  for (std::size_t p = 0; (p = text.find(from, p)) != std::string::npos; p += to.size()) text.replace(p, from.size(), to);
  mlruns::testing::write_file(file, text);
}

struct CopiedTree {
  TempDir dir;
  fs::path root = dir.path() / "mlruns";
  fs::path share = dir.path() / "share";  // the experiment's artifact_location, outside the tree
  std::string exp, copy = "123", run;

  CopiedTree() {
    mlruns::Store store = mlruns::Store::open(
        {.tracking_uri = root.string(), .errors = mlruns::ErrorMode::kCount, .flush = {.background_thread = false}});
    exp = *store.create_experiment("e", {}, share.string());
    mlruns::ActiveRun r = store.start_run({.experiment_id = exp, .system_tags = false});
    run = r.id();
    mlruns::testing::write_file(dir.path() / "model.bin", "weights");
    REQUIRE(r.log_artifact((dir.path() / "model.bin").string()).is_ok());
    REQUIRE(r.end().is_ok());
    // `cp -r mlruns/<exp> mlruns/123`, made consistent: a copied experiment.
    fs::copy(root / exp, root / copy, fs::copy_options::recursive);
    replace_in(root / copy / "meta.yaml", "experiment_id: '" + exp + "'", "experiment_id: '" + copy + "'");
    replace_in(root / copy / "meta.yaml", "name: e", "name: e-copy");
    replace_in(root / copy / run / "meta.yaml", "experiment_id: '" + exp + "'", "experiment_id: '" + copy + "'");
  }
};

}  // namespace

TEST_CASE("a run id in two experiments is refused as ambiguous by the Store and the Reader, naming both, and "
          "taken from the experiment given (issue 15)",
          "[duplicate_run_id][hostile]") {
  CopiedTree t;
  {
    mlruns::Store store = mlruns::Store::open({.tracking_uri = t.root.string(), .errors = mlruns::ErrorMode::kCount,
                                              .flush = {.background_thread = false}});
    mlruns::Status s = store.delete_run(t.run);
    CHECK(s.code() == mlruns::Code::kFailedPrecondition);  // main: deleted whichever was listed first
    CHECK(s.to_string().find(t.exp) != std::string::npos);
    CHECK(s.to_string().find(t.copy) != std::string::npos);
    CHECK(s.to_string().find("-e EXP") != std::string::npos);
    CHECK(mlruns::testing::read_file(t.root / t.exp / t.run / "meta.yaml").find("active") != std::string::npos);
    CHECK(mlruns::testing::read_file(t.root / t.copy / t.run / "meta.yaml").find("active") != std::string::npos);
  }
  auto reader = mlruns::Reader::open(t.root.string());
  REQUIRE(reader);
  auto run = reader->run(t.run);
  REQUIRE_FALSE(run);
  CHECK(run.error().code() == mlruns::Code::kFailedPrecondition);
  CHECK_FALSE(reader->metric_history(t.run, "loss"));
  auto chosen = mlruns::Reader::open(t.root.string(), {.run_experiment_id = t.copy});
  REQUIRE(chosen);
  auto got = chosen->run(t.run);
  REQUIRE(got);
  CHECK(got->info.experiment_id == t.copy);
  mlruns::Store store = mlruns::Store::open({.tracking_uri = t.root.string(), .run_experiment_id = t.copy,
                                            .errors = mlruns::ErrorMode::kCount, .flush = {.background_thread = false}});
  REQUIRE(store.delete_run(t.run).is_ok());
  CHECK(mlruns::testing::read_file(t.root / t.copy / t.run / "meta.yaml").find("deleted") != std::string::npos);
  CHECK(mlruns::testing::read_file(t.root / t.exp / t.run / "meta.yaml").find("deleted") == std::string::npos);
}

TEST_CASE("cli: every verb naming a run by id refuses an id in two experiments (exit 6, both named) and takes "
          "-e EXP (issue 15)",
          "[duplicate_run_id][cli]") {
  CopiedTree t;
  const std::string uri = t.root.string();
  const std::vector<std::vector<std::string>> verbs = {
      {"run", "delete", t.run},         {"run", "end", t.run},           {"log", t.run, "--metric", "loss=1"},
      {"show", t.run},                  {"history", t.run, "loss"},      {"artifacts", t.run},
      {"log-artifact", t.run, (t.dir.path() / "model.bin").string()},
      {"download", "runs:/" + t.run + "/model.bin", "-d", (t.dir.path() / "dl").string()},
  };
  for (const auto& v : verbs) {
    std::vector<std::string> args = v;
    args.insert(args.end(), {"--tracking-uri", uri});
    INFO(args.front() << " " << args[1]);
    auto r = run_cli(args);
    CHECK(r.code == 6);  // main: 0, on one of the two runs
    CHECK(r.err.find("experiments " + t.copy + " and " + t.exp) != std::string::npos);  // by id, as numbers
  }
  auto r = run_cli({"run", "delete", t.run, "-e", t.copy, "--tracking-uri", uri});
  CHECK(r.code == 0);
  CHECK(mlruns::testing::read_file(t.root / t.copy / t.run / "meta.yaml").find("deleted") != std::string::npos);
  CHECK(mlruns::testing::read_file(t.root / t.exp / t.run / "meta.yaml").find("deleted") == std::string::npos);
}

TEST_CASE("gc --include-outside-artifacts keeps an outside artifact folder another run of the tree uses, naming "
          "both runs (issue 15)",
          "[duplicate_run_id][gc][hostile]") {
  CopiedTree t;
  mlruns::Store store = mlruns::Store::open({.tracking_uri = t.root.string(), .run_experiment_id = t.exp,
                                            .errors = mlruns::ErrorMode::kCount, .flush = {.background_thread = false}});
  REQUIRE(store.delete_run(t.run).is_ok());  // the original; the copy in experiment 123 stays active
  auto r = mlruns::gc(t.root.string(), {.include_outside_artifacts = true});
  REQUIRE(r);
  CHECK_FALSE(fs::exists(t.root / t.exp / t.run));  // the deleted run is collected
  // main: share/<run>/artifacts removed, the copy's artifacts with it.
  CHECK(mlruns::testing::read_file(t.share / t.run / "artifacts" / "model.bin") == "weights");
  bool noted = false;
  for (const std::string& n : r->notes)
    noted |= n.find(t.share.string()) != std::string::npos && n.find("experiment " + t.copy) != std::string::npos &&
             n.find("same run id") != std::string::npos;
  CHECK(noted);
}
