// log_model: the MLmodel file and the mlflow.log-model.history tag as MLflow
// 2.x writes them, the flavors MLflow's loaders read (spec §8.3;
// mlflow/models/model.py, mlflow/onnx/__init__.py, mlflow/pytorch/__init__.py),
// atomic publication and validation before anything is written.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <utility>
#include <set>

#include <yaml-cpp/yaml.h>

#include "mlruns/env.h"
#include "mlruns/store.h"
#include "store_test_util.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

// A fixed wall clock, so that utc_time_created is known.
struct ClockEnv : EnvWrapper {
  ClockEnv() : EnvWrapper(Env::posix()) {}
  std::int64_t now = 1795977079408;  // 2026-11-29 18:31:19.408 UTC
  std::int64_t now_ms() override { return now; }
};

fs::path run_dir(const TempDir& t, const ActiveRun& run) { return t.path() / "mlruns" / run.experiment_id() / run.id(); }

}  // namespace

TEST_CASE("log_model writes an ONNX model MLflow's loaders read: MLmodel bytes as MLflow 2.x (spec §8.3)",
          "[model_log]") {
  TempDir t;
  ClockEnv env;
  StoreOptions o = opts(t);
  o.env = &env;
  Store store = Store::open(o);
  ActiveRun run = store.start_run({.run_name = "trainer"});
  write_file(t.path() / "export/policy.onnx", std::string(1000, 'x'));
  auto m = run.log_model((t.path() / "export/policy.onnx").string(),
                         {.artifact_path = "model", .flavor = "onnx", .framework_version = "1.12.0",
                          .metadata = {{"epoch", "3"}}});
  REQUIRE(m);
  CHECK(m->artifact_path == "model");
  CHECK(m->run_id == run.id());
  CHECK(m->utc_time_created == "2026-11-29 18:31:19.408000");
  CHECK(m->flavors == std::vector<std::string>{"python_function", "onnx"});
  fs::path model = run_dir(t, run) / "artifacts/model";
  CHECK(read_file(model / "policy.onnx") == std::string(1000, 'x'));
  // mlflow.onnx.save_model's flavors (pyfunc first), MLflow 2.22's keys, PyYAML's bytes.
  CHECK(read_file(model / "MLmodel") ==
        "artifact_path: model\n"
        "flavors:\n"
        "  onnx:\n"
        "    code: null\n"
        "    data: policy.onnx\n"
        "    onnx_session_options: null\n"
        "    onnx_version: 1.12.0\n"
        "    providers:\n"
        "    - CUDAExecutionProvider\n"
        "    - CPUExecutionProvider\n"
        "  python_function:\n"
        "    data: policy.onnx\n"
        "    loader_module: mlflow.onnx\n"
        "metadata:\n"
        "  epoch: '3'\n"
        "mlflow_version: 2.22.0\n"
        "model_id: " + m->model_id + "\n"  // the 3.x record of the same files (logged_model_record_test.cpp)
        "model_size_bytes: 1000\n"
        "model_uuid: " + m->model_uuid + "\n"
        "run_id: " + run.id() + "\n"
        "utc_time_created: '2026-11-29 18:31:19.408000'\n");
  // The history tag: Model.get_tags_dict() in json.dumps form (spec §8.3).
  CHECK(read_file(run_dir(t, run) / "tags/mlflow.log-model.history") ==
        "[{\"run_id\": \"" + run.id() + "\", \"artifact_path\": \"model\", \"utc_time_created\": "
        "\"2026-11-29 18:31:19.408000\", \"model_uuid\": \"" + m->model_uuid + "\", \"flavors\": "
        "{\"python_function\": {\"loader_module\": \"mlflow.onnx\", \"data\": \"policy.onnx\"}, \"onnx\": "
        "{\"onnx_version\": \"1.12.0\", \"data\": \"policy.onnx\", \"providers\": [\"CUDAExecutionProvider\", "
        "\"CPUExecutionProvider\"], \"onnx_session_options\": null, \"code\": null}}}]");
  // Nothing left beside the artifacts: no staging folder, no lock.
  for (const auto& e : fs::directory_iterator(run_dir(t, run)))
    CHECK(e.path().filename().string().rfind(".mlruns-tmp-", 0) != 0);
}

TEST_CASE("each log_model appends one history entry, a taken path is refused or replaced (spec §8.3)", "[model_log]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  write_file(t.path() / "w.bin", "weights");
  for (int epoch = 1; epoch <= 3; ++epoch) {
    auto m = run.log_model((t.path() / "w.bin").string(),
                           {.artifact_path = "checkpoints/epoch-" + std::to_string(epoch), .flavor = "solver"});
    REQUIRE(m);
  }
  fs::path tag_file = run_dir(t, run) / "tags/mlflow.log-model.history";
  std::string tag = read_file(tag_file);
  auto list = nlohmann::json::parse(tag);
  REQUIRE(list.size() == 3);
  CHECK(list[2]["artifact_path"] == "checkpoints/epoch-3");
  CHECK(list[0]["flavors"]["solver"]["data"] == "w.bin");
  CHECK(list[0]["flavors"]["solver"]["mlruns_version"].is_string());
  CHECK(tag.find("}, {") != std::string::npos);  // json.dumps separators
  // The same path again: refused, nothing changed.
  write_file(t.path() / "w2.bin", "new weights");
  auto again = run.log_model((t.path() / "w2.bin").string(), {.artifact_path = "checkpoints/epoch-3", .flavor = "solver"});
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Code::kAlreadyExists);
  CHECK(read_file(tag_file) == tag);
  CHECK(fs::exists(run_dir(t, run) / "artifacts/checkpoints/epoch-3/w.bin"));
  // With overwrite: replaced whole, and recorded (MLflow records every log_model).
  auto replaced = run.log_model((t.path() / "w2.bin").string(),
                                {.artifact_path = "checkpoints/epoch-3", .flavor = "solver", .overwrite = true});
  REQUIRE(replaced);
  CHECK_FALSE(fs::exists(run_dir(t, run) / "artifacts/checkpoints/epoch-3/w.bin"));
  CHECK(read_file(run_dir(t, run) / "artifacts/checkpoints/epoch-3/w2.bin") == "new weights");
  CHECK(nlohmann::json::parse(read_file(tag_file)).size() == 4);
}

TEST_CASE("torchscript: the pytorch flavor mlflow.pytorch.load_model reads (spec §8.3)", "[model_log]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run();
  write_file(t.path() / "out/policy.pt", "PK-torchscript");
  auto m = run.log_model((t.path() / "out").string(), {.flavor = "torchscript", .framework_version = "1.13.1"});
  REQUIRE(m);
  CHECK(m->flavors == std::vector<std::string>{"pytorch", "python_function"});
  YAML::Node mlmodel = YAML::LoadFile((run_dir(t, run) / "artifacts/model/MLmodel").string());
  // mlflow.pytorch.load_model reads model_data and requires pytorch_version.
  CHECK(mlmodel["flavors"]["pytorch"]["model_data"].as<std::string>() == "policy.pt");
  CHECK(mlmodel["flavors"]["pytorch"]["pytorch_version"].as<std::string>() == "1.13.1");
  CHECK(mlmodel["flavors"]["python_function"]["loader_module"].as<std::string>() == "mlflow.pytorch");
  CHECK(mlmodel["flavors"]["python_function"]["data"].as<std::string>() == "policy.pt");
  CHECK(fs::exists(run_dir(t, run) / "artifacts/model/policy.pt"));
  // Without a version: "unknown" (mlflow.pytorch only warns about a mismatch).
  auto m2 = run.log_model((t.path() / "out/policy.pt").string(), {.artifact_path = "m2", .flavor = "torchscript"});
  REQUIRE(m2);
  YAML::Node m2yaml = YAML::LoadFile((run_dir(t, run) / "artifacts/m2/MLmodel").string());
  CHECK(m2yaml["flavors"]["pytorch"]["pytorch_version"].as<std::string>() == "unknown");
}

TEST_CASE("torchscript: the MLmodel bytes and file layout mlflow.pytorch's loaders read (docs/models.md, "
          "mlflow/pytorch/__init__.py load_model, _load_pyfunc, _load_model of MLflow 2.10 and 3.8)",
          "[model_log]") {
  // load_model: _get_flavor_configuration(path, "pytorch"); pytorch_conf["pytorch_version"] (a KeyError if
  // absent) and pytorch_conf["model_data"] joined to the model folder; _load_model(file) then calls
  // torch.load(file) (a file, not a folder: no data/model.pth or pickle_module_info.txt is read), which
  // hands a TorchScript archive to torch.jit.load. pyfunc.load_model: python_function's loader_module
  // mlflow.pytorch and data, joined likewise, go to _load_pyfunc(file) -> _load_model(file).
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run();
  const std::string archive = std::string("PK\x03\x04", 4) + "archive";
  write_file(t.path() / "policy.pt", archive);
  auto m = run.log_model((t.path() / "policy.pt").string(),
                         {.artifact_path = "policy", .flavor = "torchscript", .framework_version = "2.3.0"});
  REQUIRE(m);
  const fs::path dir = run_dir(t, run) / "artifacts/policy";
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.insert(e.path().filename().string());
  CHECK(files == std::set<std::string>{"MLmodel", "policy.pt"});
  CHECK(read_file(dir / "policy.pt") == archive);  // the bytes as given
  // Model.to_yaml's form (keys sorted, spec §8.3); the per-model values are this model's.
  std::string expected = "artifact_path: policy\n"
                         "flavors:\n"
                         "  python_function:\n"
                         "    data: policy.pt\n"
                         "    loader_module: mlflow.pytorch\n"
                         "  pytorch:\n"
                         "    code: null\n"
                         "    model_data: policy.pt\n"
                         "    pytorch_version: 2.3.0\n"
                         "mlflow_version: 2.22.0\n";  // the release whose form mlruns writes (model_log.cpp)
  if (!m->model_id.empty()) expected += "model_id: " + m->model_id + "\n";
  expected += "model_size_bytes: 11\n"
              "model_uuid: " + m->model_uuid + "\n"
              "run_id: " + run.id() + "\n"
              "utc_time_created: '" + m->utc_time_created + "'\n";
  CHECK(read_file(dir / "MLmodel") == expected);
}

TEST_CASE("a generic model folder keeps its files, signature and data are written (spec §8.3)", "[model_log]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run();
  write_file(t.path() / "engine/model.plan", std::string(300, 'e'));
  write_file(t.path() / "engine/config/calib.json", "{}");
  auto m = run.log_model((t.path() / "engine").string(),
                         {.artifact_path = "trt", .flavor = "tensorrt", .data = "model.plan",
                          .signature = R"({"inputs": [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]})"});
  REQUIRE(m);
  fs::path model = run_dir(t, run) / "artifacts/trt";
  CHECK(read_file(model / "config/calib.json") == "{}");
  YAML::Node y = YAML::LoadFile((model / "MLmodel").string());
  CHECK(y["flavors"]["tensorrt"]["data"].as<std::string>() == "model.plan");
  CHECK(y["model_size_bytes"].as<int>() == 302);
  CHECK(y["signature"]["inputs"].as<std::string>() ==
        R"([{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}])");
  CHECK(y["signature"]["outputs"].IsNull());
  CHECK(y["signature"]["params"].IsNull());
  CHECK_FALSE(y["flavors"]["python_function"]);  // no MLflow loader for these files
}

TEST_CASE("log_model refuses bad options before writing anything, with the rule in the message", "[model_log]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  write_file(t.path() / "a.onnx", "a");
  write_file(t.path() / "two/a.onnx", "a");
  write_file(t.path() / "two/b.onnx", "b");
  write_file(t.path() / "withmlmodel/MLmodel", "x");
  write_file(t.path() / "none/readme.txt", "x");
  std::string file = (t.path() / "a.onnx").string();
  struct Case {
    std::string path;
    ModelOptions options;
    Code code;
    std::string words;
  };
  std::vector<Case> cases = {
      {file, {.flavor = "sklearn"}, Code::kInvalidArgument, "MLflow's own flavors"},
      {file, {.flavor = "pytorch"}, Code::kInvalidArgument, "torchscript"},
      {file, {.flavor = "My-Flavor"}, Code::kInvalidArgument, "lower-case"},
      {file, {.artifact_path = "../x", .flavor = "onnx"}, Code::kInvalidArgument, "artifact path"},
      {file, {.artifact_path = "", .flavor = "onnx"}, Code::kInvalidArgument, "artifact_path"},
      {file, {.flavor = "onnx", .signature = R"({"inputs": []})"}, Code::kInvalidArgument, "signature"},
      {file, {.flavor = "onnx", .metadata = {{"a\nb", "x"}}}, Code::kInvalidArgument, "control"},
      {file, {.flavor = "onnx", .data = "other.onnx"}, Code::kInvalidArgument, "own name"},
      {(t.path() / "two").string(), {.flavor = "onnx"}, Code::kInvalidArgument, "a.onnx, b.onnx"},
      {(t.path() / "none").string(), {.flavor = "onnx"}, Code::kInvalidArgument, "no top-level"},
      {(t.path() / "withmlmodel").string(), {.flavor = "mine"}, Code::kInvalidArgument, "MLmodel"},
      {(t.path() / "missing").string(), {.flavor = "onnx"}, Code::kNotFound, ""},
  };
  for (const Case& c : cases) {
    INFO(c.path << " " << c.options.flavor << " " << c.options.artifact_path);
    auto r = run.log_model(c.path, c.options);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == c.code);
    CHECK(r.error().message().find(c.words) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(run_dir(t, run) / "tags/mlflow.log-model.history"));
  CHECK(fs::is_empty(run_dir(t, run) / "artifacts"));
  for (const auto& e : fs::directory_iterator(run_dir(t, run)))
    CHECK(e.path().filename().string().rfind(".mlruns-tmp-", 0) != 0);
  CHECK(store.failure_count() == cases.size());
}

TEST_CASE("Store::log_model logs to a run by id, not to a deleted one", "[model_log]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  Store store = Store::open(o);
  std::string id;
  {
    ActiveRun run = store.start_run();
    id = run.id();
    run.detach();
  }
  write_file(t.path() / "m.onnx", "m");
  auto m = store.log_model(id, (t.path() / "m.onnx").string(), {.flavor = "onnx"});
  REQUIRE(m);
  CHECK(fs::exists(t.path() / "mlruns/0" / id / "artifacts/model/MLmodel"));
  REQUIRE(store.delete_run(id));
  auto r = store.log_model(id, (t.path() / "m.onnx").string(), {.artifact_path = "m2", .flavor = "onnx"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::kFailedPrecondition);
}

#ifdef MLRUNS_STRESS_PATH
#include "resil_util.h"

namespace {

// A run left open in t's tree (no process holds it), and m.onnx beside the tree.
std::string detached_run(const TempDir& t) {
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run();
  const std::string id = run.id();
  run.detach();
  write_file(t.path() / "m.onnx", std::string(4096, 'm'));
  return id;
}

// `n` mlruns_stress log-model processes (their last argument `mode`, if any),
// started together once all are spawned.
std::vector<mlruns::test::Child> spawn_log_models(const TempDir& t, const std::string& id, int n,
                                                  const std::string& mode) {
  using namespace mlruns::test;
  int barrier[2];
  REQUIRE(::pipe(barrier) == 0);
  ::fcntl(barrier[1], F_SETFD, FD_CLOEXEC);
  std::vector<Child> children;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> args = {MLRUNS_STRESS_PATH, "log-model", t.root(), id, std::to_string(i),
                                     (t.path() / "m.onnx").string(), std::to_string(barrier[0])};
    if (!mode.empty()) args.push_back(mode);
    children.push_back(spawn_piped(args));
  }
  ::close(barrier[0]);
  ::close(barrier[1]);  // all start now
  return children;
}

}  // namespace

TEST_CASE("32 processes log models to one run at once: the history lists all 32 (spec §8.3)",
          "[model_log][concurrency][processes]") {
  using namespace mlruns::test;
  constexpr int kProcs = 32;
  TempDir t;
  const std::string id = detached_run(t);
  std::vector<Child> children = spawn_log_models(t, id, kProcs, {});
  std::set<std::string> uuids;
  for (auto& c : children) {
    std::string line = c.read_line(120000);
    int status = c.wait();
    INFO(describe_status(status) << " '" << line << "'");
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    uuids.insert(line);
  }
  REQUIRE(uuids.size() == kProcs);
  auto list = nlohmann::json::parse(read_file(t.path() / "mlruns/0" / id / "tags/mlflow.log-model.history"));
  REQUIRE(list.size() == kProcs);
  std::set<std::string> recorded, paths;
  for (const auto& e : list) {
    recorded.insert(e["model_uuid"].get<std::string>());
    paths.insert(e["artifact_path"].get<std::string>());
  }
  CHECK(recorded == uuids);
  CHECK(paths.size() == kProcs);
  CHECK(fs::file_size(t.path() / "mlruns/0" / id / ".mlruns-lock-log-model-history") == 0);  // the lock, kept
}

TEST_CASE("12 processes overwrite one model path at once: all succeed, one live LoggedModel record, the one whose "
          "files are there (spec §9.2, t10 F4)",
          "[model_log][concurrency][processes]") {
  using namespace mlruns::test;
  constexpr int kProcs = 12;
  TempDir t;
  const std::string id = detached_run(t);
  std::vector<Child> children = spawn_log_models(t, id, kProcs, "overwrite");
  for (auto& c : children) {
    std::string line = c.read_line(120000);
    int status = c.wait();
    INFO(describe_status(status) << " '" << line << "'");
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);  // overwrite never fails for a concurrent appearance
  }
  const std::string mlmodel = read_file(t.path() / "mlruns/0" / id / "artifacts/same/MLmodel");
  auto at = mlmodel.find("model_id: ");
  REQUIRE(at != std::string::npos);
  const std::string holder = mlmodel.substr(at + 10, 34);
  std::vector<std::string> live;
  for (const auto& e : fs::directory_iterator(t.path() / "mlruns/0/models")) {
    const std::string meta = read_file(e.path() / "meta.yaml");
    if (meta.find("lifecycle_stage: deleted") == std::string::npos) live.push_back(e.path().filename().string());
  }
  CHECK(fs::directory_iterator(t.path() / "mlruns/0/models") != fs::directory_iterator());
  REQUIRE(live.size() == 1);
  CHECK(live[0] == holder);
}
#endif

namespace {

// Counts renames and folder fsyncs (copies run on several threads).
struct CountingEnv : EnvWrapper {
  CountingEnv() : EnvWrapper(Env::posix()) {}
  std::atomic<int> renames{0}, dir_syncs{0};
  Status rename(const std::string& f, const std::string& t) override {
    ++renames;
    return EnvWrapper::rename(f, t);
  }
  Status sync_dir(const std::string& p) override {
    ++dir_syncs;
    return EnvWrapper::sync_dir(p);
  }
};

}  // namespace

namespace {

// Fails every rename that would publish a staged model at ".../artifacts/model"
// after the first (which meets the model already there), as a broken file
// system would; renames of anything else go through.
struct FailingPublishEnv : EnvWrapper {
  FailingPublishEnv() : EnvWrapper(Env::posix()) {}
  int publishes = 0;
  Status rename(const std::string& f, const std::string& t) override {
    const auto ends_with = [](const std::string& s, std::string_view end) {
      return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
    };
    const bool publish = ends_with(f, ".model") && ends_with(t, "/artifacts/model");  // staging, not ".old-model"
    if (publish && ++publishes >= 2) return Status::from_errno("rename " + f, EIO);
    return EnvWrapper::rename(f, t);
  }
};

}  // namespace

TEST_CASE("log_model overwrite: a publish that fails for another reason than a model in the way puts the replaced "
          "model back, nothing is lost",
          "[model_log]") {
  TempDir t;
  Store first = Store::open(opts(t));
  ActiveRun run = first.start_run();
  write_file(t.path() / "old/w.bin", "old weights");
  REQUIRE(run.log_model((t.path() / "old").string(), {.flavor = "solver"}));
  const std::string id = run.id();
  run.end();
  FailingPublishEnv env;
  StoreOptions o = opts(t);
  o.env = &env;
  o.errors = ErrorMode::kCount;
  o.on_error = [](const Status&) {};
  Store store = Store::open(o);
  ActiveRun again = store.resume_run(id);
  write_file(t.path() / "new/w.bin", "new weights");
  auto m = again.log_model((t.path() / "new").string(), {.flavor = "solver", .overwrite = true});
  REQUIRE_FALSE(m);
  CHECK(m.error().os_error() == EIO);
  CHECK(env.publishes == 2);
  CHECK(read_file(run_dir(t, again) / "artifacts/model/w.bin") == "old weights");
}

TEST_CASE("log_model: files go under their final names in the unseen staging folder, one rename publishes the "
          "model, and Durability::kNone syncs nothing",
          "[model_log]") {
  TempDir t;
  constexpr int kFiles = 40;
  for (int i = 0; i < kFiles; ++i)
    write_file(t.path() / "src" / ("d" + std::to_string(i % 4)) / ("f" + std::to_string(i)), "w" + std::to_string(i));
  for (auto [d, form] : {std::pair{Durability::kNone, ModelForm::kMlflow2And3},
                         std::pair{Durability::kOnClose, ModelForm::kMlflow2And3},
                         std::pair{Durability::kNone, ModelForm::kMlflow2},
                         std::pair{Durability::kOnClose, ModelForm::kMlflow2}}) {
    INFO((d == Durability::kNone ? "none" : "on-close") << (form == ModelForm::kMlflow2 ? ", 2.x form only" : ""));
    CountingEnv env;
    StoreOptions o = opts(t);
    o.env = &env;
    o.durability = d;
    Store store = Store::open(o);
    ActiveRun run = store.start_run();
    env.renames = env.dir_syncs = 0;
    ModelOptions mo;
    mo.flavor = "many_files";
    mo.form = form;
    REQUIRE(run.log_model((t.path() / "src").string(), mo));
    // The model folder into place and the run's history tag; the 3.x form
    // also publishes its LoggedModel record folder and the run's outputs/
    // link folder, one rename each. None is per file (40 files).
    CHECK(env.renames == (form == ModelForm::kMlflow2 ? 2 : 4));
    if (d == Durability::kNone) CHECK(env.dir_syncs == 0);
    else CHECK(env.dir_syncs > 4);  // each folder of the model before it is published
    fs::path model = run_dir(t, run) / "artifacts/model";
    for (int i = 0; i < kFiles; ++i)
      CHECK(read_file(model / ("d" + std::to_string(i % 4)) / ("f" + std::to_string(i))) == "w" + std::to_string(i));
    for (const auto& e : fs::directory_iterator(run_dir(t, run)))  // no temp file or staging folder left
      CHECK(e.path().filename().string().rfind(".mlruns-tmp-", 0) != 0);
  }
}

TEST_CASE("a model folder's links are followed as MLflow's log_artifacts (shutil.copytree, symlinks=False), and a FIFO, "
          "device, dangling link or loop is refused, naming it, before anything is written",
          "[model_log][artifacts]") {
  TempDir t;
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  o.on_error = [](const Status&) {};
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  const fs::path arts = run_dir(t, run) / "artifacts";
  write_file(t.path() / "src/w.bin", "w");
  write_file(t.path() / "outside.txt", "outside");
  write_file(t.path() / "shared/c.bin", "c");
  fs::create_symlink(t.path() / "outside.txt", t.path() / "src/linked.txt");
  fs::create_directory_symlink(t.path() / "shared", t.path() / "src/linked_dir");
  REQUIRE(run.log_model((t.path() / "src").string(), {.flavor = "linked"}));
  CHECK(read_file(arts / "model/linked.txt") == "outside");
  CHECK(read_file(arts / "model/linked_dir/c.bin") == "c");
  CHECK_FALSE(fs::is_symlink(arts / "model/linked_dir"));

  auto refused = [&](const fs::path& src, const std::string& entry, const std::string& why) {
    INFO(src << " " << why);
    auto m = run.log_model(src.string(), {.artifact_path = "bad", .flavor = "linked"});
    REQUIRE_FALSE(m);
    CHECK(m.error().code() == Code::kInvalidArgument);
    CHECK(m.error().to_string().find((src / entry).string()) != std::string::npos);
    CHECK(m.error().to_string().find(why) != std::string::npos);
    CHECK_FALSE(fs::exists(arts / "bad"));
    Status s = run.log_artifacts(src.string(), "bad2");
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK_FALSE(fs::exists(arts / "bad2"));
  };
  write_file(t.path() / "fifo/w.bin", "w");
  REQUIRE(::mkfifo((t.path() / "fifo/pipe").c_str(), 0644) == 0);  // opening it would block
  refused(t.path() / "fifo", "pipe", "is a FIFO, socket or device");
  write_file(t.path() / "dangling/w.bin", "w");
  fs::create_symlink(t.path() / "gone", t.path() / "dangling/ghost");
  refused(t.path() / "dangling", "ghost", "dangling symbolic link");
  write_file(t.path() / "loop/sub/w.bin", "w");
  fs::create_directory_symlink(t.path() / "loop", t.path() / "loop/sub/up");
  refused(t.path() / "loop", "sub/up", "a folder it is inside");
  fs::create_directory(t.path() / "dev");
  fs::create_symlink("/dev/null", t.path() / "dev/null");  // a device through a link
  refused(t.path() / "dev", "null", "is a FIFO, socket or device");
}
