// reap and fsck on metric files a killed writer tore or a retry doubled
// (issue 9 item 1): a partial last line is cut in place under the file's
// lock, never while a live writer holds it; lines that repeat a row break
// `mlflow migrate-filestore` (MLflow >= 3.10) and --repair keeps one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

#include "maint_test_util.h"
#include "mlruns/env.h"
#include "mlruns/fsck.h"
#include "mlruns/reap.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"

using namespace maint_test;

namespace {

struct Tree {
  TempTree t{"mlflow-3.8"};
  std::string root = t.root.string();
  std::string id;
  fs::path metric;

  // A run of our own, RUNNING or FINISHED, whose metrics/loss holds `lines`.
  explicit Tree(const std::string& lines, bool finished) {
    mlruns::Store store = mlruns::Store::open({.tracking_uri = root, .flush = {.background_thread = false}});
    mlruns::ActiveRun run = store.start_run({.system_tags = false});
    id = run.id();
    if (finished) REQUIRE(run.end().is_ok());
    else REQUIRE(run.detach().is_ok());
    metric = t.root / "0" / id / "metrics" / "loss";
    spit(metric, lines);
  }
};

const mlruns::FsckFinding* finding(const mlruns::FsckReport& r, const std::string& check, const fs::path& path) {
  for (const auto& f : r.findings)
    if (f.check == check && f.path == path.string()) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("reap cuts the partial line a killed writer left before ending its run KILLED", "[reap][torn]") {
  Tree tree("1 1.0 0\n2 2.0 1\n3 3.", /*finished=*/false);
  auto r = mlruns::reap(tree.root, {.older_than_ms = 0, .probe = [](const auto&) { return mlruns::ProcessState::kGone; }});
  REQUIRE(r);
  CHECK(r->errors.empty());
  auto mine = std::find_if(r->changes.begin(), r->changes.end(), [&](const auto& c) { return c.run_id == tree.id; });
  REQUIRE(mine != r->changes.end());
  CHECK(mine->partial_lines_cut == std::vector<std::string>{tree.metric.string()});
  CHECK(slurp(tree.metric) == "1 1.0 0\n2 2.0 1\n");
  auto reader = mlruns::Reader::open(tree.root);
  REQUIRE(reader);
  CHECK(reader->run(tree.id)->info.status == mlruns::RunStatus::kKilled);
}

TEST_CASE("a cut that would leave a metric file empty removes it - reap and fsck --repair never leave an empty "
          "metric file, which MLflow fails on (file_store.py _get_metric_from_file: \"No data found\")",
          "[reap][fsck][torn]") {
  SECTION("reap, the dead writer's only line a fragment") {
    Tree tree("17959", /*finished=*/false);
    auto r = mlruns::reap(tree.root, {.older_than_ms = 0, .probe = [](const auto&) { return mlruns::ProcessState::kGone; }});
    REQUIRE(r);
    CHECK(r->errors.empty());
    CHECK_FALSE(fs::exists(tree.metric));
  }
  SECTION("fsck --repair, a fragment only in a finished run") {
    Tree tree("17959", /*finished=*/true);
    auto repaired = mlruns::fsck(tree.root, {.repair = true, .temp_grace_ms = 0});
    REQUIRE(repaired);
    const auto* f = finding(*repaired, "metric.partial_last_line", tree.metric);
    REQUIRE(f);
    CHECK(f->outcome == mlruns::FsckAction::kRepaired);
    CHECK_FALSE(fs::exists(tree.metric));
  }
  SECTION("reap, an empty file left by another writer") {
    Tree tree("", /*finished=*/false);
    auto r = mlruns::reap(tree.root, {.older_than_ms = 0, .probe = [](const auto&) { return mlruns::ProcessState::kGone; }});
    REQUIRE(r);
    CHECK_FALSE(fs::exists(tree.metric));
  }
  SECTION("fsck reports an empty metric file as breaking MLflow, --repair removes it") {
    Tree tree("", /*finished=*/true);
    auto r = mlruns::fsck(tree.root, {.temp_grace_ms = 0});
    REQUIRE(r);
    const auto* f = finding(*r, "metric.empty", tree.metric);
    REQUIRE(f);
    CHECK(f->severity == mlruns::FsckSeverity::kError);
    CHECK_THAT(f->breaks, Catch::Contains("No data found"));
    auto repaired = mlruns::fsck(tree.root, {.repair = true, .temp_grace_ms = 0});
    REQUIRE(repaired);
    f = finding(*repaired, "metric.empty", tree.metric);
    REQUIRE(f);
    CHECK(f->outcome == mlruns::FsckAction::kRepaired);
    CHECK_FALSE(fs::exists(tree.metric));
  }
}

TEST_CASE("an empty param or tag file is a valid empty value for MLflow (file_store.py _get_param_from_file, "
          "_get_tag_from_file read \"\"): fsck reports nothing",
          "[fsck]") {
  Tree tree("1 1.0 0\n", /*finished=*/true);
  fs::path run = tree.metric.parent_path().parent_path();
  spit(run / "params" / "empty", "");
  spit(run / "tags" / "empty", "");
  auto r = mlruns::fsck(tree.root, {.temp_grace_ms = 0});
  REQUIRE(r);
  for (const auto& f : r->findings) {
    CHECK(f.path != (run / "params" / "empty").string());
    CHECK(f.path != (run / "tags" / "empty").string());
  }
}

TEST_CASE("reap --dry-run cuts nothing", "[reap][torn]") {
  Tree tree("1 1.0 0\n2 2.", false);
  auto r = mlruns::reap(tree.root, {.older_than_ms = 0, .dry_run = true,
                                    .probe = [](const auto&) { return mlruns::ProcessState::kGone; }});
  REQUIRE(r);
  CHECK(slurp(tree.metric) == "1 1.0 0\n2 2.");
}

TEST_CASE("fsck reports a partial last line and --repair cuts it in place, the fragment kept in the quarantine",
          "[fsck][torn]") {
  Tree tree("1 1.0 0\n2 2.0 1\n3 3.", /*finished=*/true);
  auto r = mlruns::fsck(tree.root, {.temp_grace_ms = 0});
  REQUIRE(r);
  const auto* f = finding(*r, "metric.partial_last_line", tree.metric);
  REQUIRE(f);
  CHECK(f->severity == mlruns::FsckSeverity::kError);
  CHECK_FALSE(finding(*r, "metric.malformed_lines", tree.metric));
  auto repaired = mlruns::fsck(tree.root, {.repair = true, .temp_grace_ms = 0});
  REQUIRE(repaired);
  f = finding(*repaired, "metric.partial_last_line", tree.metric);
  REQUIRE(f);
  CHECK(f->outcome == mlruns::FsckAction::kRepaired);
  CHECK_THAT(f->action, Catch::Contains("cut the partial last line"));
  CHECK(slurp(tree.metric) == "1 1.0 0\n2 2.0 1\n");
  CHECK_FALSE(finding(*mlruns::fsck(tree.root, {.temp_grace_ms = 0}), "metric.partial_last_line", tree.metric));
}

TEST_CASE("fsck on a RUNNING run: a partial line under a live writer's lock is a write in progress, "
          "one nobody holds is a dead writer's",
          "[fsck][torn]") {
  Tree tree("1 1.0 0\n2 2.", /*finished=*/false);
  {
    auto holder = mlruns::Env::posix()->reopen_appendable_file(tree.metric.string());
    REQUIRE(holder);
    auto held = (*holder)->lock(1000);  // a live writer in the middle of its append
    REQUIRE(held);
    auto r = mlruns::fsck(tree.root, {.repair = true, .temp_grace_ms = 0});
    REQUIRE(r);
    CHECK_FALSE(finding(*r, "metric.partial_last_line", tree.metric));
    CHECK(slurp(tree.metric) == "1 1.0 0\n2 2.");
  }
  auto r = mlruns::fsck(tree.root, {.repair = true, .temp_grace_ms = 0});
  REQUIRE(r);
  const auto* f = finding(*r, "metric.partial_last_line", tree.metric);
  REQUIRE(f);
  CHECK(f->outcome == mlruns::FsckAction::kRepaired);
  CHECK(slurp(tree.metric) == "1 1.0 0\n");
}

TEST_CASE("fsck reports lines repeating a row as breaking migrate-filestore - --repair keeps the first of each",
          "[fsck][torn]") {
  // Rows as MLflow's SQL store keys them: 0.5 twice, two NaNs, inf next to
  // max float, 0.0 next to -0.0 (each verified to abort MLflow 3.11's migration).
  Tree tree("1 0.5 0\n2 nan 1\n1 0.5 0\n3 inf 2\n2 NaN 1\n3 1.7976931348623157e+308 2\n4 0.0 3\n4 -0.0 3\n5 0.5 0\n",
            /*finished=*/true);
  auto r = mlruns::fsck(tree.root, {.temp_grace_ms = 0});
  REQUIRE(r);
  const auto* f = finding(*r, "metric.duplicate_lines", tree.metric);
  REQUIRE(f);
  CHECK_THAT(f->problem, Catch::Contains("4 line(s) repeat"));
  CHECK_THAT(f->breaks, Catch::Contains("migrate-filestore"));
  CHECK(f->severity == mlruns::FsckSeverity::kWarning);
  auto repaired = mlruns::fsck(tree.root, {.repair = true, .temp_grace_ms = 0});
  REQUIRE(repaired);
  CHECK(finding(*repaired, "metric.duplicate_lines", tree.metric)->outcome == mlruns::FsckAction::kRepaired);
  CHECK(slurp(tree.metric) == "1 0.5 0\n2 nan 1\n3 inf 2\n4 0.0 3\n5 0.5 0\n");
  CHECK_FALSE(finding(*mlruns::fsck(tree.root, {.temp_grace_ms = 0}), "metric.duplicate_lines", tree.metric));
}

TEST_CASE("fsck leaves repeated lines of a RUNNING run alone, with a hint", "[fsck][torn]") {
  Tree tree("1 0.5 0\n1 0.5 0\n", /*finished=*/false);
  auto r = mlruns::fsck(tree.root, {.repair = true, .temp_grace_ms = 0});
  REQUIRE(r);
  const auto* f = finding(*r, "metric.duplicate_lines", tree.metric);
  REQUIRE(f);
  CHECK(f->outcome == mlruns::FsckAction::kNone);
  CHECK_THAT(f->hint, Catch::Contains("RUNNING"));
  CHECK(slurp(tree.metric) == "1 0.5 0\n1 0.5 0\n");
}
