// Reading logged models and the Model Registry that real MLflow 2.10 and 3.8
// wrote (spec §8.3, §9.2, §9.4; mlflow/store/model_registry/file_store.py),
// resolving runs:/ and models:/ URIs as MLflow does (mlflow/store/artifact/
// utils/models.py), and never reading outside the tree.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "mlruns/download.h"
#include "mlruns/model.h"
#include "mlruns/reader.h"
#include "mlruns/registry.h"
#include "mlruns/store.h"
#include "reader_test_util.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {
const char* kRun210 = "7a44bb81d7234bdf80814a4a53f7993e";
const char* kExp210 = "500967655176842725";
const char* kRun38 = "2c7562e497e34305b13cc5e451b50611";
const char* kModel38 = "m-f8f07ec25846460e917e72f7dc04f6f7";  // version 1, alias champion

std::vector<std::string> names(const std::vector<RegisteredModel>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.name);
  return out;
}
}  // namespace

TEST_CASE("the registry MLflow 2.10 wrote reads as its server lists it (spec §9.4)", "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-2.10-models", t.path());
  Warnings w;
  auto reader = Reader::open(root.string(), w.options());
  REQUIRE(reader);
  auto models = reader->registered_models();
  REQUIRE(models);
  // rest/registered_models_search.json: bare, reg-model, unicodé ü.
  CHECK(names(*models) == std::vector<std::string>{"bare", "reg-model", "unicod\xC3\xA9 \xC3\xBC"});
  const RegisteredModel& m = (*models)[1];
  CHECK(m.description == std::optional<std::string>("the sweep's best"));
  CHECK(m.creation_timestamp == 1795977079381);
  CHECK(m.last_updated_timestamp == 1795977079559);
  CHECK(m.tags == std::map<std::string, std::string>{{"team", "cfd"}});
  CHECK(m.aliases == std::map<std::string, std::int64_t>{{"champion", 1}});
  REQUIRE(m.latest_versions.size() == 2);  // Archived 2, Production 1; deleted 3 left out
  CHECK(m.latest_versions[0].version == 2);
  CHECK(m.latest_versions[0].current_stage == ModelStage::kArchived);
  CHECK(m.latest_versions[1].current_stage == ModelStage::kProduction);
  CHECK(m.latest_versions[1].aliases == std::vector<std::string>{"champion"});
  CHECK((*models)[2].tags.at("t") == "\xC3\xBC");
  CHECK_FALSE((*models)[0].description.has_value());

  auto versions = reader->model_versions("reg-model");
  REQUIRE(versions);
  REQUIRE(versions->size() == 2);  // rest/model_versions_search.json: 2 then 1
  CHECK((*versions)[0].version == 2);
  CHECK((*versions)[1].version == 1);
  CHECK((*versions)[1].tags == std::map<std::string, std::string>{{"validated", "yes"}});
  CHECK((*versions)[1].run_id == std::optional<std::string>(kRun210));
  CHECK((*versions)[1].source.ends_with(std::string(kRun210) + "/artifacts/model"));
  CHECK(reader->model_version("reg-model", 3).error().code() == Code::kNotFound);  // deleted
  CHECK(reader->registered_model("nope").error().code() == Code::kNotFound);
  CHECK(reader->model_versions("bare")->empty());
  CHECK(w.list.empty());
}

TEST_CASE("a run's logged models are its history entries whose MLmodel exists (spec §8.3)", "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-2.10-models", t.path());
  Warnings w;
  auto reader = Reader::open(root.string(), w.options());
  REQUIRE(reader);
  auto logged = reader->logged_models(kRun210);
  REQUIRE(logged);
  REQUIRE(logged->size() == 2);  // onnx-model was recorded without files
  CHECK((*logged)[0].artifact_path == "model2");  // newest first
  CHECK((*logged)[1].artifact_path == "model");
  CHECK((*logged)[1].flavors == std::vector<std::string>{"python_function", "sklearn"});
  CHECK(w.has("mlflow.log-model.history", "onnx-model"));
}

TEST_CASE("models:/ URIs resolve to the version's files in a moved tree, as MLflow resolves them", "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-2.10-models", t.path());
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  fs::path run_artifacts = root / kExp210 / kRun210 / "artifacts";
  struct Case {
    std::string uri;
    std::int64_t version;  // 0: not a registry URI
    std::string folder;
  };
  for (const Case& c : std::vector<Case>{{"models:/reg-model/1", 1, "model"},
                                         {"models:/reg-model@champion", 1, "model"},
                                         {"models:/reg-model/Production", 1, "model"},
                                         {"models:/reg-model/production", 1, "model"},
                                         {"models:/reg-model/Archived", 2, "model2"},
                                         {"models:/reg-model/latest", 2, "model2"},
                                         {"runs:/" + std::string(kRun210) + "/model2", 0, "model2"}}) {
    INFO(c.uri);
    auto loc = reader->resolve_model_uri(c.uri);
    REQUIRE(loc);
    CHECK(loc->path == (run_artifacts / c.folder).string());  // not the old /tmp/golden-models/... path
    CHECK(loc->run_id == kRun210);
    CHECK(loc->artifact_path == c.folder);
    CHECK(loc->version.has_value() == (c.version != 0));
    if (loc->version) CHECK(loc->version->version == c.version);
  }
  struct Bad {
    std::string uri;
    Code code;
  };
  for (const Bad& b : std::vector<Bad>{{"models:/reg-model/3", Code::kNotFound},  // deleted
                                       {"models:/reg-model/Staging", Code::kNotFound},
                                       {"models:/reg-model@challenger", Code::kNotFound},
                                       {"models:/nope/1", Code::kNotFound},
                                       {"models:/reg-model/Shipping", Code::kInvalidArgument},
                                       {"models:/reg-model/1/x", Code::kInvalidArgument},
                                       {"models:/", Code::kInvalidArgument},
                                       {"models:/@champion", Code::kInvalidArgument},
                                       {"s3://bucket/model", Code::kInvalidArgument},
                                       {"runs:/" + std::string(kRun210) + "/missing", Code::kNotFound},
                                       {"runs:/" + std::string(kRun210) + "/../x", Code::kInvalidArgument}}) {
    INFO(b.uri);
    auto loc = reader->resolve_model_uri(b.uri);
    REQUIRE_FALSE(loc);
    CHECK(loc.error().code() == b.code);
  }
}

TEST_CASE("MLflow 3.8's registry: versions backed by LoggedModels resolve in the tree (spec §9.2, §9.4)",
          "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-3.8-models", t.path());
  Warnings w;
  auto reader = Reader::open(root.string(), w.options());
  REQUIRE(reader);
  auto v = reader->model_version("reg-model", 1);
  REQUIRE(v);
  CHECK(v->model_id == std::optional<std::string>(kModel38));
  fs::path model_dir = root / "650945309232097958/models" / kModel38 / "artifacts";
  for (const std::string& uri : std::vector<std::string>{"models:/reg-model@champion", "models:/reg-model/1", std::string("models:/") + kModel38}) {
    INFO(uri);
    auto loc = reader->resolve_model_uri(uri);
    REQUIRE(loc);
    CHECK(loc->path == model_dir.string());
    CHECK(loc->run_id.empty());
  }
  TempDir dest;
  auto loc = reader->resolve_model_uri("models:/reg-model@champion");
  REQUIRE(loc);
  auto d = download_model(*reader, *loc, dest.str());
  REQUIRE(d);
  CHECK(d->local_path == (dest.path() / kModel38).string());  // named after the model id
  CHECK(fs::exists(dest.path() / kModel38 / "MLmodel"));
  CHECK(fs::exists(dest.path() / kModel38 / "model.pkl"));
  // Version 3 is deleted; its runs:/ source has no MLmodel in 3.x anyway.
  CHECK(reader->resolve_model_uri("models:/reg-model/3").error().code() == Code::kNotFound);
  CHECK(reader->logged_models(kRun38)->empty());  // the history entry has no files
}

TEST_CASE("download_model of models:/NAME@alias copies the version's folder, complete, named after it",
          "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-2.10-models", t.path());
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  auto loc = reader->resolve_model_uri("models:/reg-model@champion");
  REQUIRE(loc);
  TempDir dest;
  auto d = download_model(*reader, *loc, dest.str());
  REQUIRE(d);
  CHECK(d->local_path == (dest.path() / "model").string());
  CHECK(read_file(dest.path() / "model/MLmodel") ==
        read_file(root / kExp210 / kRun210 / "artifacts/model/MLmodel"));
  CHECK(d->files == 5);
  auto again = download_model(*reader, *loc, dest.str());
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Code::kAlreadyExists);
  CHECK(download_model(*reader, *loc, dest.str(), {.overwrite = true}));
}

TEST_CASE("a hostile registry cannot lead a reader out of the tree or into a loop", "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-2.10-models", t.path());
  fs::path m = root / "models/reg-model";
  auto set_source = [&](int v, const std::string& source) {
    std::string meta = read_file(m / ("version-" + std::to_string(v)) / "meta.yaml");
    auto replace_line = [&](const std::string& key) {
      auto start = meta.find(key + ": ");
      auto end = meta.find('\n', start);
      meta.replace(start, end - start, key + ": " + source);
    };
    replace_line("source");
    replace_line("storage_location");
    write_file(m / ("version-" + std::to_string(v)) / "meta.yaml", meta);
  };
  write_file(t.path() / "secret/model/MLmodel", "secret");
  set_source(1, "file://" + (t.path() / "secret/model").string());  // outside, not a run's shape
  set_source(2, "models:/reg-model/2");                               // a loop
  write_file(m / "aliases/broken", "not a number");
  fs::create_directory_symlink(t.path() / "secret", m / "version-9");  // a symlinked version
  fs::create_directories(m / "version-4");
  write_file(m / "version-4/meta.yaml", "name: reg-model\nversion: 5\n");  // number mismatch
  Warnings w;
  auto reader = Reader::open(root.string(), w.options());
  REQUIRE(reader);
  auto v1 = reader->resolve_model_uri("models:/reg-model/1");
  REQUIRE_FALSE(v1);
  CHECK(v1.error().code() == Code::kFailedPrecondition);
  CHECK(v1.error().message().find("outside the tree") != std::string::npos);
  auto v2 = reader->resolve_model_uri("models:/reg-model/2");
  REQUIRE_FALSE(v2);
  CHECK(v2.error().message().find("nest") != std::string::npos);
  auto model = reader->registered_model("reg-model");
  REQUIRE(model);
  CHECK(model->aliases.count("broken") == 0);
  CHECK(w.has("aliases/broken", "version number"));
  CHECK(w.has("version-9", "symbolic link"));
  CHECK(w.has("version-4", "says version 5"));
  auto versions = reader->model_versions("reg-model");
  REQUIRE(versions);
  CHECK(versions->size() == 2);  // 1 and 2 only
  // A registry folder that is a link is not followed.
  fs::rename(root / "models", t.path() / "models-real");
  fs::create_directory_symlink(t.path() / "models-real", root / "models");
  Warnings w2;
  auto r2 = Reader::open(root.string(), w2.options());
  REQUIRE(r2);
  CHECK(r2->registered_models()->empty());
  CHECK(r2->resolve_model_uri("models:/reg-model@champion").error().code() != Code::kOk);
}

TEST_CASE("download of models:/NAME@champion while the alias moves gets one whole version, never a mix",
          "[models_read][concurrency]") {
  TempDir t;
  const std::string root = (t.path() / "mlruns").string();
  StoreOptions so;
  so.tracking_uri = root;
  so.errors = ErrorMode::kCount;
  Store store = Store::open(so);
  ActiveRun run = store.start_run({});
  ModelRegistry reg = store.registry();
  constexpr int kVersions = 30;
  // Version k: artifacts/m<k>/weights.bin, k * 4096 bytes of the letter 'a' + k % 26.
  auto content = [](std::int64_t k) { return std::string(static_cast<std::size_t>(k) * 4096, char('a' + k % 26)); };
  std::atomic<bool> done{false};
  std::string writer_error;  // Catch's macros are for the main thread only
  std::thread writer([&] {
    for (int k = 1; k <= kVersions && writer_error.empty(); ++k) {
      write_file(t.path() / "weights.bin", content(k));
      auto m = run.log_model((t.path() / "weights.bin").string(), {.artifact_path = "m" + std::to_string(k)});
      auto v = reg.create_model_version("policy", "runs:/" + run.id() + "/m" + std::to_string(k));
      Status a = v ? reg.set_registered_model_alias("policy", "champion", v->version) : v.error();
      if (!m || !v || v->version != k || !a) writer_error = "version " + std::to_string(k) + ": " + a.to_string();
    }
    done = true;
  });
  Warnings w;
  auto reader = Reader::open(root, w.options());
  REQUIRE(reader);
  TempDir dest;
  int fetched = 0;
  auto fetch = [&] {
    auto loc = reader->resolve_model_uri("models:/policy@champion");
    if (!loc) {
      REQUIRE(loc.error().code() == Code::kNotFound);  // before the first alias
      return;
    }
    auto d = download_model(*reader, *loc, dest.str(), {.overwrite = true});
    REQUIRE(d);
    const std::int64_t k = loc->version->version;
    CHECK(read_file(fs::path(d->local_path) / "weights.bin") == content(k));
    CHECK(fs::exists(fs::path(d->local_path) / "MLmodel"));
    ++fetched;
  };
  while (!done) fetch();
  writer.join();
  CHECK(writer_error.empty());
  fetch();  // after the last move too
  CHECK(fetched > 0);
  INFO(w.dump());
  CHECK(w.list.empty());  // never a half-written alias or meta.yaml
}

TEST_CASE("a history entry at an invalid artifact path is reported as such, not as a missing MLmodel (issue 15)",
          "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-2.10-models", t.path());
  fs::path history = root / kExp210 / kRun210 / "tags" / "mlflow.log-model.history";
  std::string h = read_file(history);
  REQUIRE(h.size() > 2);
  h.insert(h.size() - (h.back() == ']' ? 1 : 2), ", {\"run_id\": \"" + std::string(kRun210) +
                                                     "\", \"artifact_path\": \"../..\", \"utc_time_created\": "
                                                     "\"2030-01-01 00:00:00.000000\", \"flavors\": {}}");
  write_file(history, h);
  Warnings w;
  auto reader = Reader::open(root.string(), w.options());
  REQUIRE(reader);
  auto logged = reader->logged_models(kRun210);
  REQUIRE(logged);
  CHECK(logged->size() == 2);
  CHECK(w.has("mlflow.log-model.history", "invalid artifact path"));  // main: "whose MLmodel is missing"
  CHECK_FALSE(w.has("mlflow.log-model.history", "'../..', whose MLmodel is missing"));
}

TEST_CASE("a logged model whose folder or MLmodel is a link is reported as a link, not as missing (issue 15)",
          "[models_read]") {
  TempDir t;
  fs::path root = copy_fixture("mlflow-2.10-models", t.path());
  fs::path arts = root / kExp210 / kRun210 / "artifacts";
  fs::rename(arts / "model", t.path() / "outside-model");
  fs::create_symlink(t.path() / "outside-model", arts / "model");
  fs::rename(arts / "model2" / "MLmodel", t.path() / "outside-MLmodel");
  fs::create_symlink(t.path() / "outside-MLmodel", arts / "model2" / "MLmodel");
  Warnings w;
  auto reader = Reader::open(root.string(), w.options());
  REQUIRE(reader);
  auto logged = reader->logged_models(kRun210);
  REQUIRE(logged);
  CHECK(logged->empty());
  CHECK(w.has("mlflow.log-model.history", "'model', whose folder (or one above it) is a symbolic link; not followed"));
  CHECK(w.has("mlflow.log-model.history", "'model2', whose MLmodel is a symbolic link; not followed"));
  CHECK_FALSE(w.has("mlflow.log-model.history", "'model', whose MLmodel is missing"));
  CHECK(w.has("mlflow.log-model.history", "'onnx-model', whose MLmodel is missing"));
}
