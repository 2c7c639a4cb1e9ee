// fsck per run (fsck_checker.h): its meta.yaml, its identity against the
// folders holding it, its sub-folders, and run folders without meta.yaml.
#include <algorithm>
#include <map>
#include <string>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_parse.h"
#include "format/meta_write.h"
#include "format/metric_file.h"
#include "maint/fsck_checker.h"
#include "maint/relocate_uri.h"
#include "mlruns/liveness.h"

namespace mlruns::detail {

void FsckChecker::check_run(const ExperimentDir& e, const std::string& dir, const std::string& id) {
  std::string meta = join(dir, "meta.yaml");
  auto mi = env_.stat(meta);
  if (!mi || mi->type == FileType::kMissing) {
    check_run_without_meta(e, dir, id);
    return;
  }
  ++r_.runs;
  run_ids_[id].push_back(dir);
  auto text = read_small(env_, meta);
  std::optional<YamlMap> map = text ? load_map(*text) : std::nullopt;
  if (!map) {
    bool empty = text && text->find_first_not_of(" \t\r\n") == std::string::npos;
    add(meta, empty ? "run.empty_meta" : "run.unreadable_meta",
        empty ? "meta.yaml is empty" : "meta.yaml is not a YAML mapping (garbage or a symlink)",
        std::string(kBreaksRunSearch) + " (spec §10.6, §14.9)", FsckSeverity::kError,
        quarantine(dir, "unreadable run meta.yaml"));
    return;
  }
  const YamlMap& m = *map;
  auto str = [&](const char* k) { return string_of(m, k); };
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
  if (auto s = str("start_time")) start_ok = parse_int_field(*s, start);
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
  // status: an int 1..5, compared as Python does (3.0 == 3, true == 1:
  // file_store.py _read_persisted_run_info_dict); MLflow's names are mapped
  // back; null, which MLflow cannot read, becomes its default, RUNNING.
  // Integers given as quoted strings ('3'): PyYAML reads a str (spec §2.1).
  check_quoted_integer(meta, m, "run", "status",
                       std::string(kBreaksRunSearch) + " ('Could not get string corresponding to run status 3', spec "
                                                       "§4.1)",
                       FsckSeverity::kError);
  check_quoted_integer(meta, m, "run", "start_time",
                       "every MLflow version: search_runs over its experiment fails (TypeError: it orders by "
                       "start_time, spec §4.1)",
                       FsckSeverity::kError);
  for (const char* key : {"end_time", "deleted_time"})
    check_quoted_integer(meta, m, "run", key,
                         std::string("every MLflow version: the run shows a string; ordering by ") + key +
                             (std::string_view(key) == "deleted_time" ? " and mlflow gc --older-than fail" : " fails") +
                             " (TypeError, spec §4.1)",
                         FsckSeverity::kWarning);
  std::optional<RunStatus> status = RunStatus::kRunning;
  if (const YamlValue* st = yaml_find(m, "status"); st && st->kind == YamlValue::Kind::kNull) {
    add(meta, "run.bad_status", "status is null", std::string(kBreaksRunSearch) + " ('Could not get string "
        "corresponding to run status None', spec §4.1)", FsckSeverity::kError,
        edit(meta, {{"status", MetaValue::integer(static_cast<int>(RunStatus::kRunning))}},
             "set status: 1 (RUNNING, MLflow's default)"));
  } else if (st) {
    std::int64_t v = 0;
    std::string s = st->kind == YamlValue::Kind::kString ? st->text : "";
    if (auto py = python_int_value(*st)) {
      status = run_status_from_int(*py);
    } else if (parse_int_field(s, v)) {
      status = run_status_from_int(v);
    } else if (auto named = parse_run_status(s)) {
      status = named;
      add(meta, "run.status_string", "status '" + shown(s) + "' is a name, not an integer",
          std::string(kBreaksRunSearch) + " (spec §4.1)", FsckSeverity::kError,
          edit(meta, {{"status", MetaValue::integer(static_cast<int>(*named))}},
               "set status: " + std::to_string(static_cast<int>(*named))));
    } else {
      status.reset();
    }
    if (!status) {
      add(meta, "run.bad_status", "status '" + shown(s) + "' is not 1..5", std::string(kBreaksRunSearch) + " (spec §4.1)",
          FsckSeverity::kError, quarantine(dir, "run with an unknown status"));
      return;
    }
  }
  if (!yaml_find(m, "end_time")) {
    std::optional<std::int64_t> end;
    if (*status != RunStatus::kRunning)
      if (auto life = last_sign_of_life(env_, dir)) end = std::max(*life, start);
    add(meta, "run.missing_end_time", "no end_time key", std::string(kBreaksRunSearch) + " (spec §4.1, §14.18)",
        FsckSeverity::kError,
        edit(meta, {{"end_time", end ? MetaValue::integer(*end) : MetaValue::null()}},
             end ? "added end_time: " + std::to_string(*end) + " (last sign of life)" : "added end_time: null"));
  }
  if (!str("user_id")) {
    std::string user = read_small(env_, join(join(dir, "tags"), "mlflow.user"), 4096).value_or("unknown");
    add(meta, "run.missing_user_id", "user_id missing or null", std::string(kBreaksRunSearch) + " (spec §4.1, §14.18)",
        FsckSeverity::kError, edit(meta, {{"user_id", MetaValue::str(user)}}, "added user_id: " + user));
  }
  if (const YamlValue* ls = yaml_find(m, "lifecycle_stage")) {
    // MLflow defaults only a missing key; null or any other value fails.
    std::string st = ls->kind == YamlValue::Kind::kString ? ls->text : "";
    if (st != "active" && st != "deleted")
      add(meta, "run.bad_lifecycle_stage",
          ls->kind == YamlValue::Kind::kNull ? std::string("lifecycle_stage is null")
                                             : "lifecycle_stage '" + shown(st) + "' is invalid",
          std::string(kBreaksRunSearch) + " ('Invalid lifecycle stage', spec §4.1)", FsckSeverity::kError,
          edit(meta, {{"lifecycle_stage", MetaValue::str(e.in_trash ? "deleted" : "active")}},
               "set lifecycle_stage from the location"));
  }
  for (const char* key : {"run_id", "run_uuid", "run_name", "user_id", "artifact_uri"})
    if (plain_ambiguous(m, key)) {
      const std::string value = yaml_find(m, key)->raw;  // as written: `yes`, not str(True)
      add(meta, "run.yaml_typing", std::string(key) + " '" + shown(value) + "' is unquoted and reads back as a non-string",
          "every version: PyYAML loads it as a bool/number/date/null (spec §2.1, §14.4)", FsckSeverity::kError,
          edit(meta, {{key, MetaValue::str(value)}}, std::string("quoted ") + key));
    }
  if (auto uri = str("artifact_uri")) {
    std::string why;
    RelocateTarget t{root_, {}};
    if (auto next = relocated_uri(*uri, e.id + "/" + id + "/artifacts", t, why))
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
  check_run_models(dir, id);
  check_temp_files(dir);  // last: a run quarantined above returned early, its temp files inside
}

// A run folder without meta.yaml: MLflow mkdirs a run before writing its
// meta.yaml, so a young one may be a creation in progress. An old one
// with data gets a meta.yaml rebuilt from what the folder holds (the run
// ends KILLED at its last sign of life); an old empty one is a husk.
void FsckChecker::check_run_without_meta(const ExperimentDir& e, const std::string& dir, const std::string& id) {
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
          return read_small(env_, join(join(dir, "tags"), key), 4096).value_or("");
        };
        info.run_name = tag("mlflow.runName");
        info.user_id = tag("mlflow.user");
        if (info.user_id.empty()) info.user_id = "unknown";
        info.status = RunStatus::kKilled;
        auto life = last_sign_of_life(env_, dir);
        if (!life) return fail(life.error());
        info.start_time = earliest_point(join(dir, "metrics")).value_or(*life);
        info.end_time = std::max(*life, info.start_time);
        info.artifact_uri = path_to_file_uri(join(dir, "artifacts"));
        if (e.in_trash) {
          info.lifecycle_stage = LifecycleStage::kDeleted;
          info.deleted_time = *info.end_time;
        }
        MLRUNS_TRY(write_file_atomic(env_, join(dir, "meta.yaml"), render_run_meta(info),
                                             {.sync = true, .temp_dir = {}}));
        return "wrote a meta.yaml: KILLED, start_time " + std::to_string(info.start_time) + " (first metric point), end_time " +
               std::to_string(*info.end_time) + " (last sign of life)";
      });
}

// True if a regular file lies anywhere below `dir` (symlinks not followed).
bool FsckChecker::has_files(const std::string& dir, int depth) {
  if (depth > 32) return false;
  auto entries = env_.list_dir(dir);
  if (!entries) return false;
  for (const DirEntry& e : *entries)
    if (e.type == FileType::kRegular || (e.type == FileType::kDirectory && has_files(join(dir, e.name), depth + 1)))
      return true;
  return false;
}

// The earliest timestamp of any metric point below `metrics`.
std::optional<std::int64_t> FsckChecker::earliest_point(const std::string& metrics) {
  std::optional<std::int64_t> first;
  walk(metrics, metrics, 0, [&](const std::string& path, const std::string&, FileType type) {
    if (type != FileType::kRegular) return;
    // Streamed: memory does not grow with the file (it was read whole, up to 1 GiB).
    auto file = env_.new_sequential_file(path);
    if (!file) return;
    LineStream lines(**file);
    (void)for_each_metric_point(lines, [&](const ParsedPoint& p) {
      if (!first || p.timestamp < *first) first = p.timestamp;
    });
  });
  return first;
}

// run_id/run_uuid and experiment_id against the folders holding the run.
// The folder names are what get_run and search look up (spec §10.4), so
// they win: a copied or renamed run folder becomes a run of its own, and
// its artifact_uri follows when it pointed at the old place.
void FsckChecker::check_run_identity(const ExperimentDir& e, const std::string& id,
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

}  // namespace mlruns::detail
