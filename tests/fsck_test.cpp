// fsck (fsck.h): real damage on a copy of the MLflow 3.8 fixture (spec §10.6, §14).
#include <catch2/catch.hpp>

#include <algorithm>

#include "maint_test_util.h"
#include "meta_parse.h"
#include "mlruns/fsck.h"
#include "mlruns/reader.h"

using namespace maint_test;

namespace {
bool has(const mlruns::FsckReport& r, const std::string& check) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const auto& f) { return f.check == check; });
}
}  // namespace

TEST_CASE("fsck reports the 3.8 fixture's missing run_uuid and moved artifact URIs (spec §4.3, §8.2)", "[fsck]") {
  TempTree t;
  auto r = mlruns::fsck(t.root.string());
  REQUIRE(r);
  CHECK(r->runs == 14);
  CHECK(has(*r, "run.missing_run_uuid"));
  CHECK(has(*r, "run.artifact_uri_elsewhere"));
  CHECK(has(*r, "metric.malformed_lines"));  // the fixture's 5-field line (spec §14.2)
  CHECK(r->remaining() == r->findings.size());
}

TEST_CASE("fsck --repair fixes damage atomically, quarantines the rest and leaves a clean tree", "[fsck]") {
  TempTree t;
  auto exp = t.root / "692696469721977523";
  auto run = first_run(exp);
  // Damage on purpose.
  fs::create_directories(t.root / ".ipynb_checkpoints");                       // §14.7
  spit(run / "metrics" / ".DS_Store", std::string("\0\1Bud1", 6));             // §14.5
  std::string metric_file;
  for (auto& e : fs::directory_iterator(run / "metrics"))
    if (e.is_regular_file() && e.path().filename() != ".DS_Store") { metric_file = e.path().string(); break; }
  REQUIRE(!metric_file.empty());
  std::string original_metric = slurp(metric_file);
  spit(metric_file, original_metric + "\n1700000000000.5 0.5 1\n17000000");    // blank, float ts, partial (§14.3)
  fs::remove_all(run / "params");                                              // §14.21
  auto run2 = first_run(t.root / "0");
  spit(run2 / "meta.yaml", "");                                                // §14.9
  fs::remove_all(t.root / ".trash");                                           // §1.1

  mlruns::FsckOptions opt{.repair = true};
  auto r = mlruns::fsck(t.root.string(), opt);
  REQUIRE(r);
  for (const auto& f : r->findings) INFO(f.path << ": " << f.problem << " -> " << f.action);
  CHECK(r->remaining() == 0);
  CHECK(!fs::exists(t.root / ".ipynb_checkpoints"));
  CHECK(!fs::exists(run / "metrics" / ".DS_Store"));
  CHECK(fs::is_directory(run / "params"));
  CHECK(fs::is_directory(t.root / ".trash"));
  CHECK(slurp(metric_file) == original_metric);  // only the bad lines went
  CHECK(!fs::exists(run2));                      // unreadable run moved, not deleted
  REQUIRE(!r->quarantine.empty());
  CHECK(fs::path(r->quarantine).filename().string().find(".trash") != std::string::npos);
  CHECK(fs::exists(fs::path(r->quarantine) / "0" / run2.filename() / "meta.yaml"));
  CHECK(fs::exists(fs::path(r->quarantine) / ".ipynb_checkpoints"));
  std::string notes = slurp(fs::path(r->quarantine) / "NOTES.txt");
  CHECK(notes.find(".DS_Store") != std::string::npos);
  std::string removed = slurp(fs::path(r->quarantine) / fs::relative(metric_file, t.root).concat(".removed-lines"));
  CHECK(removed.find("1700000000000.5 0.5 1") != std::string::npos);
  // Every run now carries run_uuid == run_id (what <= 2.22 readers need).
  std::string meta = slurp(run / "meta.yaml");
  auto info = mlruns::detail::parse_run_meta(meta);
  REQUIRE(info);
  CHECK(meta.find("run_uuid: " + info->run_id + "\n") != std::string::npos);
  // A second check finds nothing, and the Reader reads the tree without warnings.
  auto again = mlruns::fsck(t.root.string());
  REQUIRE(again);
  CHECK(again->findings.empty());
  int warnings = 0;
  auto reader = mlruns::Reader::open(t.root.string(), {.on_warning = [&](const mlruns::Warning&) { ++warnings; }});
  REQUIRE(reader);
  auto exps = reader->experiments(mlruns::ViewType::kAll);
  REQUIRE(exps);
  std::vector<std::string> ids;
  for (auto& e : *exps) ids.push_back(e.experiment_id);
  CHECK(reader->runs(ids, mlruns::ViewType::kAll));
  CHECK(warnings == 0);
}

TEST_CASE("fsck --repair marks a 1.30-2.2 style trashed experiment and its runs deleted (spec §7, §14.10)", "[fsck]") {
  TempTree t;
  auto exp = t.root / ".trash" / "702085803536168059";
  std::string m = slurp(exp / "meta.yaml");
  auto pos = m.find("lifecycle_stage: deleted");
  REQUIRE(pos != std::string::npos);
  m.replace(pos, 24, "lifecycle_stage: active");
  spit(exp / "meta.yaml", m);
  auto run = first_run(exp);
  std::string rm = slurp(run / "meta.yaml");
  auto p2 = rm.find("lifecycle_stage: deleted");
  REQUIRE(p2 != std::string::npos);
  rm.replace(p2, 24, "lifecycle_stage: active");
  auto p3 = rm.find("deleted_time:");
  rm.erase(p3, rm.find('\n', p3) - p3 + 1);
  spit(run / "meta.yaml", rm);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(has(*r, "experiment.trashed_but_active"));
  CHECK(slurp(exp / "meta.yaml").find("lifecycle_stage: deleted") != std::string::npos);
  auto info = mlruns::detail::parse_run_meta(slurp(run / "meta.yaml"));
  REQUIRE(info);
  CHECK(info->lifecycle_stage == mlruns::LifecycleStage::kDeleted);
  CHECK(info->deleted_time.has_value());
}

TEST_CASE("fsck quotes an unquoted 'yes' experiment name instead of letting it read as a bool (spec §2.1, §14.4)", "[fsck]") {
  TempTree t;
  auto meta = t.root / "763558276457519285" / "meta.yaml";
  std::string m = slurp(meta);
  auto pos = m.find("\nname: ");
  m.replace(pos + 7, m.find('\n', pos + 1) - pos - 7, "yes");
  spit(meta, m);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(has(*r, "experiment.yaml_typing"));
  CHECK(slurp(meta).find("name: 'yes'\n") != std::string::npos);
}

TEST_CASE("fsck never follows a symlink out of the tree", "[fsck]") {
  TempTree t;
  auto outside = t.dir / "outside";
  fs::create_directories(outside);
  spit(outside / "secret", "\n\n");
  auto run = first_run(t.root / "692696469721977523");
  fs::create_symlink(outside / "secret", run / "metrics" / "linked");
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(has(*r, "metric.symlink"));
  CHECK(slurp(outside / "secret") == "\n\n");  // untouched
  CHECK(!fs::exists(run / "metrics" / "linked"));
}

#ifdef MLRUNS_CLI_PATH
TEST_CASE("mlruns fsck exits 7 while problems remain and 0 after --repair", "[fsck][cli]") {
  TempTree t;
  std::string cli = std::string(MLRUNS_CLI_PATH) + " fsck --tracking-uri " + t.root.string() + " >/dev/null";
  CHECK(WEXITSTATUS(std::system(cli.c_str())) == 7);
  CHECK(WEXITSTATUS(std::system((std::string(MLRUNS_CLI_PATH) + " fsck --repair --json --tracking-uri " +
                                 t.root.string() + " >/dev/null").c_str())) == 0);
  CHECK(WEXITSTATUS(std::system(cli.c_str())) == 0);
}
#endif
