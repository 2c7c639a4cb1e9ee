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

// The charted metrics, from each run's keys: the given ones (each must be a
// key of some run), else the ranking metric, then those most runs have (a
// sweep's parent often logs a summary or two that no trial has), then by
// name, kDefaultCharts at most.
Result<std::vector<std::string>> choose_charts(const ReportOptions& options, const std::string& rank_key,
                                               const std::vector<std::vector<std::string>>& run_keys) {
  std::map<std::string, std::size_t> coverage;  // key -> runs that have it
  for (const std::vector<std::string>& keys : run_keys)
    for (const std::string& k : keys) ++coverage[k];
  std::vector<std::string> chart_keys;
  if (!options.metrics.empty()) {
    for (const std::string& given : options.metrics) {
      std::string k = strip_metrics_prefix(given);
      if (!coverage.count(k))
        return fail(Status::not_found("metric '" + k + "'", "none of the " + std::to_string(run_keys.size()) +
                                                                " runs of the report has it"));
      if (std::find(chart_keys.begin(), chart_keys.end(), k) == chart_keys.end()) chart_keys.push_back(k);
    }
    return chart_keys;
  }
  if (!rank_key.empty() && coverage.count(rank_key)) chart_keys.push_back(rank_key);
  std::vector<std::string> others;
  for (const auto& [k, runs] : coverage)
    if (k != rank_key) others.push_back(k);
  std::stable_sort(others.begin(), others.end(),
                   [&](const std::string& a, const std::string& b) { return coverage[a] > coverage[b]; });
  for (const std::string& k : others) {
    if (chart_keys.size() >= kDefaultCharts) break;
    chart_keys.push_back(k);
  }
  return chart_keys;
}

// Budgets: the page's points are shared by the charts (twice: linear and
// log), each chart's by its lines; coloured lines get more than grey ones.
void set_budgets(ReportModel& m, std::size_t charts) {
  const ReportOptions& options = m.options;
  const std::size_t n = m.runs.size();
  const std::size_t per_chart = charts == 0 ? 0 : options.points_per_page / (2 * charts);
  const std::size_t highlighted = static_cast<std::size_t>(std::count(m.muted.begin(), m.muted.end(), false));
  m.line_budget_top = std::min(options.points_per_line,
                               std::max(kMinPointsPerLine, per_chart / 2 / std::max<std::size_t>(1, highlighted)));
  const std::size_t left = per_chart > highlighted * m.line_budget_top ? per_chart - highlighted * m.line_budget_top : 0;
  m.line_budget_other =
      std::min(options.points_per_line, std::max(kMinPointsPerLine, left / std::max<std::size_t>(1, n - highlighted)));
}

// MLflow's "latest" rule (format/metric_file.h is_later_point) on Metrics.
bool is_later(const Metric& candidate, const Metric& current) {
  if (candidate.step != current.step) return candidate.step > current.step;
  if (candidate.timestamp != current.timestamp) return candidate.timestamp > current.timestamp;
  return candidate.value > current.value;
}

// One pass over the metric files of every run (in parallel, a run per task;
// each file read once): the charted keys' histories are sorted, downsampled
// and kept as m.charts' lines, nothing more of them; with `latest`, every
// key's latest value goes to the run's metrics (the table's values).
void read_metrics(const Reader& reader, ReportModel& m, const std::vector<std::vector<std::string>>& run_keys,
                  const std::vector<std::string>& chart_keys, bool latest, unsigned threads) {
  const std::size_t n = m.runs.size();
  const ReportOptions& options = m.options;
  m.charts.assign(chart_keys.size(), ChartData{});
  for (std::size_t c = 0; c < chart_keys.size(); ++c) {
    m.charts[c].key = chart_keys[c];
    m.charts[c].lines.resize(n);
  }
  struct Counts {
    std::size_t read = 0, drawn = 0, non_finite = 0;
    bool positive = false;
  };
  std::vector<Counts> counts(n * chart_keys.size());
  auto read_run = [&](std::size_t i) {
    Run& run = m.runs[i];
    const std::vector<std::string>& keys = run_keys[i];
    std::vector<std::ptrdiff_t> chart_of(keys.size(), -1);  // key -> chart, -1: not charted
    bool any = latest;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      auto it = std::find(chart_keys.begin(), chart_keys.end(), keys[k]);
      if (it != chart_keys.end()) {
        chart_of[k] = it - chart_keys.begin();
        any = true;
      }
    }
    if (!any || keys.empty()) return;
    std::vector<HistoryPoint> points;  // the current key's history, if charted
    std::vector<double> scratch;
    std::vector<Metric> latest_of(keys.size());
    std::vector<char> seen(keys.size(), 0);
    std::size_t current = keys.size();
    auto finish = [&](std::size_t k) {  // a charted key's history is complete
      if (k >= keys.size() || chart_of[k] < 0) return;
      const auto c = static_cast<std::size_t>(chart_of[k]);
      Counts& cnt = counts[i * chart_keys.size() + c];
      cnt.read = points.size();
      for (const HistoryPoint& p : points) {
        if (!std::isfinite(p.value)) ++cnt.non_finite;
        else if (p.value > 0) cnt.positive = true;
      }
      std::vector<ChartPoint> kept =
          chart_line(points, options.x_axis, m.muted[i] ? m.line_budget_other : m.line_budget_top, scratch);
      for (const ChartPoint& p : kept) cnt.drawn += std::isfinite(p.y);  // a kept NaN/inf only breaks the line
      m.charts[c].lines[i] = std::move(kept);
      points.clear();
    };
    const std::vector<std::string>* to_read = &keys;
    std::vector<std::string> charted;       // without `latest`: only the charted keys' files
    std::vector<std::size_t> charted_key;   // their indices in `keys`
    if (!latest) {
      for (std::size_t k = 0; k < keys.size(); ++k)
        if (chart_of[k] >= 0) {
          charted.push_back(keys[k]);
          charted_key.push_back(k);
        }
      to_read = &charted;
    }
    Status s = reader.for_each_metric_point(run.info.run_id, *to_read, [&](std::size_t k_read, const Metric& p) {
      const std::size_t k = latest ? k_read : charted_key[k_read];
      if (k != current) {
        finish(current);
        current = k;
      }
      if (latest && (!seen[k] || is_later(p, latest_of[k]))) {
        Metric& l = latest_of[k];
        l.value = p.value;
        l.timestamp = p.timestamp;
        l.step = p.step;
        if (!p.dataset_name.empty() || !l.dataset_name.empty()) l.dataset_name = p.dataset_name;
        if (!p.dataset_digest.empty() || !l.dataset_digest.empty()) l.dataset_digest = p.dataset_digest;
        seen[k] = 1;
      }
      if (chart_of[k] >= 0) points.push_back({p.step, p.timestamp, p.value});
    });
    finish(current);
    (void)s;  // a run gone since the listing: no lines, no values (the Reader has warned of bad files)
    if (!latest) return;
    run.metrics.clear();
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (!seen[k]) continue;
      latest_of[k].key = keys[k];
      run.metrics.emplace(keys[k], std::move(latest_of[k]));
    }
  };
  std::mutex progress_mu;
  std::size_t runs_done = 0;
  parallel_for(n, threads, [&](std::size_t i) {
    read_run(i);
    if (options.on_progress && latest) {  // a second pass (charts only) is not reported again
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
  // Params and tags; the metrics' latest values come from the one pass over
  // the metric files below, which also reads the histories.
  q.fields = RunFields{.params = true, .tags = true, .all_metrics = false, .metrics = {}, .inputs = false};
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

  // Each run's metric keys, listed without reading the files: the charts are
  // chosen (and the budgets set) before the one pass over the files.
  const std::size_t n = m.runs.size();
  const unsigned threads = std::min<unsigned>(reader.options().threads, worker_count(n));
  std::vector<std::vector<std::string>> listed(n);
  parallel_for(n, threads, [&](std::size_t i) {
    if (auto k = reader.metric_keys(m.runs[i].info.run_id)) listed[i] = std::move(*k);
  });
  group_rows(reader, m);
  choose_colors(m);
  choose_params(m);
  auto chart_keys = choose_charts(options, m.rank_key, listed);
  if (!chart_keys) return fail(chart_keys.error());
  set_budgets(m, chart_keys->size());
  read_metrics(reader, m, listed, *chart_keys, true, threads);

  // The keys with a value (a file with no good line has none): if they
  // change the charts, the charts are read again (one pass, histories only).
  std::vector<std::vector<std::string>> valued(n);
  for (std::size_t i = 0; i < n; ++i)
    for (const auto& [k, v] : m.runs[i].metrics) valued[i].push_back(k);
  auto final_keys = choose_charts(options, m.rank_key, valued);
  if (!final_keys) return fail(final_keys.error());
  if (*final_keys != *chart_keys) {
    set_budgets(m, final_keys->size());
    read_metrics(reader, m, valued, *final_keys, false, threads);
  }
  std::set<std::string> keys;
  for (const std::vector<std::string>& v : valued) keys.insert(v.begin(), v.end());
  if (!m.rank_key.empty() && keys.count(m.rank_key)) m.metric_keys.push_back(m.rank_key);
  for (const std::string& k : *final_keys)
    if (std::find(m.metric_keys.begin(), m.metric_keys.end(), k) == m.metric_keys.end()) m.metric_keys.push_back(k);
  for (const std::string& k : keys)
    if (std::find(m.metric_keys.begin(), m.metric_keys.end(), k) == m.metric_keys.end()) m.metric_keys.push_back(k);
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
