// fsck per experiment (fsck_checker.h): its meta.yaml, its tags and runs, and
// a delete or restore cut short.
#include <map>
#include <string>

#include "format/artifact_dir.h"
#include "format/file_uri.h"
#include "format/meta_parse.h"
#include "maint/fsck_checker.h"
#include "maint/maint_common.h"
#include "maint/relocate_uri.h"

namespace mlruns::detail {

void FsckChecker::check_experiment(const ExperimentDir& e) {
  ++r_.experiments;
  std::string meta = join(e.dir, "meta.yaml");
  auto mi = env_.stat(meta);
  if (!mi || mi->type == FileType::kMissing) {
    // Runs without their experiment's meta.yaml are invisible: give them a
    // new one. An experiment folder without runs is a creation cut short.
    bool has_runs = !run_dir_names(env_, e.dir).empty();
    add(e.dir, "experiment.missing_meta", has_runs ? "no meta.yaml, but runs inside" : "no meta.yaml and no runs",
        "every version skips the experiment (and its runs) with a warning (spec §3.2)", FsckSeverity::kWarning,
        has_runs ? Fix([this, e, meta]() -> Result<std::string> { return write_recovered_meta(e, meta); })
                 : quarantine(e.dir, "experiment folder without meta.yaml or runs"));
    if (!has_runs) return;
  } else {
    check_experiment_file(e, meta);
  }
  check_temp_files(e.dir);
  check_keys(join(e.dir, "tags"), "tag", nullptr);
  for (const std::string& run : run_dir_names(env_, e.dir)) check_run(e, join(e.dir, run), run);
  check_logged_models(e);
  if (!e.in_trash) check_delete_cut_short(e, meta);
}

// An experiment in the root whose file says deleted. Checked last: the
// repair moves the whole folder.
void FsckChecker::check_delete_cut_short(const ExperimentDir& e, const std::string& meta) {
  auto text = read_small(env_, meta);
  if (!text) return;
  auto x = parse_experiment_meta(*text, false);
  if (!x || x->lifecycle_stage != LifecycleStage::kDeleted) return;
  // Both an interrupted delete (file first, then the move) and an
  // interrupted restore (move first) end here. Finishing the delete
  // matches what MLflow >= 2.3 already shows, and restore undoes it.
  std::string to = join(join(root_, kTrashDir), e.id);
  auto there = env_.stat(to);
  bool free = there && there->type == FileType::kMissing;
  add(meta, "experiment.active_but_deleted", "in the root but the file says deleted (a delete or restore cut short)",
      "MLflow <= 2.2 shows it active, >= 2.3 deleted; mlflow gc skips it (spec §7)", FsckSeverity::kWarning,
      free ? Fix([this, e, to]() -> Result<std::string> {
        MLRUNS_TRY(env_.rename(e.dir, to));
        return "finished the delete: moved to " + to + " (mlruns experiments restore " + e.id + " brings it back)";
      })
           : Fix::left_alone(".trash/ already holds an experiment " + e.id + "; keep one of the two by hand"));
}

// meta.yaml of experiment `e`: readable, and then each of its keys.
void FsckChecker::check_experiment_file(const ExperimentDir& e, const std::string& meta) {
  auto text = read_small(env_, meta);
  std::optional<YamlMap> map = text ? load_map(*text) : std::nullopt;
  std::optional<Experiment> parsed;
  if (text && map) {
    auto p = parse_experiment_meta(*text, e.in_trash);
    if (p) parsed = *p;
  }
  if (!parsed) {
    bool empty = text && text->find_first_not_of(" \t\r\n") == std::string::npos;
    add(meta, empty ? "experiment.empty_meta" : "experiment.unreadable_meta",
        empty ? "meta.yaml is empty" : "meta.yaml is not a readable experiment (garbage, a symlink, or no name/experiment_id)",
        empty ? "MLflow <= 2.22: search_experiments fails for the whole store; >= 3.2 skips it (spec §3.2, §10.6)"
              : "every version: search_experiments fails for the whole store (spec §3.2)",
        FsckSeverity::kError, [this, e, meta]() -> Result<std::string> {
          auto to = q_.move_in(meta, "unreadable experiment meta.yaml");
          if (!to) return fail(to.error());
          auto wrote = write_recovered_meta(e, meta);
          if (!wrote) return wrote;
          return "moved the old file to " + *to + "; " + *wrote;
        });
  } else {
    check_experiment_meta(e, meta, *map, *parsed);
  }
}

void FsckChecker::check_experiment_meta(const ExperimentDir& e, const std::string& meta, const YamlMap& map,
                                        const Experiment& x) {
  if (x.experiment_id != e.id) {
    // The folder name is what every reader looks up, so it wins (a copied
    // or renamed folder); the artifact location follows when it was the
    // old folder's.
    std::map<std::string, MetaValue> edits{{"experiment_id", MetaValue::str(e.id)}};
    std::string what = "set experiment_id: " + e.id;
    if (auto uri = retarget(x.artifact_location, x.experiment_id, e.id)) {
      edits["artifact_location"] = MetaValue::str(*uri);
      what += " and artifact_location: " + *uri;
    }
    add(meta, "experiment.id_mismatch", "experiment_id '" + x.experiment_id + "' differs from the folder name",
        "MLflow >= 2.0 ignores the experiment; 1.30 search_experiments crashes (spec §3.2)", FsckSeverity::kError,
        edit(meta, edits, what));
  }
  if (!yaml_find(map, "artifact_location"))
    add(meta, "experiment.missing_artifact_location", "no artifact_location", "every version: TypeError (spec §3.2)",
        FsckSeverity::kError,
        edit(meta, {{"artifact_location", MetaValue::str(path_to_file_uri(join(root_, e.id)))}},
             "added artifact_location"));
  auto stage = string_of(map, "lifecycle_stage");
  std::string want = e.in_trash ? "deleted" : "active";
  if (!stage || (*stage != "active" && *stage != "deleted")) {
    add(meta, "experiment.bad_lifecycle_stage", "lifecycle_stage missing or invalid",
        "MLflow >= 2.3: search_experiments fails for the whole store (spec §3.2, §14.18)", FsckSeverity::kError,
        edit(meta, {{"lifecycle_stage", MetaValue::str(want)}}, "set lifecycle_stage: " + want + " (from the location)"));
  } else if (e.in_trash && *stage == "active") {
    add(meta, "experiment.trashed_but_active",
        "in .trash/ but the file says active (deleted by MLflow 1.30-2.2)",
        "MLflow >= 2.3 shows it and its runs as active; mlflow gc skips it (spec §7, §14.10)", FsckSeverity::kError,
        [this, e, meta, x]() -> Result<std::string> {
          std::int64_t when = x.last_update_time.value_or(env_.now_ms());
          int marked = 0;
          for (const std::string& run : run_dir_names(env_, e.dir)) {
            std::string rm = join(join(e.dir, run), "meta.yaml");
            auto t = read_small(env_, rm);
            if (!t) continue;
            auto info = parse_run_meta(*t);
            if (!info || info->lifecycle_stage == LifecycleStage::kDeleted) continue;
            auto done = apply_meta_edit(env_, rm, *t, {{"lifecycle_stage", MetaValue::str("deleted")},
                                                               {"deleted_time", MetaValue::integer(when)}});
            if (!done) return fail(done.error());
            ++marked;
          }
          auto t = read_small(env_, meta);
          if (!t) return fail(t.error());
          auto done = apply_meta_edit(env_, meta, *t, {{"lifecycle_stage", MetaValue::str("deleted")}});
          if (!done) return fail(done.error());
          return "set lifecycle_stage: deleted and marked " + std::to_string(marked) +
                 " run(s) deleted with deleted_time " + std::to_string(when) + " (as MLflow >= 2.3 deletes)";
        });
  }
  if (!x.creation_time || !x.last_update_time) {
    std::int64_t t = x.creation_time.value_or(x.last_update_time.value_or(0));
    if (t == 0)
      if (auto info = env_.stat(meta); info) t = info->mtime_ms;
    std::map<std::string, MetaValue> edits;
    if (!x.creation_time) edits["creation_time"] = MetaValue::integer(t);
    if (!x.last_update_time) edits["last_update_time"] = MetaValue::integer(x.creation_time.value_or(t));
    add(meta, "experiment.missing_times", "creation_time or last_update_time missing",
        "MLflow 1.30: search_experiments crashes when only some experiments have them (spec §3.2)",
        FsckSeverity::kWarning, edit(meta, edits, "added the missing time(s) from the other time or the file's mtime"));
  }
  check_quoted_integer(meta, map, "experiment", "creation_time",
                       "every MLflow version: search_experiments fails for the whole store (TypeError: it orders by "
                       "creation_time, spec §3.2)",
                       FsckSeverity::kError);
  check_quoted_integer(meta, map, "experiment", "last_update_time",
                       "every MLflow version: ordering experiments by last_update_time and mlflow gc --older-than "
                       "fail (TypeError, spec §3.2)",
                       FsckSeverity::kWarning);
  for (const char* key : {"name", "artifact_location"})
    if (plain_ambiguous(map, key)) {
      const std::string value = yaml_find(map, key)->raw;  // as written: `yes`, not str(True)
      add(meta, "experiment.yaml_typing",
          std::string(key) + " '" + shown(value) + "' is unquoted and reads back as a non-string",
          "every version: PyYAML loads it as a bool/number/date/null (spec §2.1, §14.4)", FsckSeverity::kError,
          edit(meta, {{key, MetaValue::str(value)}}, std::string("quoted ") + key));
    }
  std::string why;
  RelocateTarget t{root_, {}};
  if (auto next = relocated_uri(x.artifact_location, e.id, t, why))
    add(meta, "experiment.artifact_location_elsewhere",
        "artifact_location '" + x.artifact_location + "' does not point into this tree (moved or rsynced)",
        "every version: artifacts are not found, mlflow ui shows none (spec §8.2, §14.12)", FsckSeverity::kWarning,
        edit(meta, {{"artifact_location", MetaValue::str(*next)}}, "set artifact_location: " + *next));
  else if (auto missing = missing_artifact_location(env_, root_, x.artifact_location);
           missing && missing->substr(missing->rfind('/') + 1) != e.id &&
           missing->substr(missing->rfind('/') + 1) != x.experiment_id) {  // MLflow's own shape: *_elsewhere
    // MLflow makes <location>/<run_id>/artifacts on demand, so a missing run
    // folder there is normal; <location> itself missing while the experiment
    // has runs is what a move of the tree's project folder leaves.
    std::size_t runs = run_dir_names(env_, e.dir).size();
    if (runs > 0)
      add(meta, "experiment.artifact_location_missing",
          "artifact_location '" + x.artifact_location + "' is outside the tree and does not exist (" +
              std::to_string(runs) + " run(s))",
          "every version: the runs' artifacts are not found, MLflow lists none (spec §8.1, §8.2); if the folder "
          "moved with the tree, run mlruns relocate --from OLD --to NEW",
          FsckSeverity::kWarning, Fix(nullptr));
  }
}

}  // namespace mlruns::detail
