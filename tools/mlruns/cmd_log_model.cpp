// `mlruns log-model RUN_ID PATH`: logs a file or folder as an MLflow model
// (model.h, spec §8.3, §9.2) and prints its URI, runs:/RUN_ID/<artifact path>.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/model.h"
#include "rest_json.h"

namespace mlruns::cli {

struct LogModelOptions {
  std::string run_id;
  std::string path;
  ModelOptions model;
  std::string signature_file;
  std::vector<std::string> metadata;
  std::string format = "both";
  bool json = false;
};

int run_log_model(LogModelOptions opt) {
  check(validate_run_id(opt.run_id));
  if (!opt.signature_file.empty()) {
    std::ifstream in(opt.signature_file, std::ios::binary);
    if (!in) check(Status::not_found("--signature '" + opt.signature_file + "'", "cannot open the file"));
    std::ostringstream text;
    text << in.rdbuf();
    opt.model.signature = text.str();
  }
  opt.model.form = opt.format == "2" ? ModelForm::kMlflow2 : ModelForm::kMlflow2And3;
  for (const std::string& kv : opt.metadata) opt.model.metadata.insert(split_key_value(kv, "--metadata"));
  Store store = open_existing_store();
  const LoggedModel m = check(store.log_model(opt.run_id, opt.path, opt.model));
  if (opt.json) {
    machine_out() << dump(logged_model_json(m));
  } else {
    machine_out() << "runs:/" << m.run_id << "/" << m.artifact_path << '\n';
  }
  return kExitOk;
}

void setup_log_model(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<LogModelOptions>();
  auto* sub = app.add_subcommand("log-model", "Log a file or folder as an MLflow model of a run; prints runs:/RUN_ID/PATH");
  sub->add_option("RUN_ID", opt->run_id, "Run id")->required();
  sub->add_option("PATH", opt->path, "Model file or folder")->required();
  artifact_path_option(sub->add_option("--artifact-path", opt->model.artifact_path, "Folder under the run's artifacts (default: model)"));
  sub->add_option("--flavor", opt->model.flavor,
                  "onnx, torchscript, or a name of your own for any files ([a-z0-9_]; default: mlruns); "
                  "docs/models.md says what MLflow can load");
  sub->add_option("--data", opt->model.data,
                  "The model file inside a folder (default: its only *.onnx / *.pt, *.pth, *.ts file)");
  sub->add_option("--framework-version", opt->model.framework_version, "onnx_version / pytorch_version to record");
  sub->add_option("--onnx-provider", opt->model.onnx_providers,
                  "onnxruntime execution provider for mlflow.pyfunc (repeatable, in order)")
      ->allow_extra_args(false);
  sub->add_option("--signature", opt->signature_file,
                  "File with the model signature, JSON {\"inputs\": [...], \"outputs\": [...]} or YAML");
  sub->add_option("--metadata", opt->metadata, "MLmodel metadata K=V (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--overwrite", opt->model.overwrite, "Replace a model already at --artifact-path");
  sub->add_option("--format", opt->format,
                  "both: MLflow 2.x's form and an MLflow 3.x LoggedModel record of the same files (default); "
                  "2: the 2.x form only (MLflow 3.x's Models tab does not list it)")
      ->check(CLI::IsMember({"both", "2"}));
  sub->add_option("--name", opt->model.name,
                  "Name of the MLflow 3.x LoggedModel (default: the artifact path, / : . % \" ' made _)");
  sub->add_option("--step", opt->model.step, "Step at which the run produced the model, e.g. the epoch (default 0)");
  sub->add_flag("--json", opt->json,
                "JSON: {artifact_path, flavors, model_id, model_uri, model_uuid, run_id, utc_time_created} (mlflow's "
                "ModelInfo names; model_id null with --format 2)");
  add_tracking_uri(*sub);
  add_run_experiment(*sub);
  commands.add(sub, [opt] { return run_log_model(*opt); });
}

}  // namespace mlruns::cli
