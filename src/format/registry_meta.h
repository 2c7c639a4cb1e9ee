// The Model Registry's file layout and meta.yaml bytes (spec §9.4;
// mlflow/store/model_registry/file_store.py), shared by the writer and the
// reader:
//
//   <root>/models/<name>/meta.yaml              the registered model
//   <root>/models/<name>/tags/<key>             its tags
//   <root>/models/<name>/aliases/<alias>        "<version>", no newline (>= 2.3)
//   <root>/models/<name>/version-<n>/meta.yaml  a version
//   <root>/models/<name>/version-<n>/tags/<key>
//
// Written as MLflow 2.x writes them (yaml.dump with sorted keys and
// allow_unicode=True): a registered model has aliases (alias -> version as
// a string), creation_timestamp, description, last_updated_timestamp and
// name; a version has aliases (a list), creation_timestamp, current_stage,
// description, last_updated_timestamp, name, run_id, run_link, source,
// status, status_message, storage_location, user_id and version (an int).
// The aliases kept in these files are snapshots MLflow ignores when reading:
// the aliases/ folder is the truth. A deleted version keeps its folder with
// current_stage Deleted_Internal, so its number is never given again.
// MLflow 3.x's extra keys (deployment_job_id, deployment_job_state,
// model_id) are read. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns::detail {

inline constexpr std::string_view kRegistryDir = "models";
inline constexpr std::string_view kRegistryAliasesDir = "aliases";
inline constexpr std::string_view kRegistryTagsDir = "tags";
inline constexpr std::string_view kVersionFolderPrefix = "version-";
inline constexpr std::string_view kDeletedStage = "Deleted_Internal";

// "version-12" -> 12; nullopt for anything else (MLflow lists folders that
// start with "version-" and reads the number from their meta.yaml; a folder
// whose name is not "version-<positive int>" is not one mlruns writes).
std::optional<std::int64_t> parse_version_folder(std::string_view name);
std::string version_folder(std::int64_t version);  // "version-12"

std::string render_registered_model_meta(const RegisteredModel& model);
// `deleted` writes current_stage Deleted_Internal.
std::string render_model_version_meta(const ModelVersion& version, bool deleted);

struct VersionMeta {
  ModelVersion version;  // tags and aliases empty: they live in folders
  bool deleted = false;  // current_stage Deleted_Internal
};

// Tolerant of every MLflow version's keys; kCorruption for an empty file,
// invalid YAML, not a mapping, or no name; `problems` gets softer issues
// (a missing time, an unknown stage) whose fields are defaulted.
Result<RegisteredModel> parse_registered_model_meta(std::string_view text,
                                                    std::vector<std::string>* problems = nullptr);
// As above; also kCorruption without a version number.
Result<VersionMeta> parse_model_version_meta(std::string_view text, std::vector<std::string>* problems = nullptr);

// The version number an alias file holds ("3", as MLflow writes it; white
// space around it is tolerated). nullopt if it is not a positive integer.
std::optional<std::int64_t> parse_alias_file(std::string_view text);

}  // namespace mlruns::detail
