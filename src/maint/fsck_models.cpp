// fsck's checks of logged models and the Model Registry (spec §8.3, §9.4):
// an MLmodel or history entry naming another run (a run folder copied under
// a new id), registry versions whose files are gone, aliases that point at
// no version, MLflow 3.x LoggedModel records (<exp>/models/<id>/, spec §9.2)
// whose files or source run are gone.
#include <set>
#include <string>

#include "env/atomic_file.h"
#include "format/logged_model_meta.h"
#include "format/mlmodel.h"
#include "format/registry_meta.h"
#include "maint/fsck_checker.h"
#include "mlruns/key.h"
#include "mlruns/reader.h"

namespace mlruns::detail {

namespace {

// `text` with every `"run_id": "<from>"` of the history tag's JSON made `to`.
std::string retarget_history(std::string text, const std::string& from, const std::string& to) {
  const std::string old_field = "\"run_id\": \"" + from + "\"", new_field = "\"run_id\": \"" + to + "\"";
  for (std::size_t at = text.find(old_field); at != std::string::npos; at = text.find(old_field, at + new_field.size()))
    text.replace(at, old_field.size(), new_field);
  return text;
}

}  // namespace

void FsckChecker::check_run_models(const std::string& dir, const std::string& id) {
  std::string artifacts = join(dir, "artifacts");
  // The models the history names, and any MLmodel directly below artifacts/.
  std::set<std::string> paths;
  std::string tag = join(join(dir, "tags"), kLogModelHistoryTag);
  auto history_text = read_small(env_, tag, 64ull << 20);
  if (history_text) {
    if (auto entries = parse_history(*history_text)) {
      std::set<std::string> others;
      for (const LoggedModel& m : *entries) {
        if (validate_artifact_path(m.artifact_path)) paths.insert(m.artifact_path);
        if (!m.run_id.empty() && m.run_id != id) others.insert(m.run_id);
      }
      for (const std::string& other : others)
        add(tag, "model.history_other_run",
            "mlflow.log-model.history names run " + other + ", not this run " + id + " (a copied run folder?)",
            "the UI's model links and registrations from this run point at run " + other, FsckSeverity::kWarning,
            [this, tag, other, id]() -> Result<std::string> {
              auto text = read_small(env_, tag, 64ull << 20);
              if (!text) return fail(text.error());
              MLRUNS_TRY(write_file_atomic(env_, tag, retarget_history(*text, other, id),
                                           {.sync = true, .temp_dir = parent_dir(parent_dir(tag))}));
              return "run_id " + other + " -> " + id + " in the history entries";
            });
    }
  }
  if (auto entries = env_.list_dir(artifacts)) {
    for (const DirEntry& e : *entries)
      if (e.type == FileType::kDirectory && !is_litter_name(e.name)) paths.insert(e.name);
  }
  for (const std::string& p : paths) {
    std::string file = join(join(artifacts, p), kMlModelFile);
    auto info = env_.stat(file, false);
    if (!info || info->type != FileType::kRegular) continue;
    auto text = read_small(env_, file);
    if (!text) continue;
    auto m = parse_mlmodel(*text);
    if (!m || m->run_id.empty() || m->run_id == id) continue;
    const std::string other = m->run_id;
    add(file, "model.run_id_other_run", "MLmodel's run_id is " + other + ", not this run " + id + " (a copied run folder?)",
        "mlflow.models.get_model_info and the model's run link name run " + other, FsckSeverity::kWarning,
        [this, file, other, id]() -> Result<std::string> {
          auto now = read_small(env_, file);
          if (!now) return fail(now.error());
          std::string t = *now;
          const std::string old_line = "\nrun_id: " + other + "\n";
          std::size_t at = ("\n" + t).find(old_line);
          if (at == std::string::npos) return fail(Status::failed_precondition(file, "no 'run_id: " + other + "' line"));
          t.replace(at, old_line.size() - 1, "run_id: " + id + "\n");
          MLRUNS_TRY(write_file_atomic(env_, file, t, {.sync = true, .temp_dir = {}}));
          return "run_id: " + id;
        });
  }
}

// Folders MLflow counts as versions that mlruns' reader skips: a name that
// starts with "version-" but is not version-<n> (version-2.bak, version-01),
// or a version-<n> whose meta.yaml says another number. MLflow lists them
// with the number in their meta.yaml (file_store.py,
// _list_file_model_versions_under_path), so its list shows that number twice,
// and its next version is one past the largest (as mlruns' create_model_version).
// And a version-<n> whose `version` is <n> in another form (2.0, 0x2, '2',
// true for 1): MLflow uses the value as PyYAML loads it, with no int()
// (file_store.py _get_file_model_version_from_dir, create_model_version's
// next_version): it lists "2.0", numbers the next version 3.0 in a folder
// version-3.0, and fails on a str ("'<' not supported between instances of
// 'str' and 'int'"). Rewriting it as the plain integer <n> is unambiguous.
void FsckChecker::check_version_folders(const std::string& mdir, const std::string& name) {
  auto entries = env_.list_dir(mdir);
  if (!entries) return;
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory || e.name.rfind(kVersionFolderPrefix, 0) != 0) continue;
    std::string dir = join(mdir, e.name);
    const std::string meta = join(dir, "meta.yaml");
    auto text = read_small(env_, meta);
    std::optional<VersionField> says;
    if (text) says = read_version_field(*text);
    auto number = parse_version_folder(e.name);
    if (number && !says) continue;  // a bad meta.yaml is the reader's warning
    if (number && says->plain_int_text && says->number == static_cast<double>(*number)) continue;
    if (number && says->number == static_cast<double>(*number)) {
      add(meta, "registry.version_not_int",
          "version: " + says->written + " in " + e.name + " of '" + name + "' is not the plain integer " +
              std::to_string(*number) + " (MLflow reads " + says->shown + ")",
          "MLflow uses the value as PyYAML loads it, with no int(): a float is listed as such and makes the "
          "next version a float (a folder version-<n>.0), a str makes create_model_version, "
          "search_model_versions and get_latest_versions fail; mlruns does not list the version",
          FsckSeverity::kWarning, edit(meta, {{"version", MetaValue::integer(*number)}}, "version: " + std::to_string(*number)));
      continue;
    }
    std::string as = says ? "as version " + says->shown + " (its meta.yaml)" : "and fails on its meta.yaml";
    std::string problem = number ? "folder " + e.name + " of '" + name + "' holds version " + says->shown
                                 : "folder name " + e.name + " of '" + name + "' is not version-<n>";
    add(dir, number ? "registry.version_number_mismatch" : "registry.version_folder_name",
        problem + ": MLflow lists it " + as + ", mlruns skips it",
        "MLflow: search_model_versions lists it (beside any version-<n> of the same number), but loading that "
        "number reads folder version-<n>; mlruns: not listed",
        FsckSeverity::kWarning,
        Fix::left_alone("MLflow reads every folder whose name starts with 'version-': move it out of " + mdir +
                        " or rename it without that prefix (e.g. backup-" + e.name + ")"));
  }
}

void FsckChecker::check_logged_models(const ExperimentDir& e) {
  const std::string models = join(e.dir, kLoggedModelsDir);
  auto info = env_.stat(models, false);
  if (!info || info->type != FileType::kDirectory) return;  // a symlinked models/ is not followed
  auto entries = env_.list_dir(models);
  if (!entries) return;
  auto reader = Reader::open(root_, {.env = &env_, .on_warning = {}, .threads = 1});
  if (!reader) return;
  for (const DirEntry& m : *entries) {
    // The folder name becomes a path and a models:/ URI only when it is one plain id.
    if (m.type != FileType::kDirectory || !validate_run_id(m.name)) continue;
    const std::string meta = join(join(models, m.name), kMetaFile);
    auto text = read_small(env_, meta);
    if (!text) continue;
    auto rec = parse_logged_model_meta(*text);
    if (!rec || rec->lifecycle_stage == std::string("deleted")) continue;  // deleted: its files may be gone
    const std::string uri = "models:/" + m.name;
    if (!rec->source_run_id.empty() && validate_run_id(rec->source_run_id)) {
      auto run = reader->run(rec->source_run_id);
      auto here = env_.stat(join(join(e.dir, rec->source_run_id), kMetaFile), false);  // a trashed experiment's run
      if (!run && run.error().code() == Code::kNotFound && here && here->type == FileType::kMissing)
        add(meta, "logged_model.source_run_missing",
            "logged model " + m.name + " names source run " + rec->source_run_id + ", which is not in the tree",
            "MLflow 3.x: the model page's source run link leads nowhere", FsckSeverity::kWarning,
            Fix::left_alone("the run was deleted and collected (mlflow gc) or the tree is partial; the record is "
                            "kept: MLflow's delete_logged_model marks it deleted if it is no longer wanted"));
    }
    auto loc = reader->resolve_model_uri(uri);
    if (loc) continue;
    Code c = loc.error().code();
    if (c == Code::kFailedPrecondition || c == Code::kNotSupported) continue;  // outside the tree / remote
    add(meta, "logged_model.artifacts_missing",
        uri + " (artifact_location '" + rec->artifact_location + "') cannot be found: " + loc.error().message(),
        "MLflow 3.x's Models tab lists the model, but loading or downloading " + uri + " fails",
        FsckSeverity::kWarning,
        Fix::left_alone("restore the files, or mark the record deleted (MlflowClient().delete_logged_model('" +
                        m.name + "')); mlruns never deletes model records"));
  }
}

void FsckChecker::check_registry() {
  auto reader = Reader::open(root_, {.env = &env_, .on_warning = {}, .threads = 1});
  if (!reader) return;
  auto models = reader->registered_models();
  if (!models) return;
  for (const RegisteredModel& m : *models) {
    std::string mdir = join(join(root_, "models"), m.name);
    check_version_folders(mdir, m.name);
    auto versions = reader->model_versions(m.name);
    if (!versions) continue;
    std::set<std::int64_t> live;
    for (const ModelVersion& v : *versions) {
      live.insert(v.version);
      const std::string uri = "models:/" + m.name + "/" + std::to_string(v.version);
      auto loc = reader->resolve_model_uri(uri);
      if (loc) continue;
      // Outside the tree: check_other_locations' (relocate's) finding; remote: not ours to check.
      Code c = loc.error().code();
      if (c == Code::kFailedPrecondition || c == Code::kNotSupported) continue;
      add(join(mdir, "version-" + std::to_string(v.version)), "registry.source_missing",
          uri + " (source '" + v.source + "') cannot be found: " + loc.error().message(),
          "every version: loading or downloading " + uri + " fails", FsckSeverity::kWarning,
          Fix::left_alone("the model's files are gone (run deleted and collected, or moved): restore them, or "
                          "delete the version (MLflow's UI or client); mlruns never deletes registry entries"));
    }
    for (const auto& [alias, version] : m.aliases) {
      if (live.count(version)) continue;
      add(join(join(mdir, "aliases"), alias), "registry.alias_dangling",
          "alias '" + alias + "' of '" + m.name + "' points at version " + std::to_string(version) +
              ", which does not exist or is deleted",
          "every version: models:/" + m.name + "@" + alias + " fails", FsckSeverity::kWarning,
          Fix::left_alone("point it at a version: mlruns models set-alias '" + m.name + "' " + alias +
                          " VERSION, or remove it: mlruns models delete-alias '" + m.name + "' " + alias));
    }
  }
}

}  // namespace mlruns::detail
