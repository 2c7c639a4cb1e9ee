// The mlruns CLI's model verbs: log-model, models list|show|versions
// (--json as MLflow's REST answers: tests/fixtures/mlflow-*-models/rest/,
// model_registry.proto), models register|set-alias|transition, download of
// models:/ and runs:/ URIs, and get-top-run --register.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"

#ifdef MLRUNS_CLI_PATH

using namespace mlruns::testing;
using nlohmann::json;

namespace {

json rest(const std::string& fixture, const std::string& file) {
  return json::parse(read_file(fixture_dir(fixture) / "rest" / file));
}

// MLflow's latest_versions come in no fixed order (a Python set of stages).
json sort_latest(json model) {
  if (model.contains("latest_versions"))
    std::sort(model["latest_versions"].begin(), model["latest_versions"].end(),
              [](const json& a, const json& b) { return std::stoi(a["version"].get<std::string>()) >
                                                        std::stoi(b["version"].get<std::string>()); });
  return model;
}

std::string start_run(const std::map<std::string, std::string>& env) {
  REQUIRE(run_cli({"experiments", "create", "sweep"}, env).code == 0);
  const CliResult r = run_cli({"run", "start", "--experiment", "sweep"}, env);
  REQUIRE(r.code == 0);
  return trim(r.out);
}

}  // namespace

TEST_CASE("cli: models list/show/versions --json answer as MLflow 2.10's and 3.8's servers did", "[cli][models_cli]") {
  for (const std::string fixture : {"mlflow-2.10-models", "mlflow-3.8-models"}) {
    INFO(fixture);
    TempDir dir;
    const std::string root = copy_fixture(fixture, dir.path()).string();
    const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};

    const CliResult list = run_cli({"models", "list", "--json"}, env);
    INFO(list.err);
    REQUIRE(list.code == 0);
    json got = json::parse(list.out);
    json want = rest(fixture, "registered_models_search.json");
    REQUIRE(got["registered_models"].size() == want["registered_models"].size());
    for (std::size_t i = 0; i < got["registered_models"].size(); ++i)
      CHECK(sort_latest(got["registered_models"][i]) == sort_latest(want["registered_models"][i]));

    const CliResult show = run_cli({"models", "show", "reg-model", "--json"}, env);
    REQUIRE(show.code == 0);
    CHECK(sort_latest(json::parse(show.out)["registered_model"]) ==
          sort_latest(rest(fixture, "registered_models_get.json")["registered_model"]));

    const CliResult versions = run_cli({"models", "versions", "reg-model", "--json"}, env);
    REQUIRE(versions.code == 0);
    CHECK(json::parse(versions.out) == rest(fixture, "model_versions_search.json"));

    const CliResult table = run_cli({"models", "list"}, env);
    REQUIRE(table.code == 0);
    CHECK(table.out.find("champion=1") != std::string::npos);
    CHECK(run_cli({"models", "show", "no-such-model"}, env).code == 4);
    CHECK(run_cli({"models", "show", "../x"}, env).code == 3);
    CHECK(run_cli({"models"}, env).code == 2);  // a sub-verb is required
  }
}

TEST_CASE("cli: log-model, models register --alias, then download models:/NAME@champion", "[cli][models_cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string run_id = start_run(env);
  const fs::path model = dir.path() / "policy.onnx";
  write_file(model, "not really onnx");
  write_file(dir.path() / "sig.json", R"({"inputs": [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]})");

  const CliResult logged = run_cli({"log-model", run_id, model.string(), "--flavor", "onnx", "--metadata", "epoch=3",
                                    "--signature", (dir.path() / "sig.json").string(), "--json"},
                                   env);
  INFO(logged.err);
  REQUIRE(logged.code == 0);
  const json info = json::parse(logged.out);
  CHECK(info["model_uri"] == "runs:/" + run_id + "/model");
  CHECK(info["flavors"] == json::array({"python_function", "onnx"}));
  // The MLflow 3.x LoggedModel of the same files (docs/models.md, spec §9.2).
  const std::string model_id = info["model_id"];
  fs::path exp;  // the run's experiment folder ("sweep")
  for (const auto& e : fs::directory_iterator(dir.path() / "mlruns"))
    if (fs::exists(e.path() / run_id)) exp = e.path();
  REQUIRE_FALSE(exp.empty());
  CHECK(fs::exists(exp / "models" / model_id / "meta.yaml"));
  const CliResult named = run_cli({"log-model", run_id, model.string(), "--artifact-path", "m5", "--name", "policy-v5",
                                   "--step", "12", "--json"},
                                  env);
  REQUIRE(named.code == 0);
  const std::string named_id = json::parse(named.out)["model_id"];
  CHECK(read_file(exp / "models" / named_id / "meta.yaml").find("\nname: policy-v5\n") !=
        std::string::npos);
  CHECK(read_file(exp / run_id / "outputs" / named_id / "meta.yaml").find("\nstep: 12\n") !=
        std::string::npos);
  const CliResult only2 = run_cli({"log-model", run_id, model.string(), "--artifact-path", "m6", "--format", "2",
                                   "--json"},
                                  env);
  REQUIRE(only2.code == 0);
  CHECK(json::parse(only2.out)["model_id"].is_null());
  CHECK(run_cli({"log-model", run_id, model.string(), "--artifact-path", "m7", "--format", "3"}, env).code != 0);
  CHECK(run_cli({"log-model", run_id, model.string(), "--artifact-path", "m8", "--name", "v1.2"}, env).code == 3);
  CHECK(run_cli({"log-model", run_id, model.string()}, env).code == 5);  // artifact path taken
  CHECK(run_cli({"log-model", run_id, model.string(), "--artifact-path", "m2", "--flavor", "sklearn"}, env).code == 3);
  CHECK(run_cli({"log-model", run_id, (dir.path() / "missing").string(), "--artifact-path", "m3"}, env).code == 4);
  CHECK(run_cli({"log-model", run_id, model.string(), "--artifact-path", "m4", "--signature", "/nonexistent"}, env).code == 4);

  const CliResult reg = run_cli({"models", "register", "policy", "runs:/" + run_id + "/model", "--alias", "champion",
                                 "--tag", "stage=test"},
                                env);
  INFO(reg.err);
  REQUIRE(reg.code == 0);
  CHECK(trim(reg.out) == "1");
  const CliResult reg2 = run_cli({"models", "register", "policy", "runs:/" + run_id + "/model", "--json"}, env);
  REQUIRE(reg2.code == 0);
  const json v2 = json::parse(reg2.out)["model_version"];
  CHECK(v2["version"] == "2");
  CHECK(v2["run_id"] == run_id);
  CHECK(v2["source"].get<std::string>().ends_with(run_id + "/artifacts/model"));  // as mlflow.register_model stores it

  const fs::path dest = dir.path() / "dl";
  const CliResult dl = run_cli({"download", "models:/policy@champion", "-d", dest.string(), "--json"}, env);
  INFO(dl.err);
  REQUIRE(dl.code == 0);
  const json d = json::parse(dl.out);
  CHECK(d["local_path"] == (dest / "model").string());
  CHECK(d["model_version"]["version"] == "1");
  CHECK(read_file(dest / "model/policy.onnx") == "not really onnx");
  CHECK(fs::exists(dest / "model/MLmodel"));
  CHECK(run_cli({"download", "models:/policy@champion", "-d", dest.string()}, env).code == 5);
  CHECK(run_cli({"download", "models:/policy@champion", "-d", dest.string(), "--overwrite"}, env).code == 0);
  for (const std::string& uri : std::vector<std::string>{"models:/policy/2", "models:/policy/latest", "runs:/" + run_id + "/model"}) {
    INFO(uri);
    const CliResult r = run_cli({"download", uri, "-d", (dir.path() / ("d" + std::to_string(uri.size()))).string()}, env);
    CHECK(r.code == 0);
  }
  CHECK(run_cli({"download", "models:/policy@nope", "-d", dest.string()}, env).code == 4);
  CHECK(run_cli({"download", "s3://bucket/x", "-d", dest.string()}, env).code == 3);

  // Aliases and 2.x stages.
  REQUIRE(run_cli({"models", "set-alias", "policy", "champion", "2"}, env).code == 0);
  const CliResult t = run_cli({"models", "transition", "policy", "2", "production", "--json"}, env);
  REQUIRE(t.code == 0);
  CHECK(json::parse(t.out)["model_version"]["current_stage"] == "Production");
  CHECK(json::parse(t.out)["model_version"]["aliases"] == json::array({"champion"}));
  const CliResult prod = run_cli({"download", "models:/policy/Production", "-d", (dir.path() / "prod").string(), "--json"}, env);
  REQUIRE(prod.code == 0);
  CHECK(json::parse(prod.out)["model_version"]["version"] == "2");
  CHECK(run_cli({"models", "transition", "policy", "2", "Shipping"}, env).code == 3);
  REQUIRE(run_cli({"models", "delete-alias", "policy", "champion"}, env).code == 0);
  CHECK(run_cli({"download", "models:/policy@champion", "-d", dest.string(), "--overwrite"}, env).code == 4);
}

TEST_CASE("cli: get-top-run --register registers the best run's model and moves the alias", "[cli][models_cli]") {
  TempDir dir;
  const std::string root = copy_fixture("mlflow-3.8", dir.path()).string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string best = "73f6c94fec5f46348c1e98db961d2709";  // rl-sweep's best FINISHED run (cli_read_test.cpp)
  const std::vector<std::string> pick = {"get-top-run", "-e", "rl-sweep", "-m", "episode_reward_mean", "--no-download"};

  // The run logged no model: a clear error, nothing registered.
  std::vector<std::string> a = pick;
  a.insert(a.end(), {"--register", "ppo", "--alias", "champion"});
  const CliResult none = run_cli(a, env);
  CHECK(none.code == 6);
  CHECK(none.err.find("has logged no model") != std::string::npos);
  CHECK(none.err.find("--artifact-path") != std::string::npos);
  CHECK(run_cli({"models", "show", "ppo"}, env).code == 4);
  // --alias without --register is a usage error (exit 2, as every option CLI11 refuses).
  CHECK(run_cli({"get-top-run", "-e", "rl-sweep", "-m", "episode_reward_mean", "--alias", "champion"}, env).code == 2);

  // Two logged models: the error lists both. (The fixture was written elsewhere: its
  // artifact URIs point at the old place until relocate, and writers refuse such runs.)
  REQUIRE(run_cli({"relocate"}, env).code == 0);
  const fs::path f = dir.path() / "w.bin";
  write_file(f, "weights");
  REQUIRE(run_cli({"log-model", best, f.string(), "--artifact-path", "policy"}, env).code == 0);
  REQUIRE(run_cli({"log-model", best, f.string(), "--artifact-path", "critic"}, env).code == 0);
  const CliResult two = run_cli(a, env);
  CHECK(two.code == 6);
  CHECK(two.err.find("policy") != std::string::npos);
  CHECK(two.err.find("critic") != std::string::npos);

  a.insert(a.end(), {"--artifact-path", "policy", "--json"});
  const CliResult ok = run_cli(a, env);
  INFO(ok.err);
  REQUIRE(ok.code == 0);
  const json j = json::parse(ok.out);
  CHECK(j["run"]["info"]["run_id"] == best);
  CHECK(j["registered_model_version"]["version"] == "1");
  CHECK(j["registered_model_version"]["aliases"] == json::array({"champion"}));
  const CliResult again = run_cli(a, env);
  REQUIRE(again.code == 0);
  CHECK(json::parse(again.out)["registered_model_version"]["version"] == "2");

  const fs::path dest = dir.path() / "champion";
  const CliResult dl = run_cli({"download", "models:/ppo@champion", "-d", dest.string()}, env);
  REQUIRE(dl.code == 0);
  CHECK(trim(dl.out) == (dest / "policy").string());
  CHECK(read_file(dest / "policy/w.bin") == "weights");
}

#endif  // MLRUNS_CLI_PATH

TEST_CASE("cli: every registration input is checked before anything is written (bad --alias, get-top-run --register "
          "NAME before ranking), usage and value errors name the value (t10 F1, F8-F11)",
          "[cli][models_cli]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string run_id = start_run(env);
  write_file(dir.path() / "w.bin", "w");
  REQUIRE(run_cli({"log-model", run_id, (dir.path() / "w.bin").string()}, env).code == 0);
  REQUIRE(run_cli({"log", run_id, "--metric", "m=1"}, env).code == 0);
  REQUIRE(run_cli({"run", "end", run_id}, env).code == 0);
  const std::string source = "runs:/" + run_id + "/model";
  for (const char* bad : {"v1", "bad alias"}) {
    const CliResult r = run_cli({"models", "register", "m", source, "--alias", "ok", "--alias", bad}, env);
    CHECK(r.code == 3);
    CHECK(r.err.find(std::string("'") + bad + "'") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(fs::path(root) / "models/m"));  // nothing written, not even the model
  const CliResult top = run_cli({"get-top-run", "-e", "nope", "-m", "m", "--register", "bad/name", "--no-download"}, env);
  CHECK(top.code == 3);  // refused before the ranking (which would say: no experiment 'nope', 4)
  CHECK(top.err.find("'bad/name'") != std::string::npos);
  const CliResult top_alias = run_cli({"get-top-run", "-e", "sweep", "-m", "m", "--register", "m", "--alias", "v2",
                                       "--no-download"}, env);
  CHECK(top_alias.code == 3);
  CHECK_FALSE(fs::exists(fs::path(root) / "models/m"));
  CHECK(run_cli({"get-top-run", "-m", "m", "--alias", "a", "--no-download"}, env).code == 2);  // usage: needs --register

  REQUIRE(run_cli({"models", "register", "m", source, "--alias", "champion"}, env).code == 0);
  const CliResult big = run_cli({"models", "set-alias", "m", "a", "99999999999999999999"}, env);
  CHECK(big.code == 2);  // refused as typed, not clamped to 2^63-1
  CHECK(big.err.find("'99999999999999999999'") != std::string::npos);
  const CliResult bare = run_cli({"download", "models:/m", "-d", (dir.path() / "o").string()}, env);
  CHECK(bare.code == 4);
  CHECK(bare.err.find("models:/m/latest or models:/m@ALIAS") != std::string::npos);
  write_file(dir.path() / "afile", "x");
  const CliResult onto_file = run_cli({"download", "models:/m@champion", "-d", (dir.path() / "afile").string()}, env);
  CHECK(onto_file.code == 5);
  CHECK(onto_file.err.find("is a file, not a folder") != std::string::npos);
  const CliResult show = run_cli({"models", "show", "m"}, env);
  REQUIRE(show.code == 0);
  CHECK(show.out.find(" \n") == std::string::npos);  // no trailing space after an empty description
  CHECK(show.out.find("description:\n") != std::string::npos);
}
