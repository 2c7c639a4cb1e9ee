// fsck, gc and relocate on the MLflow 3.x LoggedModel records log_model
// writes (spec §9.2): artifact_location names the model folder under the
// source run's artifacts.
#include <catch2/catch.hpp>

#include "format/logged_model_meta.h"
#include "maint_test_util.h"
#include "mlruns/fsck.h"
#include "mlruns/gc.h"
#include "mlruns/reader.h"
#include "mlruns/relocate.h"
#include "mlruns/store.h"
#include "test_util.h"
#include "write/store_test_util.h"

using namespace mlruns;
namespace fs = std::filesystem;
using maint_test::slurp;
using maint_test::spit;

namespace {

std::vector<const FsckFinding*> findings(const FsckReport& r, const std::string& check) {
  std::vector<const FsckFinding*> out;
  for (const auto& f : r.findings)
    if (f.check == check) out.push_back(&f);
  return out;
}

struct Logged {
  std::string run_id;
  std::string model_id;
};

// A run with one model logged in both forms (and, to set the scene, ended).
Logged log_one(Store& store, const mlruns::testing::TempDir& t, const std::string& path = "model") {
  ActiveRun run = store.start_run();
  mlruns::testing::write_file(t.path() / "w.bin", "weights");
  auto m = run.log_model((t.path() / "w.bin").string(), {.artifact_path = path, .flavor = "solver"});
  REQUIRE(m);
  REQUIRE_FALSE(m->model_id.empty());
  return {run.id(), m->model_id};
}

}  // namespace

TEST_CASE("fsck: a LoggedModel whose files or source run are gone is reported and left alone (spec §9.2)",
          "[fsck][logged_model]") {
  mlruns::testing::TempDir t;
  Store store = Store::open(mlruns::testing::opts(t));
  Logged a = log_one(store, t);
  Logged b = log_one(store, t);
  const fs::path exp = t.path() / "mlruns/0";
  auto clean = fsck(t.root());
  REQUIRE(clean);
  CHECK(findings(*clean, "logged_model.artifacts_missing").empty());
  CHECK(findings(*clean, "logged_model.source_run_missing").empty());

  fs::remove_all(exp / a.run_id / "artifacts/model");  // a's files
  const fs::path b_meta = exp / "models" / b.model_id / "meta.yaml";
  std::string text = slurp(b_meta);
  const std::string ghost = "0123456789abcdef0123456789abcdef";
  text.replace(text.find("source_run_id: " + b.run_id), 15 + 32, "source_run_id: " + ghost);
  spit(b_meta, text);
  auto before = maint_test::snapshot(t.path() / "mlruns");
  auto r = fsck(t.root(), {.repair = true});
  REQUIRE(r);
  auto missing = findings(*r, "logged_model.artifacts_missing");
  REQUIRE(missing.size() == 1);
  CHECK(missing[0]->problem.find("models:/" + a.model_id) != std::string::npos);
  CHECK(missing[0]->outcome == FsckAction::kNone);
  CHECK(missing[0]->hint.find("delete_logged_model") != std::string::npos);
  auto orphan = findings(*r, "logged_model.source_run_missing");
  REQUIRE(orphan.size() == 1);
  CHECK(orphan[0]->problem.find(ghost) != std::string::npos);
  CHECK(maint_test::snapshot(t.path() / "mlruns") == before);  // left alone

  // A record marked deleted may have lost its files: not a finding.
  const fs::path a_meta = exp / "models" / a.model_id / "meta.yaml";
  std::string deleted = slurp(a_meta);
  deleted.insert(deleted.find("model_id:"), "lifecycle_stage: deleted\n");
  spit(a_meta, deleted);
  auto after = fsck(t.root());
  REQUIRE(after);
  CHECK(findings(*after, "logged_model.artifacts_missing").empty());
}

TEST_CASE("gc removes the LoggedModel records whose files were the collected run's, and no others (spec §9.2)",
          "[gc][logged_model]") {
  mlruns::testing::TempDir t;
  Store store = Store::open(mlruns::testing::opts(t));
  Logged gone = log_one(store, t);
  Logged kept = log_one(store, t);
  const fs::path models = t.path() / "mlruns/0/models";
  // A record MLflow 3.x itself wrote for the same run: its files are its own.
  const std::string own = "m-0123456789abcdef0123456789abcdef";
  fs::create_directories(models / own / "artifacts");
  spit(models / own / "meta.yaml",
       "artifact_location: file://" + (models / own / "artifacts").string() + "\ncreation_timestamp: 1\n"
       "experiment_id: '0'\nlast_updated_timestamp: 1\nmodel_id: " + own + "\nmodel_type: null\nname: m\n"
       "source_run_id: " + gone.run_id + "\nstatus: 2\nstatus_message: null\n");
  REQUIRE(store.delete_run(gone.run_id));

  auto dry = gc(t.root(), {.dry_run = true});
  REQUIRE(dry);
  CHECK(fs::exists(models / gone.model_id));
  bool said = false;
  for (const auto& n : dry->notes) said |= n.find("would remove logged model " + gone.model_id) != std::string::npos;
  CHECK(said);

  auto r = gc(t.root());
  REQUIRE(r);
  CHECK(r->errors.empty());
  REQUIRE(r->items.size() == 1);
  CHECK(r->items[0].removed);
  CHECK_FALSE(fs::exists(models / gone.model_id));
  CHECK(fs::exists(models / kept.model_id / "meta.yaml"));
  CHECK(fs::exists(models / own / "meta.yaml"));
  auto check = fsck(t.root());
  REQUIRE(check);
  CHECK(findings(*check, "logged_model.artifacts_missing").empty());
}

TEST_CASE("relocate rewrites a LoggedModel's artifact_location under its run's artifacts (spec §8.2, §9.2)",
          "[relocate][logged_model]") {
  mlruns::testing::TempDir t;
  Logged a;
  {
    Store store = Store::open(mlruns::testing::opts(t));
    a = log_one(store, t, "nets/policy");
  }
  const fs::path moved = t.path() / "moved";
  fs::rename(t.path() / "mlruns", moved);
  auto r = relocate(moved.string());
  REQUIRE(r);
  CHECK(r->errors.empty());
  auto rec = detail::parse_logged_model_meta(slurp(moved / "0/models" / a.model_id / "meta.yaml"));
  REQUIRE(rec);
  CHECK(rec->artifact_location == "file://" + (moved / "0" / a.run_id / "artifacts/nets/policy").string());
  auto reader = Reader::open(moved.string());
  REQUIRE(reader);
  auto loc = reader->resolve_model_uri("models:/" + a.model_id);
  REQUIRE(loc);
  CHECK(fs::equivalent(loc->path, moved / "0" / a.run_id / "artifacts/nets/policy"));
  auto again = relocate(moved.string());
  REQUIRE(again);
  CHECK(again->changes.empty());
}

TEST_CASE("fsck: a live LoggedModel whose folder holds another model (an overwrite killed before it retired the "
          "record) is reported, --repair marks it deleted (t10 F4, spec §9.2)",
          "[fsck][logged_model]") {
  mlruns::testing::TempDir t;
  Store store = Store::open(mlruns::testing::opts(t));
  Logged a = log_one(store, t);
  const fs::path models = t.path() / "mlruns/0/models";
  const std::string stale = "m-0123456789abcdef0123456789abcdef";
  fs::copy(models / a.model_id, models / stale, fs::copy_options::recursive);
  std::string meta = slurp(models / stale / "meta.yaml");
  meta.replace(meta.find("model_id: " + a.model_id), 10 + a.model_id.size(), "model_id: " + stale);
  spit(models / stale / "meta.yaml", meta);

  auto r = fsck(t.root(), {.repair = true});
  REQUIRE(r);
  auto replaced = findings(*r, "logged_model.replaced");
  REQUIRE(replaced.size() == 1);  // not the record whose files are there
  CHECK(replaced[0]->path.find(stale) != std::string::npos);
  CHECK(replaced[0]->problem.find(a.model_id) != std::string::npos);
  CHECK(replaced[0]->outcome == FsckAction::kRepaired);
  CHECK(slurp(models / stale / "meta.yaml").find("lifecycle_stage: deleted\n") != std::string::npos);
  CHECK(slurp(models / a.model_id / "meta.yaml").find("lifecycle_stage") == std::string::npos);
  auto again = fsck(t.root());
  REQUIRE(again);
  CHECK(findings(*again, "logged_model.replaced").empty());
}
