// `mlruns log-artifact RUN_ID PATH [--artifact-path P] [--overwrite]` and
// `mlruns log-artifacts RUN_ID DIR [--artifact-path P] [--overwrite]`: MLflow's
// log_artifact (a file, or a directory under its own name) and log_artifacts
// (a directory's contents) into a run's artifacts.
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"

namespace mlruns::cli {

struct LogArtifactOptions {
  std::string run_id;
  std::string path;
  std::string artifact_path;
  bool overwrite = false;
};

int run_log_artifact(const LogArtifactOptions& opt, bool contents) {
  check(validate_run_id(opt.run_id));
  if (!opt.artifact_path.empty()) check(validate_artifact_path(opt.artifact_path));
  Store store = open_existing_store();
  Overwrite ow = opt.overwrite ? Overwrite::kReplace : Overwrite::kRefuse;
  check(contents ? store.log_artifacts(opt.run_id, opt.path, opt.artifact_path, ow)
                 : store.log_artifact(opt.run_id, opt.path, opt.artifact_path, ow));
  return kExitOk;
}

void setup_log_artifact(CLI::App& app, Commands& commands) {
  for (bool contents : {false, true}) {
    auto opt = std::make_shared<LogArtifactOptions>();
    auto* sub = contents
                    ? app.add_subcommand("log-artifacts",
                                         "Copy a directory's contents into a run's artifacts (MLflow's log_artifacts)")
                    : app.add_subcommand("log-artifact",
                                         "Copy a file, or a directory under its own name, into a run's artifacts "
                                         "(MLflow's log_artifact)");
    sub->add_option("RUN_ID", opt->run_id, "Run id")->required();
    sub->add_option(contents ? "DIR" : "PATH", opt->path, contents ? "Local directory" : "Local file or directory")
        ->required();
    artifact_path_option(sub->add_option("--artifact-path", opt->artifact_path,
                                         "Folder under the run's artifacts to copy into (default: the root)"));
    sub->add_flag("--overwrite", opt->overwrite,
                  "Replace artifact files that exist (default: refuse with exit 5, naming the file, copying nothing)");
    add_tracking_uri(*sub);
    add_run_experiment(*sub);
    commands.add(sub, [opt, contents] { return run_log_artifact(*opt, contents); });
  }
}

}  // namespace mlruns::cli
