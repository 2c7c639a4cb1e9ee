// write_report (report.h): gathers what the page shows (runs through
// search_runs, the best run through rank_runs, the histories of the charted
// metrics, downsampled as they are read) and hands it to report_page.cpp.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "mlruns/key.h"
#include "mlruns/rank.h"
#include "mlruns/report.h"
#include "mlruns/search.h"
#include "report/chart.h"
#include "report/report_model.h"
#include "util/parallel.h"

namespace mlruns {
namespace detail {
namespace {

constexpr const char* kParentTag = "mlflow.parentRunId";

std::string strip_metrics_prefix(std::string_view key) {
  for (std::string_view prefix : {"metrics.", "metric."})
    if (key.starts_with(prefix)) return std::string(key.substr(prefix.size()));
  return std::string(key);
}

Status check_options(const ReportOptions& o) {
  if (o.experiment_ids.empty()) return Status::invalid_argument("report", "give at least one experiment");
  if (o.max_runs < 1 || o.max_runs > kMaxSearchResults)
    return Status::invalid_argument("max runs " + std::to_string(o.max_runs),
                                    "must be 1.." + std::to_string(kMaxSearchResults) + " (MLflow's search limit)");
  if (o.points_per_line < kMinPointsPerLine)
    return Status::invalid_argument("points per line " + std::to_string(o.points_per_line),
                                    "must be at least " + std::to_string(kMinPointsPerLine) +
                                        " (first, lowest, highest, last)");
  if (o.points_per_page < kMinPointsPerLine)
    return Status::invalid_argument("points per page " + std::to_string(o.points_per_page),
                                    "must be at least " + std::to_string(kMinPointsPerLine));
  for (const std::string& m : o.metrics) {
    if (Status s = validate_key("metric key", strip_metrics_prefix(m), NameRules::kMlflow); !s.is_ok()) return s;
  }
  return Status::ok();
}

// The runs of a sweep follow their parent: rows in search order, each
// parent's runs (tag mlflow.parentRunId) together under it, at the place of
// the first of them.
void group_rows(const Reader& reader, ReportModel& m) {
  std::map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < m.runs.size(); ++i) index_of[m.runs[i].info.run_id] = i;
  std::map<std::string, std::vector<std::size_t>> children;
  std::vector<std::string> parent_of(m.runs.size());
  for (std::size_t i = 0; i < m.runs.size(); ++i) {
    auto it = m.runs[i].tags.find(kParentTag);
    if (it == m.runs[i].tags.end() || it->second == m.runs[i].info.run_id) continue;
    parent_of[i] = it->second;
    children[it->second].push_back(i);
  }
  std::vector<bool> placed(m.runs.size(), false);
  std::set<std::string> groups_done;
  auto place_group = [&](const std::string& parent) {
    if (!groups_done.insert(parent).second) return;
    auto in_table = index_of.find(parent);
    const std::vector<std::size_t>& kids = children[parent];
    std::string name;
    if (in_table != index_of.end() && !placed[in_table->second]) {
      placed[in_table->second] = true;
      m.rows.push_back({in_table->second, parent, {}, false, true});
      name = m.runs[in_table->second].info.run_name;
    } else {
      if (in_table != index_of.end()) {
        name = m.runs[in_table->second].info.run_name;
      } else if (auto p = reader.run(parent)) {
        name = p->info.run_name;
      }
      m.rows.push_back({std::nullopt, parent, name.empty() ? parent : name, false, false});
    }
    std::map<std::string, std::size_t> by_status;
    for (std::size_t k : kids) {
      if (placed[k]) continue;
      placed[k] = true;
      m.rows.push_back({k, parent, {}, true, false});
      ++by_status[std::string(to_string(m.runs[k].info.status))];
    }
    std::string summary = std::to_string(kids.size()) + (kids.size() == 1 ? " run" : " runs");
    std::string sep = ": ";
    for (const auto& [status, n] : by_status) {
      summary += sep + std::to_string(n) + " " + status;
      sep = ", ";
    }
    m.sweeps.emplace_back(name.empty() ? parent : name, summary);
  };
  for (std::size_t i = 0; i < m.runs.size(); ++i) {
    if (placed[i]) continue;
    const std::string& id = m.runs[i].info.run_id;
    if (!parent_of[i].empty()) {
      place_group(parent_of[i]);
    } else if (children.count(id)) {
      place_group(id);
    } else {
      placed[i] = true;
      m.rows.push_back({i, {}, {}, false, false});
    }
  }
}

// Colours: with up to 10 runs each has its own; with more, the best run and
// the next five of the table have one and the rest are grey.
void choose_colors(ReportModel& m) {
  const std::size_t n = m.runs.size();
  m.colors.assign(n, kMutedColor);
  m.muted.assign(n, n > 10);
  std::size_t next = 0;
  for (const TableRow& row : m.rows) {
    if (!row.run) continue;
    const std::size_t i = *row.run;
    if (m.best && *m.best == i) {
      m.colors[i] = kBestColor;
      m.muted[i] = false;
      continue;
    }
    if (n <= 10 || next < 5) {
      m.colors[i] = palette_color(next++);
      m.muted[i] = false;
    }
  }
}

void choose_params(ReportModel& m) {
  std::map<std::string, std::pair<std::size_t, std::set<std::string>>> seen;  // key -> (runs, values)
  for (const Run& r : m.runs)
    for (const auto& [k, v] : r.params) {
      auto& s = seen[k];
      ++s.first;
      if (s.second.size() < 2) s.second.insert(v);
    }
  for (auto& [k, s] : seen) {
    ParamColumn c;
    c.key = k;
    c.varies = s.first != m.runs.size() || s.second.size() > 1;
    if (!c.varies) c.constant_value = *s.second.begin();
    m.params.push_back(std::move(c));
  }
  std::stable_partition(m.params.begin(), m.params.end(), [](const ParamColumn& c) { return c.varies; });
}

}  // namespace

Result<ReportModel> gather_report(const Reader& reader, const ReportOptions& options) {
  if (Status s = check_options(options); !s.is_ok()) return fail(s);
  ReportModel m;
  m.options = options;
  m.root = reader.root();
  m.generated_at_ms = options.generated_at_ms.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (const std::string& id : options.experiment_ids) {
    auto e = reader.experiment(id);
    if (!e) return fail(e.error());
    if (!m.experiment_names.empty()) m.experiment_names += ", ";
    m.experiment_names += e->name;
    m.experiments.push_back(std::move(*e));
  }

  // The runs of the table.
  SearchQuery q;
  q.experiment_ids = options.experiment_ids;
  q.filter = options.filter;
  q.order_by = options.order_by;
  q.view = options.view;
  q.max_results = options.max_runs;
  q.fields = RunFields::everything();
  q.fields.inputs = false;
  auto page = search_runs(reader, q);
  if (!page) return fail(page.error());
  m.runs = std::move(page->runs);
  if (!page->next_page_token.empty()) {
    SearchQuery count = q;
    count.fields = RunFields::info_only();
    count.max_results = kMaxSearchResults;
    auto all = search_runs(reader, count);
    if (!all) return fail(all.error());
    m.more_runs = all->runs.size() - m.runs.size();
    m.more_than_counted = !all->next_page_token.empty();
    for (const Run& r : all->runs) ++m.status_counts[std::string(to_string(r.info.status))];
  } else {
    for (const Run& r : m.runs) ++m.status_counts[std::string(to_string(r.info.status))];
  }

  // The ranking metric and the best run, as get-top-run picks it.
  if (!options.order_by.empty()) {
    auto key = parse_order_by(options.order_by.front());
    if (!key) return fail(key.error());
    if (key->entity == Clause::Entity::kMetric) {
      m.rank_key = key->key;
      m.ascending = key->ascending;
      m.rank_query.experiment_ids = options.experiment_ids;
      m.rank_query.metric = "metrics." + key->key;
      m.rank_query.ascending = key->ascending;
      m.rank_query.filter = options.filter;
      m.rank_query.view = options.view;
      auto ranking = rank_runs(reader, m.rank_query);
      if (!ranking) return fail(ranking.error());
      m.ranking = std::move(*ranking);
      if (!m.ranking->runs.empty()) {
        m.explanation = explain_ranking(m.rank_query, *m.ranking, m.experiment_names);
        const std::string& best_id = m.ranking->runs.front().run.info.run_id;
        for (std::size_t i = 0; i < m.runs.size(); ++i)
          if (m.runs[i].info.run_id == best_id) m.best = i;
        if (auto full = reader.run(best_id)) m.best_run = std::move(*full);
        if (auto files = reader.list_artifacts(best_id, "", true)) {
          m.best_artifacts_total = files->size();
          for (const ArtifactEntry& f : *files) m.best_artifacts_bytes += f.size;
          if (files->size() > 50) files->resize(50);
          m.best_artifacts = std::move(*files);
        }
      }
    }
  }

  // Every metric key; the charted ones.
  std::set<std::string> keys;
  for (const Run& r : m.runs)
    for (const auto& [k, v] : r.metrics) keys.insert(k);
  std::vector<std::string> chart_keys;
  if (!options.metrics.empty()) {
    for (const std::string& given : options.metrics) {
      std::string k = strip_metrics_prefix(given);
      if (!keys.count(k))
        return fail(Status::not_found("metric '" + k + "'", "none of the " + std::to_string(m.runs.size()) +
                                                                " runs of the report has it"));
      if (std::find(chart_keys.begin(), chart_keys.end(), k) == chart_keys.end()) chart_keys.push_back(k);
    }
  } else {
    // The ranking metric, then those most runs have (a sweep's parent often
    // logs a summary or two that no trial has), then by name.
    if (!m.rank_key.empty() && keys.count(m.rank_key)) chart_keys.push_back(m.rank_key);
    std::map<std::string, std::size_t> coverage;
    for (const Run& r : m.runs)
      for (const auto& [k, v] : r.metrics) ++coverage[k];
    std::vector<std::string> others;
    for (const std::string& k : keys)
      if (k != m.rank_key) others.push_back(k);
    std::stable_sort(others.begin(), others.end(),
                     [&](const std::string& a, const std::string& b) { return coverage[a] > coverage[b]; });
    for (const std::string& k : others) {
      if (chart_keys.size() >= kDefaultCharts) break;
      chart_keys.push_back(k);
    }
  }
  if (!m.rank_key.empty() && keys.count(m.rank_key)) m.metric_keys.push_back(m.rank_key);
  for (const std::string& k : chart_keys)
    if (std::find(m.metric_keys.begin(), m.metric_keys.end(), k) == m.metric_keys.end()) m.metric_keys.push_back(k);
  for (const std::string& k : keys)
    if (std::find(m.metric_keys.begin(), m.metric_keys.end(), k) == m.metric_keys.end()) m.metric_keys.push_back(k);

  group_rows(reader, m);
  choose_colors(m);
  choose_params(m);

  // Budgets: the page's points are shared by the charts (twice: linear and
  // log), each chart's by its lines; coloured lines get more than grey ones.
  const std::size_t n = m.runs.size();
  const std::size_t per_chart = chart_keys.empty() ? 0 : options.points_per_page / (2 * chart_keys.size());
  const std::size_t highlighted = static_cast<std::size_t>(std::count(m.muted.begin(), m.muted.end(), false));
  m.line_budget_top =
      std::min(options.points_per_line, std::max(kMinPointsPerLine, per_chart / 2 / std::max<std::size_t>(1, highlighted)));
  const std::size_t left = per_chart > highlighted * m.line_budget_top ? per_chart - highlighted * m.line_budget_top : 0;
  m.line_budget_other =
      std::min(options.points_per_line, std::max(kMinPointsPerLine, left / std::max<std::size_t>(1, n - highlighted)));

  // Histories, one run per task: read, sort, downsample, keep only that.
  m.charts.resize(chart_keys.size());
  for (std::size_t c = 0; c < chart_keys.size(); ++c) {
    m.charts[c].key = chart_keys[c];
    m.charts[c].lines.resize(n);
  }
  struct Counts {
    std::size_t read = 0, drawn = 0, non_finite = 0;
    bool positive = false;
  };
  std::vector<Counts> counts(n * chart_keys.size());
  auto read_run_histories = [&](std::size_t i) {
    const Run& run = m.runs[i];
    for (std::size_t c = 0; c < chart_keys.size(); ++c) {
      if (!run.metrics.count(chart_keys[c])) continue;
      auto history = reader.metric_history(run.info.run_id, chart_keys[c]);
      if (!history) continue;  // unreadable: the Reader has warned; the run has no line
      Counts& k = counts[i * chart_keys.size() + c];
      k.read = history->size();
      for (const Metric& p : *history) {
        if (!std::isfinite(p.value)) ++k.non_finite;
        else if (p.value > 0) k.positive = true;
      }
      std::vector<ChartPoint> kept = downsample_points(history_points(std::move(*history), options.x_axis),
                                                       m.muted[i] ? m.line_budget_other : m.line_budget_top);
      for (const ChartPoint& p : kept) k.drawn += std::isfinite(p.y);  // a kept NaN/inf only breaks the line
      m.charts[c].lines[i] = std::move(kept);
    }
  };
  const unsigned threads = std::min<unsigned>(reader.options().threads, worker_count(n));
  std::mutex progress_mu;
  std::size_t runs_done = 0;
  parallel_for(n, threads, [&](std::size_t i) {
    read_run_histories(i);
    if (options.on_progress) {
      std::lock_guard<std::mutex> lock(progress_mu);
      options.on_progress(++runs_done, n);
    }
  });
  for (std::size_t c = 0; c < chart_keys.size(); ++c) {
    ChartData& chart = m.charts[c];
    for (std::size_t i = 0; i < n; ++i) {
      const Counts& k = counts[i * chart_keys.size() + c];
      chart.runs_with += m.runs[i].metrics.count(chart.key);
      chart.points_read += k.read;
      chart.points_drawn += k.drawn;
      chart.non_finite += k.non_finite;
      chart.any_positive = chart.any_positive || k.positive;
    }
  }
  return m;
}

}  // namespace detail

Result<ReportSummary> write_report(const Reader& reader, const ReportOptions& options, std::ostream& out) {
  auto model = detail::gather_report(reader, options);
  if (!model) return fail(model.error());
  ReportSummary summary;
  summary.runs = model->runs.size();
  summary.more_runs = model->more_runs;
  summary.charts = model->charts.size();
  for (const detail::ChartData& c : model->charts) summary.points_read += c.points_read;
  if (model->best) summary.best_run_id = model->runs[*model->best].info.run_id;
  else if (model->best_run) summary.best_run_id = model->best_run->info.run_id;
  summary.points_drawn = detail::write_report_page(out, *model);
  out.flush();
  if (!out) return fail(Status::io_error("report", "could not write the page"));
  return summary;
}

}  // namespace mlruns
