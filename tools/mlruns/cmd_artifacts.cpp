// `mlruns artifacts RUN_ID [PATH]`: a run's artifact listing.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "rest_json.h"

namespace mlruns::cli {

struct ArtifactsOptions {
  std::string run_id;
  std::string path;
  bool recursive = false;
  bool json = false;
};

int run_artifacts(const ArtifactsOptions& opt) {
  check(validate_run_id(opt.run_id));
  if (!opt.path.empty()) check(validate_artifact_path(opt.path));
  Reader reader = open_reader();
  const std::vector<ArtifactEntry> files = check(reader.list_artifacts(opt.run_id, opt.path, opt.recursive));
  if (opt.json) {
    // root_uri is the run's recorded artifact_uri, as MLflow's server answers.
    const Run run = check(reader.run(opt.run_id));
    machine_out() << dump(artifacts_list_json(run.info.artifact_uri, files));
    return kExitOk;
  }
  Table t;
  t.header = {"path", "size"};
  for (const ArtifactEntry& f : files) {
    t.rows.push_back({f.is_dir ? f.path + "/" : f.path, f.is_dir ? std::string("-") : std::to_string(f.size)});
  }
  print_table(std::cout, t, 0);
  return kExitOk;
}

void setup_artifacts(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<ArtifactsOptions>();
  auto* sub = app.add_subcommand("artifacts", "List a run's artifacts (directories end in /)");
  sub->add_option("RUN_ID", opt->run_id, "Run id")->required();
  artifact_path_option(sub->add_option("PATH", opt->path, "Folder under the run's artifacts (default: the root)"));
  sub->add_flag("--recursive,-r", opt->recursive, "List every file below, not only direct children");
  sub->add_flag("--json", opt->json, "MLflow REST artifacts/list JSON");
  add_tracking_uri(*sub);
  add_run_experiment(*sub);
  commands.add(sub, [opt] { return run_artifacts(*opt); });
}

}  // namespace mlruns::cli
