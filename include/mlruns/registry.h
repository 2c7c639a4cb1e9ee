// Writing the Model Registry of a tree (<root>/models/, spec §9.4) as MLflow
// 2.x's file store does, so that MLflow 2.x and 3.x (client, server, UI)
// read it: registered models with tags, descriptions and aliases; versions
// with a source, run, description, tags and a 2.x stage. Reading it back is
// the Reader's (reader.h); downloading models:/NAME@ALIAS is download.h's.
//
//   mlruns::ModelRegistry reg = store.registry();
//   mlruns::ModelVersion v = *reg.create_model_version("ppo-policy", "runs:/" + run_id + "/model");
//   reg.set_registered_model_alias("ppo-policy", "champion", v.version);
//
// Safe when many processes and nodes write one registry (NFS, Lustre):
// * a version is built complete in the tree's staging folder and renamed to
//   version-<n>; rename(2) onto an existing folder fails atomically, so a
//   number is never given twice (MLflow's own file store can): the loser
//   takes the next number;
// * a registered model is created the same way, so one name is one model;
// * new versions and changes to a model's files (meta.yaml, aliases, stages)
//   are made under a lock in its folder (.mlruns-lock-registry,
//   Env::lock_file), which rename and delete take too: a version is never
//   added to a model being renamed or deleted (where the file system has no
//   locks, last writer wins as in MLflow, and numbers stay unique), and every file is
//   replaced atomically (temp file + rename in its own folder), so an alias
//   moves from one complete version to another and a reader never sees a
//   half-written file.
// Errors follow StoreOptions::errors, as every Store call.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"
#include "mlruns/store.h"
#include "mlruns/types.h"

namespace mlruns {

struct ModelVersionOptions {
  // The run that produced the model; for a runs:/ source, taken from it.
  std::string run_id{};
  std::optional<std::string> description{};
  std::map<std::string, std::string> tags{};
  std::optional<std::string> run_link{};
  // Aliases to point at the new version once it is complete, under the same
  // lock (validate_model_alias, key.h). Every input (name, source, tags,
  // description, aliases) is checked before anything is written: an error
  // of that kind leaves the registry as it was.
  std::vector<std::string> aliases{};
  // Create the registered model if it does not exist (as mlflow.register_model).
  bool create_registered_model = true;
};

class ModelRegistry {
 public:
  // kAlreadyExists if the name is taken. Name rules: validate_registered_model_name (key.h).
  Result<RegisteredModel> create_registered_model(std::string_view name, const StringMap& tags = {},
                                                  std::optional<std::string> description = std::nullopt);
  Status update_registered_model(std::string_view name, std::optional<std::string> description);
  // Moves the model, its versions, tags and aliases to `new_name` (complete
  // before it appears); versions keep their numbers and sources.
  Status rename_registered_model(std::string_view name, std::string_view new_name);
  // Removes the model and every version from the registry (not the runs'
  // artifacts their sources name).
  Status delete_registered_model(std::string_view name);
  Status set_registered_model_tag(std::string_view name, std::string_view key, std::string_view value);
  Status delete_registered_model_tag(std::string_view name, std::string_view key);

  // A new version of `name` from `source`:
  // * "runs:/<run_id>/<path>": the run's artifact, which must exist; stored
  //   as <run artifact_uri>/<path> with its run_id, as mlflow.register_model
  //   stores it (the UI matches a run's models by that URI);
  // * a file: URI or absolute path inside this tree (stored as given);
  // * "models:/m-<hex>": an MLflow 3.x LoggedModel of the tree (spec §9.2),
  //   kept as the source, with storage_location = its artifact_location,
  //   run_id = its source_run_id and model_id, and the version appended to
  //   its mlflow.modelVersions tag, as MLflow 3.x's register_model does.
  // Returns the version with its number: 1 + the highest number ever given
  // (deleted versions keep theirs), and above every number MLflow could list
  // for a folder named version-* (the name's number and its meta.yaml's
  // `version` as PyYAML loads it: 2.0, 0x2, '2'; e.g. a version-2.bak;
  // model_registry/file_store.py). kFailedPrecondition if such a number is
  // infinite or beyond 2^53 (mlruns fsck reports it).
  // With a concurrent rename or delete of the model: on success the version
  // is in the model named `name` when this returns (the rename then carries
  // it along); an error means no version was created. The model is made
  // (create_registered_model) only if it is absent when the call starts; a
  // model renamed or deleted after that, before this call took its lock, is
  // kNotFound naming the model, never made anew (MLflow's file store fails
  // too: create_model_version's get_registered_model finds none).
  Result<ModelVersion> create_model_version(std::string_view name, std::string_view source,
                                            const ModelVersionOptions& options = {});
  Status update_model_version(std::string_view name, std::int64_t version, std::optional<std::string> description);
  // MLflow 2.x stages. With archive_existing_versions (only for Staging and
  // Production), other versions in that stage become Archived.
  Result<ModelVersion> transition_model_version_stage(std::string_view name, std::int64_t version, ModelStage stage,
                                                      bool archive_existing_versions = false);
  // Marks the version deleted (MLflow keeps the folder, current_stage
  // Deleted_Internal, so its number is never reused) and drops its aliases.
  Status delete_model_version(std::string_view name, std::int64_t version);
  Status set_model_version_tag(std::string_view name, std::int64_t version, std::string_view key,
                               std::string_view value);
  Status delete_model_version_tag(std::string_view name, std::int64_t version, std::string_view key);

  // Points `alias` at `version` (replacing where it pointed), atomically.
  // Alias rules: validate_model_alias (key.h).
  Status set_registered_model_alias(std::string_view name, std::string_view alias, std::int64_t version);
  Status delete_registered_model_alias(std::string_view name, std::string_view alias);

 private:
  friend class Store;
  explicit ModelRegistry(std::shared_ptr<Store::Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Store::Impl> impl_;
};

}  // namespace mlruns
