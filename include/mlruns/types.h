// The values an mlruns tree holds: experiments, runs, metrics. Plain structs,
// shared by the writer (store.h) and the reader (reader.h); field meanings
// follow MLflow's entities (spec §3.1, §4.1, §5.1).
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mlruns {

// MLflow's RunStatus enum; the numbers are what meta.yaml stores (spec §4.1).
enum class RunStatus { kRunning = 1, kScheduled = 2, kFinished = 3, kFailed = 4, kKilled = 5 };

// "RUNNING", "FINISHED", ...
std::string_view to_string(RunStatus status);
// Parses "FINISHED" etc. (upper case, as MLflow spells them).
std::optional<RunStatus> parse_run_status(std::string_view name);
// Validates a meta.yaml integer (1..5).
std::optional<RunStatus> run_status_from_int(std::int64_t value);

enum class LifecycleStage { kActive, kDeleted };
std::string_view to_string(LifecycleStage stage);  // "active", "deleted"

// A metric value or float param as MLflow writes it into the tree: Python's
// repr(float) (spec appendix A): 7.0, 0.30000000000000004, 1e-05, 1.5e+300,
// nan, inf, -inf. Locale-free. Print values with it to show them as MLflow does.
std::string python_repr(double value);

// The same for a float (32 bits): the shortest text that reads back as the
// same float, in Python's format, as Python's str() of a numpy float32
// writes it: 0.1f -> "0.1" (not 0.10000000149011612), 1e-05, 100.0.
std::string python_repr_float32(float value);

// Character types: their values are ambiguous (a character or its code), so
// the value overloads below refuse them at compile time. Pass
// std::string(1, c) for the character or int(c) for the code.
template <typename T>
concept CharType = std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
                   std::same_as<T, char16_t> || std::same_as<T, char32_t>;
// bool, every integer type (int8_t ... uint64_t, size_t, long long ...) and
// every floating-point type.
template <typename T>
concept PythonNumber = std::is_arithmetic_v<T> && !CharType<T>;

// Python's str() of a number, which is what MLflow writes for a param or tag
// value (spec §5.2): bool -> "True"/"False"; an integer -> its decimal
// digits; a float -> python_repr_float32; a double (or long double, as a
// double) -> python_repr.
template <PythonNumber T>
std::string python_str(T value) {
  if constexpr (std::same_as<T, bool>) {
    return value ? "True" : "False";
  } else if constexpr (std::same_as<T, float>) {
    return python_repr_float32(value);
  } else if constexpr (std::is_floating_point_v<T>) {
    return python_repr(static_cast<double>(value));
  } else {
    return std::to_string(value);
  }
}

// Python's float(text), as MLflow's reader and clients parse numbers: optional
// surrounding whitespace and sign, decimal and exponent forms with "_"
// between digits, "nan", "inf", "infinity" in any case. Out of range is what
// Python gives: 1e400 -> inf, 1e-400 -> 0.0. nullopt for what Python refuses.
std::optional<double> parse_python_float(std::string_view text);
// Python's int(text) in the int64 range: optional surrounding whitespace and
// sign, decimal digits with "_" between them. nullopt otherwise.
std::optional<std::int64_t> parse_python_int(std::string_view text);

// Which experiments or runs a listing covers (MLflow's ViewType).
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };

struct Experiment {
  std::string experiment_id{};
  std::string name{};
  std::string artifact_location{};
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  std::optional<std::int64_t> creation_time{};     // ms; missing in very old trees
  std::optional<std::int64_t> last_update_time{};  // ms
  std::map<std::string, std::string> tags{};
};

struct RunInfo {
  std::string run_id{};
  std::string run_name{};
  std::string experiment_id{};
  std::string user_id{};
  RunStatus status = RunStatus::kRunning;
  std::int64_t start_time = 0;              // ms
  std::optional<std::int64_t> end_time{};     // ms; null while running
  std::optional<std::int64_t> deleted_time{}; // ms; only while deleted
  std::string artifact_uri{};
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

// One logged point of a metric.
struct Metric {
  std::string key{};
  double value = 0;
  std::int64_t timestamp = 0;  // ms
  std::int64_t step = 0;
  // Set only when read from a 5-field line (MLflow >= 3.0 logs a dataset
  // with the point, spec §5.1); MLflow's REST API returns them too.
  std::string dataset_name{};
  std::string dataset_digest{};
};

// A dataset as mlflow.log_input records it, once per experiment in
// <exp>/datasets/<id>/meta.yaml (spec §9.1). Field meanings follow MLflow's
// Dataset entity: source, schema and profile are JSON strings; schema and
// profile are absent where MLflow wrote null.
struct Dataset {
  std::string name{};
  std::string digest{};
  std::string source_type{};  // "local", "http", "code", ...
  std::string source{};
  std::optional<std::string> schema{};
  std::optional<std::string> profile{};
};

// One dataset input of a run (<run>/inputs/<id>/meta.yaml, spec §9.1), as
// MLflow's DatasetInput: the dataset and the input's tags, such as
// mlflow.data.context ("training", "eval", ...).
struct DatasetInput {
  Dataset dataset{};
  std::map<std::string, std::string> tags{};
};

// A run as search and ranking see it. Which maps are filled depends on what
// the caller asked the reader to load (reader.h: RunFields).
struct Run {
  RunInfo info{};
  std::map<std::string, std::string> params{};
  std::map<std::string, std::string> tags{};
  std::map<std::string, Metric> metrics{};  // latest value per key (spec §5.1)
  // MLflow's run.inputs.dataset_inputs, ordered by input folder name. Model
  // inputs (MLflow >= 3.0) are not datasets and are not listed here.
  std::vector<DatasetInput> dataset_inputs{};
};

// ---- Models (spec §8.3, §9.4) ----------------------------------------------

// One model logged to a run: an entry of the run's mlflow.log-model.history
// tag, describing artifacts/<artifact_path>/MLmodel (spec §8.3).
struct LoggedModel {
  std::string run_id{};
  std::string artifact_path{};     // "model": runs:/<run_id>/<artifact_path>
  std::string model_uuid{};        // 32 hex digits
  std::string utc_time_created{};  // "2026-01-15 10:20:30.123000" (UTC)
  std::vector<std::string> flavors{};  // e.g. {"python_function", "onnx"}
  // The MLflow 3.x LoggedModel record of the same files (models:/<model_id>,
  // spec §9.2), from MLmodel's model_id; empty when only the 2.x form was
  // written.
  std::string model_id{};
};

// A model version's 2.x stage (MLflow's current_stage; deprecated in MLflow
// 2.9 in favour of aliases, still read and written by 2.x and 3.x).
enum class ModelStage { kNone, kStaging, kProduction, kArchived };
// "None", "Staging", "Production", "Archived" (as meta.yaml stores them).
std::string_view to_string(ModelStage stage);
// Case-insensitive, as MLflow's get_canonical_stage: "production" -> kProduction.
std::optional<ModelStage> parse_model_stage(std::string_view name);

// <root>/models/<name>/version-<n>/ (spec §9.4), as MLflow's ModelVersion.
struct ModelVersion {
  std::string name{};
  std::int64_t version = 0;
  std::int64_t creation_timestamp = 0;      // ms
  std::int64_t last_updated_timestamp = 0;  // ms
  ModelStage current_stage = ModelStage::kNone;
  std::optional<std::string> description{};   // null and "" differ, as in MLflow
  // Where the model is, as registered: a file URI or path
  // (<run artifact_uri>/<path> for a runs:/ registration), runs:/<run>/<path>
  // or models:/... MLflow downloads storage_location when set, else source.
  std::string source{};
  std::optional<std::string> storage_location{};
  std::optional<std::string> run_id{};
  std::optional<std::string> run_link{};
  std::string status = "READY";  // READY, PENDING_REGISTRATION, FAILED_REGISTRATION
  std::optional<std::string> status_message{};
  std::optional<std::string> user_id{};
  std::optional<std::string> model_id{};  // MLflow >= 3.0: the logged model (m-<hex>) it came from
  std::map<std::string, std::string> tags{};
  std::vector<std::string> aliases{};  // the registered model's aliases that point here, sorted
};

// <root>/models/<name>/ (spec §9.4), as MLflow's RegisteredModel.
struct RegisteredModel {
  std::string name{};
  std::int64_t creation_timestamp = 0;      // ms
  std::int64_t last_updated_timestamp = 0;  // ms
  std::optional<std::string> description{};
  std::map<std::string, std::string> tags{};
  std::map<std::string, std::int64_t> aliases{};  // alias -> version
  // The newest version in each stage (MLflow's latest_versions), newest
  // first; deleted versions never appear. Filled by the Reader.
  std::vector<ModelVersion> latest_versions{};
};

}  // namespace mlruns
