#include "format/meta_write.h"

#include "format/yaml_emit.h"

namespace mlruns::detail {

std::string render_experiment_meta(const Experiment& e) {
  std::string out;
  out.reserve(256);
  yaml_emit_str(out, "artifact_location", e.artifact_location);
  yaml_emit_int(out, "creation_time", e.creation_time.value_or(0));
  yaml_emit_str(out, "experiment_id", e.experiment_id);
  yaml_emit_int(out, "last_update_time", e.last_update_time.value_or(e.creation_time.value_or(0)));
  yaml_emit_str(out, "lifecycle_stage", to_string(e.lifecycle_stage));
  yaml_emit_str(out, "name", e.name);
  return out;
}

std::string render_run_meta(const RunInfo& r) {
  std::string out;
  out.reserve(512);
  yaml_emit_str(out, "artifact_uri", r.artifact_uri);
  if (r.lifecycle_stage == LifecycleStage::kDeleted && r.deleted_time)
    yaml_emit_int(out, "deleted_time", *r.deleted_time);
  if (r.end_time)
    yaml_emit_int(out, "end_time", *r.end_time);
  else
    yaml_emit_null(out, "end_time");
  yaml_emit_str(out, "entry_point_name", "");
  yaml_emit_str(out, "experiment_id", r.experiment_id);
  yaml_emit_str(out, "lifecycle_stage", to_string(r.lifecycle_stage));
  yaml_emit_str(out, "run_id", r.run_id);
  yaml_emit_str(out, "run_name", r.run_name);
  yaml_emit_str(out, "run_uuid", r.run_id);
  yaml_emit_str(out, "source_name", "");
  yaml_emit_int(out, "source_type", 4);
  yaml_emit_str(out, "source_version", "");
  yaml_emit_int(out, "start_time", r.start_time);
  yaml_emit_int(out, "status", static_cast<int>(r.status));
  yaml_emit_empty_list(out, "tags");
  yaml_emit_str(out, "user_id", r.user_id);
  return out;
}

}  // namespace mlruns::detail
