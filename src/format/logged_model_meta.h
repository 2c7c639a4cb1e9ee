// MLflow 3.x LoggedModel records in the file store (spec §9.2;
// mlflow/store/tracking/file_store.py create_logged_model,
// finalize_logged_model, delete_logged_model, log_outputs, and
// mlflow/entities/logged_model.py): <exp>/models/<model_id>/meta.yaml and
// the run's outputs/<model_id>/meta.yaml link, byte for byte as MLflow 3.8
// writes them (yaml.safe_dump, keys sorted). Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mlruns/status.h"

namespace mlruns::detail {

inline constexpr std::string_view kLoggedModelsDir = "models";  // <exp>/models/
inline constexpr std::string_view kRunOutputsDir = "outputs";   // <run>/outputs/

// LoggedModelStatus (mlflow/entities/logged_model_status.py), as meta.yaml stores it.
inline constexpr int kLoggedModelPending = 1;
inline constexpr int kLoggedModelReady = 2;

// <exp>/models/<model_id>/meta.yaml (LoggedModel.to_dictionary without
// tags, params and metrics).
struct LoggedModelRecord {
  std::string model_id;           // m-<32 hex>
  std::string name;
  std::string experiment_id;
  std::string source_run_id;      // empty: null
  std::string artifact_location;  // a URI
  std::int64_t creation_timestamp = 0;      // ms
  std::int64_t last_updated_timestamp = 0;  // ms
  int status = kLoggedModelReady;
  std::optional<std::string> model_type;      // null when absent
  std::optional<std::string> status_message;  // null when absent
  // Written only at creation ("active", dropped by finalize) and by delete
  // ("deleted"); absent means active (spec §9.2).
  std::optional<std::string> lifecycle_stage;
};

// The meta.yaml bytes of `record` (spec §9.2's example, key for key).
std::string render_logged_model_meta(const LoggedModelRecord& record);

// What a reader needs from any MLflow 3.x writer's meta.yaml. kCorruption:
// not a YAML mapping, or no model_id. Missing fields stay empty/0.
Result<LoggedModelRecord> parse_logged_model_meta(std::string_view text);

// <run>/outputs/<model_id>/meta.yaml: the run produced the model at `step`
// (FileStore._FileStoreOutput.write_yaml: both ids are the model's).
std::string render_run_output_meta(std::string_view model_id, std::int64_t step);

// True for the ids MLflow generates, "m-" and 32 lower-case hex digits.
// An id read from a file (an MLmodel's model_id) is joined to a path only
// when this holds.
bool is_logged_model_id(std::string_view id);

// MLflow's _validate_logged_model_name: non-empty, none of / : . % " '.
// kInvalidArgument naming the value and the rule.
Status validate_logged_model_name(std::string_view name);

// The name MLflow 3.x would be given for a model logged at `artifact_path`
// (log_model(name=...) replaced artifact_path): the path with each of
// / : . % " ' made '_'.
std::string logged_model_name_for(std::string_view artifact_path);

}  // namespace mlruns::detail
