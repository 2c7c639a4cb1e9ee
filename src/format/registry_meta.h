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

// The `version` of a version's meta.yaml as MLflow reads it: PyYAML loads
// the value and MLflow uses it as loaded, with no int() (spec §9.4;
// model_registry/file_store.py, _get_file_model_version_from_dir):
// `version: 2.0` is the float 2.0, which search_model_versions lists as
// "2.0" and create_model_version's next_version (max(version) + 1) turns
// into 3.0 and a folder version-3.0; `'2'` is a str, on which MLflow 2.10
// and 3.8 fail ("'<' not supported between instances of 'str' and 'int'").
struct VersionField {
  std::string shown;    // Python's str() of the value: "2.0", "True", "2" for 0x2; a str in quotes: "'2'"
  std::string written;  // as in the file: "0x2", "'2'"
  bool plain_int_text = false;  // written as plain decimal digits ("2"), the form MLflow writes
  // The number MLflow could show for it: a plain int/float/bool as PyYAML
  // types it; a str (quoted, or plain text such as 1e3, which PyYAML's
  // float pattern does not match) as Python's float() reads it (' 2 ',
  // '1e3'), since it is shown as that text. nullopt if neither.
  std::optional<double> number;
};
// nullopt if the text is no YAML mapping or has no scalar `version`.
std::optional<VersionField> read_version_field(std::string_view meta_text);

// Every number MLflow could show for the version folder `folder_name` (a
// name starting with "version-") whose meta.yaml is `meta_text` (nullptr:
// unreadable): the suffix of the name as Python's float() reads it
// ("version-3" -> 3, "version-3.0" -> 3.0: MLflow names a folder after a
// float version) and the meta's `version` (VersionField::number). The
// largest, or nullopt if neither gives one. A new version must be numbered
// above it (mlruns' create_model_version), so that no number MLflow lists
// is given twice.
std::optional<double> highest_version_seen(std::string_view folder_name, const std::string* meta_text);

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
