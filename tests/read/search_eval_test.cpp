// Evaluating filters, MLflow's ordering and page tokens on hand-built runs
// (spec §10.2).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "mlruns/search.h"

using namespace mlruns;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Run make_run(std::string id, std::int64_t start_time) {
  Run r;
  r.info.run_id = std::move(id);
  r.info.run_name = "run-" + r.info.run_id;
  r.info.experiment_id = "1";
  r.info.user_id = "alice";
  r.info.status = RunStatus::kFinished;
  r.info.start_time = start_time;
  r.info.end_time = start_time + 10;
  r.info.artifact_uri = "file:///tmp/mlruns/1/" + r.info.run_id + "/artifacts";
  return r;
}

void set_metric(Run& r, const std::string& key, double value, std::int64_t step = 0) {
  r.metrics[key] = Metric{key, value, 1000, step};
}

bool eval(const Run& run, const std::string& filter) {
  auto clauses = parse_filter(filter);
  INFO(filter);
  REQUIRE(clauses);
  return matches(run, *clauses);
}

std::vector<std::string> ids(const std::vector<Run>& runs) {
  std::vector<std::string> out;
  for (const Run& r : runs) out.push_back(r.info.run_id);
  return out;
}

std::vector<std::string> sorted_ids(std::vector<Run> runs, const std::vector<std::string>& order_by) {
  std::vector<OrderKey> keys;
  for (const auto& o : order_by) {
    auto k = parse_order_by(o);
    REQUIRE(k);
    keys.push_back(*k);
  }
  sort_runs(runs, keys);
  return ids(runs);
}

}  // namespace

TEST_CASE("metric clauses compare the latest value as a float", "[search][eval]") {
  Run r = make_run("a", 1);
  set_metric(r, "loss", 0.5);
  CHECK(eval(r, "metrics.loss < 1"));
  CHECK(eval(r, "metrics.loss <= 0.5"));
  CHECK(eval(r, "metrics.loss >= 0.5"));
  CHECK(eval(r, "metrics.loss = 0.5"));
  CHECK(eval(r, "metrics.loss = 5e-1"));
  CHECK_FALSE(eval(r, "metrics.loss > 0.5"));
  CHECK(eval(r, "metrics.loss != 1"));
  CHECK(eval(r, "metrics.loss > -1"));
}

TEST_CASE("a missing key never matches, whatever the operator (spec §10.2)", "[search][eval]") {
  Run r = make_run("a", 1);
  r.info.end_time.reset();
  CHECK_FALSE(eval(r, "metrics.loss != 1"));
  CHECK_FALSE(eval(r, "params.lr != 'x'"));
  CHECK_FALSE(eval(r, "tags.t != 'x'"));
  CHECK_FALSE(eval(r, "attributes.end_time != 0"));
  CHECK_FALSE(eval(r, "attributes.end_time > 0"));
}

TEST_CASE("NaN and infinities compare like Python floats", "[search][eval]") {
  Run r = make_run("a", 1);
  set_metric(r, "n", kNaN);
  set_metric(r, "p", kInf);
  set_metric(r, "m", -kInf);
  CHECK_FALSE(eval(r, "metrics.n > 0"));
  CHECK_FALSE(eval(r, "metrics.n < 0"));
  CHECK_FALSE(eval(r, "metrics.n = 0"));
  CHECK(eval(r, "metrics.n != 0"));
  CHECK(eval(r, "metrics.p > 1e308"));
  CHECK(eval(r, "metrics.m < -1e308"));
}

TEST_CASE("param and tag clauses compare strings exactly, LIKE and ILIKE by pattern", "[search][eval]") {
  Run r = make_run("a", 1);
  r.params["lr"] = "0.001";
  r.params["algo"] = "PPO";
  r.tags["mlflow.runName"] = "ppo_lr1e-3_g0.99";
  CHECK(eval(r, "params.lr = '0.001'"));
  CHECK_FALSE(eval(r, "params.lr = '1e-3'"));  // strings, not numbers
  CHECK(eval(r, "params.lr != '0.01'"));
  CHECK(eval(r, "params.algo LIKE 'PP%'"));
  CHECK_FALSE(eval(r, "params.algo LIKE 'pp%'"));
  CHECK(eval(r, "params.algo ILIKE 'pp%'"));
  CHECK(eval(r, "tags.`mlflow.runName` LIKE '%g0.99'"));
  CHECK(eval(r, "tags.mlflow.runName LIKE 'ppo\\_lr%'") == false);  // no escape character: '\' is literal
}

TEST_CASE("attribute clauses: strings, status name, times as numbers, run_id lists", "[search][eval]") {
  Run r = make_run("abc", 1704067200000);
  CHECK(eval(r, "attributes.status = 'FINISHED'"));
  CHECK_FALSE(eval(r, "attributes.status = 'finished'"));
  CHECK(eval(r, "status ILIKE 'finished'"));
  CHECK(eval(r, "attributes.run_id = 'abc'"));
  CHECK(eval(r, "run_id IN ('x', 'abc')"));
  CHECK_FALSE(eval(r, "run_id NOT IN ('x', 'abc')"));
  CHECK(eval(r, "run_id NOT IN ('x')"));
  CHECK(eval(r, "attributes.run_name = 'run-abc'"));
  CHECK(eval(r, "`Run Name` LIKE 'run-%'"));
  CHECK(eval(r, "attributes.user_id = 'alice'"));
  CHECK(eval(r, "attributes.artifact_uri LIKE 'file:///tmp/%'"));
  CHECK(eval(r, "attributes.lifecycle_stage = 'active'"));
  CHECK(eval(r, "attributes.start_time = 1704067200000"));
  CHECK(eval(r, "created >= 1704067200000"));
  CHECK_FALSE(eval(r, "attributes.start_time > 1704067200000"));
  CHECK(eval(r, "attributes.end_time = 1704067200010"));
}

DatasetInput dataset_input(std::string name, std::string digest, std::string context = {}) {
  DatasetInput in;
  in.dataset.name = std::move(name);
  in.dataset.digest = std::move(digest);
  in.dataset.source_type = "local";
  in.dataset.source = "{\"uri\": \"/data/x.csv\"}";
  if (!context.empty()) in.tags["mlflow.data.context"] = std::move(context);
  return in;
}

TEST_CASE("datasets.name matches if any dataset input matches (spec §10.2, MLflow SearchUtils)",
          "[search][eval][datasets]") {
  Run r = make_run("a", 1);
  r.dataset_inputs = {dataset_input("iris", "abc123", "training"), dataset_input("Wine", "ff00", "eval")};
  CHECK(eval(r, "datasets.name = 'iris'"));
  CHECK(eval(r, "dataset.name = 'Wine'"));
  CHECK_FALSE(eval(r, "datasets.name = 'mnist'"));
  // != holds if some input has another name: here both names differ from one of them.
  CHECK(eval(r, "datasets.name != 'iris'"));
  CHECK(eval(r, "datasets.name LIKE 'ir%'"));
  CHECK_FALSE(eval(r, "datasets.name LIKE 'wi%'"));
  CHECK(eval(r, "datasets.name ILIKE 'wi%'"));
  CHECK(eval(r, "datasets.name IN ('mnist', 'Wine')"));
  CHECK_FALSE(eval(r, "datasets.name IN ('mnist', 'wine')"));
  CHECK(eval(r, "datasets.name NOT IN ('iris')"));
  CHECK_FALSE(eval(r, "datasets.name NOT IN ('iris', 'Wine')"));

  Run one = make_run("b", 1);
  one.dataset_inputs = {dataset_input("iris", "abc123")};
  CHECK_FALSE(eval(one, "datasets.name != 'iris'"));
  CHECK(eval(one, "datasets.name != 'wine'"));
}

TEST_CASE("datasets.digest compares each input's dataset digest", "[search][eval][datasets]") {
  Run r = make_run("a", 1);
  r.dataset_inputs = {dataset_input("iris", "abc123"), dataset_input("iris", "def456")};
  CHECK(eval(r, "datasets.digest = 'def456'"));
  CHECK_FALSE(eval(r, "datasets.digest = 'ABC123'"));
  CHECK(eval(r, "datasets.digest ILIKE 'ABC%'"));
  CHECK(eval(r, "datasets.digest LIKE '%456'"));
  CHECK(eval(r, "datasets.digest IN ('zzz', 'abc123')"));
  CHECK(eval(r, "datasets.digest NOT IN ('abc123')"));
  CHECK_FALSE(eval(r, "datasets.digest NOT IN ('abc123', 'def456')"));
  // Clauses are evaluated separately, as in MLflow: name and digest may come
  // from different inputs.
  CHECK(eval(r, "datasets.name = 'iris' and datasets.digest = 'abc123'"));
}

TEST_CASE("datasets.context is the input tag mlflow.data.context, inputs without it never match",
          "[search][eval][datasets]") {
  Run r = make_run("a", 1);
  r.dataset_inputs = {dataset_input("iris", "abc123", "training"), dataset_input("wine", "ff00")};
  CHECK(eval(r, "datasets.context = 'training'"));
  CHECK_FALSE(eval(r, "datasets.context = 'eval'"));
  // The input without a context is not compared, so != 'training' finds nothing.
  CHECK_FALSE(eval(r, "datasets.context != 'training'"));
  CHECK(eval(r, "datasets.context != 'eval'"));
  CHECK(eval(r, "datasets.context LIKE 'train%'"));
  CHECK(eval(r, "datasets.context ILIKE 'TRAIN%'"));
  CHECK(eval(r, "datasets.context IN ('eval', 'training')"));
  CHECK_FALSE(eval(r, "datasets.context NOT IN ('training')"));
  r.dataset_inputs[1].tags["other"] = "eval";
  CHECK_FALSE(eval(r, "datasets.context = 'eval'"));
}

TEST_CASE("a run without dataset inputs matches no datasets clause, not even != or NOT IN",
          "[search][eval][datasets]") {
  Run r = make_run("a", 1);
  for (const char* f : {"datasets.name = 'iris'", "datasets.name != 'iris'", "datasets.digest NOT IN ('x')",
                        "datasets.context != 'training'", "datasets.name LIKE '%'"})
    CHECK_FALSE(eval(r, f));
}

TEST_CASE("every clause must hold (AND)", "[search][eval]") {
  Run r = make_run("a", 1);
  set_metric(r, "episode_reward_mean", 150);
  r.params["lr"] = "0.001";
  CHECK(eval(r, "metrics.episode_reward_mean > 100 and params.lr = '0.001'"));
  CHECK_FALSE(eval(r, "metrics.episode_reward_mean > 200 and params.lr = '0.001'"));
  CHECK_FALSE(eval(r, "metrics.episode_reward_mean > 100 and params.lr = '0.01'"));
  CHECK(eval(r, ""));
}

TEST_CASE("base order: start_time DESC, then run_id ASC (spec §10.2)", "[search][order]") {
  std::vector<Run> runs = {make_run("b", 5), make_run("c", 9), make_run("a", 5), make_run("d", 1)};
  CHECK(sorted_ids(runs, {}) == std::vector<std::string>{"c", "a", "b", "d"});
}

TEST_CASE("real values, then NaN, then missing, in both directions (spec §10.2)", "[search][order]") {
  std::vector<Run> runs = {make_run("miss", 4), make_run("nan", 3), make_run("five", 2), make_run("one", 1)};
  set_metric(runs[1], "m", kNaN);
  set_metric(runs[2], "m", 5.0);
  set_metric(runs[3], "m", 1.0);
  CHECK(sorted_ids(runs, {"metrics.m ASC"}) == std::vector<std::string>{"one", "five", "nan", "miss"});
  CHECK(sorted_ids(runs, {"metrics.m DESC"}) == std::vector<std::string>{"five", "one", "nan", "miss"});
  CHECK(sorted_ids(runs, {"metrics.m"}) == std::vector<std::string>{"one", "five", "nan", "miss"});
}

TEST_CASE("infinities are real values and sort at the ends", "[search][order]") {
  std::vector<Run> runs = {make_run("pinf", 1), make_run("ninf", 2), make_run("zero", 3), make_run("nan", 4)};
  set_metric(runs[0], "m", kInf);
  set_metric(runs[1], "m", -kInf);
  set_metric(runs[2], "m", 0.0);
  set_metric(runs[3], "m", kNaN);
  CHECK(sorted_ids(runs, {"metrics.m ASC"}) == std::vector<std::string>{"ninf", "zero", "pinf", "nan"});
  CHECK(sorted_ids(runs, {"metrics.m DESC"}) == std::vector<std::string>{"pinf", "zero", "ninf", "nan"});
}

TEST_CASE("ties, NaNs and missing values keep the base order", "[search][order]") {
  std::vector<Run> runs = {make_run("b", 1), make_run("a", 1), make_run("c", 2), make_run("n2", 1),
                           make_run("n1", 1), make_run("x", 7), make_run("y", 3)};
  for (int i : {0, 1, 2}) set_metric(runs[i], "m", 1.0);
  set_metric(runs[3], "m", kNaN);
  set_metric(runs[4], "m", kNaN);
  // x and y lack the metric: missing last, by start_time DESC.
  CHECK(sorted_ids(runs, {"metrics.m DESC"}) == std::vector<std::string>{"c", "a", "b", "n1", "n2", "x", "y"});
  CHECK(sorted_ids(runs, {"metrics.m ASC"}) == std::vector<std::string>{"c", "a", "b", "n1", "n2", "x", "y"});
}

TEST_CASE("several keys sort as a stable multi-key sort", "[search][order]") {
  std::vector<Run> runs = {make_run("r1", 1), make_run("r2", 2), make_run("r3", 3), make_run("r4", 4)};
  runs[0].params["g"] = "0.99";
  runs[1].params["g"] = "0.95";
  runs[2].params["g"] = "0.99";
  set_metric(runs[0], "m", 1);
  set_metric(runs[1], "m", 2);
  set_metric(runs[2], "m", 3);
  set_metric(runs[3], "m", 4);
  // r4 lacks params.g: last; within g, by metric DESC.
  CHECK(sorted_ids(runs, {"params.g ASC", "metrics.m DESC"}) == std::vector<std::string>{"r2", "r3", "r1", "r4"});
  CHECK(sorted_ids(runs, {"params.g DESC", "metrics.m ASC"}) == std::vector<std::string>{"r1", "r3", "r2", "r4"});
}

TEST_CASE("params and tags sort as strings, attributes by their type", "[search][order]") {
  std::vector<Run> runs = {make_run("a", 30), make_run("b", 200), make_run("c", 1000)};
  runs[0].params["lr"] = "0.0003";
  runs[1].params["lr"] = "1e-4";
  runs[2].params["lr"] = "0.001";
  // String order: "0.0003" < "0.001" < "1e-4".
  CHECK(sorted_ids(runs, {"params.lr"}) == std::vector<std::string>{"a", "c", "b"});
  // start_time numerically: 30 < 200 < 1000 (as strings it would be 1000 < 200 < 30).
  CHECK(sorted_ids(runs, {"attributes.start_time ASC"}) == std::vector<std::string>{"a", "b", "c"});
  runs[0].info.status = RunStatus::kRunning;
  runs[1].info.status = RunStatus::kFailed;
  CHECK(sorted_ids(runs, {"attributes.status"}) == std::vector<std::string>{"b", "c", "a"});
  runs[1].info.end_time.reset();
  CHECK(sorted_ids(runs, {"attributes.end_time DESC"}) == std::vector<std::string>{"c", "a", "b"});
  CHECK(sorted_ids(runs, {"attributes.run_name DESC"}) == std::vector<std::string>{"c", "b", "a"});
}

TEST_CASE("fields_needed asks for just what the filter and order use", "[search][fields]") {
  auto clauses = parse_filter("metrics.a > 1 and metrics.b < 2 and status = 'FINISHED' and metrics.a < 9");
  REQUIRE(clauses);
  auto order = parse_order_by("metrics.c DESC");
  REQUIRE(order);
  RunFields f = fields_needed(*clauses, {*order});
  CHECK_FALSE(f.params);
  CHECK_FALSE(f.tags);
  CHECK_FALSE(f.all_metrics);
  CHECK(f.metrics == std::vector<std::string>{"a", "b", "c"});
  clauses = parse_filter("params.lr = '1' and tags.x = 'y'");
  f = fields_needed(*clauses, {});
  CHECK(f.params);
  CHECK(f.tags);
  CHECK(f.metrics.empty());
  CHECK_FALSE(f.all_metrics);
  CHECK_FALSE(f.inputs);
  clauses = parse_filter("datasets.context = 'training'");
  f = fields_needed(*clauses, {});
  CHECK(f.inputs);
  CHECK_FALSE(f.params);
  CHECK_FALSE(f.tags);
  CHECK(f.metrics.empty());
  CHECK_FALSE(fields_needed({}, {}).inputs);
}

TEST_CASE("page tokens are MLflow's base64 JSON {\"offset\": N} (spec §10.2)", "[search][page]") {
  // Python: base64.b64encode(json.dumps({"offset": 1000}).encode())
  CHECK(make_page_token(1000) == "eyJvZmZzZXQiOiAxMDAwfQ==");
  CHECK(make_page_token(5) == "eyJvZmZzZXQiOiA1fQ==");
  CHECK(*parse_page_token("eyJvZmZzZXQiOiAxMDAwfQ==") == 1000);
  CHECK(*parse_page_token("eyJvZmZzZXQiOiAxMDAwfQ") == 1000);  // padding optional
  CHECK(*parse_page_token("") == 0);
  for (std::size_t n : {1u, 7u, 12u, 999u, 50000u, 123456789u}) CHECK(*parse_page_token(make_page_token(n)) == n);
  // {"offset": "20"}: MLflow int()s a string offset too.
  CHECK(*parse_page_token("eyJvZmZzZXQiOiAiMjAifQ==") == 20);
}

TEST_CASE("bad page tokens are refused with a clear message", "[search][page]") {
  auto r = parse_page_token("not base64!");
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::kInvalidArgument);
  CHECK(r.error().message().find("page token 'not base64!': not base64") == 0);
  // base64 of "hello"
  CHECK(parse_page_token("aGVsbG8=").error().message().find("not the JSON") != std::string::npos);
  // {"offset": -1}
  CHECK(parse_page_token("eyJvZmZzZXQiOiAtMX0=").error().message().find("non-negative integer") !=
        std::string::npos);
  // {"page": 1}
  CHECK_FALSE(parse_page_token("eyJwYWdlIjogMX0="));
}
