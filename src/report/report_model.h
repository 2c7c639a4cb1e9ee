// What a report shows, gathered from the tree (report.cpp) and then written
// as HTML (report_page.cpp). Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlruns/rank.h"
#include "mlruns/reader.h"
#include "mlruns/report.h"

namespace mlruns::detail {

// One metric's chart: the kept points of each run's history.
struct ChartData {
  std::string key;
  std::vector<std::vector<ChartPoint>> lines;  // per run (index into ReportModel::runs); empty: no history
  std::size_t runs_with = 0;                   // runs that have the metric
  std::size_t points_read = 0;
  std::size_t points_drawn = 0;  // kept after downsampling and finite: drawn on the linear chart
  std::size_t non_finite = 0;    // NaN/inf points read (never drawn)
  bool any_positive = false;   // a log scale can show something
};

// A param's values over the runs.
struct ParamColumn {
  std::string key;
  bool varies = false;           // not the same value in every run
  std::string constant_value;    // when !varies
};

// A row of the table, in display order: a group header (the parent of a
// sweep that is not itself in the table) or a run.
struct TableRow {
  std::optional<std::size_t> run;  // index into runs; nullopt: a group header
  std::string group_id;            // the parent's run id, for the runs of a sweep and its header
  std::string header_text;         // for a group header: the parent's name
  bool child = false;
  bool parent = false;
};

struct ReportModel {
  ReportOptions options;
  std::string root;
  std::vector<Experiment> experiments;
  std::string experiment_names;  // "a, b"
  std::vector<Run> runs;         // search order
  std::size_t more_runs = 0;     // matched beyond max_runs (0: none)
  bool more_than_counted = false;
  std::map<std::string, std::size_t> status_counts;  // over every matching run

  // Ranking (the first order_by key, if a metric).
  std::string rank_key;  // empty: none
  bool ascending = false;
  RankQuery rank_query;
  std::optional<Ranking> ranking;
  std::optional<std::size_t> best;  // index into runs, if the best run is in the table
  std::vector<std::string> explanation;
  std::vector<ArtifactEntry> best_artifacts;
  std::size_t best_artifacts_total = 0;
  std::uint64_t best_artifacts_bytes = 0;
  std::optional<Run> best_run;  // the best run, also when the table does not show it

  std::vector<const char*> colors;  // per run
  std::vector<bool> muted;          // per run: drawn thin and grey
  std::vector<ParamColumn> params;  // every param key, varying ones first
  std::vector<std::string> metric_keys;  // every metric key, table order
  std::vector<ChartData> charts;
  std::vector<TableRow> rows;
  std::vector<std::pair<std::string, std::string>> sweeps;  // (parent name, summary)
  std::int64_t generated_at_ms = 0;
  std::size_t line_budget_top = 0, line_budget_other = 0;
};

// Writes the page of a gathered report; returns the points drawn.
std::size_t write_report_page(std::ostream& out, const ReportModel& model);

}  // namespace mlruns::detail
