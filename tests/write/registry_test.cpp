// ModelRegistry: the Model Registry's files as MLflow 2.x's file store writes
// them (spec §9.4; mlflow/store/model_registry/file_store.py), unique version
// numbers under races, atomic alias moves, stages, delete and rename.
#include <catch2/catch.hpp>

#include <functional>
#include <set>

#include "mlruns/env.h"
#include "mlruns/registry.h"
#include "mlruns/store.h"
#include "store_test_util.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

struct ClockEnv : EnvWrapper {
  ClockEnv() : EnvWrapper(Env::posix()) {}
  std::int64_t now = 1795977079381;
  std::int64_t now_ms() override { return now++; }  // every call 1 ms later, as a real clock moves
  // Called with the path before each lock is taken (a concurrent change while a process waits).
  std::function<void(const std::string&)> before_lock;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& p, bool wait) override {
    if (before_lock) before_lock(p);
    return EnvWrapper::lock_file(p, wait);
  }
};

// A tree with one run that logged a model at artifacts/model.
struct Tree {
  TempDir t;
  ClockEnv env;
  Store store;
  std::string run_id;
  std::string artifact_uri;
  explicit Tree(ErrorMode mode = ErrorMode::kCount) : store(open(t, env, mode)) {
    ActiveRun run = store.start_run({.run_name = "trainer"});
    run_id = run.id();
    artifact_uri = run.artifact_uri();
    write_file(t.path() / "m.onnx", "onnx");
    REQUIRE(run.log_model((t.path() / "m.onnx").string(), {.flavor = "onnx"}));
    REQUIRE(run.log_model((t.path() / "m.onnx").string(), {.artifact_path = "model2", .flavor = "onnx"}));
  }
  static Store open(const TempDir& t, ClockEnv& env, ErrorMode mode) {
    StoreOptions o = opts(t);
    o.env = &env;
    o.errors = mode;
    return Store::open(o);
  }
  fs::path models() const { return t.path() / "mlruns/models"; }
  std::string file(const std::string& rel) const { return read_file(models() / rel); }
};

// Rewrites the `version: <from>` line of models/<rel> as `version: <to>`.
void set_meta_version(const Tree& tree, const std::string& rel, const std::string& from, const std::string& to) {
  std::string meta = tree.file(rel);
  const std::string line = "\nversion: " + from + "\n";
  auto at = meta.find(line);
  REQUIRE(at != std::string::npos);
  meta.replace(at, line.size(), "\nversion: " + to + "\n");
  write_file(tree.models() / rel, meta);
}

}  // namespace

TEST_CASE("a registered model is meta.yaml and tags as MLflow 2.x writes them (spec §9.4)", "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  tree.env.now = 1795977079381;
  auto m = reg.create_registered_model("reg-model", {{"team", "cfd"}}, "the sweep's best");
  REQUIRE(m);
  CHECK(m->name == "reg-model");
  CHECK(tree.file("reg-model/meta.yaml") ==
        "aliases: {}\ncreation_timestamp: 1795977079381\ndescription: the sweep's best\n"
        "last_updated_timestamp: 1795977079381\nname: reg-model\n");
  CHECK(tree.file("reg-model/tags/team") == "cfd");
  tree.env.now = 1795977079381;
  REQUIRE(reg.create_registered_model("bare"));
  CHECK(tree.file("bare/meta.yaml") ==
        "aliases: {}\ncreation_timestamp: 1795977079381\ndescription: null\n"
        "last_updated_timestamp: 1795977079381\nname: bare\n");
  auto again = reg.create_registered_model("reg-model");
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Code::kAlreadyExists);
  for (const char* bad : {"a/b", "..", "", "50%"}) {
    auto r = reg.create_registered_model(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kInvalidArgument);
  }
  CHECK_FALSE(fs::exists(tree.models() / "a"));
}

TEST_CASE("a version from runs:/ stores the run's artifact URI, as mlflow.register_model (spec §9.4)", "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  tree.env.now = 1795977079408;
  auto v = reg.create_model_version("reg-model", "runs:/" + tree.run_id + "/model",
                                    {.tags = {{"validated", "yes"}}});  // creates the model
  REQUIRE(v);
  CHECK(v->version == 1);
  CHECK(v->run_id == std::optional<std::string>(tree.run_id));
  // Byte for byte as MLflow 2.10 (tests/fixtures/mlflow-2.10-models: version-1/meta.yaml).
  CHECK(tree.file("reg-model/version-1/meta.yaml") ==
        "aliases: []\ncreation_timestamp: " + std::to_string(v->creation_timestamp) +
            "\ncurrent_stage: None\ndescription: null\nlast_updated_timestamp: " +
            std::to_string(v->last_updated_timestamp) + "\nname: reg-model\nrun_id: " + tree.run_id +
            "\nrun_link: null\nsource: " + tree.artifact_uri + "/model\nstatus: READY\nstatus_message: null\n"
            "storage_location: " + tree.artifact_uri + "/model\nuser_id: null\nversion: 1\n");
  CHECK(tree.file("reg-model/version-1/tags/validated") == "yes");
  auto v2 = reg.create_model_version("reg-model", "runs:/" + tree.run_id + "/model2", {.description = "second"});
  REQUIRE(v2);
  CHECK(v2->version == 2);
  CHECK(v2->description == std::optional<std::string>("second"));
  // The model's last_updated_timestamp follows its versions.
  CHECK(tree.file("reg-model/meta.yaml").find("last_updated_timestamp: " + std::to_string(v2->last_updated_timestamp)) !=
        std::string::npos);
  // A path inside the tree is stored as given.
  std::string in_tree = (tree.t.path() / "mlruns/0" / tree.run_id / "artifacts/model").string();
  auto v3 = reg.create_model_version("reg-model", in_tree, {.run_id = tree.run_id});
  REQUIRE(v3);
  CHECK(v3->source == in_tree);
}

TEST_CASE("create_model_version refuses sources it cannot stand behind", "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  write_file(tree.t.path() / "outside/model/MLmodel", "x");
  struct Case {
    std::string source;
    ModelVersionOptions options;
    Code code;
  };
  std::vector<Case> cases = {
      {"runs:/" + tree.run_id + "/nope", {}, Code::kNotFound},
      {"runs:/0123456789abcdef0123456789abcdef/model", {}, Code::kNotFound},
      {"runs:/" + tree.run_id + "/../x", {}, Code::kInvalidArgument},
      {"runs:/" + tree.run_id + "/model", {.run_id = "ffffffffffffffffffffffffffffffff"}, Code::kInvalidArgument},
      {(tree.t.path() / "outside/model").string(), {}, Code::kInvalidArgument},
      {"file://" + (tree.t.path() / "outside/model").string(), {}, Code::kInvalidArgument},
      {"s3://bucket/model", {}, Code::kInvalidArgument},
      {"relative/model", {}, Code::kInvalidArgument},
      {"runs:/" + tree.run_id + "/model", {.create_registered_model = false}, Code::kNotFound},
  };
  for (const Case& c : cases) {
    INFO(c.source);
    auto r = reg.create_model_version("m", c.source, c.options);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == c.code);
  }
  CHECK_FALSE(fs::exists(tree.models() / "m/version-1"));
}

TEST_CASE("aliases: a file per alias, moved atomically, meta.yaml keeps MLflow's snapshots (spec §9.4)",
          "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  std::string src = "runs:/" + tree.run_id + "/model";
  REQUIRE(reg.create_model_version("reg-model", src));
  REQUIRE(reg.create_model_version("reg-model", src));
  REQUIRE(reg.set_registered_model_alias("reg-model", "champion", 1));
  CHECK(tree.file("reg-model/aliases/champion") == "1");
  CHECK(tree.file("reg-model/meta.yaml").find("aliases:\n  champion: '1'\n") == 0);
  REQUIRE(reg.set_registered_model_alias("reg-model", "champion", 2));
  CHECK(tree.file("reg-model/aliases/champion") == "2");
  CHECK(tree.file("reg-model/meta.yaml").find("aliases:\n  champion: '2'\n") == 0);
  // Only regular entries in aliases/: no temp file was ever made there.
  for (const auto& e : fs::directory_iterator(tree.models() / "reg-model/aliases"))
    CHECK(e.path().filename() == "champion");
  CHECK(reg.set_registered_model_alias("reg-model", "champion", 3).code() == Code::kNotFound);
  CHECK(reg.set_registered_model_alias("reg-model", "latest", 1).code() == Code::kInvalidArgument);
  CHECK(reg.set_registered_model_alias("reg-model", "v1", 1).code() == Code::kInvalidArgument);
  CHECK(reg.set_registered_model_alias("nope", "champion", 1).code() == Code::kNotFound);
  REQUIRE(reg.delete_registered_model_alias("reg-model", "champion"));
  CHECK_FALSE(fs::exists(tree.models() / "reg-model/aliases/champion"));
  CHECK(tree.file("reg-model/meta.yaml").find("aliases: {}\n") == 0);
  CHECK(reg.delete_registered_model_alias("reg-model", "champion").is_ok());  // as MLflow: nothing to do
}

TEST_CASE("stages: transition, archive_existing_versions, and MLflow's rule on it (spec §9.4)", "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  std::string src = "runs:/" + tree.run_id + "/model";
  for (int i = 0; i < 3; ++i) REQUIRE(reg.create_model_version("m", src));
  REQUIRE(reg.transition_model_version_stage("m", 1, ModelStage::kProduction));
  REQUIRE(reg.transition_model_version_stage("m", 2, ModelStage::kProduction));
  auto v3 = reg.transition_model_version_stage("m", 3, ModelStage::kProduction, true);
  REQUIRE(v3);
  CHECK(v3->current_stage == ModelStage::kProduction);
  CHECK(tree.file("m/version-1/meta.yaml").find("current_stage: Archived\n") != std::string::npos);
  CHECK(tree.file("m/version-2/meta.yaml").find("current_stage: Archived\n") != std::string::npos);
  CHECK(tree.file("m/version-3/meta.yaml").find("current_stage: Production\n") != std::string::npos);
  auto bad = reg.transition_model_version_stage("m", 1, ModelStage::kArchived, true);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == Code::kInvalidArgument);
}

TEST_CASE("a deleted version keeps its folder and number and loses its aliases (spec §9.4)", "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  std::string src = "runs:/" + tree.run_id + "/model";
  for (int i = 0; i < 3; ++i) REQUIRE(reg.create_model_version("m", src));
  REQUIRE(reg.set_registered_model_alias("m", "champion", 3));
  REQUIRE(reg.set_model_version_tag("m", 3, "k", "v"));
  REQUIRE(reg.delete_model_version("m", 3));
  CHECK(tree.file("m/version-3/meta.yaml").find("current_stage: Deleted_Internal\n") != std::string::npos);
  CHECK_FALSE(fs::exists(tree.models() / "m/aliases/champion"));
  CHECK(reg.delete_model_version("m", 3).code() == Code::kNotFound);
  CHECK(reg.set_model_version_tag("m", 3, "k", "v").code() == Code::kNotFound);
  auto v4 = reg.create_model_version("m", src);
  REQUIRE(v4);
  CHECK(v4->version == 4);  // 3 is never given again
}

TEST_CASE("the next version is never below MLflow's: every version-* folder's meta.yaml counts "
          "(model_registry/file_store.py next_version)",
          "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  std::string src = "runs:/" + tree.run_id + "/model";
  REQUIRE(reg.create_model_version("m", src));
  REQUIRE(reg.create_model_version("m", src));
  // A backup of version 2 by mv: MLflow still lists it as version 2.
  fs::rename(tree.models() / "m/version-2", tree.models() / "m/version-2.bak");
  auto v = reg.create_model_version("m", src);
  REQUIRE(v);
  CHECK(v->version == 3);  // not 2 again: MLflow would list [1, 2, 2]
  CHECK(fs::exists(tree.models() / "m/version-3"));
  // A version-<n> folder whose meta.yaml says another number: MLflow goes on from that number.
  set_meta_version(tree, "m/version-1/meta.yaml", "1", "7");
  v = reg.create_model_version("m", src);
  REQUIRE(v);
  CHECK(v->version == 8);
  // A zero-padded name counts by its meta.yaml too.
  fs::rename(tree.models() / "m/version-8", tree.models() / "m/version-08");
  v = reg.create_model_version("m", src);
  REQUIRE(v);
  CHECK(v->version == 9);
}

TEST_CASE("the next version is above every number MLflow reads from a version-* folder's meta.yaml as PyYAML "
          "loads it: 2.0, '2', 0x2, 1_0, 1:00, true (model_registry/file_store.py "
          "_get_file_model_version_from_dir and next_version use the value with no int())",
          "[registry]") {
  // Each form is put in the meta.yaml of a backup folder version-2.bak
  // (which MLflow lists like any version-* folder); MLflow 2.10 and 3.8 list
  // its `version` as PyYAML loads it, so mlruns must number above it.
  struct Form {
    const char* written;
    std::int64_t next;
  };
  const Form forms[] = {
      {"2.0", 3},    {"'2'", 3},  {"' 2 '", 3},  {"0x2", 3},   {"'2.0'", 3}, {"02", 3},     {"2.5", 3},
      {"7.0", 8},    {"1e3", 1001}, {"1_0", 11}, {"1:00", 61}, {"3.0e+1", 31}, {"+3", 4},   {"true", 2},
      {"'abc'", 2},  {".nan", 2}};
  for (const Form& form : forms) {
    INFO(form.written);
    Tree tree;
    ModelRegistry reg = tree.store.registry();
    std::string src = "runs:/" + tree.run_id + "/model";
    REQUIRE(reg.create_model_version("m", src));
    REQUIRE(reg.create_model_version("m", src));
    fs::rename(tree.models() / "m/version-2", tree.models() / "m/version-2.bak");
    set_meta_version(tree, "m/version-2.bak/meta.yaml", "2", form.written);
    auto v = reg.create_model_version("m", src);
    REQUIRE(v);
    CHECK(v->version == form.next);
  }
}

TEST_CASE("a folder MLflow named after a float version (version-3.0) counts by its name, an infinite version is "
          "refused with an error naming the folder (model_registry/file_store.py next_version)",
          "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  std::string src = "runs:/" + tree.run_id + "/model";
  REQUIRE(reg.create_model_version("m", src));
  fs::create_directories(tree.models() / "m/version-3.0");  // no meta.yaml: the name alone
  auto v = reg.create_model_version("m", src);
  REQUIRE(v);
  CHECK(v->version == 4);
  set_meta_version(tree, "m/version-1/meta.yaml", "1", ".inf");
  auto refused = reg.create_model_version("m", src);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Code::kFailedPrecondition);
  CHECK(refused.error().message().find("version-1") != std::string::npos);
  CHECK(refused.error().message().find("inf") != std::string::npos);
  CHECK_FALSE(fs::exists(tree.models() / "m/version-5"));
}

TEST_CASE("create_model_version: a model renamed away after the call found it is kNotFound, not made anew, a model "
          "absent at the start is made (registry.h, MLflow: file_store.py create_model_version fails when "
          "get_registered_model finds none, mlflow.register_model creates the model first)",
          "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  std::string src = "runs:/" + tree.run_id + "/model";
  REQUIRE(reg.create_registered_model("m"));
  bool fired = false;
  tree.env.before_lock = [&](const std::string& p) {
    if (fired || p.find("/models/m/") == std::string::npos) return;
    fired = true;  // a concurrent rename_registered_model("m", "m2") completes while this call waits
    fs::rename(tree.models() / "m", tree.models() / "m2");
  };
  auto v = reg.create_model_version("m", src);
  CHECK(fired);
  REQUIRE_FALSE(v);
  CHECK(v.error().code() == Code::kNotFound);
  CHECK(v.error().message().find("registered model 'm'") != std::string::npos);
  CHECK_FALSE(fs::exists(tree.models() / "m"));  // not made anew
  CHECK_FALSE(fs::exists(tree.models() / "m2/version-1"));
  tree.env.before_lock = nullptr;
  auto fresh = reg.create_model_version("fresh", src);
  REQUIRE(fresh);
  CHECK(fresh->version == 1);
  CHECK(fs::exists(tree.models() / "fresh/meta.yaml"));
}

TEST_CASE("rename moves versions, tags and aliases, delete removes the model (spec §9.4)", "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  std::string src = "runs:/" + tree.run_id + "/model";
  REQUIRE(reg.create_registered_model("old", {{"team", "cfd"}}, "d"));
  REQUIRE(reg.create_model_version("old", src, {.tags = {{"k", "v"}}}));
  REQUIRE(reg.create_model_version("old", src));
  REQUIRE(reg.delete_model_version("old", 2));
  REQUIRE(reg.set_registered_model_alias("old", "champion", 1));
  REQUIRE(reg.create_registered_model("taken"));
  CHECK(reg.rename_registered_model("old", "taken").code() == Code::kAlreadyExists);
  REQUIRE(reg.rename_registered_model("old", "new"));
  CHECK_FALSE(fs::exists(tree.models() / "old"));
  CHECK(tree.file("new/meta.yaml").find("name: new\n") != std::string::npos);
  CHECK(tree.file("new/meta.yaml").find("description: d\n") != std::string::npos);
  CHECK(tree.file("new/tags/team") == "cfd");
  CHECK(tree.file("new/aliases/champion") == "1");
  CHECK(tree.file("new/version-1/meta.yaml").find("name: new\n") != std::string::npos);
  CHECK(tree.file("new/version-1/meta.yaml").find("aliases:\n- champion\n") == 0);
  CHECK(tree.file("new/version-1/tags/k") == "v");
  CHECK(tree.file("new/version-2/meta.yaml").find("current_stage: Deleted_Internal\n") != std::string::npos);
  REQUIRE(reg.delete_registered_model("new"));
  CHECK_FALSE(fs::exists(tree.models() / "new"));
  CHECK(reg.delete_registered_model("new").code() == Code::kNotFound);
  // Only the models and the staging area remain: nothing half-made.
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(tree.models())) left.insert(e.path().filename().string());
  CHECK(left == std::set<std::string>{"taken"});
}

TEST_CASE("registry tags, descriptions and names are checked before anything is written", "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  REQUIRE(reg.create_registered_model("m"));
  CHECK(reg.set_registered_model_tag("m", "../x", "v").code() == Code::kInvalidArgument);
  CHECK(reg.set_registered_model_tag("m", "k", std::string(5001, 'x')).code() == Code::kInvalidArgument);
  CHECK(reg.update_registered_model("m", std::string("\xFF")).code() == Code::kInvalidArgument);
  REQUIRE(reg.update_registered_model("m", "new description"));
  CHECK(tree.file("m/meta.yaml").find("description: new description\n") != std::string::npos);
  REQUIRE(reg.set_registered_model_tag("m", "stage/owner", "alice"));
  CHECK(tree.file("m/tags/stage/owner") == "alice");
  REQUIRE(reg.delete_registered_model_tag("m", "stage/owner"));
  CHECK_FALSE(fs::exists(tree.models() / "m/tags/stage/owner"));
  CHECK(fs::is_empty(tree.models() / "m/tags/stage"));
  for (const auto& e : fs::directory_iterator(tree.models() / "m"))
    CHECK(e.path().filename().string().rfind(".mlruns-tmp-", 0) != 0);  // no lock or temp file left
}

#ifdef MLRUNS_STRESS_PATH
#include "format/registry_meta.h"
#include "resil_util.h"

namespace {

// The pipe mlruns_stress's children wait on (BARRIER_FD): they all start
// when release() closes it.
struct Barrier {
  int fd[2] = {-1, -1};
  Barrier() {
    REQUIRE(::pipe(fd) == 0);
    ::fcntl(fd[1], F_SETFD, FD_CLOEXEC);
  }
  std::string child_fd() const { return std::to_string(fd[0]); }
  void release() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
};

}  // namespace

TEST_CASE("64 processes register versions of one new model at once: versions 1..64, each once (spec §9.4)",
          "[registry][concurrency][processes]") {
  using namespace mlruns::test;
  constexpr int kProcs = 64;
  Tree tree;
  Barrier barrier;
  std::vector<Child> children;
  const std::string source = "runs:/" + tree.run_id + "/model";
  for (int i = 0; i < kProcs; ++i)
    children.push_back(
        spawn_piped({MLRUNS_STRESS_PATH, "register", tree.t.root(), "raced", source, barrier.child_fd()}));
  barrier.release();  // all start now
  std::multiset<long long> told;
  for (auto& c : children) {
    std::string line = c.read_line(120000);
    int status = c.wait();
    INFO(describe_status(status) << " '" << line << "'");
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    told.insert(std::stoll(line));
  }
  std::multiset<long long> expected;
  for (int v = 1; v <= kProcs; ++v) expected.insert(v);
  CHECK(told == expected);  // each process got its own number
  // On disk: exactly version-1..64, each meta.yaml saying its own number.
  std::set<std::int64_t> on_disk;
  for (const auto& e : fs::directory_iterator(tree.models() / "raced")) {
    std::string n = e.path().filename().string();
    if (n == "meta.yaml") continue;
    if (n == ".mlruns-lock-registry") {  // the model's lock (Env::lock_file), kept and empty
      CHECK(fs::file_size(e.path()) == 0);
      continue;
    }
    INFO(n);
    auto v = detail::parse_version_folder(n);
    REQUIRE(v);
    auto meta = detail::parse_model_version_meta(read_file(e.path() / "meta.yaml"));
    REQUIRE(meta);
    CHECK(meta->version.version == *v);
    on_disk.insert(*v);
  }
  CHECK(on_disk.size() == kProcs);
  CHECK(*on_disk.rbegin() == kProcs);
  // One registered model, created once.
  auto model = detail::parse_registered_model_meta(tree.file("raced/meta.yaml"));
  REQUIRE(model);
  CHECK(model->name == "raced");
}

TEST_CASE("a rename while 24 processes create versions: a creator made its version in the model it names, or "
          "nothing, and its error names the model",
          "[registry][concurrency][processes]") {
  using namespace mlruns::test;
  constexpr int kCreators = 24;
  Tree tree;
  const std::string source = "runs:/" + tree.run_id + "/model";
  REQUIRE(tree.store.registry().create_model_version("m", source));  // m/1, renamed to m2/1
  Barrier barrier;
  std::vector<Child> children;
  for (int i = 0; i < kCreators; ++i)
    children.push_back(spawn_piped({MLRUNS_STRESS_PATH, "register", tree.t.root(), "m", source, barrier.child_fd()}));
  Child renamer = spawn_piped({MLRUNS_STRESS_PATH, "rename-model", tree.t.root(), "m", "m2", barrier.child_fd()});
  barrier.release();
  // Each success is "VERSION m": made in m before the rename (now in m2), or
  // in the m made anew after it (create_registered_model).
  std::multiset<long long> told;
  for (auto& c : children) {
    std::string line = c.read_line(120000);
    int status = c.wait();
    INFO(describe_status(status) << " '" << line << "'");
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0) {
      CHECK(line.rfind("error ", 0) == 0);
      CHECK(line.find("registered model 'm'") != std::string::npos);
      CHECK(line.find("meta.yaml") == std::string::npos);  // never a raw path
      continue;
    }
    auto space = line.find(' ');
    REQUIRE(space != std::string::npos);
    CHECK(line.substr(space + 1) == "m");
    told.insert(std::stoll(line.substr(0, space)));
  }
  CHECK(renamer.read_line(120000) == "renamed");
  int status = renamer.wait();
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  // On disk: exactly the versions the creators were told, none lost, none extra.
  std::multiset<long long> on_disk;
  for (const char* model : {"m2", "m"}) {
    if (!fs::exists(tree.models() / model)) continue;
    for (const auto& e : fs::directory_iterator(tree.models() / model)) {
      auto v = detail::parse_version_folder(e.path().filename().string());
      if (!v) continue;
      auto meta = detail::parse_model_version_meta(read_file(e.path() / "meta.yaml"));
      REQUIRE(meta);
      CHECK(meta->version.name == model);
      if (std::string(model) == "m2" && *v == 1) continue;  // the one made before
      on_disk.insert(*v);
    }
  }
  REQUIRE(fs::exists(tree.models() / "m2/version-1"));
  CHECK(on_disk == told);
}
#endif

TEST_CASE("create_model_version checks its aliases with every other input before anything is written, then sets "
          "them on the new version (t10 F1)",
          "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  const std::string source = "runs:/" + tree.run_id + "/model";
  for (const char* bad : {"v1", "bad alias", "a/b", ""}) {
    INFO(bad);
    auto r = reg.create_model_version("m", source, {.aliases = {"champion", bad}});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kInvalidArgument);
    CHECK_FALSE(fs::exists(tree.models() / "m"));  // not even the model
  }
  auto v = reg.create_model_version("m", source, {.aliases = {"champion", "best"}});
  REQUIRE(v);
  CHECK(tree.file("m/aliases/champion") == "1");
  CHECK(tree.file("m/aliases/best") == "1");
  CHECK(tree.file("m/version-1/meta.yaml").find("aliases:\n- best\n- champion\n") != std::string::npos);
  CHECK(tree.file("m/meta.yaml").find("aliases:\n  best: '1'\n  champion: '1'\n") != std::string::npos);
}

TEST_CASE("a path source: links above the tree root are the user's and it is stored canonically, a link inside the "
          "tree, or anything but a run's artifacts or a logged model's folder, is refused (t10 F5, F7, t15 F3)",
          "[registry]") {
  Tree tree;
  ModelRegistry reg = tree.store.registry();
  const fs::path root = tree.t.path() / "mlruns";
  const fs::path run = root / "0" / tree.run_id;
  const std::string canonical = (fs::canonical(root) / "0" / tree.run_id / "artifacts/model").string();
  fs::create_directory_symlink(tree.t.path(), tree.t.path() / "via");  // a link above the root
  auto v = reg.create_model_version("m", (tree.t.path() / "via/mlruns/0" / tree.run_id / "artifacts/model").string());
  REQUIRE(v);
  CHECK(v->source == canonical);
  auto u = reg.create_model_version("m", "file://" + (tree.t.path() / "via/mlruns/0" / tree.run_id / "artifacts/model").string());
  REQUIRE(u);
  CHECK(u->source == "file://" + canonical);

  write_file(tree.t.path() / "outside/MLmodel", "x");
  fs::create_directory_symlink(tree.t.path() / "outside", run / "artifacts/vl");     // last component
  fs::create_directory_symlink(run / "artifacts/model", run / "artifacts/inner");    // a link to inside, still a link
  struct Case {
    std::string source;
    const char* says;
  };
  std::vector<Case> cases = {
      {(run / "artifacts/vl").string(), "is a symbolic link; not followed"},
      {"runs:/" + tree.run_id + "/vl", "is a symbolic link; not followed"},
      {(run / "artifacts/inner").string(), "is a symbolic link; not followed"},
      {"runs:/" + tree.run_id + "/inner", "is a symbolic link; not followed"},
      {(root / "models").string(), "is not a model folder of the tree"},
      {(root / "0/meta.yaml").string(), "is not a model folder of the tree"},
      {run.string(), "is not a model folder of the tree"},
      {(run / "meta.yaml").string(), "is not a model folder of the tree"},
      {root.string(), "is outside the tree"},
      {(run / "artifacts/./model").string(), "'.' or '..'"},
  };
  for (const Case& c : cases) {
    INFO(c.source);
    auto r = reg.create_model_version("m", c.source);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kInvalidArgument);
    CHECK(r.error().message().find(c.says) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(tree.models() / "m/version-3"));
}
