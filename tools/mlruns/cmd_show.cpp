// `mlruns show RUN_ID`: everything about one run, or MLflow's runs/get JSON.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "rest_json.h"

namespace mlruns::cli {

struct ShowOptions {
  std::string run_id;
  bool json = false;
};

int run_show(const ShowOptions& opt) {
  check(validate_run_id(opt.run_id));
  Reader reader = open_reader();
  const Run run = check(reader.run(opt.run_id));
  if (opt.json) {
    machine_out() << dump(runs_get_json(run));
    return kExitOk;
  }
  const RunInfo& i = run.info;
  Table info;
  info.header = {"run_id", i.run_id};
  info.rows = {{"run_name", i.run_name},
               {"experiment_id", i.experiment_id},
               {"status", std::string(to_string(i.status))},
               {"lifecycle_stage", std::string(to_string(i.lifecycle_stage))},
               {"user_id", i.user_id},
               {"start_time", format_time_ms(i.start_time) + " (" + std::to_string(i.start_time) + ")"},
               {"end_time", i.end_time ? format_time_ms(*i.end_time) + " (" + std::to_string(*i.end_time) + ")"
                                       : std::string("-")},
               {"artifact_uri", i.artifact_uri}};
  print_table(std::cout, info, 0);
  const std::size_t width = terminal_width();
  if (!run.params.empty()) {
    Table t;
    t.header = {"param", "value"};
    for (const auto& [k, v] : run.params) t.rows.push_back({k, v});
    std::cout << '\n';
    print_table(std::cout, t, width);
  }
  if (!run.metrics.empty()) {
    Table t;
    t.header = {"metric", "value", "step", "timestamp"};
    for (const auto& [k, m] : run.metrics) {
      t.rows.push_back({k, py_float(m.value), std::to_string(m.step), format_time_ms(m.timestamp)});
    }
    std::cout << '\n';
    print_table(std::cout, t, width);
  }
  if (!run.tags.empty()) {
    Table t;
    t.header = {"tag", "value"};
    for (const auto& [k, v] : run.tags) t.rows.push_back({k, v});
    std::cout << '\n';
    print_table(std::cout, t, width);
  }
  if (!run.dataset_inputs.empty()) {
    Table t;
    t.header = {"dataset", "digest", "context", "source_type"};
    for (const DatasetInput& in : run.dataset_inputs) {
      auto context = in.tags.find("mlflow.data.context");
      t.rows.push_back({in.dataset.name, in.dataset.digest, context != in.tags.end() ? context->second : "-",
                        in.dataset.source_type});
    }
    std::cout << '\n';
    print_table(std::cout, t, width);
  }
  return kExitOk;
}

void setup_show(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<ShowOptions>();
  auto* sub = app.add_subcommand("show", "Show a run: info, params, latest metrics, tags, dataset inputs");
  sub->add_option("RUN_ID", opt->run_id, "Run id")->required();
  sub->add_flag("--json", opt->json, "MLflow REST runs/get JSON");
  add_tracking_uri(*sub);
  add_run_experiment(*sub);
  commands.add(sub, [opt] { return run_show(*opt); });
}

}  // namespace mlruns::cli
