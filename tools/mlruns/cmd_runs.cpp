// `mlruns runs`: search_runs from the shell, as a table that fits the
// terminal, CSV, or MLflow's runs/search JSON.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/search.h"
#include "rest_json.h"

namespace mlruns::cli {

struct RunsOptions {
  std::vector<std::string> experiments;
  std::string filter;
  std::vector<std::string> order_by;
  std::string max_results = "1000";
  std::string view = "active";
  std::string page_token;
  std::vector<std::string> columns;
  bool json = false;
  bool csv = false;
};

namespace {

// Strips MLflow's backquotes or double quotes from a key ("metrics.`a b`").
std::string unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '`' || s.front() == '"') && s.back() == s.front()) {
    return std::string(s.substr(1, s.size() - 2));
  }
  return std::string(s);
}

// One table cell for a column named like MLflow's search_runs DataFrame:
// run_id, run_name, status, start_time ..., metrics.<k>, params.<k>, tags.<k>.
std::string cell(const Run& run, const std::string& column, bool raw_times) {
  const RunInfo& i = run.info;
  auto time = [&](std::int64_t ms) { return raw_times ? std::to_string(ms) : format_time_ms(ms); };
  auto prefixed = [&](std::string_view prefix) -> std::optional<std::string> {
    if (column.rfind(prefix, 0) == 0) return unquote(std::string_view(column).substr(prefix.size()));
    return std::nullopt;
  };
  if (auto k = prefixed("metrics.")) {
    auto it = run.metrics.find(*k);
    return it == run.metrics.end() ? std::string() : py_float(it->second.value);
  }
  if (auto k = prefixed("params.")) {
    auto it = run.params.find(*k);
    return it == run.params.end() ? std::string() : it->second;
  }
  if (auto k = prefixed("tags.")) {
    auto it = run.tags.find(*k);
    return it == run.tags.end() ? std::string() : it->second;
  }
  std::string attr = column;
  if (auto k = prefixed("attributes.")) attr = *k;
  if (attr == "run_id" || attr == "run_uuid") return i.run_id;
  if (attr == "run_name") return i.run_name;
  if (attr == "experiment_id") return i.experiment_id;
  if (attr == "user_id") return i.user_id;
  if (attr == "status") return std::string(to_string(i.status));
  if (attr == "start_time") return time(i.start_time);
  if (attr == "end_time") return i.end_time ? time(*i.end_time) : std::string();
  if (attr == "artifact_uri") return i.artifact_uri;
  if (attr == "lifecycle_stage") return std::string(to_string(i.lifecycle_stage));
  check(Status::invalid_argument("--columns '" + column + "'",
                                 "expected run_id, run_name, experiment_id, user_id, status, start_time, end_time, "
                                 "artifact_uri, lifecycle_stage, or metrics.<key>, params.<key>, tags.<key>"));
  return {};
}

// The metrics the user asked about, named in --order-by and --filter, as
// columns ("metrics.loss"), in that order.
std::vector<std::string> asked_metrics(const RunsOptions& opt) {
  std::vector<std::string> cols;
  auto add = [&](const std::string& key) {
    const std::string col = "metrics." + key;
    if (std::find(cols.begin(), cols.end(), col) == cols.end()) cols.push_back(col);
  };
  for (const std::string& o : opt.order_by) {
    if (auto key = parse_order_by(o); key && key->entity == Clause::Entity::kMetric) add(key->key);
  }
  if (auto clauses = parse_filter(opt.filter)) {
    for (const Clause& c : *clauses) {
      if (c.entity == Clause::Entity::kMetric) add(c.key);
    }
  }
  return cols;
}

// Default columns. CSV mirrors mlflow.search_runs()'s DataFrame (every
// metric, param and tag); the table shows what fits on a screen: the run's
// id and name, then the metrics named in --order-by and --filter (what the
// user asked about; pinned, so never left out for lack of width), status
// and start time, the other metrics, then params.
std::vector<std::string> default_columns(const std::vector<Run>& runs, const RunsOptions& opt) {
  std::set<std::string> metrics, params, tags;
  for (const Run& r : runs) {
    for (const auto& [k, v] : r.metrics) metrics.insert(k);
    for (const auto& [k, v] : r.params) params.insert(k);
    for (const auto& [k, v] : r.tags) tags.insert(k);
  }
  std::vector<std::string> cols;
  if (opt.csv) {
    cols = {"run_id", "experiment_id", "run_name", "status", "artifact_uri", "start_time", "end_time"};
    for (const auto& k : metrics) cols.push_back("metrics." + k);
    for (const auto& k : params) cols.push_back("params." + k);
    for (const auto& k : tags) cols.push_back("tags." + k);
    return cols;
  }
  const std::vector<std::string> asked = asked_metrics(opt);
  cols = {"run_id", "run_name"};
  cols.insert(cols.end(), asked.begin(), asked.end());
  cols.insert(cols.end(), {"status", "start_time"});
  for (const auto& k : metrics) {
    if (std::find(asked.begin(), asked.end(), "metrics." + k) == asked.end()) cols.push_back("metrics." + k);
  }
  for (const auto& k : params) cols.push_back("params." + k);
  return cols;
}

// Table headers: `metrics.`, `params.` and `tags.` are dropped where no
// other column would read the same (`episode_reward_mean`, but
// `metrics.lr` and `params.lr` when both are shown); --columns and --csv
// take and give the full names.
std::vector<std::string> table_headers(const std::vector<std::string>& columns) {
  static const std::vector<std::string> kAttributes = {"run_id",     "run_name", "experiment_id",
                                                       "user_id",    "status",   "start_time",
                                                       "end_time",   "artifact_uri", "lifecycle_stage"};
  auto bare = [](const std::string& c) -> std::optional<std::string> {
    for (std::string_view prefix : {"metrics.", "params.", "tags."}) {
      if (c.rfind(prefix, 0) == 0) return unquote(std::string_view(c).substr(prefix.size()));
    }
    return std::nullopt;
  };
  std::map<std::string, int> uses;
  for (const std::string& c : columns) ++uses[bare(c).value_or(c)];
  for (const std::string& a : kAttributes) ++uses[a];
  std::vector<std::string> headers;
  for (const std::string& c : columns) {
    const auto b = bare(c);
    headers.push_back(b && !b->empty() && uses[*b] == 1 ? *b : c);
  }
  return headers;
}

}  // namespace

int run_runs(const RunsOptions& opt) {
  if (!opt.columns.empty() && std::all_of(opt.columns.begin(), opt.columns.end(), [](const std::string& c) { return c.empty(); }))
    throw UsageError("runs: " + empty_list_error("--columns"));  // as CLI11's errors name the verb
  Reader reader = open_reader();
  RunScope scope = run_scope(reader, opt.experiments, opt.view);
  SearchQuery q;
  q.view = scope.view;
  q.experiment_ids = std::move(scope.experiment_ids);
  q.filter = opt.filter;
  q.order_by = opt.order_by;
  std::int64_t max = parse_int64(opt.max_results, "--max");
  if (max < 1 || max > 50000)
    check(Status::invalid_argument("--max " + opt.max_results, "must be between 1 and 50000 (MLflow's limit)"));
  q.max_results = static_cast<std::size_t>(max);
  q.page_token = opt.page_token;
  q.fields.inputs = opt.json;  // the table has no inputs column
  const SearchPage page = check(search_runs(reader, q));

  if (opt.json) {
    machine_out() << dump(runs_search_json(page.runs, page.next_page_token));
    return kExitOk;
  }
  std::vector<std::string> columns;
  for (const std::string& c : opt.columns)
    if (!c.empty()) columns.push_back(c);  // "run_id,run_name," or ", status"
  if (columns.empty()) columns = default_columns(page.runs, opt);
  Table table;
  table.header = opt.csv ? columns : table_headers(columns);
  const std::vector<std::string> asked = asked_metrics(opt);
  for (const std::string& c : columns)
    table.pinned.push_back(std::find(asked.begin(), asked.end(), c) != asked.end());
  for (const Run& r : page.runs) {
    std::vector<std::string> row;
    row.reserve(columns.size());
    for (const std::string& c : columns) row.push_back(cell(r, c, opt.csv));
    table.rows.push_back(std::move(row));
  }
  if (opt.csv) {
    print_csv(machine_out(), table);
  } else {
    const std::size_t hidden = print_table(std::cout, table, terminal_width());
    if (hidden > 0) {
      std::cerr << "mlruns: " << hidden << " column(s) did not fit the terminal; choose with --columns or use --csv\n";
    }
  }
  if (!page.next_page_token.empty()) {
    std::cerr << "mlruns: more runs: add --page-token " << page.next_page_token << '\n';
  }
  return kExitOk;
}

void setup_runs(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<RunsOptions>();
  auto* sub = app.add_subcommand("runs", "Search runs (MLflow filter and order_by) and list them");
  sub->add_option("--experiment,-e", opt->experiments, "Experiment name or id (repeatable; default: all)")
      ->allow_extra_args(false);
  sub->add_option("--filter,-f", opt->filter, "MLflow filter, e.g. \"metrics.loss < 0.1 and params.lr = '0.001'\"");
  sub->add_option("--order-by,-o", opt->order_by, "Sort key, e.g. \"metrics.episode_reward_mean DESC\" (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--max,--max-results", opt->max_results, "At most N runs (default 1000, at most 50000)");
  sub->add_option("--view", opt->view, "Which runs: active, deleted or all")
      ->check(CLI::IsMember({"active", "deleted", "all"}));
  sub->add_option("--page-token", opt->page_token, "Continue after a previous page (printed on stderr, or in --json)");
  comma_list(sub->add_option(
      "--columns,-c", opt->columns,
      "Columns, comma-separated (spaces allowed): run_id, run_name, status, start_time, ..., metrics.K, params.K, tags.K"));
  auto* json = sub->add_flag("--json", opt->json, "MLflow REST runs/search JSON");
  auto* csv = sub->add_flag("--csv", opt->csv, "CSV with every metric, param and tag (times in ms)");
  json->excludes(csv);
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_runs(*opt); });
}

}  // namespace mlruns::cli
