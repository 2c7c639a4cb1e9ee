// Ranking runs by one metric: latest (MLflow's rule), best over the history,
// or the value at a step; see rank.h and docs/search.md.
#include <algorithm>
#include <cmath>
#include <string>

#include "mlruns/key.h"
#include "read/rank_internal.h"
#include "util/parallel.h"

namespace mlruns::detail {

Result<std::string> rank_metric_key(std::string_view metric) {
  std::string_view key = metric;
  for (std::string_view prefix : {"metrics.", "metric."}) {
    if (key.substr(0, prefix.size()) == prefix) {
      key.remove_prefix(prefix.size());
      break;
    }
  }
  if (key.size() >= 2 && (key.front() == '`' || key.front() == '"') && key.back() == key.front())
    key = key.substr(1, key.size() - 2);
  Status s = validate_key_name("rank metric", key, NameRules::kMlflow);
  if (!s.is_ok()) return fail(s);
  return std::string(key);
}

void BestPicker::add(const Metric& m) {
  if (std::isnan(m.value)) return;
  if (!best || (ascending ? m.value < best->value : m.value > best->value)) best = m;
}

void StepPicker::add(const Metric& m) {
  if (m.step != step) return;
  if (!pick || m.timestamp > pick->timestamp) {
    pick = m;
  } else if (m.timestamp == pick->timestamp) {
    bool m_nan = std::isnan(m.value), p_nan = std::isnan(pick->value);
    if ((p_nan && !m_nan) || (!p_nan && !m_nan && m.value >= pick->value) || (p_nan && m_nan)) pick = m;
  }
}

std::optional<Metric> best_point(const std::vector<Metric>& history, bool ascending) {
  BestPicker b{ascending, std::nullopt};
  for (const Metric& m : history) b.add(m);
  return b.best;
}

std::optional<Metric> point_at_step(const std::vector<Metric>& history, std::int64_t step) {
  StepPicker p{step, std::nullopt};
  for (const Metric& m : history) p.add(m);
  return p.pick;
}

Ranking rank_loaded(std::vector<Run> runs, const RankQuery& query, const std::string& key,
                    const std::vector<Clause>& filter, const HistoryFn& history, unsigned threads) {
  Ranking ranking;
  runs.erase(std::remove_if(runs.begin(), runs.end(),
                            [&](const Run& r) {
                              if (query.finished_only && r.info.status != RunStatus::kFinished) return true;
                              return !matches(r, filter);
                            }),
             runs.end());
  ranking.considered = runs.size();

  std::vector<std::optional<Metric>> points(runs.size());
  if (query.by == RankBy::kLatest) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      auto it = runs[i].metrics.find(key);
      if (it != runs[i].metrics.end()) points[i] = it->second;
    }
  } else {
    // One history file per run; the Reader is thread-safe, so read in parallel.
    unsigned workers = worker_count(runs.size());
    if (threads > 0) workers = std::min<unsigned>(workers, threads);
    // Each history is streamed through a picker: one point kept per run,
    // whatever the size of its file (issue 15 item 3).
    parallel_for(runs.size(), workers, [&](std::size_t i) {
      BestPicker best{query.ascending, std::nullopt};
      StepPicker at{query.step, std::nullopt};
      Status s = history(runs[i], [&](const Metric& m) {
        if (query.by == RankBy::kBest) best.add(m);
        else at.add(m);
      });
      if (!s) return;  // unreadable: counted as without value
      points[i] = query.by == RankBy::kBest ? std::move(best.best) : std::move(at.pick);
    });
  }

  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!points[i] || std::isnan(points[i]->value)) {
      ++ranking.without_value;
      continue;
    }
    ranking.runs.push_back(RankedRun{std::move(runs[i]), points[i]->value, points[i]->step});
  }
  std::stable_sort(ranking.runs.begin(), ranking.runs.end(), [&](const RankedRun& a, const RankedRun& b) {
    if (a.value != b.value) return query.ascending ? a.value < b.value : a.value > b.value;
    if (a.run.info.start_time != b.run.info.start_time) return a.run.info.start_time > b.run.info.start_time;
    return a.run.info.run_id < b.run.info.run_id;
  });
  return ranking;
}

}  // namespace mlruns::detail
