// `mlruns download URI [-d DIR]`: a model's files by MLflow URI
// (models:/NAME/3, models:/NAME@champion, models:/NAME/Production,
// runs:/RUN_ID/path) copied into DIR/<its folder name>, complete or not at
// all; prints the local path on stdout.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "models_cli.h"
#include "rest_json.h"

namespace mlruns::cli {

struct DownloadCliOptions {
  std::string uri;
  std::string local_path = ".";
  bool overwrite = false;
  bool json = false;
};

int run_download(const DownloadCliOptions& opt) {
  Reader reader = open_reader();
  // Resolved once: an alias moved meanwhile never mixes two versions.
  const Reader::ModelLocation loc = check(reader.resolve_model_uri(opt.uri));
  if (loc.version)
    std::cerr << "  " << opt.uri << " is " << loc.version->name << " version " << loc.version->version << '\n';
  const DownloadResult d = download_with_progress(
      [&](const DownloadOptions& o) { return download_model(reader, loc, opt.local_path, o); }, opt.overwrite);
  if (opt.json) {
    Json j;
    j["uri"] = opt.uri;
    j["local_path"] = d.local_path;
    j["files"] = d.files;
    j["bytes"] = d.bytes;
    if (!loc.run_id.empty()) j["run_id"] = loc.run_id;
    if (!loc.artifact_path.empty()) j["artifact_path"] = loc.artifact_path;
    if (loc.version) j["model_version"] = model_version_json(*loc.version);
    machine_out() << dump(j);
  } else {
    machine_out() << d.local_path << '\n';
  }
  return kExitOk;
}

void setup_download(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<DownloadCliOptions>();
  auto* sub = app.add_subcommand(
      "download", "Download a model by URI (models:/NAME/3, models:/NAME@ALIAS, models:/NAME/STAGE, models:/m-<id>, runs:/RUN/PATH)");
  sub->add_option("URI", opt->uri, "models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/STAGE|latest, models:/m-<id> (a logged model), runs:/RUN_ID/PATH")
      ->required();
  sub->add_option("--local-path,-d", opt->local_path, "Directory to download into (default: .)");
  sub->add_flag("--overwrite", opt->overwrite, "Replace an existing download (atomically)");
  sub->add_flag("--json", opt->json,
                "JSON: {uri, local_path, files, bytes, run_id, artifact_path, model_version (model-versions/get shape)}");
  add_tracking_uri(*sub);
  add_run_experiment(*sub);
  commands.add(sub, [opt] { return run_download(*opt); });
}

}  // namespace mlruns::cli
