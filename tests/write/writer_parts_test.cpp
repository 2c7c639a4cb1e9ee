// Writer building blocks: tracking URIs (spec §12.1), run names (spec §4.4),
// git commit discovery (spec §4.5), ids (spec §3.3, §4.4), atomic writes (spec §11).
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "env/atomic_file.h"
#include "format/run_names.h"
#include "write/store_impl.h"
#include "write/system_tags.h"
#include "format/tracking_uri.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::detail;
namespace fs = std::filesystem;
using mlruns::testing::read_file;
using mlruns::testing::write_file;
using mlruns::testing::TempDir;

TEST_CASE("resolve_tracking_root: paths, file: URIs, and refused schemes (spec §12.1)", "[tracking_uri]") {
  CHECK(*resolve_tracking_root("/data/mlruns") == "/data/mlruns");
  CHECK(*resolve_tracking_root("/data/./x/../mlruns/") == "/data/mlruns");
  CHECK(*resolve_tracking_root("file:///data/my%20dir/mlruns") == "/data/my dir/mlruns");
  CHECK(*resolve_tracking_root("file:/data/mlruns") == "/data/mlruns");
  CHECK(*resolve_tracking_root("file://localhost/data/mlruns") == "/data/mlruns");
  CHECK(*resolve_tracking_root("FILE:///data") == "/data");
  std::string cwd = fs::current_path().string();
  CHECK(*resolve_tracking_root("rel/mlruns") == cwd + "/rel/mlruns");
  CHECK(*resolve_tracking_root("file:rel") == cwd + "/rel");
  for (const char* uri : {"http://host:5000", "https://host", "databricks://p", "databricks", "sqlite:///mlflow.db", "s3://b/k"}) {
    auto r = resolve_tracking_root(uri);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kNotSupported);
    CHECK_THAT(r.error().message(), Catch::Contains(uri) && Catch::Contains("MLflow's file store, a folder"));
  }
  CHECK_FALSE(resolve_tracking_root("file://otherhost/data"));
  // mlruns: is the Python plugin's scheme (python/mlruns/mlflow_plugin.py): MLFLOW_TRACKING_URI
  // set for Python jobs serves C++ jobs and the CLI the same tree.
  CHECK(*resolve_tracking_root("mlruns:///data/my%20dir/mlruns") == "/data/my dir/mlruns");
  CHECK(*resolve_tracking_root("mlruns:/data/mlruns") == "/data/mlruns");
  CHECK(*resolve_tracking_root("mlruns:rel") == cwd + "/rel");
  CHECK_FALSE(resolve_tracking_root("mlruns://otherhost/data"));
}

TEST_CASE("a tracking URI that is not a folder says what mlruns writes and what to use instead (issue 10 item 9)",
          "[tracking_uri]") {
  auto message = [](const char* uri) { return resolve_tracking_root(uri).error().message(); };
  // SQLite: MLflow >= 3.10 migrates a file store into it (mlflow/store/tracking/file_store migration CLI).
  CHECK_THAT(message("sqlite:///mlflow.db"),
             Catch::Contains("database store") && Catch::Contains("mlflow migrate-filestore"));
  for (const char* db : {"postgresql://db/mlflow", "postgresql+psycopg2://db/m", "mysql://db/m"}) {
    CHECK_THAT(message(db), Catch::Contains("database store") && Catch::Contains("mlruns sync --to URL"));
  }
  CHECK_THAT(message("http://host:5000"), Catch::Contains("tracking server") && Catch::Contains("mlruns sync --to"));
  CHECK_THAT(message("s3://bucket/mlruns"), Catch::Contains("artifact location, not a tracking URI"));
  // Credentials in the URI are never printed.
  const std::string m = message("postgresql://alice:s3cret@db.example/mlflow");
  CHECK(m.find("s3cret") == std::string::npos);
  CHECK(m.find("alice") == std::string::npos);
  CHECK_THAT(m, Catch::Contains("postgresql://***@db.example/mlflow"));
  CHECK(message("https://tok3n@host/x").find("tok3n") == std::string::npos);
}

TEST_CASE("the default tracking root is MLFLOW_TRACKING_URI, then ./mlruns (spec §12.1)", "[tracking_uri]") {
  ::setenv("MLFLOW_TRACKING_URI", "file:///from/env", 1);
  CHECK(*resolve_tracking_root("") == "/from/env");
  CHECK(*resolve_tracking_root("/explicit") == "/explicit");
  ::setenv("MLFLOW_TRACKING_URI", "http://server", 1);
  CHECK(resolve_tracking_root("").error().message().find("MLFLOW_TRACKING_URI") != std::string::npos);
  ::unsetenv("MLFLOW_TRACKING_URI");
  CHECK(*resolve_tracking_root("") == fs::current_path().string() + "/mlruns");
}

TEST_CASE("run name word lists have MLflow's sizes and make valid names (spec §4.4)", "[run_names]") {
  CHECK(run_name_adjective_count() == 159);
  CHECK(run_name_animal_count() == 123);
  std::set<std::string_view> words;
  for (std::size_t i = 0; i < run_name_adjective_count(); ++i) words.insert(run_name_adjective(i));
  CHECK(words.size() == 159);
  std::set<std::string> names;
  for (int i = 0; i < 500; ++i) {
    std::string n = generate_run_name();
    CHECK(n.size() <= 20);
    CHECK(std::regex_match(n, std::regex("[a-z]+-[a-z]+-[0-9]{1,4}")));
    names.insert(n);
  }
  CHECK(names.size() > 400);
}

TEST_CASE("ids: uuid4 hex run ids, 18-digit experiment ids (spec §3.3, §4.4)", "[ids]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string r = new_run_id();
    CHECK(std::regex_match(r, std::regex("[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}")));
    std::string e = random_experiment_id();
    CHECK(std::regex_match(e, std::regex("[1-9][0-9]{17}")));
    seen.insert(e);
  }
  CHECK(seen.size() == 1000);
  CHECK(derived_experiment_id("rl-sweep", 0) == derived_experiment_id("rl-sweep", 0));
  CHECK(derived_experiment_id("rl-sweep", 0) != derived_experiment_id("rl-sweep", 1));
  CHECK(derived_experiment_id("rl-sweep", 0) != derived_experiment_id("rl-sweep2", 0));
  CHECK(std::regex_match(derived_experiment_id("x", 3), std::regex("[1-9][0-9]{17}")));
}

TEST_CASE("git_head_commit reads HEAD, loose refs, packed-refs and worktree .git files (spec §4.5)", "[system_tags]") {
  TempDir t;
  Env& env = *Env::posix();
  std::string sha1(40, 'a'), sha2(40, 'b'), sha3(40, 'c');
  SECTION("branch ref, from a sub folder") {
    write_file(t.path() / "repo/.git/HEAD", "ref: refs/heads/main\n");
    write_file(t.path() / "repo/.git/refs/heads/main", sha1 + "\n");
    fs::create_directories(t.path() / "repo/src/deep");
    CHECK(git_head_commit(env, (t.path() / "repo/src/deep").string()) == sha1);
  }
  SECTION("packed ref") {
    write_file(t.path() / "repo/.git/HEAD", "ref: refs/heads/dev\n");
    write_file(t.path() / "repo/.git/packed-refs", "# pack-refs with: peeled\n" + sha1 + " refs/heads/main\n" + sha2 +
                                               " refs/heads/dev\n^" + sha3 + "\n");
    CHECK(git_head_commit(env, (t.path() / "repo").string()) == sha2);
  }
  SECTION("detached HEAD") {
    write_file(t.path() / "repo/.git/HEAD", sha3 + "\n");
    CHECK(git_head_commit(env, (t.path() / "repo").string()) == sha3);
  }
  SECTION("worktree: .git file, commondir") {
    write_file(t.path() / "main/.git/refs/heads/feature", sha2 + "\n");
    write_file(t.path() / "main/.git/worktrees/wt/HEAD", "ref: refs/heads/feature\n");
    write_file(t.path() / "main/.git/worktrees/wt/commondir", "../..\n");
    write_file(t.path() / "wt/.git", "gitdir: " + (t.path() / "main/.git/worktrees/wt").string() + "\n");
    CHECK(git_head_commit(env, (t.path() / "wt").string()) == sha2);
  }
  SECTION("no repository, or garbage") {
    fs::create_directories(t.path() / "plain");
    // Walks up to "/" and may find a repository around the temp dir; only
    // garbage inside one must not be taken for a commit.
    write_file(t.path() / "bad/.git/HEAD", "ref: ../../../etc/passwd\n");
    CHECK(git_head_commit(env, (t.path() / "bad").string()) == std::nullopt);
  }
}

TEST_CASE("system tags follow MLflow's fluent API plus mlruns' own (spec §4.5)", "[system_tags]") {
  ::setenv("MLFLOW_TRACKING_USERNAME", "bob", 1);
  ::setenv("SLURM_ARRAY_TASK_ID", "7", 1);
  ::setenv("OMPI_COMM_WORLD_RANK", "3", 1);
  auto tags = system_tags(*Env::posix(), "", 0);
  ::unsetenv("MLFLOW_TRACKING_USERNAME");
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  ::unsetenv("OMPI_COMM_WORLD_RANK");
  CHECK(tags.at("mlflow.user") == "bob");
  CHECK(tags.at("mlflow.source.type") == "LOCAL");
  CHECK(tags.at("mlflow.source.name").find("mlruns_tests") != std::string::npos);
  CHECK(tags.at("mlruns.slurm.array_task_id") == "7");
  CHECK(tags.at("mlruns.mpi.rank") == "3");
  CHECK(tags.count("mlruns.host") == 1);
  CHECK(system_tags(*Env::posix(), "", 0).count("mlruns.slurm.array_task_id") == 0);
  // A CLI names its caller as the owner; -1 records none (judged by silence).
  CHECK(system_tags(*Env::posix(), "", static_cast<int>(::getppid())).at("mlruns.pid") == std::to_string(::getppid()));
  CHECK(system_tags(*Env::posix(), "", -1).count("mlruns.pid") == 0);
}

namespace {
class FailRenameEnv : public EnvWrapper {
 public:
  FailRenameEnv() : EnvWrapper(Env::posix()) {}
  Status rename(const std::string& f, const std::string& t) override {
    return Status::io_error(f + " -> " + t, "injected failure");
  }
};
}  // namespace

TEST_CASE("write_file_atomic replaces whole files and removes its temp file on failure (spec §11)", "[atomic]") {
  TempDir t;
  std::string path = (t.path() / "meta.yaml").string();
  REQUIRE(write_file_atomic(*Env::posix(), path, "one\n", {true, ""}).is_ok());
  REQUIRE(write_file_atomic(*Env::posix(), path, "two\n").is_ok());
  CHECK(read_file(path) == "two\n");
  FailRenameEnv env;
  CHECK_FALSE(write_file_atomic(env, path, "three\n").is_ok());
  CHECK(read_file(path) == "two\n");
  std::size_t files = 0;
  for (auto& e : fs::directory_iterator(t.path())) ++files, (void)e;
  CHECK(files == 1);
}
