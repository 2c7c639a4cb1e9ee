// The mlruns CLI, run as a program: help, usage errors, exit codes
// (tools/mlruns/exit_codes.h) and the verbs that write. The read verbs and
// their MLflow REST JSON shapes are in cli_read_test.cpp.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "mlruns/reader.h"

#ifdef MLRUNS_CLI_PATH

namespace {

namespace fs = std::filesystem;

using mlruns::testing::CliResult;
using mlruns::testing::lines;
using mlruns::testing::run_cli;
using mlruns::testing::TempDir;
using mlruns::testing::trim;

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
       std::vector<std::vector<std::string>>{{"no-such-verb"}, {"runs", "--no-such-option"}, {"log"},
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

#endif  // MLRUNS_CLI_PATH
