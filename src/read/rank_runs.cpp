// rank_runs: loads what the ranking needs through the Reader (rank.h), and
// explain_ranking: why the top run won, for get-top-run and report.
#include <algorithm>
#include <string>

#include "mlruns/rank.h"
#include "read/rank_internal.h"

namespace mlruns {

Result<Ranking> rank_runs(const Reader& reader, const RankQuery& query) {
  auto key = detail::rank_metric_key(query.metric);
  if (!key) return fail(key.error());
  auto clauses = parse_filter(query.filter);
  if (!clauses) return fail(clauses.error());

  // The filter's parts, plus the metric's latest value when ranking on it;
  // kBest and kAtStep read the metric's history instead.
  RunFields fields = fields_needed(*clauses, {});
  if (query.by == RankBy::kLatest &&
      std::find(fields.metrics.begin(), fields.metrics.end(), *key) == fields.metrics.end())
    fields.metrics.push_back(*key);
  auto runs = reader.runs(query.experiment_ids, query.view, fields);
  if (!runs) return fail(runs.error());

  auto history = [&](const Run& run, const std::function<void(const Metric&)>& on_point) {
    return reader.for_each_metric_point(run.info.run_id, *key, on_point);
  };
  return detail::rank_loaded(std::move(*runs), query, *key, *clauses, history, reader.options().threads);
}

std::string rank_rule_text(const RankQuery& query) {
  switch (query.by) {
    case RankBy::kLatest: return "latest value";
    case RankBy::kBest: return query.ascending ? "lowest value over the history" : "highest value over the history";
    case RankBy::kAtStep: return "value at step " + std::to_string(query.step);
  }
  return {};
}

std::vector<std::string> explain_ranking(const RankQuery& query, const Ranking& ranking,
                                         std::string_view experiment_names) {
  std::vector<std::string> lines;
  if (ranking.runs.empty()) return lines;
  auto key = detail::rank_metric_key(query.metric);
  const std::string metric = "metrics." + (key ? *key : query.metric);
  const RankedRun& top = ranking.runs.front();
  lines.push_back("top run: " + top.run.info.run_id + " (" + top.run.info.run_name + ")");
  lines.push_back("  " + metric + " = " + python_repr(top.value) + " at step " + std::to_string(top.step) + " (" +
                  rank_rule_text(query) + ", " + (query.ascending ? "lower" : "higher") + " is better)");
  if (ranking.runs.size() > 1) {
    const RankedRun& second = ranking.runs[1];
    lines.push_back("  runner-up: " + second.run.info.run_id + " (" + second.run.info.run_name +
                    ") = " + python_repr(second.value) + " at step " + std::to_string(second.step));
  }
  lines.push_back("  considered " + std::to_string(ranking.considered) + " " +
                  (query.finished_only ? "FINISHED runs" : "runs") + " of " + std::string(experiment_names) +
                  (query.filter.empty() ? "" : " matching the filter") + "; " +
                  std::to_string(ranking.without_value) + " had no value");
  return lines;
}

}  // namespace mlruns
