// Logging a model to a run (spec §8.3), so that MLflow shows it as a model
// (the run's "Models" column and logged-models box, "Register model" on the
// artifact folder, in the UI of MLflow 2.x and 3.x) and its Python users can
// load it:
//
//   mlruns::ModelOptions mo{.artifact_path = "model", .flavor = "onnx"};
//   mlruns::LoggedModel m = *run.log_model("export/policy.onnx", mo);
//   // -> artifacts/model/policy.onnx, artifacts/model/MLmodel,
//   //    and an entry in the run's mlflow.log-model.history tag
//
// The file or folder is copied under artifacts/<artifact_path>/ with an
// MLmodel file as MLflow 2.x writes it (artifact_path, flavors, metadata,
// mlflow_version, model_size_bytes, model_uuid, run_id, signature,
// utc_time_created); the folder is built aside and renamed into place, so a
// reader never sees half a model. The history entry is appended under the
// run's lock (<run>/.mlruns-lock-log-model-history, Env::lock_file), so
// concurrent log_model calls on one run, from any process or node, never
// lose one (where the file system has no locks, the entry is read back and
// appended again if a concurrent writer dropped it).
//
// By default (ModelForm::kMlflow2And3) the model is also recorded as an
// MLflow 3.x LoggedModel (spec §9.2), so that MLflow 3.x's experiment
// "Models" tab, search_logged_models and models:/<model_id> find it:
// <exp>/models/<model_id>/ (meta.yaml READY, the run's user and source
// tags, the run's params) whose artifact_location is the same
// artifacts/<artifact_path> folder (one copy of the bytes serves both forms),
// MLmodel's model_id, and the run's outputs/<model_id>/ link. Each is
// written whole in a staging folder and renamed into place, after the model
// files: a reader that sees the record sees complete files. With overwrite,
// the record of the model replaced is marked deleted (as
// MlflowClient.delete_logged_model), its files being gone.
//
// Flavors (docs/models.md says what Python can do with each):
//   "onnx"        onnx + python_function (loader_module mlflow.onnx):
//                 mlflow.onnx.load_model(uri) returns the onnx.ModelProto;
//                 mlflow.pyfunc.load_model(uri) runs it with onnxruntime.
//   "torchscript" pytorch + python_function (loader_module mlflow.pytorch):
//                 mlflow.pytorch.load_model(uri) returns the ScriptModule
//                 (torch.load dispatches TorchScript archives to
//                 torch.jit.load; torch >= 2.6 needs weights_only=False).
//   another name  a flavor of its own for any files (TensorRT engines, a
//                 solver's weights): the UI lists and registers it, and
//                 mlflow.artifacts.download_artifacts(uri) fetches it; no
//                 MLflow loader applies. Names of MLflow's own flavors
//                 (sklearn, pytorch, python_function ...) are refused.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlruns {

// Which of MLflow's forms log_model writes (docs/models.md "What MLflow 2.x
// and 3.x see").
enum class ModelForm {
  // The 2.x form (files, MLmodel, the run's mlflow.log-model.history tag)
  // and the 3.x LoggedModel record of the same files. MLflow 2.x ignores
  // the 3.x parts (spec §9.2).
  kMlflow2And3,
  // The 2.x form only, as mlruns wrote before: MLflow 3.x's Models tab does
  // not list the model.
  kMlflow2,
};

struct ModelOptions {
  // Where the model goes: artifacts/<artifact_path>/ (runs:/<run>/<artifact_path>).
  std::string artifact_path = "model";
  // "onnx", "torchscript", or the name of a generic flavor ([a-z0-9_], at
  // most 64 characters, not one of MLflow's own).
  std::string flavor = "mlruns";
  // The model file, relative to the model folder (the flavor's `data` or
  // `model_data`). Default: the name of a logged file; for a folder, its
  // only top-level *.onnx (onnx) or *.pt / *.pth / *.ts (torchscript) file;
  // none for a generic flavor's folder.
  std::string data{};
  // onnx_version / pytorch_version in the flavor (e.g. TORCH_VERSION of
  // LibTorch). torchscript writes "unknown" when empty (mlflow.pytorch
  // requires the key and only warns when it differs); onnx leaves it out.
  std::string framework_version{};
  // onnx: the execution providers mlflow.pyfunc asks onnxruntime for;
  // empty: MLflow's default, CUDAExecutionProvider then CPUExecutionProvider.
  std::vector<std::string> onnx_providers{};
  // A model signature as JSON ({"inputs": [...], "outputs": [...],
  // "params": [...]}, the specs of mlflow/types/schema.py) or as the YAML of
  // an MLmodel's signature: section. Empty: none.
  std::string signature{};
  // MLmodel `metadata` (string values); keys: 1-100 bytes, one line.
  std::map<std::string, std::string> metadata{};
  // Replace a model (or files) already at artifact_path; otherwise that is
  // kAlreadyExists. The old folder is moved aside first, so the path holds
  // the old or the new model except for the instant between two renames.
  bool overwrite = false;
  // Which forms to write; the rest of these options apply to kMlflow2And3.
  ModelForm form = ModelForm::kMlflow2And3;
  // The 3.x LoggedModel's name (MLflow's rule: not empty, none of
  // / : . % " '). Empty: artifact_path with each of those made '_'.
  std::string name{};
  // The step at which the run produced the model (the outputs link's step,
  // as mlflow.<flavor>.log_model(step=...)); e.g. the epoch.
  std::int64_t step = 0;
};

}  // namespace mlruns
