// The mlruns CLI, run as a program: output, exit codes (tools/mlruns/exit_codes.h)
// and the MLflow REST JSON shapes of --json (tests/fixtures/mlflow-3.8/rest/).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlruns/reader.h"
#include "test_util.h"

#ifdef MLRUNS_CLI_PATH

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using mlruns::testing::copy_fixture;
using mlruns::testing::read_file;
using mlruns::testing::TempDir;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the mlruns binary with `args`. `env` sets variables for the child
// (an empty value unsets); MLFLOW_TRACKING_URI is unset unless given.
CliResult run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                  const std::optional<fs::path>& cwd = std::nullopt) {
  TempDir io;
  const fs::path out_path = io.path() / "out";
  const fs::path err_path = io.path() / "err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::unsetenv("MLFLOW_TRACKING_URI");
    ::unsetenv("MLFLOW_EXPERIMENT_ID");
    ::unsetenv("MLFLOW_EXPERIMENT_NAME");
    ::unsetenv("COLUMNS");
    for (const auto& [k, v] : env) {
      if (v.empty()) {
        ::unsetenv(k.c_str());
      } else {
        ::setenv(k.c_str(), v.c_str(), 1);
      }
    }
    if (cwd && ::chdir(cwd->c_str()) != 0) ::_exit(126);
    const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) ::_exit(126);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    std::string prog = MLRUNS_CLI_PATH;
    argv.push_back(prog.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(prog.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t code_points(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

json rest_fixture(const std::string& file) {
  return json::parse(read_file(mlruns::testing::fixture_dir("mlflow-3.8") / "rest" / file));
}

// Order of params/tags/metrics arrays is MLflow's directory-listing order
// (arbitrary); sort them by key so that responses compare as values.
void sort_by_key(json& arr) {
  std::sort(arr.begin(), arr.end(),
            [](const json& a, const json& b) { return a.at("key").get<std::string>() < b.at("key").get<std::string>(); });
}

json normalize_run(json run) {
  for (const char* part : {"metrics", "params", "tags"}) {
    if (run["data"].contains(part)) sort_by_key(run["data"][part]);
  }
  // The dataset a metric was logged against (MLflow 3) is not emitted by
  // mlruns (rest_json.h); dataset inputs are, and are compared.
  if (run["data"].contains("metrics")) {
    for (json& m : run["data"]["metrics"]) {
      m.erase("dataset_name");
      m.erase("dataset_digest");
    }
  }
  return run;
}

json normalize_experiment(json e) {
  if (e.contains("tags")) sort_by_key(e["tags"]);
  return e;
}

constexpr const char* kBestRun = "73f6c94fec5f46348c1e98db961d2709";

}  // namespace

// ---- help and usage --------------------------------------------------------

TEST_CASE("cli: --help lists the verbs and the exit codes", "[cli]") {
  const CliResult r = run_cli({"--help"});
  CHECK(r.code == 0);
  for (const char* verb : {"experiments", "run", "log", "log-artifact", "runs", "show", "history", "artifacts",
                           "get-top-run"}) {
    CHECK(r.out.find(verb) != std::string::npos);
  }
  CHECK(r.out.find("Exit codes:") != std::string::npos);
  CHECK(r.out.find("9  not supported") != std::string::npos);
}

TEST_CASE("cli: every verb has --help naming its options and --tracking-uri", "[cli]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> verbs = {
      {{"experiments"}, "--view"},
      {{"experiments", "list"}, "--json"},
      {{"experiments", "create"}, "--get-or-create"},
      {{"experiments", "delete"}, "EXPERIMENT"},
      {{"experiments", "restore"}, "EXPERIMENT"},
      {{"experiments", "rename"}, "NEW_NAME"},
      {{"run", "start"}, "--parent"},
      {{"run", "end"}, "--status"},
      {{"run", "delete"}, "RUN_ID"},
      {{"run", "restore"}, "RUN_ID"},
      {{"log"}, "--metric"},
      {{"log-artifact"}, "--artifact-path"},
      {{"runs"}, "--order-by"},
      {{"show"}, "RUN_ID"},
      {{"history"}, "KEY"},
      {{"artifacts"}, "--recursive"},
      {{"get-top-run"}, "--rank-metric"},
  };
  for (const auto& [args, option] : verbs) {
    std::vector<std::string> a = args;
    a.push_back("--help");
    const CliResult r = run_cli(a);
    INFO(args.back());
    CHECK(r.code == 0);
    CHECK(r.out.find(option) != std::string::npos);
    CHECK(r.out.find("--tracking-uri") != std::string::npos);
  }
}

TEST_CASE("cli: a bad command line exits 2 with the error on stderr", "[cli]") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{}, {"no-such-verb"}, {"runs", "--no-such-option"}, {"log"},
                                             {"run"}, {"run", "end", "abc", "--status", "DONE"}}) {
    const CliResult r = run_cli(args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
  }
}

// ---- write verbs (issue 2 item 10) -------------------------------------------

TEST_CASE("cli: experiments create prints the id, taken names fail unless --get-or-create", "[cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const CliResult c = run_cli({"experiments", "create", "rl-sweep", "--tag", "team=rl", "--tracking-uri", root});
  REQUIRE(c.code == 0);
  const std::string id = trim(c.out);
  CHECK(!id.empty());
  CHECK(id.find_first_not_of("0123456789") == std::string::npos);

  const CliResult again = run_cli({"experiments", "create", "rl-sweep", "--tracking-uri", root});
  CHECK(again.code == 5);
  CHECK(again.err.find("rl-sweep") != std::string::npos);
  CHECK(again.out.empty());

  const CliResult goc = run_cli({"--tracking-uri", root, "experiments", "create", "--get-or-create", "rl-sweep"});
  CHECK(goc.code == 0);
  CHECK(trim(goc.out) == id);

  auto reader = mlruns::Reader::open(root);
  REQUIRE(reader);
  auto e = reader->experiment(id);
  REQUIRE(e);
  CHECK(e->name == "rl-sweep");
  CHECK(e->tags.at("team") == "rl");
}

TEST_CASE("cli: run start, log, log-artifact and run end round-trip through the tree", "[cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  REQUIRE(run_cli({"experiments", "create", "exp"}, env).code == 0);

  const CliResult start = run_cli({"run", "start", "--experiment", "exp", "--name", "trial-1", "--tag", "algo=ppo",
                                   "--description", "first try"},
                                  env);
  REQUIRE(start.code == 0);
  const std::string run_id = trim(start.out);
  REQUIRE(run_id.size() == 32);

  {  // The process has exited: the run must still be RUNNING (not ended by RAII).
    auto reader = mlruns::Reader::open(root);
    REQUIRE(reader);
    auto run = reader->run(run_id);
    REQUIRE(run);
    CHECK(run->info.status == mlruns::RunStatus::kRunning);
    CHECK(run->info.run_name == "trial-1");
    CHECK(run->tags.at("algo") == "ppo");
    CHECK(run->tags.at("mlflow.note.content") == "first try");
  }

  const CliResult log = run_cli({"log", run_id, "--param", "lr=0.001", "--param", "expr=a=b", "--metric",
                                 "loss=0.5@3", "--metric", "loss=0.25@4", "--metric", "reward=-1e-5", "--tag",
                                 "phase=train", "--timestamp", "1700000000000"},
                                env);
  INFO(log.err);
  REQUIRE(log.code == 0);
  CHECK(log.out.empty());

  const fs::path src = dir.path() / "ckpt";
  fs::create_directories(src);
  std::ofstream(src / "model.bin") << "weights";
  const CliResult art = run_cli({"log-artifact", run_id, src.string(), "--artifact-path", "checkpoints"}, env);
  INFO(art.err);
  REQUIRE(art.code == 0);

  const CliResult end = run_cli({"run", "end", run_id, "--status", "FAILED"}, env);
  INFO(end.err);
  REQUIRE(end.code == 0);

  auto reader = mlruns::Reader::open(root);
  REQUIRE(reader);
  auto run = reader->run(run_id);
  REQUIRE(run);
  CHECK(run->info.status == mlruns::RunStatus::kFailed);
  CHECK(run->info.end_time.has_value());
  CHECK(run->params.at("lr") == "0.001");
  CHECK(run->params.at("expr") == "a=b");
  CHECK(run->tags.at("phase") == "train");
  CHECK(run->metrics.at("reward").value == -1e-5);
  auto hist = reader->metric_history(run_id, "loss");
  REQUIRE(hist);
  REQUIRE(hist->size() == 2);
  CHECK((*hist)[0].value == 0.5);
  CHECK((*hist)[0].step == 3);
  CHECK((*hist)[0].timestamp == 1700000000000);
  CHECK((*hist)[1].value == 0.25);
  CHECK((*hist)[1].step == 4);
  auto files = reader->list_artifacts(run_id, "", true);
  REQUIRE(files);
  bool found = false;
  for (const auto& f : *files) found = found || (f.path.find("model.bin") != std::string::npos && f.size == 7);
  CHECK(found);

  // Read back through the read verbs too.
  const CliResult hist_csv = run_cli({"history", run_id, "loss", "--csv"}, env);
  CHECK(hist_csv.code == 0);
  CHECK(hist_csv.out == "key,step,timestamp,value\nloss,3,1700000000000,0.5\nloss,4,1700000000000,0.25\n");
}

TEST_CASE("cli: run start defaults to MLFLOW_EXPERIMENT_NAME, and --parent nests the run", "[cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string exp = trim(run_cli({"experiments", "create", "sweep"}, env).out);
  std::map<std::string, std::string> env2 = env;
  env2["MLFLOW_EXPERIMENT_NAME"] = "sweep";
  const CliResult parent = run_cli({"run", "start"}, env2);
  REQUIRE(parent.code == 0);
  const CliResult child = run_cli({"run", "start", "-e", exp, "--parent", trim(parent.out)}, env);
  REQUIRE(child.code == 0);
  auto reader = mlruns::Reader::open(root);
  REQUIRE(reader);
  auto p = reader->run(trim(parent.out));
  auto c = reader->run(trim(child.out));
  REQUIRE(p);
  REQUIRE(c);
  CHECK(p->info.experiment_id == exp);
  CHECK(c->tags.at("mlflow.parentRunId") == trim(parent.out));
}

TEST_CASE("cli: run delete/restore and experiments rename/delete/restore", "[cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string exp = trim(run_cli({"experiments", "create", "old"}, env).out);
  const std::string run_id = trim(run_cli({"run", "start", "-e", "old"}, env).out);
  REQUIRE(run_cli({"run", "end", run_id}, env).code == 0);

  REQUIRE(run_cli({"run", "delete", run_id}, env).code == 0);
  CHECK(trim(run_cli({"runs", "--view", "deleted", "-e", exp, "--columns", "run_id", "--csv"}, env).out) ==
        "run_id\n" + run_id);
  REQUIRE(run_cli({"run", "restore", run_id}, env).code == 0);
  CHECK(trim(run_cli({"runs", "-e", exp, "--columns", "run_id,status", "--csv"}, env).out) ==
        "run_id,status\n" + run_id + ",FINISHED");

  REQUIRE(run_cli({"experiments", "rename", "old", "new"}, env).code == 0);
  REQUIRE(run_cli({"experiments", "delete", "new"}, env).code == 0);
  CHECK(run_cli({"experiments", "--csv"}, env).out.find("new") == std::string::npos);
  CHECK(run_cli({"experiments", "--view", "deleted", "--csv"}, env).out.find(exp + ",new,deleted") !=
        std::string::npos);
  REQUIRE(run_cli({"experiments", "restore", exp}, env).code == 0);
  CHECK(run_cli({"experiments", "--csv"}, env).out.find(exp + ",new,active") != std::string::npos);
}

TEST_CASE("cli: bad input fails with the value named on stderr and a documented exit code", "[cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string run_id = trim(run_cli({"run", "start"}, env).out);
  REQUIRE(run_id.size() == 32);
  REQUIRE(run_cli({"log", run_id, "--param", "lr=0.001"}, env).code == 0);

  struct Case {
    std::vector<std::string> args;
    int code;
    std::string in_err;
  };
  const std::vector<Case> cases = {
      {{"log", run_id, "--param", "../x=1"}, 3, "../x"},
      {{"log", run_id, "--metric", "loss=abc"}, 3, "abc"},
      {{"log", run_id, "--metric", "loss=1@x"}, 3, "x"},
      {{"log", run_id, "--param", "novalue"}, 3, "novalue"},
      {{"log", run_id}, 3, "nothing to log"},
      {{"log", run_id, "--param", "lr=0.01"}, 5, "lr"},
      {{"log", "0123456789abcdef0123456789abcdef", "--param", "a=1"}, 4, "0123456789abcdef0123456789abcdef"},
      {{"log", "../etc", "--param", "a=1"}, 3, "../etc"},
      {{"show", "0123456789abcdef0123456789abcdef"}, 4, "0123456789abcdef0123456789abcdef"},
      {{"run", "start", "--experiment", "no-such-experiment"}, 4, "no-such-experiment"},
      {{"history", run_id, "no_such_metric"}, 4, "no_such_metric"},
      {{"runs", "--filter", "metrics.x >>> 1"}, 3, "filter"},
      {{"runs", "--tracking-uri", "http://localhost:5000"}, 9, "http://localhost:5000"},
      {{"run", "start", "--tracking-uri", "https://mlflow.example.com"}, 9, "https://mlflow.example.com"},
      {{"runs", "--tracking-uri", (dir.path() / "missing").string()}, 4, "missing"},
  };
  for (const Case& c : cases) {
    const CliResult r = run_cli(c.args, env);
    INFO(c.args[0] << " " << (c.args.size() > 1 ? c.args[1] : "") << ": " << r.err);
    CHECK(r.code == c.code);
    CHECK(r.out.empty());
    CHECK(r.err.find(c.in_err) != std::string::npos);
    CHECK(r.err.rfind("mlruns: ", 0) == 0);
  }
  // A failed log wrote nothing: the first value of lr stands.
  auto reader = mlruns::Reader::open(root);
  REQUIRE(reader);
  CHECK(reader->run(run_id)->params.at("lr") == "0.001");
  // A missing tree is not created by a verb that acts on a run.
  CHECK_FALSE(fs::exists(dir.path() / "missing"));
}

TEST_CASE("cli: --tracking-uri is accepted before the verb, after its arguments, or from the environment",
          "[cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "tree").string();
  const std::string id = trim(run_cli({"--tracking-uri", root, "experiments", "create", "e1"}).out);
  REQUIRE(!id.empty());
  const std::string run_id = trim(run_cli({"run", "start", "-e", "e1", "--tracking-uri", root}).out);
  REQUIRE(run_id.size() == 32);
  CHECK(run_cli({"log", run_id, "--metric", "m=1", "--tracking-uri", root}).code == 0);
  CHECK(run_cli({"log", "--tracking-uri", root, run_id, "--metric", "m=2@1"}).code == 0);
  CHECK(run_cli({"--tracking-uri", root, "log", run_id, "--metric", "m=3@2"}).code == 0);
  CHECK(run_cli({"log", run_id, "--metric", "m=4@3"}, {{"MLFLOW_TRACKING_URI", "file://" + root}}).code == 0);
  // ./mlruns when nothing is given.
  CHECK(trim(run_cli({"experiments", "create", "local"}, {}, dir.path()).out).size() > 0);
  CHECK(fs::exists(dir.path() / "mlruns"));

  const CliResult h = run_cli({"history", run_id, "m", "--csv", "--tracking-uri", root});
  CHECK(lines(h.out).size() == 5);
  CHECK(run_cli({"--tracking-uri", root, "runs", "--csv", "--columns", "run_id"}).out.find(run_id) !=
        std::string::npos);
  CHECK(run_cli({"runs", "--csv", "--columns", "run_id", "--tracking-uri", root}).out.find(run_id) !=
        std::string::npos);
  CHECK(run_cli({"runs", "-q", "--tracking-uri", root}).code == 0);
}

// ---- read verbs on the MLflow 3.8 fixture (issue 3 item 5) ----------------------

TEST_CASE("cli: experiments --json is MLflow's experiments/search response", "[cli][fixture]") {
  TempDir dir;
  const std::string root = copy_fixture("mlflow-3.8", dir.path()).string();
  const CliResult r = run_cli({"experiments", "--view", "all", "--json", "--tracking-uri", root});
  REQUIRE(r.code == 0);
  json got = json::parse(r.out);
  json want = rest_fixture("experiments_search.json");
  REQUIRE(got["experiments"].size() == want["experiments"].size());
  for (std::size_t i = 0; i < want["experiments"].size(); ++i) {
    CHECK(normalize_experiment(got["experiments"][i]) == normalize_experiment(want["experiments"][i]));
  }
}

TEST_CASE("cli: runs --json is MLflow's runs/search response (all, ordered, filtered)", "[cli][fixture]") {
  TempDir dir;
  const std::string root = copy_fixture("mlflow-3.8", dir.path()).string();
  const std::string rl = "763558276457519285";
  struct Query {
    std::vector<std::string> args;
    std::string fixture;
  };
  const std::vector<Query> queries = {
      {{"runs", "--view", "all", "--json"}, "runs_search_all.json"},
      {{"runs", "-e", rl, "--order-by", "metrics.`episode_reward_mean` DESC", "--json"}, "runs_search_ordered.json"},
      {{"runs", "-e", "rl-sweep", "--filter", "metrics.`episode_reward_mean` > 100", "--order-by",
        "metrics.`episode_reward_mean` DESC", "--json"},
       "runs_search_filtered.json"},
  };
  for (const Query& q : queries) {
    std::vector<std::string> args = q.args;
    args.push_back("--tracking-uri");
    args.push_back(root);
    const CliResult r = run_cli(args);
    INFO(q.fixture << ": " << r.err);
    REQUIRE(r.code == 0);
    json got = json::parse(r.out);
    json want = rest_fixture(q.fixture);
    CHECK_FALSE(got.contains("next_page_token"));
    // MLflow's server leaves out the runs of a deleted experiment even with
    // run_view_type ALL; mlruns --view all shows them (docs/cli.md).
    json kept = json::array();
    for (const json& run : got["runs"]) {
      if (run["info"]["experiment_id"] != "702085803536168059") kept.push_back(run);
    }
    got["runs"] = kept;
    REQUIRE(got["runs"].size() == want["runs"].size());
    for (std::size_t i = 0; i < want["runs"].size(); ++i) {
      INFO(want["runs"][i]["info"]["run_name"]);
      CHECK(normalize_run(got["runs"][i]) == normalize_run(want["runs"][i]));
    }
  }
}

TEST_CASE("cli: show, history and artifacts --json are MLflow's runs/get, metrics and artifacts/list",
          "[cli][fixture]") {
  TempDir dir;
  const std::string root = copy_fixture("mlflow-3.8", dir.path()).string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};

  const CliResult show = run_cli({"show", kBestRun, "--json"}, env);
  REQUIRE(show.code == 0);
  json got = json::parse(show.out);
  json want = rest_fixture("runs_get.json");
  CHECK(normalize_run(got["run"]) == normalize_run(want["run"]));
  // NaN and ±inf as MLflow's server spells them.
  CHECK(show.out.find("\"NaN\"") != std::string::npos);
  CHECK(show.out.find("\"-Infinity\"") != std::string::npos);
  // The text form lists the dataset inputs too.
  const CliResult text = run_cli({"show", kBestRun}, env);
  REQUIRE(text.code == 0);
  CHECK(text.out.find("cartpole-episodes") != std::string::npos);
  CHECK(text.out.find("training") != std::string::npos);

  const CliResult hist = run_cli({"history", kBestRun, "episode_reward_mean", "--json"}, env);
  REQUIRE(hist.code == 0);
  CHECK(json::parse(hist.out) == rest_fixture("metrics_get_history_bulk_interval.json"));

  const CliResult arts = run_cli({"artifacts", kBestRun, "--json"}, env);
  REQUIRE(arts.code == 0);
  CHECK(json::parse(arts.out) == rest_fixture("artifacts_list.json"));
  const CliResult sub = run_cli({"artifacts", kBestRun, "checkpoint_000010", "--json"}, env);
  REQUIRE(sub.code == 0);
  CHECK(json::parse(sub.out) == rest_fixture("artifacts_list_dir.json"));

  const CliResult plain = run_cli({"artifacts", kBestRun}, env);
  CHECK(plain.code == 0);
  CHECK(plain.out.find("checkpoint_000010/") != std::string::npos);
  CHECK(plain.out.find("params.json") != std::string::npos);
}

TEST_CASE("cli: runs table fits the terminal width, --csv has a header and one line per run", "[cli][fixture]") {
  TempDir dir;
  const std::string root = copy_fixture("mlflow-3.8", dir.path()).string();
  for (const char* cols : {"60", "100", "200"}) {
    const CliResult r = run_cli({"runs", "-e", "rl-sweep", "--order-by", "metrics.episode_reward_mean DESC"},
                                {{"MLFLOW_TRACKING_URI", root}, {"COLUMNS", cols}});
    REQUIRE(r.code == 0);
    const auto ls = lines(r.out);
    REQUIRE(ls.size() == 9);  // header + 8 active runs
    CHECK(ls[0].rfind("run_id", 0) == 0);
    CHECK(ls[1].rfind(kBestRun, 0) == 0);  // best first
    for (const std::string& l : ls) CHECK(code_points(l) <= static_cast<std::size_t>(std::stoi(cols)));
  }
  // Not a terminal, no COLUMNS: the whole table, with the ranked metric.
  const CliResult wide = run_cli({"runs", "-e", "rl-sweep", "-o", "metrics.episode_reward_mean DESC"},
                                 {{"MLFLOW_TRACKING_URI", root}});
  CHECK(lines(wide.out)[0].find("metrics.episode_reward_mean") != std::string::npos);

  const CliResult csv = run_cli({"runs", "-e", "rl-sweep", "--csv", "--columns",
                                 "run_id,run_name,status,metrics.episode_reward_mean,params.lr", "--order-by",
                                 "metrics.episode_reward_mean DESC", "--max", "3"},
                                {{"MLFLOW_TRACKING_URI", root}});
  REQUIRE(csv.code == 0);
  const auto ls = lines(csv.out);
  REQUIRE(ls.size() == 4);
  CHECK(ls[0] == "run_id,run_name,status,metrics.episode_reward_mean,params.lr");
  CHECK(ls[1].rfind(std::string(kBestRun) + ",ppo_lr1e-3_g0.99,FINISHED,", 0) == 0);
  CHECK(csv.err.find("--page-token") != std::string::npos);  // a further page exists

  // The default CSV mirrors mlflow.search_runs(): every metric, param and tag.
  const CliResult all = run_cli({"runs", "-e", "rl-sweep", "--csv"}, {{"MLFLOW_TRACKING_URI", root}});
  REQUIRE(all.code == 0);
  const std::string header = lines(all.out)[0];
  CHECK(header.rfind("run_id,experiment_id,run_name,status,artifact_uri,start_time,end_time,", 0) == 0);
  CHECK(header.find("metrics.episode_reward_mean") != std::string::npos);
  CHECK(header.find("params.lr") != std::string::npos);
  CHECK(header.find("tags.mlflow.runName") != std::string::npos);
}

TEST_CASE("cli: runs pages with --max and --page-token, as MLflow's next_page_token", "[cli][fixture]") {
  TempDir dir;
  const std::string root = copy_fixture("mlflow-3.8", dir.path()).string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    std::vector<std::string> args = {"runs", "-e", "rl-sweep", "--max", "3", "--json"};
    if (!token.empty()) {
      args.push_back("--page-token");
      args.push_back(token);
    }
    const CliResult r = run_cli(args, env);
    REQUIRE(r.code == 0);
    json j = json::parse(r.out);
    for (const json& run : j["runs"]) seen.push_back(run["info"]["run_id"]);
    if (!j.contains("next_page_token")) break;
    token = j["next_page_token"];
  }
  CHECK(seen.size() == 8);
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) == seen.end());
}

// ---- get-top-run (issue 3 items 5, 6) ---------------------------------------------

TEST_CASE("cli: get-top-run picks the best FINISHED run of rl-sweep and downloads checkpoint_000010",
          "[cli][fixture]") {
  TempDir dir;
  const fs::path tree = copy_fixture("mlflow-3.8", dir.path());
  const std::string root = tree.string();

  // The expected winner, from what MLflow read back (expected.json).
  const json expected = mlruns::testing::load_expected("mlflow-3.8");
  const std::string rl = expected["generator"]["ids"]["rl-sweep"];
  std::string best_id;
  double best = -1e308;
  for (const json& run : expected["runs"]) {
    if (run["experiment_id"] != rl || run["status"] != "FINISHED" || run["lifecycle_stage"] != "active") continue;
    if (!run["metrics"].contains("episode_reward_mean") || !run["metrics"]["episode_reward_mean"].is_number()) continue;
    const double v = run["metrics"]["episode_reward_mean"];
    if (v > best) {
      best = v;
      best_id = run["run_id"];
    }
  }
  REQUIRE(best_id == kBestRun);

  const fs::path dest = dir.path() / "download";
  fs::create_directories(dest);
  const std::vector<std::string> args = {"get-top-run", "--experiment", "rl-sweep", "--rank-metric",
                                         "metrics.episode_reward_mean", "--artifact-path", "checkpoint_000010",
                                         "--local-path", dest.string(), "--tracking-uri", root};
  const CliResult r = run_cli(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find(best_id) != std::string::npos);
  CHECK(r.err.find("ppo_lr1e-3_g0.99") != std::string::npos);
  CHECK(r.err.find("considered") != std::string::npos);
  const fs::path got = trim(r.out);
  CHECK(got == dest / "checkpoint_000010");
  const fs::path src = tree / rl / best_id / "artifacts" / "checkpoint_000010";
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    if (!e.is_regular_file()) continue;
    ++files;
    const fs::path copy = got / fs::relative(e.path(), src);
    REQUIRE(fs::exists(copy));
    CHECK(read_file(copy) == read_file(e.path()));
  }
  CHECK(files == 2);

  // Never overwrite silently; --overwrite replaces.
  const CliResult again = run_cli(args);
  CHECK(again.code == 5);
  CHECK(again.err.find("--overwrite") != std::string::npos);
  std::vector<std::string> over = args;
  over.push_back("--overwrite");
  CHECK(run_cli(over).code == 0);

  // --json says which run won and why.
  const CliResult js = run_cli({"get-top-run", "-e", "rl-sweep", "-m", "episode_reward_mean", "--no-download",
                                "--json", "--tracking-uri", root});
  REQUIRE(js.code == 0);
  const json j = json::parse(js.out);
  CHECK(j["run"]["info"]["run_id"] == best_id);
  CHECK(j["rank"]["value"] == best);
  CHECK(j["rank"]["considered"].get<int>() >= 1);
  CHECK_FALSE(j.contains("download"));
}

TEST_CASE("cli: get-top-run honours --ascending and fails clearly without a candidate", "[cli][fixture]") {
  TempDir dir;
  const std::string root = copy_fixture("mlflow-3.8", dir.path()).string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const CliResult lo = run_cli({"get-top-run", "-e", "rl-sweep", "-m", "metrics.episode_reward_mean", "--ascending",
                                "--no-download"},
                               env);
  REQUIRE(lo.code == 0);
  CHECK(trim(lo.out) != kBestRun);
  CHECK(trim(lo.out).size() == 32);

  const CliResult none = run_cli({"get-top-run", "-e", "rl-sweep", "-m", "metrics.no_such_metric"}, env);
  CHECK(none.code == 4);
  CHECK(none.out.empty());
  CHECK(none.err.find("no_such_metric") != std::string::npos);

  const CliResult bad = run_cli({"get-top-run", "-e", "rl-sweep", "-m", "m", "--rank-by", "sideways"}, env);
  CHECK(bad.code == 3);
  CHECK(bad.err.find("sideways") != std::string::npos);
}

#endif  // MLRUNS_CLI_PATH
