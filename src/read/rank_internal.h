// Ranking internals (rank.h), separate from the Reader so that they can be
// tested on hand-built runs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/rank.h"
#include "mlruns/search.h"

namespace mlruns::detail {

// "metrics.loss", "metric.loss", "metrics.`my loss`", "loss" -> the key.
Result<std::string> rank_metric_key(std::string_view metric);

// The point kBest ranks on: the largest value (smallest when `ascending`),
// NaN ignored; among equal values the first in file order.
std::optional<Metric> best_point(const std::vector<Metric>& history, bool ascending);
// The point kAtStep ranks on: among the points with that step, the latest
// timestamp, then the larger value (a number beats NaN), then the later line.
std::optional<Metric> point_at_step(const std::vector<Metric>& history, std::int64_t step);

// The same, one point at a time (first in file order wins ties).
struct BestPicker {
  bool ascending = false;
  std::optional<Metric> best;
  void add(const Metric& m);
};
struct StepPicker {
  std::int64_t step = 0;
  std::optional<Metric> pick;
  void add(const Metric& m);
};

// Streams a run's history of the metric to `on_point` (kBest, kAtStep).
using HistoryFn = std::function<Status(const Run&, const std::function<void(const Metric&)>& on_point)>;

// Everything after loading: status and filter, the value of each run, the
// order (value, then start_time DESC, then run_id ASC). Histories are read on
// up to `threads` threads (0: one per core).
Ranking rank_loaded(std::vector<Run> runs, const RankQuery& query, const std::string& key,
                    const std::vector<Clause>& filter, const HistoryFn& history, unsigned threads = 0);

}  // namespace mlruns::detail
