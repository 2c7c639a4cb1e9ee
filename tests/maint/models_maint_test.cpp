// fsck and gc on logged models and the Model Registry (spec §8.3, §9.4), on
// a copy of the tree MLflow 2.10 wrote (tests/fixtures/mlflow-2.10-models).
#include <catch2/catch.hpp>

#include <algorithm>

#include "maint_test_util.h"
#include "mlruns/fsck.h"
#include "mlruns/gc.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "test_util.h"
#include "write/store_test_util.h"

using namespace maint_test;

namespace {
const char* kExp = "500967655176842725";
const char* kRun = "7a44bb81d7234bdf80814a4a53f7993e";
const char* kCopy = "0123456789abcdef0123456789abcdef";

std::vector<const mlruns::FsckFinding*> findings(const mlruns::FsckReport& r, const std::string& check) {
  std::vector<const mlruns::FsckFinding*> out;
  for (const auto& f : r.findings)
    if (f.check == check) out.push_back(&f);
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}
}  // namespace

TEST_CASE("fsck: a run folder copied under a new id has MLmodel and history naming the old run, and --repair retargets them",
          "[fsck][models_maint]") {
  TempTree t("mlflow-2.10-models");
  const fs::path exp = t.root / kExp;
  fs::copy(exp / kRun, exp / kCopy, fs::copy_options::recursive);
  std::string meta = slurp(exp / kCopy / "meta.yaml");
  replace_all(meta, kRun, kCopy);  // run_id, run_uuid, artifact_uri: a proper copy but for the models
  spit(exp / kCopy / "meta.yaml", meta);

  auto r = mlruns::fsck(t.root.string());
  REQUIRE(r);
  auto mlmodels = findings(*r, "model.run_id_other_run");
  REQUIRE(mlmodels.size() == 2);  // model/ and model2/ of the copy; none for the original
  for (const auto* f : mlmodels) {
    CHECK(f->path.find(kCopy) != std::string::npos);
    CHECK(f->problem.find(kRun) != std::string::npos);
  }
  REQUIRE(findings(*r, "model.history_other_run").size() == 1);

  auto fixed = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(fixed);
  for (const auto* f : findings(*fixed, "model.run_id_other_run")) CHECK(f->outcome == mlruns::FsckAction::kRepaired);
  const std::string mlmodel = slurp(exp / kCopy / "artifacts/model/MLmodel");
  CHECK(mlmodel.find(std::string("\nrun_id: ") + kCopy + "\n") != std::string::npos);
  // Every other byte as MLflow wrote it.
  std::string original = slurp(exp / kRun / "artifacts/model/MLmodel");
  replace_all(original, std::string("run_id: ") + kRun, std::string("run_id: ") + kCopy);
  CHECK(mlmodel == original);
  const std::string history = slurp(exp / kCopy / "tags/mlflow.log-model.history");
  CHECK(history.find(kRun) == std::string::npos);
  CHECK(slurp(exp / kRun / "tags/mlflow.log-model.history").find(kCopy) == std::string::npos);
  auto reader = mlruns::Reader::open(t.root.string());
  REQUIRE(reader);
  auto logged = reader->logged_models(kCopy);
  REQUIRE(logged);
  CHECK(logged->size() == 2);
  for (const auto& m : *logged) CHECK(m.run_id == kCopy);

  auto again = mlruns::fsck(t.root.string());
  REQUIRE(again);
  CHECK(findings(*again, "model.run_id_other_run").empty());
  CHECK(findings(*again, "model.history_other_run").empty());
}

TEST_CASE("fsck: registry versions whose files are gone and aliases to no version are reported, left alone",
          "[fsck][models_maint]") {
  TempTree t("mlflow-2.10-models");
  auto clean = mlruns::fsck(t.root.string());
  REQUIRE(clean);
  CHECK(findings(*clean, "registry.source_missing").empty());  // the moved tree's sources resolve
  CHECK(findings(*clean, "registry.alias_dangling").empty());

  fs::remove_all(t.root / kExp / kRun / "artifacts/model2");   // version 2's files
  spit(t.root / "models/reg-model/aliases/ghost", "3");         // version 3 is deleted
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  auto missing = findings(*r, "registry.source_missing");
  REQUIRE(missing.size() == 1);
  CHECK(missing[0]->problem.find("models:/reg-model/2") != std::string::npos);
  CHECK(missing[0]->outcome == mlruns::FsckAction::kNone);
  CHECK_FALSE(missing[0]->hint.empty());
  auto dangling = findings(*r, "registry.alias_dangling");
  REQUIRE(dangling.size() == 1);
  CHECK(dangling[0]->problem.find("'ghost'") != std::string::npos);
  CHECK(dangling[0]->hint.find("mlruns models set-alias") != std::string::npos);
  CHECK(fs::exists(t.root / "models/reg-model/aliases/ghost"));  // left alone
}

TEST_CASE("fsck: folders MLflow lists as versions but mlruns skips (version-2.bak, a meta.yaml saying another "
          "number) are reported, left alone (file_store.py _list_file_model_versions_under_path)",
          "[fsck][models_maint]") {
  TempTree t("mlflow-2.10-models");
  const fs::path m = t.root / "models/reg-model";
  auto clean = mlruns::fsck(t.root.string());
  REQUIRE(clean);
  CHECK(findings(*clean, "registry.version_folder_name").empty());
  CHECK(findings(*clean, "registry.version_number_mismatch").empty());

  fs::rename(m / "version-2", m / "version-2.bak");
  std::string meta = slurp(m / "version-3/meta.yaml");
  auto at = meta.find("\nversion: 3\n");
  REQUIRE(at != std::string::npos);
  meta.replace(at, 12, "\nversion: 7\n");
  spit(m / "version-3/meta.yaml", meta);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  auto named = findings(*r, "registry.version_folder_name");
  REQUIRE(named.size() == 1);
  CHECK(named[0]->path == (m / "version-2.bak").string());
  CHECK(named[0]->problem.find("as version 2") != std::string::npos);
  CHECK(named[0]->hint.find("backup-version-2.bak") != std::string::npos);
  CHECK(named[0]->outcome == mlruns::FsckAction::kNone);
  auto mismatch = findings(*r, "registry.version_number_mismatch");
  REQUIRE(mismatch.size() == 1);
  CHECK(mismatch[0]->problem.find("version-3 of 'reg-model' holds version 7") != std::string::npos);
  CHECK(fs::exists(m / "version-2.bak"));  // left alone
}

TEST_CASE("fsck: a version-<n> whose meta.yaml's version is <n> in another form (2.0, '2', 0x2) is reported and "
          "repaired to the plain integer, another number is left alone (file_store.py "
          "_get_file_model_version_from_dir uses the value as PyYAML loads it)",
          "[fsck][models_maint]") {
  for (const char* form : {"2.0", "'2'", "0x2", "' 2 '", "2.0e+0"}) {
    INFO(form);
    TempTree t("mlflow-2.10-models");
    REQUIRE(mlruns::fsck(t.root.string(), {.repair = true}));  // the copied tree's sources point here first
    const fs::path meta_path = t.root / "models/reg-model/version-2/meta.yaml";
    std::string meta = slurp(meta_path);
    auto at = meta.find("\nversion: 2\n");
    REQUIRE(at != std::string::npos);
    meta.replace(at, 12, std::string("\nversion: ") + form + "\n");
    spit(meta_path, meta);
    auto seen = mlruns::fsck(t.root.string());
    REQUIRE(seen);
    auto f = findings(*seen, "registry.version_not_int");
    REQUIRE(f.size() == 1);
    CHECK(f[0]->path == meta_path.string());
    CHECK(f[0]->problem.find("not the plain integer 2") != std::string::npos);
    CHECK(findings(*seen, "registry.version_number_mismatch").empty());
    auto fixed = mlruns::fsck(t.root.string(), {.repair = true});
    REQUIRE(fixed);
    auto r = findings(*fixed, "registry.version_not_int");
    REQUIRE(r.size() == 1);
    CHECK(r[0]->outcome == mlruns::FsckAction::kRepaired);
    std::string after = slurp(meta_path);
    at = meta.find(std::string("\nversion: ") + form + "\n");
    std::string expect = meta;
    expect.replace(at, 10 + std::string(form).size() + 1, "\nversion: 2\n");
    CHECK(after == expect);  // only that line changed
    auto clean = mlruns::fsck(t.root.string());
    REQUIRE(clean);
    CHECK(findings(*clean, "registry.version_not_int").empty());
  }
  // 2.5 in version-2 is not 2 in another form: which is right is unknown, left alone.
  TempTree t("mlflow-2.10-models");
  REQUIRE(mlruns::fsck(t.root.string(), {.repair = true}));
  const fs::path meta_path = t.root / "models/reg-model/version-2/meta.yaml";
  std::string meta = slurp(meta_path);
  auto at = meta.find("\nversion: 2\n");
  REQUIRE(at != std::string::npos);
  meta.replace(at, 12, "\nversion: 2.5\n");
  spit(meta_path, meta);
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  CHECK(findings(*r, "registry.version_not_int").empty());
  auto mismatch = findings(*r, "registry.version_number_mismatch");
  REQUIRE(mismatch.size() == 1);
  CHECK(mismatch[0]->problem.find("holds version 2.5") != std::string::npos);
  CHECK(mismatch[0]->outcome == mlruns::FsckAction::kNone);
  CHECK(slurp(meta_path) == meta);
}

TEST_CASE("gc keeps a deleted run whose model is registered, unless collect_registered", "[gc][models_maint]") {
  TempTree t("mlflow-2.10-models");
  const fs::path run = t.root / kExp / kRun;
  std::string m = slurp(run / "meta.yaml");
  auto p = m.find("lifecycle_stage: active");
  REQUIRE(p != std::string::npos);
  m.replace(p, 23, "lifecycle_stage: deleted");
  spit(run / "meta.yaml", m);

  auto kept = mlruns::gc(t.root.string());
  REQUIRE(kept);
  CHECK(kept->items.empty());
  CHECK(fs::exists(run));
  REQUIRE(kept->notes.size() == 1);
  CHECK(kept->notes[0].find("run " + std::string(kRun) + " kept") != std::string::npos);
  CHECK(kept->notes[0].find("models:/reg-model/") != std::string::npos);

  auto collected = mlruns::gc(t.root.string(), {.collect_registered = true});
  REQUIRE(collected);
  REQUIRE(collected->items.size() == 1);
  CHECK(collected->items[0].removed);
  CHECK_FALSE(fs::exists(run));
}

TEST_CASE("fsck: registry metadata MLflow reads differently (a model name that is not its folder's, a run_id that is "
          "no run id) and a version source through a link in the tree are reported, left alone (t15 F3, F6)",
          "[fsck][models_maint]") {
  TempTree t("mlflow-2.10-models");
  const fs::path m = t.root / "models/reg-model";
  auto clean = mlruns::fsck(t.root.string());
  REQUIRE(clean);
  for (const char* check : {"registry.name_mismatch", "registry.version_run_id_invalid", "registry.source_invalid"})
    CHECK(findings(*clean, check).empty());

  spit(m / "meta.yaml", slurp(m / "meta.yaml") + "name: ../sentinel\n");  // the last key wins, as in PyYAML
  std::string v1 = slurp(m / "version-1/meta.yaml");
  replace_all(v1, std::string("run_id: ") + kRun, "run_id: ../../sentinel");
  spit(m / "version-1/meta.yaml", v1);
  fs::create_directory_symlink(t.root.parent_path(), t.root / kExp / kRun / "artifacts/vl");
  std::string v2 = slurp(m / "version-2/meta.yaml");
  const std::string link = "file://" + (t.root / kExp / kRun / "artifacts/vl").string();
  for (const char* key : {"source: ", "storage_location: "}) {
    auto at = v2.find(std::string("\n") + key);
    REQUIRE(at != std::string::npos);
    v2.replace(at + 1, v2.find('\n', at + 1) - at - 1, key + link);
  }
  spit(m / "version-2/meta.yaml", v2);
  std::string v3 = slurp(m / "version-3/meta.yaml");
  replace_all(v3, "\nversion: 3\n", "\nversion: [1, 2]\n");  // MLflow lists version [1, 2]
  spit(m / "version-3/meta.yaml", v3);
  const std::string model_meta = slurp(m / "meta.yaml");
  auto r = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(r);
  auto named = findings(*r, "registry.name_mismatch");
  REQUIRE(named.size() == 1);
  CHECK(named[0]->problem.find("'../sentinel'") != std::string::npos);
  auto run_id = findings(*r, "registry.version_run_id_invalid");
  REQUIRE(run_id.size() == 1);
  CHECK(run_id[0]->problem.find("version 1 ") != std::string::npos);
  auto invalid = findings(*r, "registry.source_invalid");
  REQUIRE(invalid.size() == 1);
  CHECK(invalid[0]->problem.find("models:/reg-model/2") != std::string::npos);
  CHECK(invalid[0]->problem.find("symbolic link") != std::string::npos);
  CHECK(findings(*r, "registry.source_missing").empty());  // not "the files are gone"
  // i12d's check of a version written in another form covers a collection too.
  auto not_int = findings(*r, "registry.version_not_int");
  REQUIRE(not_int.size() == 1);
  CHECK(not_int[0]->problem.find("version: [1, 2] in version-3") != std::string::npos);
  CHECK(not_int[0]->outcome == mlruns::FsckAction::kRepaired);
  CHECK(slurp(m / "version-3/meta.yaml").find("\nversion: 3\n") != std::string::npos);
  // All left alone.
  CHECK(slurp(m / "meta.yaml") == model_meta);
  CHECK(slurp(m / "version-1/meta.yaml").find("\nrun_id: ../../sentinel\n") != std::string::npos);  // (its source relocated)
  CHECK(slurp(m / "version-2/meta.yaml") == v2);
}

TEST_CASE("fsck: a run folder copied under a new id keeps the original's 3.x LoggedModel, --repair gives the copy a "
          "record of its own, as MLflow would have made (t10 F6, spec §9.2)",
          "[fsck][models_maint]") {
  mlruns::testing::TempDir t;
  std::string run, model_id;
  {
    mlruns::Store store = mlruns::Store::open(mlruns::testing::opts(t));
    mlruns::ActiveRun r = store.start_run();
    run = r.id();
    mlruns::testing::write_file(t.path() / "w.bin", "weights");
    auto m = r.log_model((t.path() / "w.bin").string(), {.flavor = "solver"});
    REQUIRE(m);
    model_id = m->model_id;
  }
  const fs::path exp = t.path() / "mlruns/0";
  fs::copy(exp / run, exp / kCopy, fs::copy_options::recursive);
  std::string meta = slurp(exp / kCopy / "meta.yaml");
  replace_all(meta, run, kCopy);
  spit(exp / kCopy / "meta.yaml", meta);
  const std::string original_record = slurp(exp / "models" / model_id / "meta.yaml");

  auto r = mlruns::fsck(t.root(), {.repair = true});
  REQUIRE(r);
  auto copied = findings(*r, "logged_model.outputs_other_run");
  REQUIRE(copied.size() == 1);
  CHECK(copied[0]->path.find(kCopy) != std::string::npos);
  CHECK(copied[0]->outcome == mlruns::FsckAction::kRepaired);
  std::vector<std::string> outputs;
  for (const auto& e : fs::directory_iterator(exp / kCopy / "outputs")) outputs.push_back(e.path().filename().string());
  REQUIRE(outputs.size() == 1);
  const std::string mine = outputs[0];
  CHECK(mine != model_id);
  const std::string record = slurp(exp / "models" / mine / "meta.yaml");
  CHECK(record.find("model_id: " + mine + "\n") != std::string::npos);
  CHECK(record.find(std::string("source_run_id: ") + kCopy + "\n") != std::string::npos);
  CHECK(record.find(std::string("/") + kCopy + "/artifacts/model\n") != std::string::npos);
  CHECK(slurp(exp / kCopy / "outputs" / mine / "meta.yaml").find("source_id: " + mine + "\n") != std::string::npos);
  const std::string mlmodel = slurp(exp / kCopy / "artifacts/model/MLmodel");
  CHECK(mlmodel.find("model_id: " + mine + "\n") != std::string::npos);
  CHECK(mlmodel.find(std::string("run_id: ") + kCopy + "\n") != std::string::npos);
  CHECK(slurp(exp / "models" / model_id / "meta.yaml") == original_record);  // the original's, untouched
  CHECK(slurp(exp / run / "artifacts/model/MLmodel").find("model_id: " + model_id) != std::string::npos);
  auto reader = mlruns::Reader::open(t.root());
  REQUIRE(reader);
  auto loc = reader->resolve_model_uri("models:/" + mine);
  REQUIRE(loc);
  CHECK(loc->path.find(kCopy) != std::string::npos);

  auto again = mlruns::fsck(t.root());
  REQUIRE(again);
  CHECK(again->findings.empty());
}
