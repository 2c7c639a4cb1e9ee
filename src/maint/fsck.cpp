// fsck (fsck.h): checks a tree against the traps of spec §10.6 and §14 and
// repairs what is safe. Policy: fix in place when the fix cannot lose or
// invent user data; otherwise, when the item makes MLflow fail for more than
// itself (a whole run, experiment or store), move it to the quarantine; else
// report only.
#include "mlruns/fsck.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <type_traits>

#include <yaml-cpp/yaml.h>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "maint/maint_common.h"
#include "format/meta_parse.h"
#include "format/meta_write.h"
#include "format/metric_file.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "mlruns/liveness.h"
#include "mlruns/relocate.h"
#include "maint/relocate_uri.h"
#include "format/yaml_emit.h"

namespace mlruns {

std::string_view to_string(FsckSeverity s) {
  switch (s) {
    case FsckSeverity::kError: return "error";
    case FsckSeverity::kWarning: return "warning";
    case FsckSeverity::kNotice: return "notice";
  }
  return "error";
}
std::string_view to_string(FsckAction a) {
  switch (a) {
    case FsckAction::kNone: return "none";
    case FsckAction::kRepaired: return "repaired";
    case FsckAction::kQuarantined: return "quarantined";
    case FsckAction::kFailed: return "failed";
  }
  return "none";
}

std::size_t FsckReport::remaining() const {
  std::size_t n = 0;
  for (const FsckFinding& f : findings)
    if (f.severity != FsckSeverity::kNotice && (f.outcome == FsckAction::kNone || f.outcome == FsckAction::kFailed)) ++n;
  return n;
}
std::size_t FsckReport::repaired() const {
  std::size_t n = 0;
  for (const FsckFinding& f : findings)
    if (f.outcome == FsckAction::kRepaired || f.outcome == FsckAction::kQuarantined) ++n;
  return n;
}

namespace {

using detail::join;
using detail::MetaValue;
using Repair = std::function<Result<std::string>()>;

// What --repair does about a finding: a repair (in place or by quarantine),
// or nothing, with a hint saying why and what the user can do.
struct Fix {
  Repair repair;
  bool quarantines = false;
  std::string hint;

  Fix(std::nullptr_t) {}
  template <typename F>
    requires std::is_constructible_v<Repair, F>
  Fix(F&& f) : repair(std::forward<F>(f)) {}
  static Fix left_alone(std::string why) {
    Fix f(nullptr);
    f.hint = std::move(why);
    return f;
  }
};

constexpr const char* kBreaksRunSearch = "every MLflow version: the run, and search_runs over its experiment, fail";

std::optional<YAML::Node> load_map(const std::string& text) {
  try {
    YAML::Node n = YAML::Load(text);
    if (n.IsMap()) return n;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

bool plain_ambiguous(const YAML::Node& map, const char* key) {
  YAML::Node n = map[key];
  return n && n.IsScalar() && n.Tag() == "?" && !n.Scalar().empty() && detail::yaml_plain_is_ambiguous(n.Scalar());
}

class Checker {
 public:
  Checker(Env& env, const FsckOptions& opt, FsckReport& report)
      : env_(env), opt_(opt), r_(report), root_(report.root), q_(env, report.root, env.now_ms()) {}

  void run() {
    check_root();
    for (const detail::ExperimentDir& e : detail::experiment_dirs(env_, root_)) check_experiment(e);
    check_other_locations();
    for (const auto& [id, dirs] : run_ids_)
      if (dirs.size() > 1)
        add(dirs[1], "run.duplicate_id", "run id " + id + " also exists at " + dirs[0],
            "every version: get_run returns the first match only (spec §10.4)", FsckSeverity::kWarning,
            Fix::left_alone("mlruns cannot tell the original from the copy: remove one, or give the copy a new id "
                            "by renaming its folder to a fresh 32-hex-digit id and running fsck --repair again"));
    if (q_.used()) r_.quarantine = q_.dir();
  }

 private:
  void add(std::string path, std::string check, std::string problem, std::string breaks, FsckSeverity sev, Fix fix) {
    FsckFinding f{std::move(path), std::move(check), std::move(problem), std::move(breaks), sev,
                  static_cast<bool>(fix.repair), FsckAction::kNone, {}, std::move(fix.hint)};
    if (opt_.repair && fix.repair) {
      // In-place repairs are logged first, like the quarantine's moves, so
      // NOTES.txt never misses a change; a repair that fails is unlogged.
      Status logged = fix.quarantines ? Status::ok()
                                      : q_.note("fixed " + detail::relative_to(root_, f.path) + " [" + f.check +
                                                "]: " + f.problem);
      auto done = logged.is_ok() ? fix.repair() : Result<std::string>(fail(logged));
      if (done) {
        f.outcome = fix.quarantines ? FsckAction::kQuarantined : FsckAction::kRepaired;
        f.action = *done;
      } else {
        if (!fix.quarantines && logged.is_ok()) q_.unnote();
        f.outcome = FsckAction::kFailed;
        f.action = done.error().to_string();
      }
    }
    if (opt_.on_finding) opt_.on_finding(f);
    r_.findings.push_back(std::move(f));
  }

  Fix quarantine(const std::string& path, std::string reason) {
    Fix f = [this, path, reason]() -> Result<std::string> {
      auto to = q_.move_in(path, reason);
      if (!to) return fail(to.error());
      return "moved to " + *to;
    };
    f.quarantines = true;
    return f;
  }

  Repair edit(const std::string& path, std::map<std::string, MetaValue> edits, std::string what) {
    return [this, path, edits, what]() -> Result<std::string> {
      auto text = detail::read_small(env_, path);
      if (!text) return fail(text.error());
      auto done = detail::apply_meta_edit(env_, path, *text, edits);
      if (!done) return fail(done.error());
      return what;
    };
  }

  // `uri` moved from the MLflow-built place ending in `from_tail` (in this
  // tree or the one it was copied from) to <root>/<to_tail>, in the same form;
  // nullopt for a custom or remote location, which stays as it is.
  std::optional<std::string> retarget(std::string_view uri, const std::string& from_tail, const std::string& to_tail) {
    if (from_tail == to_tail || !validate_artifact_path(from_tail).is_ok()) return std::nullopt;
    std::string why;
    auto here = detail::relocated_uri(uri, from_tail, {root_, {}}, why);
    if (!here && !why.empty()) return std::nullopt;
    std::string in_tree = here ? *here : std::string(uri);
    return detail::relocated_uri(in_tree, {}, {join(root_, to_tail), join(root_, from_tail)}, why);
  }

  // ---- root ----
  void check_root() {
    std::string_view p = root_;
    std::size_t pos = 0;
    while ((pos = p.find("/artifacts", pos)) != std::string_view::npos) {
      std::size_t end = pos + 10;
      if (end == p.size() || p[end] == '/') {
        std::string outside = std::string(p.substr(0, pos)) + "/mlruns";
        add(root_, "root.artifacts_ancestor", "the tree lies under a folder named 'artifacts'",
            "MLflow >= 3.8: get_run fails for every run (spec §1.1, §14.21)", FsckSeverity::kError,
            Fix::left_alone("only moving the whole tree fixes this, e.g. mv " + root_ + " " + outside +
                            " && mlruns relocate --tracking-uri " + outside));
        break;
      }
      pos = end;
    }
    std::string trash = join(root_, detail::kTrashDir);
    auto ti = env_.stat(trash);
    if (ti && ti->type == FileType::kMissing)
      add(trash, "root.missing_trash", "no .trash/ folder",
          "every version: a read-only store without .trash/ cannot be opened (spec §1.1)", FsckSeverity::kWarning,
          [this, trash]() -> Result<std::string> {
            MLRUNS_TRY(env_.create_dir(trash));
            return std::string("created .trash/");
          });
    std::string zero = join(root_, "0");
    auto zi = env_.stat(join(zero, "meta.yaml"));
    auto zt = env_.stat(join(trash, "0"));
    if (zi && zi->type == FileType::kMissing && zt && zt->type == FileType::kMissing)
      add(zero, "root.missing_default", "no default experiment 0/meta.yaml",
          "every version: start_run() without an experiment fails 'Could not find experiment with ID 0' (spec §1.1, §14.8)",
          FsckSeverity::kWarning, [this, zero]() -> Result<std::string> {
            MLRUNS_TRY(env_.create_dirs(zero));
            Experiment e;
            e.experiment_id = "0";
            e.name = "Default";
            e.artifact_location = detail::path_to_file_uri(zero);
            e.creation_time = e.last_update_time = env_.now_ms();
            MLRUNS_TRY(detail::write_file_atomic(env_, join(zero, "meta.yaml"), detail::render_experiment_meta(e),
                                                 {.sync = true, .temp_dir = {}}));
            return std::string("created experiment 0 'Default'");
          });
    auto entries = env_.list_dir(root_);
    if (!entries) return;
    for (const DirEntry& e : *entries) {
      std::string path = join(root_, e.name);
      if (e.name.starts_with(detail::kTempPrefix)) {
        check_temp_leftover(path, e.type, "staging folder of a killed writer (half-made experiments or runs)");
        continue;
      }
      if (e.name == detail::kGcStagingDir && e.type == FileType::kDirectory) {
        auto left = env_.list_dir(path);
        if (left && !left->empty())
          add(path, "root.gc_interrupted", std::to_string(left->size()) + " folder(s) of an interrupted mlruns gc",
              "none: no reader looks there; they only take space", FsckSeverity::kWarning,
              Fix::left_alone("they were already chosen for removal: run mlruns gc again to finish"));
        continue;
      }
      bool trashlike = e.name.size() >= 6 && e.name.compare(e.name.size() - 6, 6, ".trash") == 0;
      if (trashlike || e.name == "models") continue;
      if (e.type == FileType::kSymlink) {
        add(path, "root.symlink", "symlink in the root; MLflow follows it, mlruns does not",
            "MLflow may read outside the tree through it", FsckSeverity::kWarning,
            Fix::left_alone("if it is an experiment kept on another disk, mlruns cannot see it: replace the "
                            "link by the folder, or point --tracking-uri at a tree without links"));
        continue;
      }
      if (e.type != FileType::kDirectory) continue;  // root files are ignored by every reader
      Status id = validate_experiment_id(e.name);
      if (!id) {
        add(path, "root.stray_folder", "folder '" + e.name + "' is not a valid experiment id",
            "every version: search_experiments fails for the whole store (spec §1.2, §14.7)", FsckSeverity::kError,
            quarantine(path, "not an experiment id; breaks search_experiments (spec §1.2)"));
      } else if (e.name.find_first_not_of("0123456789") != std::string::npos) {
        add(path, "root.non_integer_id", "experiment id '" + e.name + "' is not an integer",
            "mlflow migrate-filestore skips it; MLflow >= 3.7 does not detect the store (spec §3.3, §14.17)",
            FsckSeverity::kWarning,
            Fix::left_alone("renumbering would break every script, URI and run that names this id; "
                            "export its runs into a new experiment if the tree must be migrated"));
      }
    }
  }

  // How long `path` has been untouched: a folder counts as touched when
  // anything directly inside it is. nullopt if it cannot be stat'ed.
  std::optional<std::int64_t> idle_ms(const std::string& path, FileType type) {
    auto info = env_.stat(path);
    if (!info || info->type == FileType::kMissing) return std::nullopt;
    std::int64_t last = info->mtime_ms;
    if (type == FileType::kDirectory)
      if (auto entries = env_.list_dir(path))
        for (const DirEntry& e : *entries)
          if (auto ei = env_.stat(join(path, e.name)); ei) last = std::max(last, ei->mtime_ms);
    return env_.now_ms() - last;
  }

  // ".mlruns-tmp-*" files and staging folders: what a killed writer left
  // (spec §11). MLflow ignores them, but nothing will ever finish them and a
  // half-copied checkpoint can be large. A recent one may be a write in
  // progress and is left alone without a word.
  void check_temp_leftover(const std::string& path, FileType type, const std::string& what) {
    if (type == FileType::kSymlink) return;  // not ours: mlruns never makes links
    auto idle = idle_ms(path, type);
    if (!idle || *idle < opt_.temp_grace_ms) return;
    add(path, "temp.leftover", what + ", untouched for " + std::to_string(*idle / 60000) + " min",
        "none: every MLflow version ignores it; it only takes space", FsckSeverity::kWarning,
        quarantine(path, "left by an interrupted mlruns write"));
  }

  // Temp files directly inside an experiment or run folder.
  void check_temp_files(const std::string& dir) {
    auto entries = env_.list_dir(dir);
    if (!entries) return;
    for (const DirEntry& e : *entries)
      if (e.name.starts_with(detail::kTempPrefix))
        check_temp_leftover(join(dir, e.name), e.type, "temp file of an interrupted write");
  }

  // Registry versions and traces name artifact locations too (spec §8.2,
  // §9.3, §9.4). relocate knows how to find their in-tree part, so fsck
  // asks it (dry run) and, to repair, lets it rewrite them.
  void check_other_locations() {
    auto dry = relocate(root_, {.env = &env_, .dry_run = true});
    if (!dry) return;
    std::size_t n = 0;
    std::string first;
    for (const RelocateChange& c : dry->changes) {
      if (c.key != "source" && c.key != "storage_location" && c.key != "mlflow.artifactLocation") continue;
      if (n++ == 0) first = c.path + ": " + c.key + " '" + c.old_value + "'";
    }
    if (n == 0) return;
    add(root_, "registry.location_elsewhere",
        std::to_string(n) + " model registry or trace location(s) do not point into this tree (moved or rsynced); first: " +
            first,
        "every version: the registered model or trace artifacts are not found (spec §8.2, §9.4)", FsckSeverity::kWarning,
        [this]() -> Result<std::string> {
          auto done = relocate(root_, {.env = &env_});
          if (!done) return fail(done.error());
          if (!done->errors.empty()) return fail(done->errors.front());
          return "ran relocate: " + std::to_string(done->changes.size()) + " value(s) rewritten";
        });
  }

  // ---- experiments ----
  // A fresh meta.yaml for experiment folder `e`, named "recovered-<id>".
  Result<std::string> write_recovered_meta(const detail::ExperimentDir& e, const std::string& meta) {
    Experiment x;
    x.experiment_id = e.id;
    x.name = "recovered-" + e.id;
    x.artifact_location = detail::path_to_file_uri(join(root_, e.id));
    x.lifecycle_stage = e.in_trash ? LifecycleStage::kDeleted : LifecycleStage::kActive;
    x.creation_time = x.last_update_time = env_.now_ms();
    MLRUNS_TRY(detail::write_file_atomic(env_, meta, detail::render_experiment_meta(x), {.sync = true, .temp_dir = {}}));
    return "wrote a new meta.yaml named '" + x.name + "'";
  }

  void check_experiment(const detail::ExperimentDir& e) {
    ++r_.experiments;
    std::string meta = join(e.dir, "meta.yaml");
    auto mi = env_.stat(meta);
    if (!mi || mi->type == FileType::kMissing) {
      // Runs without their experiment's meta.yaml are invisible: give them a
      // new one. An experiment folder without runs is a creation cut short.
      bool has_runs = !detail::run_dir_names(env_, e.dir).empty();
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
    for (const std::string& run : detail::run_dir_names(env_, e.dir)) check_run(e, join(e.dir, run), run);
    if (!e.in_trash) check_delete_cut_short(e, meta);
  }

  // An experiment in the root whose file says deleted. Checked last: the
  // repair moves the whole folder.
  void check_delete_cut_short(const detail::ExperimentDir& e, const std::string& meta) {
    auto text = detail::read_small(env_, meta);
    if (!text) return;
    auto x = detail::parse_experiment_meta(*text, false);
    if (!x || x->lifecycle_stage != LifecycleStage::kDeleted) return;
    // Both an interrupted delete (file first, then the move) and an
    // interrupted restore (move first) end here. Finishing the delete
    // matches what MLflow >= 2.3 already shows, and restore undoes it.
    std::string to = join(join(root_, detail::kTrashDir), e.id);
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
  void check_experiment_file(const detail::ExperimentDir& e, const std::string& meta) {
    auto text = detail::read_small(env_, meta);
    std::optional<YAML::Node> map = text ? load_map(*text) : std::nullopt;
    std::optional<Experiment> parsed;
    if (text && map) {
      auto p = detail::parse_experiment_meta(*text, e.in_trash);
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

  void check_experiment_meta(const detail::ExperimentDir& e, const std::string& meta, const YAML::Node& map,
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
    if (!map["artifact_location"])
      add(meta, "experiment.missing_artifact_location", "no artifact_location", "every version: TypeError (spec §3.2)",
          FsckSeverity::kError,
          edit(meta, {{"artifact_location", MetaValue::str(detail::path_to_file_uri(join(root_, e.id)))}},
               "added artifact_location"));
    auto stage = map["lifecycle_stage"];
    std::string want = e.in_trash ? "deleted" : "active";
    if (!stage || !stage.IsScalar() || (stage.Scalar() != "active" && stage.Scalar() != "deleted")) {
      add(meta, "experiment.bad_lifecycle_stage", "lifecycle_stage missing or invalid",
          "MLflow >= 2.3: search_experiments fails for the whole store (spec §3.2, §14.18)", FsckSeverity::kError,
          edit(meta, {{"lifecycle_stage", MetaValue::str(want)}}, "set lifecycle_stage: " + want + " (from the location)"));
    } else if (e.in_trash && stage.Scalar() == "active") {
      add(meta, "experiment.trashed_but_active",
          "in .trash/ but the file says active (deleted by MLflow 1.30-2.2)",
          "MLflow >= 2.3 shows it and its runs as active; mlflow gc skips it (spec §7, §14.10)", FsckSeverity::kError,
          [this, e, meta, x]() -> Result<std::string> {
            std::int64_t when = x.last_update_time.value_or(env_.now_ms());
            int marked = 0;
            for (const std::string& run : detail::run_dir_names(env_, e.dir)) {
              std::string rm = join(join(e.dir, run), "meta.yaml");
              auto t = detail::read_small(env_, rm);
              if (!t) continue;
              auto info = detail::parse_run_meta(*t);
              if (!info || info->lifecycle_stage == LifecycleStage::kDeleted) continue;
              auto done = detail::apply_meta_edit(env_, rm, *t, {{"lifecycle_stage", MetaValue::str("deleted")},
                                                                 {"deleted_time", MetaValue::integer(when)}});
              if (!done) return fail(done.error());
              ++marked;
            }
            auto t = detail::read_small(env_, meta);
            if (!t) return fail(t.error());
            auto done = detail::apply_meta_edit(env_, meta, *t, {{"lifecycle_stage", MetaValue::str("deleted")}});
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
    for (const char* key : {"name", "artifact_location"})
      if (plain_ambiguous(map, key))
        add(meta, "experiment.yaml_typing",
            std::string(key) + " '" + map[key].Scalar() + "' is unquoted and reads back as a non-string",
            "every version: PyYAML loads it as a bool/number/date/null (spec §2.1, §14.4)", FsckSeverity::kError,
            edit(meta, {{key, MetaValue::str(map[key].Scalar())}}, std::string("quoted ") + key));
    std::string why;
    detail::RelocateTarget t{root_, {}};
    if (auto next = detail::relocated_uri(x.artifact_location, e.id, t, why))
      add(meta, "experiment.artifact_location_elsewhere",
          "artifact_location '" + x.artifact_location + "' does not point into this tree (moved or rsynced)",
          "every version: artifacts are not found, mlflow ui shows none (spec §8.2, §14.12)", FsckSeverity::kWarning,
          edit(meta, {{"artifact_location", MetaValue::str(*next)}}, "set artifact_location: " + *next));
  }

  // ---- runs ----
  void check_run(const detail::ExperimentDir& e, const std::string& dir, const std::string& id) {
    std::string meta = join(dir, "meta.yaml");
    auto mi = env_.stat(meta);
    if (!mi || mi->type == FileType::kMissing) {
      check_run_without_meta(e, dir, id);
      return;
    }
    ++r_.runs;
    run_ids_[id].push_back(dir);
    auto text = detail::read_small(env_, meta);
    std::optional<YAML::Node> map = text ? load_map(*text) : std::nullopt;
    if (!map) {
      bool empty = text && text->find_first_not_of(" \t\r\n") == std::string::npos;
      add(meta, empty ? "run.empty_meta" : "run.unreadable_meta",
          empty ? "meta.yaml is empty" : "meta.yaml is not a YAML mapping (garbage or a symlink)",
          std::string(kBreaksRunSearch) + " (spec §10.6, §14.9)", FsckSeverity::kError,
          quarantine(dir, "unreadable run meta.yaml"));
      return;
    }
    const YAML::Node& m = *map;
    auto str = [&](const char* k) -> std::optional<std::string> {
      if (m[k] && m[k].IsScalar() && !(m[k].Tag() == "?" && (m[k].Scalar() == "~" || m[k].Scalar() == "null")))
        return m[k].Scalar();
      return std::nullopt;
    };
    auto run_id = str("run_id"), run_uuid = str("run_uuid");
    if (!run_id && !run_uuid) {
      add(meta, "run.missing_run_id", "neither run_id nor run_uuid", std::string(kBreaksRunSearch) + " (spec §4.3)",
          FsckSeverity::kError, quarantine(dir, "run meta.yaml without run_id/run_uuid"));
      return;
    }
    std::string rid = run_id ? *run_id : *run_uuid;
    // Start time and status cannot be guessed: such a run goes to quarantine.
    std::int64_t start = 0;
    bool start_ok = false;
    if (auto s = str("start_time")) start_ok = detail::parse_int_field(*s, start);
    if (!start_ok) {
      add(meta, "run.missing_start_time", "start_time missing or not an integer",
          std::string(kBreaksRunSearch) + " (spec §4.1, §14.18)", FsckSeverity::kError,
          quarantine(dir, "run without a valid start_time"));
      return;
    }
    if (!run_id)
      add(meta, "run.missing_run_id", "no run_id key (only run_uuid)", "MLflow >= 3.0: TypeError, the experiment's search fails (spec §4.3)",
          FsckSeverity::kError, edit(meta, {{"run_id", MetaValue::str(rid)}}, "added run_id: " + rid));
    if (!run_uuid)
      add(meta, "run.missing_run_uuid", "no run_uuid key (written by MLflow >= 3.0)",
          "MLflow <= 2.22: TypeError, search_runs fails for the whole experiment (spec §4.3, §14.1)",
          FsckSeverity::kError, edit(meta, {{"run_uuid", MetaValue::str(rid)}}, "added run_uuid: " + rid));
    check_run_identity(e, id, meta, rid, run_id && run_uuid && *run_id != *run_uuid, str("experiment_id"),
                       str("artifact_uri"));
    // status: an int 1..5; MLflow's names are mapped back.
    std::optional<RunStatus> status = RunStatus::kRunning;
    if (m["status"] && !m["status"].IsNull()) {
      std::int64_t v = 0;
      std::string s = m["status"].IsScalar() ? m["status"].Scalar() : "";
      if (detail::parse_int_field(s, v)) {
        status = run_status_from_int(v);
      } else if (auto named = parse_run_status(s)) {
        status = named;
        add(meta, "run.status_string", "status '" + s + "' is a name, not an integer",
            std::string(kBreaksRunSearch) + " (spec §4.1)", FsckSeverity::kError,
            edit(meta, {{"status", MetaValue::integer(static_cast<int>(*named))}},
                 "set status: " + std::to_string(static_cast<int>(*named))));
      } else {
        status.reset();
      }
      if (!status) {
        add(meta, "run.bad_status", "status '" + s + "' is not 1..5", std::string(kBreaksRunSearch) + " (spec §4.1)",
            FsckSeverity::kError, quarantine(dir, "run with an unknown status"));
        return;
      }
    }
    if (!m["end_time"]) {
      std::optional<std::int64_t> end;
      if (*status != RunStatus::kRunning)
        if (auto life = last_sign_of_life(env_, dir)) end = std::max(*life, start);
      add(meta, "run.missing_end_time", "no end_time key", std::string(kBreaksRunSearch) + " (spec §4.1, §14.18)",
          FsckSeverity::kError,
          edit(meta, {{"end_time", end ? MetaValue::integer(*end) : MetaValue::null()}},
               end ? "added end_time: " + std::to_string(*end) + " (last sign of life)" : "added end_time: null"));
    }
    if (!str("user_id")) {
      std::string user = detail::read_small(env_, join(join(dir, "tags"), "mlflow.user"), 4096).value_or("unknown");
      add(meta, "run.missing_user_id", "user_id missing or null", std::string(kBreaksRunSearch) + " (spec §4.1, §14.18)",
          FsckSeverity::kError, edit(meta, {{"user_id", MetaValue::str(user)}}, "added user_id: " + user));
    }
    if (m["lifecycle_stage"] && !m["lifecycle_stage"].IsNull()) {
      std::string st = m["lifecycle_stage"].IsScalar() ? m["lifecycle_stage"].Scalar() : "";
      if (st != "active" && st != "deleted")
        add(meta, "run.bad_lifecycle_stage", "lifecycle_stage '" + st + "' is invalid",
            std::string(kBreaksRunSearch) + " ('Invalid lifecycle stage', spec §4.1)", FsckSeverity::kError,
            edit(meta, {{"lifecycle_stage", MetaValue::str(e.in_trash ? "deleted" : "active")}},
                 "set lifecycle_stage from the location"));
    }
    for (const char* key : {"run_id", "run_uuid", "run_name", "user_id", "artifact_uri"})
      if (plain_ambiguous(m, key))
        add(meta, "run.yaml_typing", std::string(key) + " '" + m[key].Scalar() + "' is unquoted and reads back as a non-string",
            "every version: PyYAML loads it as a bool/number/date/null (spec §2.1, §14.4)", FsckSeverity::kError,
            edit(meta, {{key, MetaValue::str(m[key].Scalar())}}, std::string("quoted ") + key));
    if (auto uri = str("artifact_uri")) {
      std::string why;
      detail::RelocateTarget t{root_, {}};
      if (auto next = detail::relocated_uri(*uri, e.id + "/" + id + "/artifacts", t, why))
        add(meta, "run.artifact_uri_elsewhere", "artifact_uri '" + *uri + "' does not point into this tree (moved or rsynced)",
            "every version: artifacts are not found, mlflow ui shows none (spec §8.2, §14.12); run mlruns relocate",
            FsckSeverity::kWarning, edit(meta, {{"artifact_uri", MetaValue::str(*next)}}, "set artifact_uri: " + *next));
    }
    for (const char* sub : {"metrics", "params", "artifacts", "tags"}) {
      std::string p = join(dir, sub);
      auto info = env_.stat(p);
      if (info && info->type == FileType::kMissing)
        add(p, "run.missing_subfolder", std::string("no ") + sub + "/ folder",
            std::string(sub) == "tags" ? "none (created lazily by MLflow); added for uniformity"
                                       : "MLflow >= 3.8: get_run fails for this run (spec §1.1, §14.21)",
            std::string(sub) == "tags" ? FsckSeverity::kWarning : FsckSeverity::kError,
            [this, p, sub]() -> Result<std::string> {
              MLRUNS_TRY(env_.create_dir(p));
              return std::string("created ") + sub + "/";
            });
    }
    bool running = *status == RunStatus::kRunning;
    check_keys(join(dir, "metrics"), "metric", running ? nullptr : &dir);
    if (running) check_keys(join(dir, "metrics"), "metric-running", &dir);
    check_keys(join(dir, "params"), "param", nullptr);
    check_keys(join(dir, "tags"), "tag", nullptr);
    check_temp_files(dir);  // last: a run quarantined above returned early, its temp files inside
  }

  // A run folder without meta.yaml: MLflow mkdirs a run before writing its
  // meta.yaml, so a young one may be a creation in progress. An old one
  // with data gets a meta.yaml rebuilt from what the folder holds (the run
  // ends KILLED at its last sign of life); an old empty one is a husk.
  void check_run_without_meta(const detail::ExperimentDir& e, const std::string& dir, const std::string& id) {
    auto idle = idle_ms(dir, FileType::kDirectory);
    if (!idle || *idle < opt_.temp_grace_ms) return;
    bool uuid_like = id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!uuid_like) {
      add(dir, "run.missing_meta", "folder without meta.yaml, not named like a run id",
          "none: every version skips it silently (spec §10.2)", FsckSeverity::kNotice,
          Fix::left_alone("not recognisably a run, so not rebuilt; move it out of the experiment folder"));
      return;
    }
    if (!has_files(dir, 0)) {
      add(dir, "run.missing_meta", "run folder without meta.yaml or any data",
          "none: every version skips it silently (spec §10.2)", FsckSeverity::kWarning,
          quarantine(dir, "run folder without meta.yaml or data (a creation cut short)"));
      return;
    }
    add(dir, "run.missing_meta", "run folder without meta.yaml; its data is invisible",
        "every version skips it silently (spec §10.2)", FsckSeverity::kWarning,
        [this, e, dir, id]() -> Result<std::string> {
          RunInfo info;
          info.run_id = id;
          info.experiment_id = e.id;
          auto tag = [&](const char* key) {
            return detail::read_small(env_, join(join(dir, "tags"), key), 4096).value_or("");
          };
          info.run_name = tag("mlflow.runName");
          info.user_id = tag("mlflow.user");
          if (info.user_id.empty()) info.user_id = "unknown";
          info.status = RunStatus::kKilled;
          auto life = last_sign_of_life(env_, dir);
          if (!life) return fail(life.error());
          info.start_time = earliest_point(join(dir, "metrics")).value_or(*life);
          info.end_time = std::max(*life, info.start_time);
          info.artifact_uri = detail::path_to_file_uri(join(dir, "artifacts"));
          if (e.in_trash) {
            info.lifecycle_stage = LifecycleStage::kDeleted;
            info.deleted_time = *info.end_time;
          }
          MLRUNS_TRY(detail::write_file_atomic(env_, join(dir, "meta.yaml"), detail::render_run_meta(info),
                                               {.sync = true, .temp_dir = {}}));
          return "wrote a meta.yaml: KILLED, start_time " + std::to_string(info.start_time) + " (first metric point), end_time " +
                 std::to_string(*info.end_time) + " (last sign of life)";
        });
  }

  // True if a regular file lies anywhere below `dir` (symlinks not followed).
  bool has_files(const std::string& dir, int depth) {
    if (depth > 32) return false;
    auto entries = env_.list_dir(dir);
    if (!entries) return false;
    for (const DirEntry& e : *entries)
      if (e.type == FileType::kRegular || (e.type == FileType::kDirectory && has_files(join(dir, e.name), depth + 1)))
        return true;
    return false;
  }

  // The earliest timestamp of any metric point below `metrics`.
  std::optional<std::int64_t> earliest_point(const std::string& metrics) {
    std::optional<std::int64_t> first;
    walk(metrics, metrics, 0, [&](const std::string& path, const std::string&, FileType type) {
      if (type != FileType::kRegular) return;
      auto text = detail::read_small(env_, path, 1ull << 30);
      if (!text) return;
      detail::for_each_metric_point(*text, [&](const detail::ParsedPoint& p) {
        if (!first || p.timestamp < *first) first = p.timestamp;
      });
    });
    return first;
  }

  // run_id/run_uuid and experiment_id against the folders holding the run.
  // The folder names are what get_run and search look up (spec §10.4), so
  // they win: a copied or renamed run folder becomes a run of its own, and
  // its artifact_uri follows when it pointed at the old place.
  void check_run_identity(const detail::ExperimentDir& e, const std::string& id,
                          const std::string& meta, const std::string& rid, bool ids_differ,
                          const std::optional<std::string>& exp_in_file, const std::optional<std::string>& uri) {
    bool id_off = rid != id || ids_differ;
    bool exp_off = exp_in_file != e.id;
    std::optional<std::string> new_uri;
    if ((id_off || exp_off) && uri)
      new_uri = retarget(*uri, exp_in_file.value_or(e.id) + "/" + rid + "/artifacts", e.id + "/" + id + "/artifacts");
    auto with_uri = [&](std::map<std::string, MetaValue> edits, std::string what) {
      if (new_uri) {
        edits["artifact_uri"] = MetaValue::str(*new_uri);
        what += " and artifact_uri: " + *new_uri;
        new_uri.reset();  // once
      }
      return edit(meta, std::move(edits), std::move(what));
    };
    if (id_off)
      add(meta, "run.id_mismatch",
          rid != id ? "run_id '" + rid + "' differs from the folder name" : "run_id and run_uuid differ",
          "MLflow 3.8: get_run fails; older versions return another run's id (spec §1.1, §10.4)", FsckSeverity::kError,
          with_uri({{"run_id", MetaValue::str(id)}, {"run_uuid", MetaValue::str(id)}},
                   "set run_id and run_uuid: " + id + " (was '" + rid + "')"));
    if (exp_off)
      add(meta, "run.experiment_mismatch",
          exp_in_file ? "experiment_id '" + *exp_in_file + "' is not the parent folder '" + e.id + "'"
                      : "no experiment_id (the parent folder is '" + e.id + "')",
          "every version: skipped by search, 'invalid state' in get_run (spec §10.4, §10.6)", FsckSeverity::kError,
          with_uri({{"experiment_id", MetaValue::str(e.id)}}, "set experiment_id: " + e.id));
  }

  // Walks metrics/, params/ or tags/: stray files, symlinks, key names, and
  // (for metrics, given the run folder) the lines of each file.
  void check_keys(const std::string& base, const std::string& kind_in, const std::string* run_dir) {
    // "metric-running": the run is being written; check lines, never rewrite.
    bool running = kind_in == "metric-running";
    if (running && !run_dir) return;
    std::string kind = running ? "metric" : kind_in;
    walk(base, base, 0, [&](const std::string& path, const std::string& key, FileType type) {
      if (running) {
        if (type == FileType::kRegular && !detail::is_litter_name(key.substr(key.rfind('/') + 1)) &&
            is_valid_key(key, NameRules::kMlflow))
          check_metric_lines(path, key, *run_dir, true);
        return;
      }
      std::string name = key.substr(key.rfind('/') + 1);
      if (type == FileType::kSymlink) {
        add(path, kind + ".symlink", "symlink inside " + kind + "s/; MLflow follows it (maybe out of the tree)",
            "MLflow reads whatever it points to; mlruns refuses it", FsckSeverity::kWarning,
            quarantine(path, "symlink in a key folder"));
        return;
      }
      if (detail::is_litter_name(name)) {
        add(path, kind + ".stray_file", "'" + key + "' is OS/editor litter, not a " + kind,
            kind == "metric" ? std::string(kBreaksRunSearch) + " (spec §2.4, §14.5)"
                             : "every version: it shows up as " + kind + " '" + key + "' (spec §2.4, §14.5)",
            kind == "metric" ? FsckSeverity::kError : FsckSeverity::kWarning,
            quarantine(path, "stray file in " + kind + "s/"));
        return;
      }
      if (type != FileType::kRegular) return;
      if (!is_valid_key(key, NameRules::kMlflow)) {
        add(path, kind + ".invalid_name", validate_key(kind + " key", key, NameRules::kMlflow).message(),
            std::string(kBreaksRunSearch) + " (spec §6.1, §10.6)", FsckSeverity::kError,
            quarantine(path, "invalid " + kind + " name"));
        return;
      }
      if (!is_valid_key(key, NameRules::kPortable) && key.find(':') != std::string::npos)
        add(path, kind + ".colon_name", kind + " key '" + key + "' contains ':'",
            "MLflow < 2.16 and every Windows MLflow: the run is unreadable (spec §6.1, §14.6)", FsckSeverity::kNotice,
            Fix::left_alone("valid for MLflow >= 2.16 on Linux and macOS, so kept; moving it would hide it from "
                            "them. Write such keys with NameRules::kPortable if older readers matter"));
      if (kind == "metric" && run_dir) check_metric_lines(path, key, *run_dir, false);
    });
  }

  void walk(const std::string& base, const std::string& dir, int depth,
            const std::function<void(const std::string&, const std::string&, FileType)>& fn) {
    if (depth > 32) return;
    auto entries = env_.list_dir(dir);
    if (!entries) return;
    for (const DirEntry& e : *entries) {
      std::string path = join(dir, e.name);
      if (e.type == FileType::kDirectory && !detail::is_litter_name(e.name)) walk(base, path, depth + 1, fn);
      else fn(path, detail::relative_to(base, path), e.type);
    }
  }

  void check_metric_lines(const std::string& path, const std::string& key, const std::string& run_dir, bool running) {
    ++r_.metric_files;
    auto text = detail::read_small(env_, path, 1ull << 30);
    if (!text) return;
    std::string keep, dropped;
    std::size_t blank = 0, bad = 0, five = 0, good = 0;
    bool partial = false;
    std::string first_error;
    std::string_view rest = *text;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) {
        partial = true;
        dropped.append(rest);
        dropped += '\n';
        break;
      }
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl + 1);
      detail::ParsedPoint p;
      const char* err = nullptr;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        ++blank;
        dropped.append(line);
        dropped += '\n';
      } else if (detail::parse_metric_line(line, p, err)) {
        std::size_t end = line.find_last_not_of(" \t\r");
        line = line.substr(0, end + 1);
        if (std::count(line.begin(), line.end(), ' ') == 4) {
          ++five;
          dropped.append(line);
          dropped += '\n';
          std::size_t third = line.find(' ', line.find(' ', line.find(' ') + 1) + 1);
          keep.append(line.substr(0, third));
          keep += '\n';
        } else {
          ++good;
          keep.append(line);
          keep += '\n';
        }
      } else {
        ++bad;
        if (first_error.empty()) first_error = std::string(err ? err : "malformed") + ": '" + std::string(line.substr(0, 60)) + "'";
        dropped.append(line);
        dropped += '\n';
      }
    }
    if (running && partial) partial = false;  // a write in progress, not damage
    if (!blank && !bad && !five && !partial) return;
    std::string what;
    auto part = [&](std::size_t n, const char* s) {
      if (n) what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + s;
    };
    part(blank, "blank line(s)");
    part(bad, "malformed line(s)");
    part(five, "5-field line(s)");
    if (partial) what += std::string(what.empty() ? "" : ", ") + "a partial last line (no newline)";
    if (!first_error.empty()) what += "; first: " + first_error;
    std::string breaks = (blank || bad || partial)
                             ? std::string(kBreaksRunSearch) + " (spec §5.1, §10.6, §14.3)"
                             : "MLflow <= 2.22 cannot read the run; 3.x reads step 0 (spec §5.1, §14.2)";
    Fix fix = nullptr;
    if (running) {
      // Never rewrite a file someone may be appending to.
      fix = Fix::left_alone("the run is RUNNING: stop its writer, or end it with mlruns reap, then repair");
    } else if (good == 0 && five == 0) {
      fix = quarantine(path, "metric file without a single valid line");
    } else {
      std::string original = *text;
      fix = [this, path, run_dir, keep, dropped, original]() -> Result<std::string> {
        auto saved = q_.save(path, ".removed-lines", dropped, "lines dropped or rewritten by fsck --repair");
        if (!saved) return fail(saved.error());
        auto now = detail::read_small(env_, path, 1ull << 30);
        if (!now || *now != original) return fail(Status::failed_precondition(path, "changed meanwhile; left alone"));
        // The temp file goes to the run folder: inside metrics/ MLflow would read it as a key (spec §11).
        MLRUNS_TRY(detail::write_file_atomic(env_, path, keep, {.sync = true, .temp_dir = run_dir}));
        return "rewrote the file keeping only valid 3-field lines; originals saved in " + *saved;
      };
    }
    add(path, "metric.malformed_lines", "metric '" + key + "': " + what, breaks, FsckSeverity::kError, std::move(fix));
  }

  Env& env_;
  const FsckOptions& opt_;
  FsckReport& r_;
  std::string root_;
  detail::Quarantine q_;
  std::map<std::string, std::vector<std::string>> run_ids_;
};

}  // namespace

Result<FsckReport> fsck(std::string_view tracking_uri, const FsckOptions& options) {
  Env& env = options.env ? *options.env : *Env::posix();
  auto root = detail::resolve_tree_root(env, tracking_uri);
  if (!root) return fail(root.error());
  FsckReport report;
  report.root = *root;
  Checker(env, options, report).run();
  return report;
}

}  // namespace mlruns
