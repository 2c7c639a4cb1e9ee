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

// Points are streamed from the files (Reader::for_each_metric_point) and
// printed as they come, so memory stays bounded whatever the history's size
// (issue 15 item 3: a 200 MB file took 9.3 GB with --csv). The table reads
// the files twice: once for the column widths, once to print.
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
    write_terminal_chart(machine_out(), chart, t);
    return kExitOk;
  }
  for (const std::string& k : opt.keys) {
    if (run.metrics.find(k) == run.metrics.end()) {
      check(Status::not_found("metric '" + k + "' of run " + opt.run_id, "the run has no such metric"));
    }
  }
  auto each_point = [&](const std::function<void(const Metric&)>& on_point) {
    for (const std::string& k : opt.keys) check(reader.for_each_metric_point(opt.run_id, k, on_point));
  };
  auto row_of = [&](const Metric& m) -> std::vector<std::string> {
    return {m.key, std::to_string(m.step), opt.csv ? std::to_string(m.timestamp) : format_time_ms(m.timestamp),
            py_float(m.value)};
  };
  const std::vector<std::string> header = {"key", "step", "timestamp", "value"};
  if (opt.json) {
    // {"metrics": [...]} exactly as dump() would print the whole object, one element at a time.
    std::ostream& out = machine_out();
    bool first = true;
    each_point([&](const Metric& m) {
      out << (first ? "{\n  \"metrics\": [\n" : ",\n");
      first = false;
      std::string element = dump(metric_json(m, opt.run_id));
      element.pop_back();  // dump's final '\n'
      std::size_t start = 0;
      for (;;) {
        std::size_t nl = element.find('\n', start);
        out << "    " << std::string_view(element).substr(start, nl == std::string::npos ? nl : nl - start);
        if (nl == std::string::npos) break;
        out << '\n';
        start = nl + 1;
      }
    });
    out << (first ? "{}\n" : "\n  ]\n}\n");
    return kExitOk;
  }
  if (opt.csv) {
    std::ostream& out = machine_out();
    print_csv_row(out, header);
    each_point([&](const Metric& m) { print_csv_row(out, row_of(m)); });
    return kExitOk;
  }
  std::vector<std::size_t> natural;
  for (const std::string& h : header) natural.push_back(display_width(h));
  const std::vector<std::size_t> header_widths = natural;
  each_point([&](const Metric& m) {
    const std::vector<std::string> row = row_of(m);
    for (std::size_t c = 0; c < row.size(); ++c) natural[c] = std::max(natural[c], display_width(row[c]));
  });
  const TableLayout layout = layout_table(std::move(natural), terminal_width(), header_widths);
  print_table_row(std::cout, layout, header);
  each_point([&](const Metric& m) { print_table_row(std::cout, layout, row_of(m)); });
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
  add_run_experiment(*sub);
  commands.add(sub, [opt] { return run_history(*opt); });
}

}  // namespace mlruns::cli
