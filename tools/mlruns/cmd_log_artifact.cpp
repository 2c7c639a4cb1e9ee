// `mlruns log-artifact RUN_ID PATH [--artifact-path P]`: copies a file or a
// directory into the run's artifacts.
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"

namespace mlruns::cli {

struct LogArtifactOptions {
  std::string run_id;
  std::string path;
  std::string artifact_path;
};

int run_log_artifact(const LogArtifactOptions& opt) {
  check(validate_run_id(opt.run_id));
  if (!opt.artifact_path.empty()) check(validate_artifact_path(opt.artifact_path));
  Store store = open_existing_store();
  check(store.log_artifact(opt.run_id, opt.path, opt.artifact_path));
  return kExitOk;
}

void setup_log_artifact(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<LogArtifactOptions>();
  auto* sub = app.add_subcommand("log-artifact", "Copy a file or directory into a run's artifacts");
  sub->add_option("RUN_ID", opt->run_id, "Run id")->required();
  sub->add_option("PATH", opt->path, "Local file or directory")->required();
  sub->add_option("--artifact-path", opt->artifact_path,
                  "Folder under the run's artifacts to copy into (default: the root)");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_log_artifact(*opt); });
}

}  // namespace mlruns::cli
