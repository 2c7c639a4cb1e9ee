#include "format/logged_model_meta.h"

#include "format/artifact_dir.h"
#include "format/meta_parse.h"
#include "format/yaml_emit.h"
#include "mlruns/key.h"

namespace mlruns::detail {
namespace {

void emit_optional(std::string& out, std::string_view key, const std::optional<std::string>& v) {
  if (v) yaml_emit_str(out, key, *v);
  else yaml_emit_null(out, key);
}

constexpr std::string_view kBadNameChars = "/:.%\"'";

}  // namespace

std::string render_logged_model_meta(const LoggedModelRecord& r) {
  std::string out;
  yaml_emit_str(out, "artifact_location", r.artifact_location);
  yaml_emit_int(out, "creation_timestamp", r.creation_timestamp);
  yaml_emit_str(out, "experiment_id", r.experiment_id);
  yaml_emit_int(out, "last_updated_timestamp", r.last_updated_timestamp);
  if (r.lifecycle_stage) yaml_emit_str(out, "lifecycle_stage", *r.lifecycle_stage);
  yaml_emit_str(out, "model_id", r.model_id);
  emit_optional(out, "model_type", r.model_type);
  yaml_emit_str(out, "name", r.name);
  emit_optional(out, "source_run_id", r.source_run_id.empty() ? std::nullopt : std::optional(r.source_run_id));
  yaml_emit_int(out, "status", r.status);
  emit_optional(out, "status_message", r.status_message);
  return out;
}

Result<LoggedModelRecord> parse_logged_model_meta(std::string_view text) {
  auto map = load_yaml_map(text);
  if (!map) return fail(map.error());
  auto str = [&](std::string_view key) -> std::optional<std::string> {
    const YamlValue* v = yaml_find(*map, key);
    if (!v || v->kind != YamlValue::Kind::kString) return std::nullopt;
    return v->text;
  };
  auto num = [&](std::string_view key) -> std::int64_t {
    auto s = str(key);
    if (!s) return 0;
    return yaml11_plain_int(*s).value_or(0);
  };
  LoggedModelRecord r;
  r.model_id = str("model_id").value_or("");
  if (r.model_id.empty()) return fail(Status::corruption("logged model meta.yaml", "no model_id"));
  r.name = str("name").value_or("");
  r.experiment_id = str("experiment_id").value_or("");
  r.source_run_id = str("source_run_id").value_or("");
  r.artifact_location = str("artifact_location").value_or("");
  r.creation_timestamp = num("creation_timestamp");
  r.last_updated_timestamp = num("last_updated_timestamp");
  r.status = static_cast<int>(num("status"));
  r.model_type = str("model_type");
  r.status_message = str("status_message");
  r.lifecycle_stage = str("lifecycle_stage");
  return r;
}

std::string render_run_output_meta(std::string_view model_id, std::int64_t step) {
  std::string out;
  yaml_emit_str(out, "destination_id", model_id);
  yaml_emit_str(out, "destination_type", "MODEL_OUTPUT");
  yaml_emit_str(out, "source_id", model_id);
  yaml_emit_str(out, "source_type", "RUN_OUTPUT");
  yaml_emit_int(out, "step", step);
  out += "tags: {}\n";
  return out;
}

bool is_logged_model_id(std::string_view id) {
  return id.substr(0, 2) == "m-" && is_generated_run_id(id.substr(2));  // m-<uuid4().hex>
}

Status validate_logged_model_name(std::string_view name) {
  std::string shown = "logged model name '" + std::string(name.substr(0, 200)) + "'";
  if (name.empty()) return Status::invalid_argument(shown, "must not be empty (MLflow's _validate_logged_model_name)");
  if (name.find_first_of(kBadNameChars) != std::string_view::npos)
    return Status::invalid_argument(shown, "must not contain / : . % \" or ' (MLflow's _validate_logged_model_name)");
  if (!is_valid_utf8(name)) return Status::invalid_argument(shown, "must be UTF-8");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return Status::invalid_argument(shown, "control characters are not allowed");
  return Status::ok();
}

std::string logged_model_name_for(std::string_view artifact_path) {
  std::string out(artifact_path);
  for (char& c : out)
    if (kBadNameChars.find(c) != std::string_view::npos) c = '_';
  return out;
}

}  // namespace mlruns::detail
