// MLflow's behaviour where users meet it (issue 9): value types (item 8),
// artifacts as MLflow logs them (item 5), experiments with their own artifact
// location (item 3), the git commit rule (item 7), refused calls that write
// nothing (item 10).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "store_test_util.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

StoreOptions count_opts(const TempDir& t) {
  StoreOptions o = opts(t);
  o.errors = ErrorMode::kCount;
  return o;
}

}  // namespace

// ---- item 8: value types ---------------------------------------------------

TEST_CASE("log_param takes every integer type, bool as Python's True/False, float as the shortest float text",
          "[store][values]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path params = t.path() / "mlruns/0" / run.id() / "params";
  std::vector<int> v(5);
  run.log_param("size_t", v.size());
  run.log_param("long_long", 5LL);
  run.log_param("unsigned", 5u);
  run.log_param("int8", std::int8_t{-8});
  run.log_param("uint8", std::uint8_t{200});
  run.log_param("int16", std::int16_t{-16});
  run.log_param("uint64_max", std::numeric_limits<std::uint64_t>::max());
  run.log_param("int64_min", std::numeric_limits<std::int64_t>::min());
  run.log_param("short", static_cast<short>(7));
  run.log_param("true", true);
  run.log_param("false", false);
  run.log_param("float", 0.1f);
  run.log_param("float_small", 1e-5f);
  run.log_param("float_whole", 100.0f);
  run.log_param("double", 0.1);
  run.log_param("double_lr", 3e-4);
  run.log_param("long_double", 0.25L);
  run.log_param("text", "adam");
  run.log_param("string", std::string("sgd"));
  // Python: str(5), str(True), str(np.float32(0.1)), str(0.1), repr(3e-4) (spec §5.2).
  std::map<std::string, std::string> want = {
      {"size_t", "5"}, {"long_long", "5"}, {"unsigned", "5"}, {"int8", "-8"}, {"uint8", "200"},
      {"int16", "-16"}, {"uint64_max", "18446744073709551615"}, {"int64_min", "-9223372036854775808"},
      {"short", "7"}, {"true", "True"}, {"false", "False"}, {"float", "0.1"}, {"float_small", "1e-05"},
      {"float_whole", "100.0"}, {"double", "0.1"}, {"double_lr", "0.0003"}, {"long_double", "0.25"},
      {"text", "adam"}, {"string", "sgd"}};
  for (const auto& [k, v2] : want) {
    INFO(k);
    CHECK(read_file(params / k) == v2);
  }
  // Tags take the same values.
  run.set_tag("epochs", 10u);
  run.set_tag("converged", true);
  CHECK(read_file(t.path() / "mlruns/0" / run.id() / "tags/epochs") == "10");
  CHECK(read_file(t.path() / "mlruns/0" / run.id() / "tags/converged") == "True");
}

TEST_CASE("python_repr_float32 writes the shortest text that reads back as the same float", "[values]") {
  CHECK(python_repr_float32(0.1f) == "0.1");
  CHECK(python_repr_float32(1.0f / 3.0f) == "0.33333334");
  CHECK(python_repr_float32(1e16f) == "1e+16");
  CHECK(python_repr_float32(-0.0f) == "-0.0");
  CHECK(python_repr_float32(std::numeric_limits<float>::infinity()) == "inf");
  CHECK(python_repr_float32(std::nanf("")) == "nan");
  CHECK(python_str(std::uint8_t{255}) == "255");
}

TEST_CASE("parse_python_float and parse_python_int read numbers as Python's float() and int()", "[values]") {
  // float('1e400') is inf and float('1e-400') is 0.0 in Python; " 5 " and "1_000" are fine.
  CHECK(*parse_python_float("1e400") == std::numeric_limits<double>::infinity());
  CHECK(*parse_python_float("-1e400") == -std::numeric_limits<double>::infinity());
  CHECK(*parse_python_float("1e-400") == 0.0);
  CHECK(*parse_python_float(" 0.5\n") == 0.5);
  CHECK(*parse_python_float("1_000.5") == 1000.5);
  CHECK(*parse_python_float("-Infinity") == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(*parse_python_float("NaN")));
  CHECK(*parse_python_float(".5") == 0.5);
  for (const char* bad : {"", "abc", "1__0", "_1", "1_", "0x10", "nan(1)", "1e", "1 2", "--1"}) {
    INFO(bad);
    CHECK_FALSE(parse_python_float(bad).has_value());
  }
  CHECK(*parse_python_int(" +42 ") == 42);
  CHECK(*parse_python_int("1_000") == 1000);
  CHECK(*parse_python_int("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
  CHECK_FALSE(parse_python_int("9223372036854775808").has_value());
  CHECK_FALSE(parse_python_int("1.0").has_value());
}

TEST_CASE("log_params, log_metrics and set_tags take any number, as MLflow splits them into batches",
          "[store][values]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  StringMap params, tags;
  std::map<std::string, double> metrics;
  for (int i = 0; i < 250; ++i) params["p" + std::to_string(i)] = std::to_string(i);
  for (int i = 0; i < 150; ++i) tags["t" + std::to_string(i)] = "v";
  for (int i = 0; i < 1500; ++i) metrics["m" + std::to_string(i)] = i;
  REQUIRE(run.log_params(params).is_ok());
  REQUIRE(run.set_tags(tags).is_ok());
  REQUIRE(run.log_metrics(metrics, 3).is_ok());
  REQUIRE(run.flush().is_ok());
  fs::path dir = t.path() / "mlruns/0" / run.id();
  CHECK(std::distance(fs::directory_iterator(dir / "params"), fs::directory_iterator()) == 250);
  CHECK(std::distance(fs::directory_iterator(dir / "tags"), fs::directory_iterator()) >= 150);
  CHECK(std::distance(fs::directory_iterator(dir / "metrics"), fs::directory_iterator()) == 1500);
  // log_batch is MLflow's log_batch: its limits stay (spec §6.3).
  StringMap too_many;
  for (int i = 0; i < 101; ++i) too_many["q" + std::to_string(i)] = "v";
  CHECK_THROWS_AS(run.log_batch({}, too_many, {}), Error);
}

// ---- item 5: artifacts as MLflow logs them ----------------------------------

TEST_CASE("log_artifact of a directory keeps its name - log_artifacts copies the contents (MLflow's client)",
          "[store][artifacts]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path art = t.path() / "mlruns/0" / run.id() / "artifacts";
  write_file(t.path() / "checkpoint_000010/policy.bin", "ten");
  write_file(t.path() / "checkpoint_000010/sub/state.json", "{}");
  write_file(t.path() / "checkpoint_000020/policy.bin", "twenty");
  // MlflowClient.log_artifact: a directory goes to <artifact_path>/<its name>/.
  REQUIRE(run.log_artifact((t.path() / "checkpoint_000010").string()).is_ok());
  REQUIRE(run.log_artifact((t.path() / "checkpoint_000020/").string(), "ckpts").is_ok());
  CHECK(read_file(art / "checkpoint_000010/policy.bin") == "ten");
  CHECK(read_file(art / "checkpoint_000010/sub/state.json") == "{}");
  CHECK(read_file(art / "ckpts/checkpoint_000020/policy.bin") == "twenty");
  CHECK_FALSE(fs::exists(art / "policy.bin"));
  // log_artifacts: the contents.
  REQUIRE(run.log_artifacts((t.path() / "checkpoint_000020").string(), "latest").is_ok());
  CHECK(read_file(art / "latest/policy.bin") == "twenty");
  // A file keeps its name under artifact_path.
  write_file(t.path() / "model.pt", "weights");
  REQUIRE(run.log_artifact((t.path() / "model.pt").string(), "models").is_ok());
  CHECK(read_file(art / "models/model.pt") == "weights");
}

TEST_CASE("an existing artifact file is never overwritten silently: refused naming it, nothing copied",
          "[store][artifacts][refuse]") {
  TempDir t;
  Store store = Store::open(opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path art = t.path() / "mlruns/0" / run.id() / "artifacts";
  write_file(t.path() / "ckpt/a.bin", "old a");
  write_file(t.path() / "ckpt/b.bin", "old b");
  REQUIRE(run.log_artifacts((t.path() / "ckpt").string()).is_ok());
  write_file(t.path() / "ckpt/a.bin", "new a");
  write_file(t.path() / "ckpt/b.bin", "new b");
  write_file(t.path() / "ckpt/c.bin", "new c");
  auto before = tree_snapshot(t.path() / "mlruns");
  try {
    run.log_artifacts((t.path() / "ckpt").string());
    FAIL("no refusal");
  } catch (const Error& e) {
    CHECK(e.status().code() == Code::kAlreadyExists);
    CHECK_THAT(e.status().message(), Catch::Contains("a.bin"));
  }
  CHECK(tree_snapshot(t.path() / "mlruns") == before);  // not even c.bin
  REQUIRE(run.log_artifacts((t.path() / "ckpt").string(), "", Overwrite::kReplace).is_ok());
  CHECK(read_file(art / "a.bin") == "new a");
  CHECK(read_file(art / "c.bin") == "new c");
}

// ---- item 3: experiments with their own artifact location -------------------

TEST_CASE("an experiment's own artifact location gets <location>/<run_id>/artifacts on demand (absolute, file:, "
          "relative)",
          "[store][artifacts][location]") {
  TempDir t;
  std::string share = t.str() + "/share";
  Store store = Store::open(opts(t));
  write_file(t.path() / "file.txt", "hello");
  struct Case {
    std::string name, location, expect_dir;
  };
  std::string cwd = fs::current_path().string();
  for (const Case& c : {Case{"abs", share + "/abs", share + "/abs"},
                        Case{"uri", "file://" + share + "/uri", share + "/uri"},
                        Case{"rel", fs::relative(share + "/rel", cwd).string(), share + "/rel"}}) {
    INFO(c.name << " " << c.location);
    std::string exp = *store.create_experiment(c.name, {}, c.location);
    auto e = store.get_experiment(exp);
    REQUIRE(e.has_value());
    // Made absolute against the cwd with '..' kept, as MLflow's resolve_uri_if_local
    // (mlflow/utils/uri.py) joins it; the shape rule normalises it lexically.
    if (c.name == "rel") CHECK(e->artifact_location == cwd + "/" + c.location);
    ActiveRun run = store.start_run({.experiment_id = exp, .system_tags = false});
    REQUIRE(run.log_artifact(t.str() + "/file.txt").is_ok());
    REQUIRE(run.log_text("x", "notes/a.txt").is_ok());
    CHECK(read_file(c.expect_dir + "/" + run.id() + "/artifacts/file.txt") == "hello");
    CHECK(read_file(c.expect_dir + "/" + run.id() + "/artifacts/notes/a.txt") == "x");
    // Nothing else appeared there: no temp file left, no other folder.
    CHECK(std::distance(fs::directory_iterator(c.expect_dir + "/" + run.id()), fs::directory_iterator()) == 1);
    auto reader = Reader::open(t.root());
    REQUIRE(reader.has_value());
    auto files = reader->list_artifacts(run.id(), "", true);
    REQUIRE(files.has_value());
    CHECK(files->size() == 2);
  }
}

TEST_CASE("below <location>/<run_id> no symlink is followed", "[store][artifacts][location]") {
  TempDir t;
  std::string share = t.str() + "/share";
  Store store = Store::open(opts(t));
  std::string exp = *store.create_experiment("linked", {}, share);
  ActiveRun run = store.start_run({.experiment_id = exp, .system_tags = false});
  fs::create_directories(share + "/" + run.id());
  fs::create_directories(t.str() + "/elsewhere");
  fs::create_directory_symlink(t.str() + "/elsewhere", share + "/" + run.id() + "/artifacts");
  write_file(t.path() / "file.txt", "hello");
  try {
    run.log_artifact(t.str() + "/file.txt");
    FAIL("followed a symlink");
  } catch (const Error& e) {
    // The confined Env's refusal of a link (env.h: posix_beneath).
    CHECK(e.status().code() == Code::kInvalidArgument);
    CHECK_THAT(e.status().message(), Catch::Contains("symbolic link"));
  }
  CHECK(fs::is_empty(t.str() + "/elsewhere"));
}

// ---- item 7: the git commit rule --------------------------------------------

namespace {
std::string make_repo(const fs::path& dir, const std::string& commit) {
  write_file(dir / ".git/HEAD", "ref: refs/heads/main\n");
  write_file(dir / ".git/refs/heads/main", commit + "\n");
  return commit;
}
}  // namespace

TEST_CASE("mlflow.source.git.commit: RunOptions::source_dir's repository - else the executable's, never the "
          "working folder's (MLflow's git_context rule)",
          "[store][git]") {
  TempDir t;
  std::string c1 = make_repo(t.path() / "user-repo", std::string(40, 'a'));
  fs::create_directories(t.path() / "user-repo/sub");
  Store store = Store::open(opts(t));
  ActiveRun in_repo = store.start_run({.source_dir = (t.path() / "user-repo/sub").string()});
  auto reader = Reader::open(t.root());
  REQUIRE(reader.has_value());
  CHECK(reader->run(in_repo.id())->tags.at("mlflow.source.git.commit") == c1);
  // Without source_dir: the repository holding this test binary (the mlruns
  // checkout, if it is one), not the working folder, which we point elsewhere.
  fs::path old = fs::current_path();
  fs::current_path(t.path() / "user-repo");
  ActiveRun from_exe = store.start_run({});
  fs::current_path(old);
  auto tags = reader->run(from_exe.id())->tags;
  if (tags.count("mlflow.source.git.commit")) CHECK(tags.at("mlflow.source.git.commit") != c1);
  ActiveRun outside = store.start_run({.source_dir = t.str()});
  CHECK(reader->run(outside.id())->tags.count("mlflow.source.git.commit") == 0);
}

// ---- item 10: a refused call writes nothing ---------------------------------

TEST_CASE("a call refused for a conflict with what is on disk writes nothing and says which code",
          "[store][refuse]") {
  TempDir t;
  Store store = Store::open(count_opts(t));
  ActiveRun run = store.start_run({.system_tags = false});
  fs::path dir = t.path() / "mlruns/0" / run.id();
  REQUIRE(run.log_param("lr", "0.1").is_ok());
  REQUIRE(run.log_param("a/b", "1").is_ok());       // params/a is a folder now
  REQUIRE(run.set_tag("x", "1").is_ok());           // tags/x is a file
  run.log_metric("m/n", 1.0, 0, 1);
  REQUIRE(run.flush().is_ok());                      // metrics/m is a folder
  write_file(dir / "params/z", "written by another process");
  auto before = tree_snapshot(t.path() / "mlruns");
  struct Case {
    const char* what;
    Code code;
    std::function<Status()> call;
  };
  std::vector<Case> cases = {
      {"param 'lr' changed (after a new one)", Code::kAlreadyExists, [&] { return run.log_params({{"aa", "1"}, {"lr", "0.2"}}); }},
      {"param 'z' of another process", Code::kAlreadyExists, [&] { return run.log_param("z", "mine"); }},
      {"param 'a' where a folder is", Code::kAlreadyExists, [&] { return run.log_params({{"a", "1"}, {"b", "2"}}); }},
      {"tag 'x/y' where a file is", Code::kAlreadyExists, [&] { return run.set_tags({{"ok", "1"}, {"x/y", "2"}}); }},
      {"metric 'm' where a folder is", Code::kAlreadyExists,
       [&] { return run.log_batch({{.key = "fine", .value = 1}, {.key = "m", .value = 2}}, {{"p", "1"}}, {}); }},
      {"metrics 'k' and 'k/l' in one call", Code::kInvalidArgument,
       [&] { return run.log_batch({{.key = "k", .value = 1}, {.key = "k/l", .value = 2}}, {{"p", "1"}}, {}); }},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Status s = c.call();
    CHECK(s.code() == c.code);
    CHECK(run.flush().is_ok());
    CHECK(tree_snapshot(t.path() / "mlruns") == before);
  }
  // Deleted meanwhile by another process: refused as a failed precondition.
  Store other = Store::open(opts(t));
  REQUIRE(other.delete_run(run.id()).is_ok());
  before = tree_snapshot(t.path() / "mlruns");
  CHECK(run.log_param("late", "1").code() == Code::kFailedPrecondition);
  CHECK(run.set_tag("late", "1").code() == Code::kFailedPrecondition);
  CHECK(tree_snapshot(t.path() / "mlruns") == before);
}
