// search_runs and rank_runs on the real MLflow trees: every search_runs query
// recorded in expected.json is reproduced, order included (spec §10.2).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlruns/env.h"
#include "mlruns/rank.h"
#include "mlruns/reader.h"
#include "mlruns/search.h"
#include "test_util.h"

using namespace mlruns;
using nlohmann::json;
using mlruns::testing::load_expected;

namespace {

Reader open_fixture(const std::string& fixture) {
  auto reader = Reader::open(std::string(MLRUNS_FIXTURES_DIR) + "/" + fixture + "/mlruns");
  REQUIRE(reader);
  return std::move(*reader);
}

ViewType view_of(const std::string& name) {
  if (name == "DELETED_ONLY") return ViewType::kDeletedOnly;
  if (name == "ALL") return ViewType::kAll;
  return ViewType::kActiveOnly;
}

std::vector<std::string> ids(const std::vector<Run>& runs) {
  std::vector<std::string> out;
  for (const Run& r : runs) out.push_back(r.info.run_id);
  return out;
}

SearchQuery query_of(const json& q) {
  SearchQuery query;
  query.experiment_ids = q["experiment_ids"].get<std::vector<std::string>>();
  query.filter = q["filter"].get<std::string>();
  query.order_by = q["order_by"].get<std::vector<std::string>>();
  query.view = view_of(q["run_view_type"].get<std::string>());
  return query;
}

}  // namespace

TEST_CASE("every recorded search_runs query is reproduced exactly, order included (spec §10.2)",
          "[search][fixture]") {
  for (const std::string fixture : {"mlflow-3.8", "mlflow-2.10"}) {
    json expected = load_expected(fixture);
    Reader reader = open_fixture(fixture);
    REQUIRE(expected["search_runs"].size() >= 7);
    for (const json& q : expected["search_runs"]) {
      SearchQuery query = query_of(q);
      INFO(fixture << ": filter '" << query.filter << "' order_by " << q["order_by"].dump() << " view "
                   << q["run_view_type"].get<std::string>());
      auto page = search_runs(reader, query);
      REQUIRE(page);
      CHECK(ids(page->runs) == q["expected_run_ids"].get<std::vector<std::string>>());
      std::vector<std::string> names;
      for (const Run& r : page->runs) names.push_back(r.info.run_name);
      CHECK(names == q["expected_run_names"].get<std::vector<std::string>>());
      CHECK(page->next_page_token.empty());
    }
  }
}

TEST_CASE("search results carry the run data MLflow returns for the page", "[search][fixture]") {
  for (const std::string fixture : {"mlflow-3.8", "mlflow-2.10"}) {
    json expected = load_expected(fixture);
    std::map<std::string, json> by_id;
    for (const json& r : expected["runs"]) by_id[r["run_id"].get<std::string>()] = r;
    Reader reader = open_fixture(fixture);
    const json& q = expected["search_runs"][0];
    for (bool everything : {true, false}) {
      SearchQuery query = query_of(q);
      query.max_results = 3;  // a small page: per-run loads
      if (!everything) query.max_results = 1000;  // the whole result: one more listing
      auto page = search_runs(reader, query);
      REQUIRE(page);
      REQUIRE_FALSE(page->runs.empty());
      for (const Run& r : page->runs) {
        INFO(fixture << " " << r.info.run_id);
        const json& e = by_id.at(r.info.run_id);
        CHECK(r.params.size() == e["params"].size());
        CHECK(r.tags.size() == e["tags"].size());
        CHECK(r.metrics.size() == e["latest_metrics"].size());
        for (const auto& [k, v] : e["params"].items()) CHECK(r.params.at(k) == v.get<std::string>());
      }
    }
  }
}

TEST_CASE("paging with MLflow's tokens walks the whole sorted result once", "[search][fixture][page]") {
  json expected = load_expected("mlflow-3.8");
  Reader reader = open_fixture("mlflow-3.8");
  const json& q = expected["search_runs"][1];  // 9 runs, view ALL
  std::vector<std::string> all = q["expected_run_ids"].get<std::vector<std::string>>();
  for (std::size_t size : {1u, 2u, 4u, 8u, 9u, 10u}) {
    SearchQuery query = query_of(q);
    query.max_results = size;
    query.fields = RunFields::info_only();
    std::vector<std::string> walked;
    std::vector<std::string> tokens;
    for (int guard = 0; guard < 20; ++guard) {
      auto page = search_runs(reader, query);
      REQUIRE(page);
      CHECK(page->runs.size() <= size);
      for (const Run& r : page->runs) walked.push_back(r.info.run_id);
      if (page->next_page_token.empty()) break;
      tokens.push_back(page->next_page_token);
      query.page_token = page->next_page_token;
    }
    INFO("page size " << size);
    CHECK(walked == all);
    CHECK(tokens.size() == (all.size() - 1) / size);
    if (!tokens.empty()) CHECK(*parse_page_token(tokens[0]) == size);
  }
}

TEST_CASE("search_runs refuses bad max_results, tokens and filters", "[search][fixture]") {
  Reader reader = open_fixture("mlflow-3.8");
  SearchQuery query;
  query.experiment_ids = {"763558276457519285"};
  query.max_results = 50001;
  auto r = search_runs(reader, query);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("max_results 50001") != std::string::npos);
  query.max_results = 0;
  CHECK_FALSE(search_runs(reader, query));
  query.max_results = 50000;
  query.page_token = "garbage!";
  CHECK(search_runs(reader, query).error().message().find("page token") != std::string::npos);
  query.page_token.clear();
  query.filter = "metrics.x LIKE 'a'";
  CHECK(search_runs(reader, query).error().message().find("filter: at column 11") != std::string::npos);
  query.filter.clear();
  query.order_by = {"metrics.x DOWN"};
  CHECK(search_runs(reader, query).error().message().find("order_by 'metrics.x DOWN'") != std::string::npos);
  // A token past the end gives an empty last page.
  query.order_by.clear();
  query.page_token = make_page_token(100);
  auto empty = search_runs(reader, query);
  REQUIRE(empty);
  CHECK(empty->runs.empty());
  CHECK(empty->next_page_token.empty());
}

TEST_CASE("rank_runs on a real tree: FINISHED runs only by default, by latest value", "[rank][fixture]") {
  json expected = load_expected("mlflow-3.8");
  Reader reader = open_fixture("mlflow-3.8");
  const std::string exp = "763558276457519285";
  // Expected: the FINISHED active runs of the experiment with the metric,
  // by latest value DESC, from expected.json's own data.
  struct Row {
    double value;
    std::int64_t start;
    std::string id;
  };
  std::vector<Row> rows;
  std::size_t finished = 0;
  for (const json& r : expected["runs"]) {
    if (r["experiment_id"] != exp || r["lifecycle_stage"] != "active" || r["status"] != "FINISHED") continue;
    ++finished;
    if (!r["latest_metrics"].contains("episode_reward_mean")) continue;
    const json& v = r["latest_metrics"]["episode_reward_mean"]["value"];
    if (!v.is_number()) continue;  // NaN is recorded as a string
    rows.push_back({v.get<double>(), r["start_time"].get<std::int64_t>(), r["run_id"].get<std::string>()});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.value != b.value) return a.value > b.value;
    if (a.start != b.start) return a.start > b.start;
    return a.id < b.id;
  });
  REQUIRE_FALSE(rows.empty());

  RankQuery q;
  q.experiment_ids = {exp};
  q.metric = "metrics.episode_reward_mean";
  auto ranking = rank_runs(reader, q);
  REQUIRE(ranking);
  CHECK(ranking->considered == finished);
  CHECK(ranking->without_value == finished - rows.size());
  REQUIRE(ranking->runs.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(ranking->runs[i].run.info.run_id == rows[i].id);
    CHECK(ranking->runs[i].value == rows[i].value);
  }

  // Best over the history is at least the latest value, for every run.
  q.by = RankBy::kBest;
  auto best = rank_runs(reader, q);
  REQUIRE(best);
  CHECK(best->considered == finished);
  for (const RankedRun& b : best->runs)
    for (const RankedRun& l : ranking->runs)
      if (b.run.info.run_id == l.run.info.run_id) CHECK(b.value >= l.value);

  // Unknown metric: every run is without value.
  q.metric = "no_such_metric";
  q.by = RankBy::kLatest;
  auto none = rank_runs(reader, q);
  REQUIRE(none);
  CHECK(none->runs.empty());
  CHECK(none->without_value == none->considered);
}

namespace {

// Records every file the Reader reads.
class RecordingEnv : public EnvWrapper {
 public:
  RecordingEnv() : EnvWrapper(Env::posix()) {}
  Result<std::string> read_file(const std::string& path, std::uint64_t max_bytes, bool no_follow) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      paths_.push_back(path);
    }
    return EnvWrapper::read_file(path, max_bytes, no_follow);
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(paths_, {});
  }

 private:
  std::mutex mu_;
  std::vector<std::string> paths_;
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("search_runs reads only the files the query needs (issue item 7)", "[search][fixture]") {
  RecordingEnv env;
  ReaderOptions options;
  options.env = &env;
  auto reader = Reader::open(std::string(MLRUNS_FIXTURES_DIR) + "/mlflow-3.8/mlruns", options);
  REQUIRE(reader);
  SearchQuery q;
  q.experiment_ids = {"763558276457519285"};
  q.order_by = {"metrics.episode_reward_mean DESC"};
  q.fields = RunFields::info_only();
  env.take();
  REQUIRE(search_runs(*reader, q));
  std::vector<std::string> read = env.take();
  std::size_t metric_files = 0;
  for (const std::string& p : read) {
    INFO(p);
    CHECK_FALSE(contains(p, "/params/"));
    // Inside the tree (the checkout's own path may contain "/inputs/").
    const std::string in_tree = p.substr(std::min(p.size(), p.find("/fixtures/")));
    CHECK_FALSE(contains(in_tree, "/inputs/"));
    CHECK_FALSE(contains(in_tree, "/datasets/"));
    if (contains(p, "/tags/")) CHECK(contains(p, "/tags/mlflow.runName"));  // run name fallback only
    if (contains(p, "/metrics/")) {
      CHECK(contains(p, "/metrics/episode_reward_mean"));
      ++metric_files;
    }
  }
  CHECK(metric_files >= 8);

  // A params filter reads params; a small page with every field reads the
  // other metric files for the page's runs only.
  q.filter = "params.lr = '0.001'";
  q.fields = RunFields::everything();
  q.max_results = 1;
  auto page = search_runs(*reader, q);
  REQUIRE(page);
  REQUIRE(page->runs.size() == 1);
  read = env.take();
  std::set<std::string> runs_with_other_metrics;
  bool read_params = false;
  for (const std::string& p : read) {
    if (contains(p, "/params/")) read_params = true;
    if (contains(p, "/metrics/") && !contains(p, "/metrics/episode_reward_mean")) {
      std::string dir = p.substr(0, p.find("/metrics/"));
      runs_with_other_metrics.insert(dir.substr(dir.rfind('/') + 1));
    }
  }
  CHECK(read_params);
  CHECK(runs_with_other_metrics.size() <= 1);
  if (!runs_with_other_metrics.empty()) CHECK(*runs_with_other_metrics.begin() == page->runs[0].info.run_id);

  // A datasets filter reads the run inputs and the dataset they link to.
  q.filter = "datasets.context = 'training'";
  q.fields = RunFields::info_only();
  q.max_results = 1000;
  page = search_runs(*reader, q);
  REQUIRE(page);
  CHECK(page->runs.size() == 1);
  read = env.take();
  CHECK(std::any_of(read.begin(), read.end(), [](const std::string& p) { return contains(p, "/datasets/"); }));
  CHECK(std::none_of(read.begin(), read.end(), [](const std::string& p) { return contains(p, "/params/"); }));
}

TEST_CASE("search_runs gives the runs and order of MLflow 3.8's REST runs/search responses", "[search][fixture]") {
  const std::string rest = std::string(MLRUNS_FIXTURES_DIR) + "/mlflow-3.8/rest/";
  auto load = [&](const std::string& name) {
    std::ifstream in(rest + name);
    REQUIRE(in);
    return json::parse(in);
  };
  auto rest_ids = [](const json& response) {
    std::vector<std::string> out;
    for (const json& r : response["runs"]) out.push_back(r["info"]["run_id"].get<std::string>());
    return out;
  };
  Reader reader = open_fixture("mlflow-3.8");

  // Every active experiment, view ALL, default order. The recorded response
  // holds no run of the deleted experiment (.trash/702085803536168059),
  // although MLflow's FileStore lists .trash for view ALL; whether the server
  // or the request left it out is not recorded, so it is not part of this check.
  SearchQuery all;
  const json experiments = load("experiments_search.json");
  for (const json& e : experiments["experiments"])
    if (e["lifecycle_stage"] == "active") all.experiment_ids.push_back(e["experiment_id"].get<std::string>());
  all.view = ViewType::kAll;
  auto page = search_runs(reader, all);
  REQUIRE(page);
  CHECK(ids(page->runs) == rest_ids(load("runs_search_all.json")));

  SearchQuery ordered;
  ordered.experiment_ids = {"763558276457519285"};
  ordered.order_by = {"metrics.`episode_reward_mean` DESC"};
  page = search_runs(reader, ordered);
  REQUIRE(page);
  CHECK(ids(page->runs) == rest_ids(load("runs_search_ordered.json")));

  SearchQuery filtered = ordered;
  filtered.filter = "metrics.`episode_reward_mean` > 100";
  page = search_runs(reader, filtered);
  REQUIRE(page);
  json expected = load("runs_search_filtered.json");
  CHECK(ids(page->runs) == rest_ids(expected));
  // And the data of each run: params and latest metric values.
  for (std::size_t i = 0; i < page->runs.size() && i < expected["runs"].size(); ++i) {
    const json& data = expected["runs"][i]["data"];
    const Run& run = page->runs[i];
    CHECK(run.params.size() == data.value("params", json::array()).size());
    for (const json& m : data.value("metrics", json::array())) {
      INFO(run.info.run_id << " " << m["key"]);
      REQUIRE(run.metrics.count(m["key"].get<std::string>()) == 1);
      const Metric& got = run.metrics.at(m["key"].get<std::string>());
      CHECK(got.step == m["step"].get<std::int64_t>());
      CHECK(got.timestamp == m["timestamp"].get<std::int64_t>());
      if (m["value"].is_number()) CHECK(got.value == m["value"].get<double>());
    }
  }
}

TEST_CASE("view DELETED_ONLY and ALL select runs by lifecycle_stage (spec §10.2)", "[search][fixture]") {
  json expected = load_expected("mlflow-3.8");
  Reader reader = open_fixture("mlflow-3.8");
  const std::string exp = "763558276457519285";
  for (ViewType view : {ViewType::kActiveOnly, ViewType::kDeletedOnly, ViewType::kAll}) {
    std::set<std::string> want;
    for (const json& r : expected["runs"]) {
      if (r["experiment_id"] != exp) continue;
      bool deleted = r["lifecycle_stage"] == "deleted";
      if (view == ViewType::kAll || (view == ViewType::kDeletedOnly) == deleted) want.insert(r["run_id"].get<std::string>());
    }
    SearchQuery q;
    q.experiment_ids = {exp};
    q.view = view;
    q.fields = RunFields::info_only();
    auto page = search_runs(reader, q);
    REQUIRE(page);
    std::vector<std::string> got = ids(page->runs);
    CHECK(std::set<std::string>(got.begin(), got.end()) == want);
    // Base order: start_time DESC, then run_id ASC.
    for (std::size_t i = 1; i < page->runs.size(); ++i) {
      const RunInfo& a = page->runs[i - 1].info;
      const RunInfo& b = page->runs[i].info;
      CHECK((a.start_time > b.start_time || (a.start_time == b.start_time && a.run_id < b.run_id)));
    }
    // lifecycle_stage is also filterable (an mlruns extension).
    q.view = ViewType::kAll;
    q.filter = view == ViewType::kDeletedOnly ? "attributes.lifecycle_stage = 'deleted'"
                                              : "attributes.lifecycle_stage != 'deleted'";
    if (view != ViewType::kAll) {
      page = search_runs(reader, q);
      REQUIRE(page);
      got = ids(page->runs);
      CHECK(std::set<std::string>(got.begin(), got.end()) == want);
    }
  }
}

TEST_CASE("datasets.name, digest and context find the run that logged a dataset input (spec §9.1, §10.2)",
          "[search][fixture][datasets]") {
  for (const auto& [fixture, exp] : {std::pair<std::string, std::string>{"mlflow-3.8", "763558276457519285"},
                                     {"mlflow-2.10", "118514298602333017"}}) {
    INFO(fixture);
    json expected = load_expected(fixture);
    // The runs with a dataset input, as MLflow read them.
    std::set<std::string> with_dataset;
    for (const json& r : expected["runs"])
      if (r["experiment_id"] == exp && !r["inputs"].empty()) with_dataset.insert(r["run_id"].get<std::string>());
    REQUIRE(with_dataset.size() == 1);
    Reader reader = open_fixture(fixture);
    auto search = [&](const std::string& filter) {
      SearchQuery q;
      q.experiment_ids = {exp};
      q.view = ViewType::kAll;
      q.filter = filter;
      q.fields = RunFields::info_only();
      auto page = search_runs(reader, q);
      INFO(filter);
      REQUIRE(page);
      std::vector<std::string> got = ids(page->runs);
      return std::set<std::string>(got.begin(), got.end());
    };
    for (const char* f : {"datasets.name = 'cartpole-episodes'", "dataset.name LIKE 'cartpole%'",
                          "datasets.digest = 'e9bba0d7'", "datasets.digest IN ('x', 'e9bba0d7')",
                          "datasets.context = 'training'", "datasets.context ILIKE 'TRAIN%'",
                          "datasets.name != 'iris' and metrics.episode_reward_mean > 100",
                          "datasets.context NOT IN ('eval')"}) {
      INFO(f);
      CHECK(search(f) == with_dataset);
    }
    for (const char* f : {"datasets.name = 'iris'", "datasets.name != 'cartpole-episodes'", "datasets.digest = 'E9BBA0D7'",
                          "datasets.context = 'eval'", "datasets.context NOT IN ('training')"}) {
      INFO(f);
      CHECK(search(f).empty());
    }
  }
}
