// The one place where mlruns values become JSON: the shapes of MLflow's REST
// API (tests/fixtures/mlflow-3.8/rest/), so scripts written against an MLflow
// server read `mlruns ... --json` unchanged.
//
// MLflow's rules, as its server emits them (protobuf JSON): params, tags and
// metrics are arrays of {"key","value"}; times and steps are numbers; a
// missing end_time and empty arrays are left out; metric values NaN and ±inf
// are the strings "NaN", "Infinity", "-Infinity". Run.inputs holds
// dataset_inputs ({"tags": [{"key","value"}], "dataset": {...}}), {} if none;
// Run.outputs is always {} (logged-model outputs are not read by mlruns).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlruns/reader.h"
#include "mlruns/sync.h"
#include "mlruns/types.h"

namespace mlruns::cli {

using Json = nlohmann::ordered_json;  // keeps MLflow's field order

Json metric_value_json(double value);
Json experiment_json(const Experiment& experiment);
Json run_info_json(const RunInfo& info);
Json metric_json(const Metric& metric, std::string_view run_id);
Json dataset_json(const Dataset& dataset);  // schema and profile left out when null
Json run_inputs_json(const std::vector<DatasetInput>& inputs);  // {"dataset_inputs": [...]} or {}
Json run_json(const Run& run);  // {"info", "data", "inputs", "outputs"}

// Whole responses.
Json experiments_search_json(const std::vector<Experiment>& experiments);  // {"experiments": [...]}
Json runs_search_json(const std::vector<Run>& runs, std::string_view next_page_token);
Json runs_get_json(const Run& run);  // {"run": {...}}
Json metric_history_json(const std::vector<Metric>& points, std::string_view run_id);  // {"metrics": [...]}
Json artifacts_list_json(std::string_view root_uri, const std::vector<ArtifactEntry>& files);

// The Model Registry, as model_registry.proto's ModelVersion and
// RegisteredModel reach JSON through MLflow's server
// (tests/fixtures/mlflow-*-models/rest/): version numbers and alias targets
// are strings, unset optional strings and empty lists are left out,
// model_id and storage_location are not sent (MLflow's to_proto omits them).
Json model_version_json(const ModelVersion& version);
Json registered_model_json(const RegisteredModel& model);
Json registered_models_search_json(const std::vector<RegisteredModel>& models);  // {"registered_models": [...]}
Json registered_models_get_json(const RegisteredModel& model);                   // {"registered_model": {...}}
Json model_versions_search_json(const std::vector<ModelVersion>& versions);      // {"model_versions": [...]}
Json model_version_get_json(const ModelVersion& version);                        // {"model_version": {...}}
// A logged model as mlflow.models.get_model_info names its fields
// (artifact_path, flavors, model_uri, model_uuid, run_id, utc_time_created).
Json logged_model_json(const LoggedModel& model);

// `mlruns sync --json` (not an MLflow shape; docs/cli.md#mlruns-sync): the
// counts of SyncResult, then "runs": [{run_id, server_run_id, experiment,
// state, points_sent, params_sent, tags_sent, artifacts_sent, bytes_sent,
// conflicts: [{key, local_value, server_value}], notes: [...]}], "errors".
Json sync_result_json(const SyncResult& result, std::string_view server, bool dry_run);

// Pretty-printed with a final newline; non-ASCII kept as UTF-8; invalid
// UTF-8 (a hostile tree's name or tag value) as U+FFFD, never a throw. For
// Json and for nlohmann::json (the maintenance verbs' reports).
template <class AnyJson>
std::string dump(const AnyJson& json) {
  return json.dump(2, ' ', false, AnyJson::error_handler_t::replace) + '\n';
}

}  // namespace mlruns::cli
