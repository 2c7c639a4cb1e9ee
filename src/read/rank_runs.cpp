// rank_runs: loads what the ranking needs through the Reader (rank.h).
#include <algorithm>

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

}  // namespace mlruns
