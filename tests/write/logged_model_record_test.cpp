// log_model's MLflow 3.x LoggedModel record (spec §9.2; MLflow 3.8's
// mlflow/store/tracking/file_store.py create_logged_model,
// finalize_logged_model, delete_logged_model, log_outputs, and
// mlflow/models/model.py Model.log): the bytes against the record MLflow
// 3.8 wrote in tests/fixtures/mlflow-3.8-models, the run's outputs link,
// the run's params and source tags on the record, the model_id in MLmodel,
// overwrite, the 2.x-only form, and the reader's round trip.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "format/logged_model_meta.h"
#include "mlruns/download.h"
#include "mlruns/env.h"
#include "mlruns/reader.h"
#include "mlruns/registry.h"
#include "mlruns/store.h"
#include "write/store_test_util.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

struct ClockEnv : EnvWrapper {
  ClockEnv() : EnvWrapper(Env::posix()) {}
  std::int64_t now = 1795977094494;
  std::int64_t now_ms() override { return now; }
};

const char* kFixtureExp = "650945309232097958";
const char* kFixtureRun = "2c7562e497e34305b13cc5e451b50611";
const char* kFixtureModel = "m-f8f07ec25846460e917e72f7dc04f6f7";

fs::path fixture() { return fs::path(MLRUNS_FIXTURES_DIR) / "mlflow-3.8-models/mlruns" / kFixtureExp; }

// The top-level keys of a YAML file, in file order.
std::vector<std::string> keys_of(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& kv : YAML::Load(text)) out.push_back(kv.first.as<std::string>());
  return out;
}

}  // namespace

TEST_CASE("log_model records an MLflow 3.x LoggedModel: meta.yaml and outputs link as MLflow 3.8 writes them (spec §9.2)",
          "[model_log][logged_model]") {
  TempDir t;
  ClockEnv env;
  StoreOptions o = opts(t);
  o.env = &env;
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.run_name = "trainer"});
  run.log_param("lr", "0.001");
  run.log_param("net/depth", "4");  // a key with '/', a folder
  write_file(t.path() / "policy.onnx", "onnx bytes");
  auto m = run.log_model((t.path() / "policy.onnx").string(), {.flavor = "onnx", .step = 7});
  REQUIRE(m);
  REQUIRE(detail::is_logged_model_id(m->model_id));  // "m-" + uuid4().hex, as create_logged_model
  const fs::path exp = t.path() / "mlruns/0";
  const fs::path rec = exp / "models" / m->model_id;
  const fs::path run_dir = exp / run.id();
  const std::string location = "file://" + run_dir.string() + "/artifacts/model";
  // The record after finalize_logged_model(READY): no lifecycle_stage, PyYAML's bytes.
  const std::string meta = read_file(rec / "meta.yaml");
  CHECK(meta ==
        "artifact_location: " + location + "\n"
        "creation_timestamp: 1795977094494\n"
        "experiment_id: '0'\n"
        "last_updated_timestamp: 1795977094494\n"
        "model_id: " + m->model_id + "\n"
        "model_type: null\n"
        "name: model\n"
        "source_run_id: " + run.id() + "\n"
        "status: 2\n"
        "status_message: null\n");
  // Key for key the record MLflow 3.8 wrote.
  CHECK(keys_of(meta) == keys_of(read_file(fixture() / "models" / kFixtureModel / "meta.yaml")));
  // The run's outputs link (log_outputs; both ids the model's).
  const std::string link = read_file(run_dir / "outputs" / m->model_id / "meta.yaml");
  CHECK(link ==
        "destination_id: " + m->model_id + "\n"
        "destination_type: MODEL_OUTPUT\n"
        "source_id: " + m->model_id + "\n"
        "source_type: RUN_OUTPUT\n"
        "step: 7\n"
        "tags: {}\n");
  std::string fixture_link = read_file(fixture() / kFixtureRun / "outputs" / kFixtureModel / "meta.yaml");
  CHECK(keys_of(link) == keys_of(fixture_link));
  CHECK(fixture_link.find("tags: {}\n") != std::string::npos);
  // The run's params and source tags, as MLflow 3.x's log_model gives the model.
  CHECK(read_file(rec / "params/lr") == "0.001");
  CHECK(read_file(rec / "params/net/depth") == "4");
  CHECK(fs::is_directory(rec / "metrics"));
  REQUIRE(fs::exists(run_dir / "tags/mlflow.user"));
  CHECK(read_file(rec / "tags/mlflow.user") == read_file(run_dir / "tags/mlflow.user"));
  CHECK(read_file(rec / "tags/mlflow.source.name") == read_file(run_dir / "tags/mlflow.source.name"));
  CHECK_FALSE(fs::exists(rec / "artifacts"));  // one copy of the bytes: the run's
  // MLmodel names the record (spec §8.3: "3.x adds model_id"), keys sorted.
  const std::string mlmodel = read_file(run_dir / "artifacts/model/MLmodel");
  CHECK(mlmodel.find("mlflow_version: 2.22.0\nmodel_id: " + m->model_id + "\nmodel_size_bytes: 10\n") !=
        std::string::npos);
  // Nothing left in the staging area.
  for (const auto& e : fs::directory_iterator(t.path() / "mlruns"))
    if (e.path().filename().string().rfind(".mlruns-tmp-", 0) == 0)
      for (const auto& s : fs::directory_iterator(e.path())) FAIL("left in staging: " << s.path());
}

TEST_CASE("the reader finds mlruns' LoggedModel: logged_models, models:/<model_id>, download (spec §9.2)",
          "[model_log][logged_model]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run();
  write_file(t.path() / "w/policy.pt", "torchscript");
  auto m = run.log_model((t.path() / "w").string(), {.artifact_path = "policy", .flavor = "torchscript"});
  REQUIRE(m);
  auto reader = Reader::open(t.root());
  REQUIRE(reader);
  auto listed = reader->logged_models(run.id());
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].model_id == m->model_id);
  CHECK((*listed)[0].model_uuid == m->model_uuid);
  auto loc = reader->resolve_model_uri("models:/" + m->model_id);
  REQUIRE(loc);
  CHECK(fs::equivalent(loc->path, t.path() / "mlruns/0" / run.id() / "artifacts/policy"));
  auto got = download_model(*reader, *loc, (t.path() / "out").string());
  REQUIRE(got);
  CHECK(read_file(fs::path(got->local_path) / "policy.pt") == "torchscript");
}

TEST_CASE("overwrite: the replaced model's record is marked deleted, as delete_logged_model (spec §9.2)",
          "[model_log][logged_model]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run();
  const fs::path models = t.path() / "mlruns/0/models";
  std::vector<std::string> ids;
  for (int epoch = 1; epoch <= 3; ++epoch) {
    write_file(t.path() / "policy.pt", "epoch " + std::to_string(epoch));
    auto m = run.log_model((t.path() / "policy.pt").string(),
                           {.artifact_path = "policy", .flavor = "torchscript", .overwrite = true, .step = epoch});
    REQUIRE(m);
    ids.push_back(m->model_id);
  }
  REQUIRE(ids[0] != ids[1]);
  for (int i = 0; i < 2; ++i) {
    auto rec = detail::parse_logged_model_meta(read_file(models / ids[i] / "meta.yaml"));
    REQUIRE(rec);
    CHECK(rec->lifecycle_stage == std::optional<std::string>("deleted"));
  }
  auto last = detail::parse_logged_model_meta(read_file(models / ids[2] / "meta.yaml"));
  REQUIRE(last);
  CHECK_FALSE(last->lifecycle_stage);
  CHECK(read_file(t.path() / "mlruns/0" / run.id() / "outputs" / ids[2] / "meta.yaml").find("step: 3\n") !=
        std::string::npos);
}

TEST_CASE("ModelForm::kMlflow2 writes the 2.x form only, and names MLflow refuses are refused before writing",
          "[model_log][logged_model]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  write_file(t.path() / "w.bin", "w");
  const std::string w = (t.path() / "w.bin").string();
  auto two = run.log_model(w, {.artifact_path = "only2", .flavor = "solver", .form = ModelForm::kMlflow2});
  REQUIRE(two);
  CHECK(two->model_id.empty());
  const fs::path run_dir = t.path() / "mlruns/0" / run.id();
  CHECK_FALSE(fs::exists(t.path() / "mlruns/0/models"));
  CHECK_FALSE(fs::exists(run_dir / "outputs"));
  CHECK(read_file(run_dir / "artifacts/only2/MLmodel").find("model_id") == std::string::npos);
  // MLflow's _validate_logged_model_name: none of / : . % " '.
  for (std::string bad : {"a/b", "v1.2", "50%", "it's", ""}) {
    if (bad.empty()) continue;  // empty means "derive from artifact_path"
    INFO(bad);
    auto r = run.log_model(w, {.artifact_path = "bad", .flavor = "solver", .name = bad});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kInvalidArgument);
    CHECK(r.error().message().find("_validate_logged_model_name") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(run_dir / "artifacts/bad"));
  // The default name: the artifact path with those characters made '_'.
  auto nested = run.log_model(w, {.artifact_path = "ckpt/epoch.3", .flavor = "solver"});
  REQUIRE(nested);
  auto rec = detail::parse_logged_model_meta(read_file(t.path() / "mlruns/0/models" / nested->model_id / "meta.yaml"));
  REQUIRE(rec);
  CHECK(rec->name == "ckpt_epoch_3");
}

TEST_CASE("an MLmodel's model_id is joined to a path only when it is an id MLflow makes", "[model_log][logged_model]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run();
  write_file(t.path() / "w.bin", "w");
  auto m = run.log_model((t.path() / "w.bin").string(), {.flavor = "solver"});
  REQUIRE(m);
  // A hostile MLmodel names a folder out of models/ as its model_id, one
  // that looks like the record of this very model.
  const fs::path run_dir = t.path() / "mlruns/0" / run.id();
  const std::string victim = "artifact_location: file://" + run_dir.string() + "/artifacts/model\nmodel_id: x\n"
                             "source_run_id: " + run.id() + "\n";
  write_file(t.path() / "mlruns/0/victim/meta.yaml", victim);
  const fs::path mlmodel = run_dir / "artifacts/model/MLmodel";
  std::string text = read_file(mlmodel);
  text.replace(text.find("model_id: m-"), 12 + 32, "model_id: ../victim");
  write_file(mlmodel, text);
  auto again = run.log_model((t.path() / "w.bin").string(), {.flavor = "solver", .overwrite = true});
  REQUIRE(again);
  CHECK(read_file(t.path() / "mlruns/0/victim/meta.yaml") == victim);  // not marked deleted
  CHECK_FALSE(detail::is_logged_model_id("../victim"));
  CHECK_FALSE(detail::is_logged_model_id("m-F8F07EC25846460E917E72F7DC04F6F7"));
  CHECK(detail::is_logged_model_id(kFixtureModel));
}

TEST_CASE("registering models:/<model_id> keeps the source and sets model_id, as MLflow 3.x (spec §9.2, §9.4)",
          "[model_log][logged_model][registry]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  write_file(t.path() / "w.bin", "weights");
  auto m = run.log_model((t.path() / "w.bin").string(), {.artifact_path = "solver", .flavor = "solver"});
  REQUIRE(m);
  ModelRegistry reg = store.registry();
  auto v = reg.create_model_version("from-logged", "models:/" + m->model_id);
  REQUIRE(v);
  const fs::path run_dir = t.path() / "mlruns/0" / run.id();
  CHECK(v->source == "models:/" + m->model_id);
  CHECK(v->storage_location == "file://" + run_dir.string() + "/artifacts/solver");
  CHECK(v->run_id == run.id());
  CHECK(v->model_id == m->model_id);
  const std::string meta = read_file(t.path() / "mlruns/models/from-logged/version-1/meta.yaml");
  CHECK(meta.find("\nmodel_id: " + m->model_id + "\nname: from-logged\n") != std::string::npos);
  // The record lists its versions as MLflow 3.8 wrote in the fixture.
  const fs::path tag = t.path() / "mlruns/0/models" / m->model_id / "tags/mlflow.modelVersions";
  CHECK(read_file(tag) == R"([{"name": "from-logged", "version": 1}])");
  CHECK(read_file(fixture() / "models" / kFixtureModel / "tags/mlflow.modelVersions") ==
        R"([{"name": "reg-model", "version": 1}])");
  REQUIRE(reg.create_model_version("from-logged", "models:/" + m->model_id));
  CHECK(read_file(tag) == R"([{"name": "from-logged", "version": 1}, {"name": "from-logged", "version": 2}])");
  auto reader = Reader::open(t.root());
  REQUIRE(reader);
  auto loc = reader->resolve_model_uri("models:/from-logged/1");
  REQUIRE(loc);
  CHECK(fs::equivalent(loc->path, run_dir / "artifacts/solver"));
  auto back = reader->model_version("from-logged", 1);
  REQUIRE(back);
  CHECK(back->model_id == m->model_id);
  // Only an id of MLflow's form becomes a path.
  for (std::string bad : {"models:/m-../../x", "models:/m-0123", "models:/m-0123456789abcdef0123456789abcdeF"}) {
    INFO(bad);
    auto r = reg.create_model_version("from-logged", bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kInvalidArgument);
  }
  auto none = reg.create_model_version("from-logged", "models:/m-0123456789abcdef0123456789abcdef");
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == Code::kNotFound);
}
