#include "meta_parse.h"

#include <charconv>
#include <optional>

#include <yaml-cpp/yaml.h>

namespace mlruns::detail {
namespace {

// meta.yaml files are a few hundred bytes; anything much bigger, or deeply
// nested, is not one, and yaml-cpp recurses per nesting level.
constexpr std::size_t kMaxMetaBytes = 1 << 20;
constexpr int kMaxBrackets = 256;

Result<YAML::Node> load_mapping(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return fail(Status::corruption("meta.yaml", "file is empty"));
  if (text.size() > kMaxMetaBytes) return fail(Status::corruption("meta.yaml", "file is larger than 1 MiB"));
  int brackets = 0;
  for (char c : text)
    if (c == '[' || c == '{') ++brackets;
  if (brackets > kMaxBrackets) return fail(Status::corruption("meta.yaml", "too deeply nested"));
  try {
    YAML::Node node = YAML::Load(std::string(text));
    if (!node.IsMap()) return fail(Status::corruption("meta.yaml", "not a YAML mapping"));
    return node;
  } catch (const std::exception& e) {
    return fail(Status::corruption("meta.yaml", std::string("invalid YAML: ") + e.what()));
  }
}

std::optional<std::string> get_string(const YAML::Node& map, const char* key) {
  YAML::Node n = map[key];
  if (!n || !n.IsScalar()) return std::nullopt;
  return n.Scalar();
}

bool is_null(const YAML::Node& map, const char* key) {
  YAML::Node n = map[key];
  return n && n.IsNull();
}

std::optional<std::int64_t> get_int(const YAML::Node& map, const char* key) {
  auto s = get_string(map, key);
  if (!s || s->empty()) return std::nullopt;
  std::int64_t v = 0;
  const char* first = s->data();
  const char* last = s->data() + s->size();
  if (*first == '+') ++first;
  auto [p, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || p != last) return std::nullopt;
  return v;
}

void note(std::vector<std::string>* problems, std::string what) {
  if (problems) problems->push_back(std::move(what));
}

}  // namespace

Result<Experiment> parse_experiment_meta(std::string_view text, bool in_trash,
                                         std::vector<std::string>* problems) {
  auto map = load_mapping(text);
  if (!map) return fail(map.error());
  Experiment e;
  auto id = get_string(*map, "experiment_id");
  if (!id) return fail(Status::corruption("meta.yaml", "no experiment_id"));
  e.experiment_id = *id;
  auto name = get_string(*map, "name");
  if (!name) return fail(Status::corruption("meta.yaml", "no name"));
  e.name = *name;
  if (auto loc = get_string(*map, "artifact_location")) e.artifact_location = *loc;
  else note(problems, "no artifact_location");
  e.creation_time = get_int(*map, "creation_time");
  e.last_update_time = get_int(*map, "last_update_time");
  auto stage = get_string(*map, "lifecycle_stage");
  if (!stage) {
    note(problems, "no lifecycle_stage; taken from the location");
    e.lifecycle_stage = in_trash ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  } else if (*stage == "active" || *stage == "deleted") {
    e.lifecycle_stage = *stage == "active" ? LifecycleStage::kActive : LifecycleStage::kDeleted;
  } else {
    note(problems, "invalid lifecycle_stage '" + *stage + "'; taken from the location");
    e.lifecycle_stage = in_trash ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  }
  return e;
}

Result<RunInfo> parse_run_meta(std::string_view text, std::vector<std::string>* problems) {
  auto map = load_mapping(text);
  if (!map) return fail(map.error());
  RunInfo r;
  auto run_id = get_string(*map, "run_id");
  if (!run_id || run_id->empty()) run_id = get_string(*map, "run_uuid");
  if (!run_id || run_id->empty()) return fail(Status::corruption("meta.yaml", "neither run_id nor run_uuid"));
  r.run_id = *run_id;
  if (auto name = get_string(*map, "run_name")) r.run_name = *name;
  if (auto exp = get_string(*map, "experiment_id")) r.experiment_id = *exp;
  else note(problems, "no experiment_id");
  if (auto user = get_string(*map, "user_id")) r.user_id = *user;
  else note(problems, "no user_id");
  if (auto uri = get_string(*map, "artifact_uri")) r.artifact_uri = *uri;
  if (auto start = get_int(*map, "start_time")) r.start_time = *start;
  else note(problems, "no valid start_time");
  if (!is_null(*map, "end_time")) {
    r.end_time = get_int(*map, "end_time");
    if (!r.end_time && (*map)["end_time"]) note(problems, "end_time is not an integer");
  }
  if (!is_null(*map, "deleted_time")) r.deleted_time = get_int(*map, "deleted_time");
  if ((*map)["status"] && !is_null(*map, "status")) {
    auto status = get_int(*map, "status");
    auto parsed = status ? run_status_from_int(*status) : std::nullopt;
    if (parsed) r.status = *parsed;
    else note(problems, "status is not an integer from 1 to 5; taken as RUNNING");
  }
  auto stage = get_string(*map, "lifecycle_stage");
  if (stage && *stage == "deleted") r.lifecycle_stage = LifecycleStage::kDeleted;
  else if (stage && *stage != "active" && !is_null(*map, "lifecycle_stage"))
    note(problems, "invalid lifecycle_stage '" + *stage + "'; taken as active");
  return r;
}

}  // namespace mlruns::detail
