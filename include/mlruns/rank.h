// Ranking runs by a metric, beyond MLflow's "latest value" rule, and picking
// the top run for get-top-run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/reader.h"
#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns {

enum class RankBy {
  kLatest,  // MLflow's latest value: max (step, timestamp, value) (spec §5.1)
  kBest,    // best value over the whole history (max, or min when ascending)
  kAtStep,  // the value at RankQuery::step (the latest point with that step)
};

struct RankQuery {
  std::vector<std::string> experiment_ids{};
  std::string metric{};  // "episode_reward_mean" or "metrics.episode_reward_mean"
  bool ascending = false;  // false: higher is better
  RankBy by = RankBy::kLatest;
  std::int64_t step = 0;  // for kAtStep
  std::string filter{};     // MLflow filter string, applied first
  bool finished_only = true;  // only FINISHED runs compete
  ViewType view = ViewType::kActiveOnly;
};

struct RankedRun {
  Run run{};
  double value = 0;        // the value ranked on
  std::int64_t step = 0;   // the step it was logged at
};

struct Ranking {
  std::vector<RankedRun> runs{};   // best first; runs without a value (or NaN) are left out
  std::size_t considered = 0;    // runs that passed view, status and filter
  std::size_t without_value = 0; // of those, runs with no usable value
};

Result<Ranking> rank_runs(const Reader& reader, const RankQuery& query);

// Why the top run of a ranking won, in the words `mlruns get-top-run` prints
// and `mlruns report` shows on the best run's card: one line each, without
// newlines (run names are given as they are; escape them for a terminal or
// a page):
//   top run: <run_id> (<run_name>)
//     metrics.<key> = <value> at step <step> (<rule>, higher is better)
//     runner-up: <run_id> (<run_name>) = <value> at step <step>      (if any)
//     considered <n> FINISHED runs of <experiments>[ matching the filter]; <k> had no value
// `experiment_names` is how the experiments are named in the last line, e.g.
// "rl-sweep, ablation". Values are Python's repr (python_repr). An empty
// ranking gives no lines.
std::vector<std::string> explain_ranking(const RankQuery& query, const Ranking& ranking,
                                         std::string_view experiment_names);

// "latest value", "highest value over the history", "value at step 7": the
// rule a query ranks by, as explain_ranking words it.
std::string rank_rule_text(const RankQuery& query);

}  // namespace mlruns
