// `mlruns history RUN_ID KEY...`: every logged point of metrics, in file order.
#include <algorithm>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "rest_json.h"

namespace mlruns::cli {

struct HistoryOptions {
  std::string run_id;
  std::vector<std::string> keys;
  bool json = false;
  bool csv = false;
  bool plot = false;
  bool ascii = false;
  std::string x_axis = "step";
};

int run_history(const HistoryOptions& opt) {
  check(validate_run_id(opt.run_id));
  for (const std::string& k : opt.keys) check(validate_key_name("metric key", k, NameRules::kMlflow));
  Reader reader = open_reader();
  const Run run = check(reader.run(opt.run_id));  // an unknown run is an error, not an empty history
  if (opt.plot) {
    // Every point of each history (the terminal is the budget: at most
    // 2 dots per column matter), one line per key.
    const TerminalChartOptions t = terminal_chart_options(0, 0, opt.ascii);
    Chart chart = check(metric_chart(reader, opt.run_id, opt.keys,
                                     opt.x_axis == "time" ? XAxis::kRelativeTime : XAxis::kStep,
                                     static_cast<std::size_t>(std::max(kMinPointsPerLine, std::size_t(t.width) * 4))));
    chart.title = run.info.run_name.empty() ? run.info.run_id : run.info.run_name + " (" + run.info.run_id + ")";
    write_terminal_chart(std::cout, chart, t);
    return kExitOk;
  }
  std::vector<Metric> points;
  for (const std::string& k : opt.keys) {
    if (run.metrics.find(k) == run.metrics.end()) {
      check(Status::not_found("metric '" + k + "' of run " + opt.run_id, "the run has no such metric"));
    }
    std::vector<Metric> h = check(reader.metric_history(opt.run_id, k));
    points.insert(points.end(), h.begin(), h.end());
  }
  if (opt.json) {
    std::cout << dump(metric_history_json(points, opt.run_id));
    return kExitOk;
  }
  Table t;
  t.header = {"key", "step", "timestamp", "value"};
  for (const Metric& m : points) {
    t.rows.push_back({m.key, std::to_string(m.step),
                      opt.csv ? std::to_string(m.timestamp) : format_time_ms(m.timestamp), py_float(m.value)});
  }
  if (opt.csv) {
    print_csv(std::cout, t);
  } else {
    print_table(std::cout, t, terminal_width());
  }
  return kExitOk;
}

void setup_history(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<HistoryOptions>();
  auto* sub = app.add_subcommand("history", "Every logged point of one or more metrics of a run");
  sub->add_option("RUN_ID", opt->run_id, "Run id")->required();
  sub->add_option("KEY", opt->keys, "Metric key (one or more)")->required();
  auto* json = sub->add_flag("--json", opt->json, "MLflow REST metrics history JSON ({\"metrics\": [...]})");
  auto* csv = sub->add_flag("--csv", opt->csv, "CSV: key,step,timestamp,value (timestamp in ms)");
  auto* plot = sub->add_flag("--plot", opt->plot,
                             "Draw the histories in the terminal (braille in UTF-8 locales, else ASCII)");
  sub->add_flag("--ascii", opt->ascii, "With --plot: ASCII marks instead of braille");
  sub->add_option("--x", opt->x_axis, "With --plot: x axis step (default) or time")
      ->check(CLI::IsMember({"step", "time"}));
  json->excludes(csv);
  plot->excludes(json);
  plot->excludes(csv);
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_history(*opt); });
}

}  // namespace mlruns::cli
