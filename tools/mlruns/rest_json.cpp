// Run/Experiment/Metric -> MLflow REST JSON (see rest_json.h).
#include "rest_json.h"

#include <cmath>

namespace mlruns::cli {

namespace {

Json key_values(const std::map<std::string, std::string>& kv) {
  Json arr = Json::array();
  for (const auto& [k, v] : kv) arr.push_back(Json{{"key", k}, {"value", v}});
  return arr;
}

// {"<key>": [each item as JSON]}, or {} when there are none (protobuf JSON
// leaves empty repeated fields out).
template <typename T, typename F>
Json list_response(const char* key, const std::vector<T>& items, F to_json) {
  Json j = Json::object();
  if (items.empty()) return j;
  Json arr = Json::array();
  for (const T& item : items) arr.push_back(to_json(item));
  j[key] = std::move(arr);
  return j;
}

}  // namespace

Json metric_value_json(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

Json experiment_json(const Experiment& e) {
  Json j;
  j["experiment_id"] = e.experiment_id;
  j["name"] = e.name;
  j["artifact_location"] = e.artifact_location;
  j["lifecycle_stage"] = std::string(to_string(e.lifecycle_stage));
  if (e.last_update_time) j["last_update_time"] = *e.last_update_time;
  if (e.creation_time) j["creation_time"] = *e.creation_time;
  if (!e.tags.empty()) j["tags"] = key_values(e.tags);
  return j;
}

Json run_info_json(const RunInfo& info) {
  Json j;
  j["run_uuid"] = info.run_id;  // deprecated twin of run_id, still sent by MLflow 3.8
  j["experiment_id"] = info.experiment_id;
  j["run_name"] = info.run_name;
  j["user_id"] = info.user_id;
  j["status"] = std::string(to_string(info.status));
  j["start_time"] = info.start_time;
  if (info.end_time) j["end_time"] = *info.end_time;
  j["artifact_uri"] = info.artifact_uri;
  j["lifecycle_stage"] = std::string(to_string(info.lifecycle_stage));
  j["run_id"] = info.run_id;
  return j;
}

Json metric_json(const Metric& m, std::string_view run_id) {
  Json j;
  j["key"] = m.key;
  j["value"] = metric_value_json(m.value);
  j["timestamp"] = m.timestamp;
  j["step"] = m.step;
  j["run_id"] = std::string(run_id);
  return j;
}

Json dataset_json(const Dataset& d) {
  Json j;
  j["name"] = d.name;
  j["digest"] = d.digest;
  j["source_type"] = d.source_type;
  j["source"] = d.source;
  if (d.schema) j["schema"] = *d.schema;
  if (d.profile) j["profile"] = *d.profile;
  return j;
}

Json run_inputs_json(const std::vector<DatasetInput>& inputs) {
  Json j = Json::object();
  if (inputs.empty()) return j;
  Json arr = Json::array();
  for (const DatasetInput& in : inputs) {
    Json e;
    if (!in.tags.empty()) e["tags"] = key_values(in.tags);
    e["dataset"] = dataset_json(in.dataset);
    arr.push_back(std::move(e));
  }
  j["dataset_inputs"] = std::move(arr);
  return j;
}

Json run_json(const Run& run) {
  Json data = Json::object();
  if (!run.metrics.empty()) {
    Json metrics = Json::array();
    for (const auto& [key, m] : run.metrics) metrics.push_back(metric_json(m, run.info.run_id));
    data["metrics"] = std::move(metrics);
  }
  if (!run.params.empty()) data["params"] = key_values(run.params);
  if (!run.tags.empty()) data["tags"] = key_values(run.tags);
  Json j;
  j["info"] = run_info_json(run.info);
  j["data"] = std::move(data);
  j["inputs"] = run_inputs_json(run.dataset_inputs);
  j["outputs"] = Json::object();
  return j;
}

Json experiments_search_json(const std::vector<Experiment>& experiments) {
  Json j = Json::object();
  if (!experiments.empty()) {
    Json arr = Json::array();
    for (const Experiment& e : experiments) arr.push_back(experiment_json(e));
    j["experiments"] = std::move(arr);
  }
  return j;
}

Json runs_search_json(const std::vector<Run>& runs, std::string_view next_page_token) {
  Json j = Json::object();
  if (!runs.empty()) {
    Json arr = Json::array();
    for (const Run& r : runs) arr.push_back(run_json(r));
    j["runs"] = std::move(arr);
  }
  if (!next_page_token.empty()) j["next_page_token"] = std::string(next_page_token);
  return j;
}

Json runs_get_json(const Run& run) { return Json{{"run", run_json(run)}}; }

Json metric_history_json(const std::vector<Metric>& points, std::string_view run_id) {
  Json j = Json::object();
  if (!points.empty()) {
    Json arr = Json::array();
    for (const Metric& m : points) arr.push_back(metric_json(m, run_id));
    j["metrics"] = std::move(arr);
  }
  return j;
}

Json artifacts_list_json(std::string_view root_uri, const std::vector<ArtifactEntry>& files) {
  Json j;
  j["root_uri"] = std::string(root_uri);
  if (!files.empty()) {
    Json arr = Json::array();
    for (const ArtifactEntry& f : files) {
      Json e;
      e["path"] = f.path;
      e["is_dir"] = f.is_dir;
      if (!f.is_dir) e["file_size"] = f.size;
      arr.push_back(std::move(e));
    }
    j["files"] = std::move(arr);
  }
  return j;
}

Json model_version_json(const ModelVersion& v) {
  Json j;
  j["name"] = v.name;
  j["version"] = std::to_string(v.version);
  j["creation_timestamp"] = v.creation_timestamp;
  j["last_updated_timestamp"] = v.last_updated_timestamp;
  if (v.user_id) j["user_id"] = *v.user_id;
  j["current_stage"] = std::string(to_string(v.current_stage));
  if (v.description && !v.description->empty()) j["description"] = *v.description;  // MLflow leaves "" out
  j["source"] = v.source;
  if (v.run_id) j["run_id"] = *v.run_id;
  j["status"] = v.status;
  if (v.status_message) j["status_message"] = *v.status_message;
  if (!v.tags.empty()) j["tags"] = key_values(v.tags);
  if (v.run_link) j["run_link"] = *v.run_link;
  if (!v.aliases.empty()) j["aliases"] = v.aliases;
  return j;
}

Json registered_model_json(const RegisteredModel& m) {
  Json j;
  j["name"] = m.name;
  j["creation_timestamp"] = m.creation_timestamp;
  j["last_updated_timestamp"] = m.last_updated_timestamp;
  if (m.description && !m.description->empty()) j["description"] = *m.description;
  if (!m.latest_versions.empty()) {
    Json arr = Json::array();
    for (const ModelVersion& v : m.latest_versions) arr.push_back(model_version_json(v));
    j["latest_versions"] = std::move(arr);
  }
  if (!m.tags.empty()) j["tags"] = key_values(m.tags);
  if (!m.aliases.empty()) {
    Json arr = Json::array();
    for (const auto& [alias, version] : m.aliases)
      arr.push_back(Json{{"alias", alias}, {"version", std::to_string(version)}});
    j["aliases"] = std::move(arr);
  }
  return j;
}

Json registered_models_search_json(const std::vector<RegisteredModel>& models) {
  return list_response("registered_models", models, registered_model_json);
}

Json registered_models_get_json(const RegisteredModel& model) {
  return Json{{"registered_model", registered_model_json(model)}};
}

Json model_versions_search_json(const std::vector<ModelVersion>& versions) {
  return list_response("model_versions", versions, model_version_json);
}

Json model_version_get_json(const ModelVersion& version) {
  return Json{{"model_version", model_version_json(version)}};
}

Json logged_model_json(const LoggedModel& m) {
  Json j;
  j["artifact_path"] = m.artifact_path;
  j["flavors"] = m.flavors;
  if (m.model_id.empty()) j["model_id"] = nullptr;
  else j["model_id"] = m.model_id;
  j["model_uri"] = "runs:/" + m.run_id + "/" + m.artifact_path;
  j["model_uuid"] = m.model_uuid;
  j["run_id"] = m.run_id;
  j["utc_time_created"] = m.utc_time_created;
  return j;
}

Json sync_result_json(const SyncResult& r, std::string_view server, bool dry_run) {
  Json j;
  j["server"] = server;
  j["server_version"] = r.server_version;
  j["tree_id"] = r.tree_id;
  j["dry_run"] = dry_run;
  j["complete"] = r.complete();
  j["interrupted"] = r.interrupted;
  j["runs_created"] = r.runs_created;
  j["runs_updated"] = r.runs_updated;
  j["runs_unchanged"] = r.runs_unchanged;
  j["runs_skipped"] = r.runs_skipped;
  j["runs_failed"] = r.runs_failed;
  j["conflicts"] = r.conflicts;
  j["files_unread"] = r.files_unread;
  j["points_sent"] = r.points_sent;
  j["params_sent"] = r.params_sent;
  j["tags_sent"] = r.tags_sent;
  j["artifacts_sent"] = r.artifacts_sent;
  j["bytes_sent"] = r.bytes_sent;
  j["write_requests"] = r.write_requests;
  j["read_requests"] = r.read_requests;
  Json runs = Json::array();
  for (const RunSyncReport& run : r.runs) {
    Json x;
    x["run_id"] = run.run_id;
    x["server_run_id"] = run.server_run_id;
    x["experiment"] = run.experiment_name;
    x["state"] = to_string(run.state);
    x["points_sent"] = run.points_sent;
    x["params_sent"] = run.params_sent;
    x["tags_sent"] = run.tags_sent;
    x["artifacts_sent"] = run.artifacts_sent;
    x["bytes_sent"] = run.bytes_sent;
    Json conflicts = Json::array();
    for (const SyncConflict& c : run.conflicts)
      conflicts.push_back({{"key", c.key}, {"local_value", c.local_value}, {"server_value", c.server_value}});
    x["conflicts"] = conflicts;
    x["files_unread"] = run.files_unread;
    x["notes"] = run.notes;
    runs.push_back(std::move(x));
  }
  j["runs"] = runs;
  j["errors"] = r.errors;
  return j;
}

}  // namespace mlruns::cli
