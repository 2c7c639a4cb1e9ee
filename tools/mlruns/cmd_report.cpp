// `mlruns report`: one self-contained HTML page of a sweep (runs table,
// learning curves, params against the ranking metric, the best run), for
// looking at runs where no MLflow server can be opened.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/report.h"
#include "mlruns/search.h"
#include "rest_json.h"

namespace mlruns::cli {

struct ReportCliOptions {
  std::vector<std::string> experiments;
  std::string filter;
  std::vector<std::string> order_by;
  std::vector<std::string> metrics;
  std::size_t max_runs = 1000;
  std::string view = "active";
  std::string x_axis = "step";
  bool log_y = false;
  std::size_t points_per_line = kDefaultPointsPerLine;
  std::size_t points_per_page = kDefaultPointsPerPage;
  std::string title;
  std::string output;
  bool json = false;
};

namespace {

XAxis parse_x_axis(const std::string& x) { return x == "time" ? XAxis::kRelativeTime : XAxis::kStep; }

}  // namespace

int run_report(const ReportCliOptions& opt) {
  Reader reader = open_reader();
  ReportOptions ro;
  RunScope scope = run_scope(reader, opt.experiments, opt.view);
  ro.view = scope.view;
  ro.experiment_ids = std::move(scope.experiment_ids);
  if (ro.experiment_ids.empty()) check(Status::not_found("report", "the tree has no experiment"));
  ro.filter = opt.filter;
  ro.order_by = opt.order_by;
  ro.metrics = opt.metrics;
  ro.max_runs = opt.max_runs;
  ro.x_axis = parse_x_axis(opt.x_axis);
  ro.log_y = opt.log_y;
  ro.points_per_line = opt.points_per_line;
  ro.points_per_page = opt.points_per_page;
  ro.title = opt.title;
  Progress progress([](std::uint64_t done, std::uint64_t total) {
    return "report: read the histories of " + std::to_string(done) + " / " + std::to_string(total) + " runs";
  });
  ro.on_progress = [&progress](std::size_t done, std::size_t total) { progress(done, total); };

  ReportSummary summary;
  std::uint64_t bytes = 0;
  if (opt.output == "-") {
    summary = check(write_report(reader, ro, machine_out()));
  } else {
    // Written beside the target and renamed over it once complete: an
    // interrupted report never replaces a good one with half a page.
    const std::string tmp = opt.output + ".tmp-" + std::to_string(::getpid());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) check(Status::io_error(opt.output, "cannot create " + tmp));
      Result<ReportSummary> r = write_report(reader, ro, out);
      out.close();
      if (!r || !out) {
        std::remove(tmp.c_str());
        check(r ? Status::io_error(opt.output, "could not write the report (disk full?)") : r.error());
      }
      summary = *r;
      bytes = static_cast<std::uint64_t>(std::ifstream(tmp, std::ios::binary | std::ios::ate).tellg());
    }
    if (std::rename(tmp.c_str(), opt.output.c_str()) != 0) {
      std::remove(tmp.c_str());
      check(Status::from_errno(opt.output, errno));
    }
  }
  progress.finish();
  if (opt.json) {
    Json j{{"output", opt.output},       {"bytes", bytes},
           {"runs", summary.runs},       {"more_runs", summary.more_runs},
           {"charts", summary.charts},   {"points_read", summary.points_read},
           {"points_drawn", summary.points_drawn}};
    if (summary.best_run_id) j["best_run_id"] = *summary.best_run_id;
    if (opt.output != "-") machine_out() << dump(j);
    else std::cerr << dump(j);
  } else if (opt.output != "-") {
    std::cerr << "mlruns: report of " << summary.runs << " runs, " << summary.charts << (summary.charts == 1 ? " metric chart (" : " metric charts (")
              << summary.points_read << " points read, " << summary.points_drawn << " drawn on linear and log charts), "
              << format_bytes(bytes) << '\n';
    if (summary.more_runs > 0)
      std::cerr << "mlruns: " << summary.more_runs << " more runs match; raise --max to include them\n";
    machine_out() << opt.output << '\n';
  }
  return kExitOk;
}

void setup_report(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<ReportCliOptions>();
  auto* sub = app.add_subcommand(
      "report", "Write one self-contained HTML page of runs: table, learning curves, params, the best run");
  sub->add_option("--experiment,-e", opt->experiments, "Experiment name or id (repeatable; default: all)")
      ->allow_extra_args(false);
  sub->add_option("--filter,-f", opt->filter, "MLflow filter the runs must match");
  sub->add_option("--order-by", opt->order_by,
                  "Sort key (repeatable); the first, if a metric, ranks: e.g. \"metrics.episode_reward_mean DESC\"")
      ->allow_extra_args(false);
  sub->add_option("--metric,-m", opt->metrics, "Metric to chart (repeatable; default: the ranking metric and others, 6 in all)")
      ->allow_extra_args(false);
  sub->add_option("--max,--max-results", opt->max_runs, "At most N runs (default 1000, at most 50000)")
      ->check(CLI::Range(std::size_t{1}, kMaxSearchResults));
  sub->add_option("--view", opt->view, "Which runs: active (default), deleted or all")
      ->check(CLI::IsMember({"active", "deleted", "all"}));
  sub->add_option("--x", opt->x_axis, "x axis of the charts: step (default) or time (since each run's first point)")
      ->check(CLI::IsMember({"step", "time"}));
  sub->add_flag("--log", opt->log_y, "Open the charts on a log scale (the page can switch)");
  sub->add_option("--points-per-line", opt->points_per_line,
                  "Downsampling: at most N points per line (default 500; min/max per bucket)")
      ->check(CLI::Range(kMinPointsPerLine, std::size_t{1} << 30));
  sub->add_option("--points-per-page", opt->points_per_page,
                  "Downsampling: at most N points on the page in all (default 200000)")
      ->check(CLI::Range(kMinPointsPerLine, std::size_t{1} << 30));
  sub->add_option("--title", opt->title, "Page title (default: mlruns report: <experiments>)");
  sub->add_option("--output,-o", opt->output, "HTML file to write (replaced atomically), or - for stdout")->required();
  sub->add_flag("--json", opt->json,
                "Print {output, bytes, runs, more_runs, charts, points_read, points_drawn, best_run_id} on stdout");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_report(*opt); });
}

}  // namespace mlruns::cli
