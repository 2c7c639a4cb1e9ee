// Ranking runs by a metric: latest, best over history, value at a step
// (rank.h); hand-built runs, histories from a map.
#include <catch2/catch.hpp>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "read/rank_internal.h"

using namespace mlruns;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Run make_run(std::string id, std::int64_t start_time, RunStatus status = RunStatus::kFinished) {
  Run r;
  r.info.run_id = std::move(id);
  r.info.run_name = r.info.run_id;
  r.info.experiment_id = "1";
  r.info.status = status;
  r.info.start_time = start_time;
  return r;
}

Metric point(double value, std::int64_t step, std::int64_t ts = 1000) { return Metric{"m", value, ts, step}; }

struct Fixture {
  std::vector<Run> runs;
  std::map<std::string, std::vector<Metric>> histories;

  // Adds a run whose latest value (MLflow's rule) comes from its history.
  void add(std::string id, std::int64_t start, std::vector<Metric> history,
           RunStatus status = RunStatus::kFinished) {
    Run r = make_run(id, start, status);
    if (!history.empty()) {
      const Metric* latest = &history.front();
      for (const Metric& m : history)
        if (std::tie(m.step, m.timestamp) >= std::tie(latest->step, latest->timestamp)) latest = &m;
      r.metrics["m"] = *latest;
    }
    histories[id] = std::move(history);
    runs.push_back(std::move(r));
  }

  Ranking rank(RankQuery q, const std::string& filter = {}) {
    auto clauses = parse_filter(filter);
    REQUIRE(clauses);
    q.filter = filter;
    return detail::rank_loaded(runs, q, "m", *clauses,
                               [&](const Run& r, const std::function<void(const Metric&)>& on_point) {
                                 auto it = histories.find(r.info.run_id);
                                 if (it != histories.end())
                                   for (const Metric& m : it->second) on_point(m);
                                 return Status::ok();
                               });
  }
};

std::vector<std::string> ids(const Ranking& r) {
  std::vector<std::string> out;
  for (const RankedRun& rr : r.runs) out.push_back(rr.run.info.run_id);
  return out;
}

}  // namespace

TEST_CASE("rank metric names accept metrics./metric. prefixes and quotes", "[rank]") {
  CHECK(*detail::rank_metric_key("episode_reward_mean") == "episode_reward_mean");
  CHECK(*detail::rank_metric_key("metrics.episode_reward_mean") == "episode_reward_mean");
  CHECK(*detail::rank_metric_key("metric.val/acc") == "val/acc");
  CHECK(*detail::rank_metric_key("metrics.`my loss`") == "my loss");
  CHECK_FALSE(detail::rank_metric_key("metrics.../x"));
  CHECK_FALSE(detail::rank_metric_key(""));
}

TEST_CASE("latest ranks on MLflow's latest value, higher first by default", "[rank]") {
  Fixture f;
  f.add("a", 1, {point(10, 0), point(50, 1), point(20, 2)});  // latest 20 (step 2)
  f.add("b", 2, {point(30, 0), point(5, 5)});                 // latest 5
  f.add("c", 3, {point(40, 3)});
  Ranking r = f.rank({});
  CHECK(ids(r) == std::vector<std::string>{"c", "a", "b"});
  CHECK(r.runs[0].value == 40);
  CHECK(r.runs[0].step == 3);
  CHECK(r.runs[1].value == 20);
  CHECK(r.considered == 3);
  CHECK(r.without_value == 0);
  RankQuery asc;
  asc.ascending = true;
  CHECK(ids(f.rank(asc)) == std::vector<std::string>{"b", "a", "c"});
}

TEST_CASE("best ranks on the max (or min) over the whole history", "[rank]") {
  Fixture f;
  f.add("a", 1, {point(10, 0), point(50, 1), point(20, 2)});
  f.add("b", 2, {point(30, 0), point(5, 5)});
  f.add("c", 3, {point(40, 3), point(kNaN, 4)});  // NaN points are ignored
  RankQuery q;
  q.by = RankBy::kBest;
  Ranking r = f.rank(q);
  CHECK(ids(r) == std::vector<std::string>{"a", "c", "b"});
  CHECK(r.runs[0].value == 50);
  CHECK(r.runs[0].step == 1);
  q.ascending = true;
  r = f.rank(q);
  CHECK(ids(r) == std::vector<std::string>{"b", "a", "c"});
  CHECK(r.runs[0].value == 5);
  CHECK(r.runs[0].step == 5);
}

TEST_CASE("best picks the first point among equal values", "[rank]") {
  auto p = detail::best_point({point(3, 0), point(7, 1), point(7, 2)}, false);
  REQUIRE(p);
  CHECK(p->step == 1);
  CHECK_FALSE(detail::best_point({point(kNaN, 0)}, false));
  CHECK_FALSE(detail::best_point({}, false));
}

TEST_CASE("at-step ranks on the value logged at that step", "[rank]") {
  Fixture f;
  f.add("a", 1, {point(10, 0), point(50, 1), point(20, 2)});
  f.add("b", 2, {point(30, 1), point(60, 1, 2000)});  // two points at step 1: the later one
  f.add("c", 3, {point(40, 3)});                      // nothing at step 1
  RankQuery q;
  q.by = RankBy::kAtStep;
  q.step = 1;
  Ranking r = f.rank(q);
  CHECK(ids(r) == std::vector<std::string>{"b", "a"});
  CHECK(r.runs[0].value == 60);
  CHECK(r.runs[1].value == 50);
  CHECK(r.considered == 3);
  CHECK(r.without_value == 1);
}

TEST_CASE("at-step among equal timestamps takes the larger value, a number over NaN", "[rank]") {
  auto p = detail::point_at_step({point(5, 2), point(kNaN, 2), point(3, 2)}, 2);
  REQUIRE(p);
  CHECK(p->value == 5);
  p = detail::point_at_step({point(5, 2, 1), point(kNaN, 2, 2)}, 2);
  REQUIRE(p);
  CHECK(std::isnan(p->value));  // the newest point is NaN: no usable value
}

TEST_CASE("only FINISHED runs compete unless told otherwise", "[rank]") {
  Fixture f;
  f.add("done", 1, {point(10, 0)});
  f.add("crashed", 2, {point(99, 0)}, RunStatus::kFailed);
  f.add("running", 3, {point(98, 0)}, RunStatus::kRunning);
  f.add("killed", 4, {point(97, 0)}, RunStatus::kKilled);
  Ranking r = f.rank({});
  CHECK(ids(r) == std::vector<std::string>{"done"});
  CHECK(r.considered == 1);
  RankQuery all;
  all.finished_only = false;
  r = f.rank(all);
  CHECK(ids(r) == std::vector<std::string>{"crashed", "running", "killed", "done"});
  CHECK(r.considered == 4);
}

TEST_CASE("runs without the metric or with NaN are counted and left out", "[rank]") {
  Fixture f;
  f.add("a", 1, {point(10, 0)});
  f.add("nan", 2, {point(kNaN, 0)});
  f.add("none", 3, {});
  Ranking r = f.rank({});
  CHECK(ids(r) == std::vector<std::string>{"a"});
  CHECK(r.considered == 3);
  CHECK(r.without_value == 2);
}

TEST_CASE("the filter applies before ranking", "[rank]") {
  Fixture f;
  f.add("a", 1, {point(10, 0)});
  f.add("b", 2, {point(20, 0)});
  f.runs[0].params["lr"] = "0.001";
  f.runs[1].params["lr"] = "0.01";
  Ranking r = f.rank({}, "params.lr = '0.001'");
  CHECK(ids(r) == std::vector<std::string>{"a"});
  CHECK(r.considered == 1);
}

TEST_CASE("ties are broken by start_time DESC, then run_id ASC", "[rank]") {
  Fixture f;
  f.add("b", 5, {point(1, 0)});
  f.add("a", 5, {point(1, 0)});
  f.add("z", 9, {point(1, 0)});
  f.add("y", 1, {point(2, 0)});
  CHECK(ids(f.rank({})) == std::vector<std::string>{"y", "z", "a", "b"});
  RankQuery asc;
  asc.ascending = true;
  CHECK(ids(f.rank(asc)) == std::vector<std::string>{"z", "a", "b", "y"});
}

TEST_CASE("explain_ranking words the top run as get-top-run prints it", "[rank]") {
  Fixture f;
  f.add("a", 1, {point(10, 0), point(20, 2)});
  f.add("b", 2, {point(30, 4)});
  f.add("c", 3, {});  // no value
  RankQuery q;
  q.metric = "metric.m";
  Ranking r = f.rank(q);
  std::vector<std::string> lines = explain_ranking(q, r, "sweep");
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "top run: b (b)");
  CHECK(lines[1] == "  metrics.m = 30.0 at step 4 (latest value, higher is better)");
  CHECK(lines[2] == "  runner-up: a (a) = 20.0 at step 2");
  CHECK(lines[3] == "  considered 3 FINISHED runs of sweep; 1 had no value");

  q.by = RankBy::kBest;
  q.ascending = true;
  q.finished_only = false;
  q.filter = "metrics.m > 0";
  Ranking best = f.rank(q, q.filter);
  lines = explain_ranking(q, best, "sweep, ablation");
  REQUIRE(lines.size() == 4);
  CHECK(lines[1] == "  metrics.m = 10.0 at step 0 (lowest value over the history, lower is better)");
  CHECK(lines[3] == "  considered 2 runs of sweep, ablation matching the filter; 0 had no value");
  CHECK(rank_rule_text(RankQuery{.by = RankBy::kAtStep, .step = 7}) == "value at step 7");

  Ranking none;
  CHECK(explain_ranking(q, none, "sweep").empty());
}
