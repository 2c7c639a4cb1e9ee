// A logged model's bytes as MLflow 2.x writes them (spec §8.3;
// mlflow/models/model.py): the MLmodel file (Model.to_yaml, i.e.
// yaml.safe_dump with sorted keys and allow_unicode=False) and the run's
// mlflow.log-model.history tag (a JSON list written with json.dumps, one
// Model.get_tags_dict() per logged model: run_id, artifact_path,
// utc_time_created, model_uuid and the flavors without their "config", as
// MLflow >= 2.16.1 and 3.x write it). Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/py_json.h"
#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns::detail {

inline constexpr std::string_view kMlModelFile = "MLmodel";
inline constexpr std::string_view kLogModelHistoryTag = "mlflow.log-model.history";

struct MlModel {
  std::string artifact_path;
  std::string run_id;
  std::string model_uuid;
  std::string utc_time_created;
  std::string mlflow_version;  // left out when empty
  // The MLflow 3.x LoggedModel this folder is the files of (m-<hex>, spec
  // §8.3 "3.x adds model_id"); left out when empty.
  std::string model_id;
  // flavor name -> its fields, in the order MLflow adds them (the history
  // tag keeps that order; the MLmodel file sorts keys).
  OrderedJson flavors = OrderedJson::object();
  std::optional<std::uint64_t> model_size_bytes;
  // {"inputs": <JSON text> | null, "outputs": ..., "params": ...}.
  std::optional<OrderedJson> signature;
  std::vector<std::pair<std::string, std::string>> metadata;  // written when not empty
};

// The MLmodel file. REQUIRES: flavor fields are strings, integers, booleans,
// null, lists of those, or objects of those.
std::string render_mlmodel(const MlModel& model);

// The entry Model.get_tags_dict() builds (spec §8.3).
OrderedJson history_entry(const MlModel& model);

// The tag value after MLflow's record_logged_model appends `entry`:
// json.dumps(json.loads(old) + [entry]). An empty `old` is a missing tag.
// kCorruption if `old` is not a JSON list.
Result<std::string> append_history(std::string_view old, const OrderedJson& entry);

// The logged models a history tag lists, in its order (entries that are
// not objects with an artifact_path are skipped). kCorruption for text that
// is not a JSON list.
Result<std::vector<LoggedModel>> parse_history(std::string_view tag_value);

// What the reader needs from an MLmodel file (any MLflow version's):
// artifact_path, run_id, model_uuid, utc_time_created, model_id (3.x) and
// the flavor names in the file's order. kCorruption if it is not a YAML mapping.
Result<LoggedModel> parse_mlmodel(std::string_view text);

// Python's str(datetime) of a UTC time in ms: "2026-01-15 10:20:30.123000",
// without the fraction when it is zero, as MLflow's utc_time_created.
std::string utc_time_string(std::int64_t ms);

// A model signature given as JSON ({"inputs": [...], "outputs": [...],
// "params": [...]}, each list or its JSON text) or as the YAML of an MLmodel's
// signature: section, turned into MLmodel's form (each present part as
// json.dumps text, absent ones null). kInvalidArgument naming the rule for
// anything else: unknown keys, a part that is not a list of objects with a
// "type", a tensor without "tensor-spec", no inputs and no outputs.
Result<OrderedJson> parse_signature(std::string_view text);

}  // namespace mlruns::detail
