// gc (gc.h): permanent removal of deleted runs and trashed experiments,
// following `mlflow gc` (spec §7).
#include "mlruns/gc.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "env/atomic_file.h"
#include "format/artifact_dir.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "format/logged_model_meta.h"
#include "format/meta_parse.h"
#include "maint/maint_common.h"
#include "write/name_claim.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "mlruns/reader.h"
#include "util/printable.h"

namespace mlruns {
namespace {

using detail::join;

struct RunFound {
  std::string id;
  std::string experiment_id;
  std::string dir;
  bool experiment_in_trash = false;
  bool deleted = false;
  std::optional<std::int64_t> deleted_time;
  std::string artifact_uri;
  std::string meta_run_id;  // run_id as meta.yaml says (the folder's name is `id`)
};

// The run's own artifact folder under its experiment's artifact location,
// <location>/<run_id>/artifacts (format/artifact_dir.h: the one rule, which
// also makes <location>/<run_id> a root of the confined Env), if `r`'s
// artifact_uri names one with nothing but artifacts/ in <location>/<run_id>
// (a run folder of another tree, which a copied tree's URIs still name, has a
// meta.yaml there); else nullopt and `why`.
std::optional<detail::ArtifactDir> external_artifacts_of(Env& env, const std::string& root, const RunFound& r,
                                                         std::string& why) {
  auto dir = detail::run_artifact_dir(env, root, r.dir, r.artifact_uri, r.meta_run_id, /*create=*/false);
  if (!dir) {
    why = dir.error().to_string();
    return std::nullopt;
  }
  if (!dir->outside) {
    why = "inside the tree";
    return std::nullopt;
  }
  auto entries = env.list_dir(dir->run_root);
  if (!entries) {
    why = entries.error().to_string();
    return std::nullopt;
  }
  for (const DirEntry& e : *entries)
    if (e.name != "artifacts" || e.type != FileType::kDirectory) {
      why = "'" + join(dir->run_root, e.name) + "' is there too (another tree's run?)";
      return std::nullopt;
    }
  return std::move(*dir);
}

// Another run of the tree using the outside folder `run_root`
// (<location>/<run_id>) of `r`: one with the same run id (a copied
// experiment: both URIs name the one folder) or whose artifact_uri points
// into it. "" if none; else which, for gc's note. Removing the folder with
// `r` would take that run's artifacts.
std::string shared_with(const std::vector<RunFound>& runs, const RunFound& r, const std::string& run_root) {
  for (const RunFound& o : runs) {
    if (o.dir == r.dir) continue;
    const std::string other = "run " + o.id + " of experiment " + o.experiment_id + " (" + o.dir + ")";
    if (o.id == r.id || (!r.meta_run_id.empty() && o.meta_run_id == r.meta_run_id)) return other + " has the same run id";
    auto p = detail::local_path_of(o.artifact_uri);
    if (p && (*p == run_root || p->rfind(run_root + "/", 0) == 0))
      return other + " keeps its artifacts there (artifact_uri '" + o.artifact_uri + "')";
  }
  return {};
}

bool old_enough(std::optional<std::int64_t> t, const GcOptions& opt, std::int64_t now) {
  if (!opt.older_than_ms) return true;
  if (!t) return true;  // mlflow gc: runs without deleted_time always qualify
  return now - *t >= *opt.older_than_ms;
}

// A folder we may remove: a real directory (not a symlink) strictly inside root.
Status check_removable(Env& env, const std::string& root, const std::string& dir) {
  if (dir.size() <= root.size() + 1 || dir.compare(0, root.size() + 1, root + "/") != 0 ||
      dir.find("/../") != std::string::npos || dir.find("/./") != std::string::npos)
    return Status::failed_precondition(dir, "outside the tree; not removed");
  auto info = env.stat(dir, false);
  if (!info) return info.error();
  if (info->type != FileType::kDirectory) return Status::failed_precondition(dir, "not a real directory; not removed");
  return Status::ok();
}

// Where gc moves a folder before deleting it: a root folder whose name ends
// in ".trash" is skipped by every MLflow reader (spec §1.2). A run loses its
// files one by one while rmtree works; had that happened in place, a failure
// half-way (EIO, EACCES, a node crash) would leave a run with meta.yaml but
// without params/ or metrics/, which MLflow 3.8 fails on (§14.21). One
// rename takes it out of sight first.

class Remover {
 public:
  Remover(Env& env, std::string root) : env_(env), root_(std::move(root)), staging_(join(root_, detail::kGcStagingDir)) {}

  // Removes leftovers of an interrupted gc (all of them were already out of
  // sight). Notes what it finished; errors go to `report`.
  void finish_leftovers(GcReport& report, bool dry_run) {
    auto entries = env_.list_dir(staging_);
    if (!entries) return;
    for (const DirEntry& e : *entries) {
      std::string path = join(staging_, e.name);
      if (dry_run) {
        report.notes.push_back("would finish removing " + path + " (left by an interrupted gc)");
        continue;
      }
      Status s = e.type == FileType::kDirectory ? env_.remove_tree(path) : env_.remove_file(path);
      if (s) report.notes.push_back("finished removing " + path + " (left by an interrupted gc)");
      else report.errors.push_back(s);
    }
  }

  // Moves `dir` (strictly inside the tree, a real directory) to the staging
  // folder, then removes it there. `gone` tells whether it left the tree.
  Status remove(const std::string& dir, const std::string& label, bool& gone) {
    gone = false;
    Status s = check_removable(env_, root_, dir);
    if (!s) return s;
    s = env_.create_dirs(staging_);
    if (!s) return s;
    std::string staged = join(staging_, label + "." + detail::random_hex(8));
    s = env_.rename(dir, staged);
    if (!s) return s;
    gone = true;
    s = env_.remove_tree(staged);
    if (!s) return s.with_context("moved out of the tree to " + staged + " but not deleted (the next gc finishes)");
    return Status::ok();
  }

  // The staging folder goes once empty; it stays if another gc still uses
  // it or a removal failed (already reported).
  void done(GcReport& report) {
    Status s = env_.remove_dir(staging_);
    if (!s && s.code() != Code::kNotFound && s.code() != Code::kAlreadyExists && s.os_error() != ENOTEMPTY)
      report.errors.push_back(s);
  }

 private:
  Env& env_;
  std::string root_;
  std::string staging_;
};

// The MLflow 3.x LoggedModel records (spec §9.2) of `r`'s experiment whose
// files are the run's: source_run_id is the run and artifact_location lies
// in its artifacts (as mlruns' log_model writes them). They go with the run:
// a record whose files are gone would stay in MLflow 3.x's Models tab and
// fail to load. MLflow's own records (files in <exp>/models/<id>/artifacts)
// are left alone, as mlflow gc leaves them.
std::vector<std::pair<std::string, std::string>> records_of_run(Env& env, const RunFound& r) {
  std::vector<std::pair<std::string, std::string>> out;  // (record folder, model id)
  const std::string models = join(detail::parent_dir(r.dir), detail::kLoggedModelsDir);
  auto info = env.stat(models, false);
  if (!info || info->type != FileType::kDirectory) return out;
  auto entries = env.list_dir(models);
  if (!entries) return out;
  std::vector<std::string> homes{join(r.dir, "artifacts")};
  if (auto p = detail::local_path_of(r.artifact_uri)) homes.push_back(*p);
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory || !validate_run_id(e.name)) continue;
    auto text = detail::read_small(env, join(join(models, e.name), "meta.yaml"));
    if (!text) continue;
    auto rec = detail::parse_logged_model_meta(*text);
    if (!rec || rec->source_run_id != r.id) continue;
    auto where = detail::local_path_of(rec->artifact_location);
    if (!where) continue;
    for (const std::string& home : homes)
      if (*where == home || where->rfind(home + "/", 0) == 0) {
        out.emplace_back(join(models, e.name), e.name);
        break;
      }
  }
  return out;
}

}  // namespace

namespace {

// Where each live registered model version's files are (Reader::
// resolve_model_uri), with the version's models:/ URI.
std::vector<std::pair<std::string, std::string>> registered_locations(Env& env, const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  auto reader = Reader::open(root, {.env = &env, .on_warning = {}, .threads = 1});
  if (!reader) return out;
  auto models = reader->registered_models();
  if (!models) return out;
  for (const RegisteredModel& m : *models) {
    auto versions = reader->model_versions(m.name);
    if (!versions) continue;
    for (const ModelVersion& v : *versions) {
      std::string uri = "models:/" + m.name + "/" + std::to_string(v.version);
      if (auto loc = reader->resolve_model_uri(uri)) out.emplace_back(loc->path, uri);
    }
  }
  return out;
}

// The first registered version whose files lie in `dir`, if any.
std::optional<std::string> registered_in(const std::vector<std::pair<std::string, std::string>>& locations,
                                         const std::string& dir) {
  for (const auto& [path, uri] : locations)
    if (path == dir || path.rfind(dir + "/", 0) == 0) return uri;
  return std::nullopt;
}

}  // namespace

Result<GcReport> gc(std::string_view tracking_uri, const GcOptions& opt) {
  auto tree = detail::open_tree(opt.env, tracking_uri);
  if (!tree) return fail(tree.error());
  Env& env = *tree->env;
  const std::string root = tree->root;
  for (const std::string& id : opt.experiment_ids) MLRUNS_TRY(validate_experiment_id(id));
  GcReport report;
  report.root = root;
  const std::int64_t now = env.now_ms();
  Remover remover(env, root);
  remover.finish_leftovers(report, opt.dry_run);

  // Every run of the tree, with what gc needs to know.
  std::vector<RunFound> runs;
  std::vector<detail::ExperimentDir> exps = detail::experiment_dirs(env, root);
  for (const detail::ExperimentDir& e : exps) {
    for (const std::string& name : detail::run_dir_names(env, e.dir)) {
      std::string dir = join(e.dir, name);
      auto text = detail::read_small(env, join(dir, "meta.yaml"));
      if (!text) continue;  // not a run MLflow lists
      RunFound r{name, e.id, dir, e.in_trash, false, std::nullopt, {}, {}};
      auto info = detail::parse_run_meta(*text);
      if (info) {
        r.deleted = info->lifecycle_stage == LifecycleStage::kDeleted;
        r.deleted_time = info->deleted_time;
        r.artifact_uri = info->artifact_uri;
        r.meta_run_id = info->run_id;
      }
      if (r.deleted || r.experiment_in_trash) ++report.deleted_runs;
      runs.push_back(std::move(r));
    }
  }
  for (const detail::ExperimentDir& e : exps) report.trashed_experiments += e.in_trash;

  // Experiments to collect: explicit ones (must be in .trash), else every
  // trashed experiment whose last_update_time is old enough.
  std::vector<GcItem> exp_items;
  std::set<std::string> exp_ids(opt.experiment_ids.begin(), opt.experiment_ids.end());
  for (const std::string& id : exp_ids) {
    auto it = std::find_if(exps.begin(), exps.end(), [&](const auto& e) { return e.id == id && e.in_trash; });
    if (it == exps.end())
      return fail(Status::failed_precondition("experiment '" + id + "'",
                                              "is not in .trash/; only deleted experiments can be collected (spec §7)"));
  }
  for (const detail::ExperimentDir& e : exps) {
    if (!e.in_trash) continue;
    std::optional<std::int64_t> updated;
    if (auto text = detail::read_small(env, join(e.dir, "meta.yaml")))
      if (auto info = detail::parse_experiment_meta(*text, true)) updated = info->last_update_time;
    if (!exp_ids.empty()) {
      if (!exp_ids.count(e.id)) continue;
    } else if (opt.older_than_ms && (!updated || now - *updated < *opt.older_than_ms)) {
      continue;
    }
    exp_items.push_back({GcItem::Kind::kExperiment, e.id, e.id, e.dir, updated, false, {}});
  }
  // Registered model versions keep the runs and experiments they load from.
  std::vector<std::pair<std::string, std::string>> registered;
  if (!opt.collect_registered) registered = registered_locations(env, root);
  auto keep = [&](const std::string& what, const std::string& dir) {
    auto uri = registered_in(registered, dir);
    if (uri)
      report.notes.push_back(what + " kept: " + *uri + " is loaded from it (delete that version first, or use "
                             "--collect-registered)");
    return uri.has_value();
  };
  std::erase_if(exp_items, [&](const GcItem& x) { return keep("experiment " + x.id, x.path); });
  std::set<std::string> collected_exps;
  for (const GcItem& x : exp_items) collected_exps.insert(x.id);

  // Runs: explicit ones (must be deleted), else deleted runs old enough; plus
  // every run of a collected experiment.
  std::vector<const RunFound*> run_pick;
  if (!opt.run_ids.empty()) {
    for (const std::string& id : opt.run_ids) {
      MLRUNS_TRY(validate_run_id(id));
      // A run named by id: the Store's and Reader's rule (format/layout.h
      // pick_run), so an id in two experiments is refused, naming both.
      std::vector<detail::RunLocation> found;
      for (const RunFound& r : runs)
        if (r.id == id) found.push_back({r.dir, r.experiment_id, r.experiment_in_trash});
      auto loc = detail::pick_run(std::move(found), id, {}, root);
      if (!loc) return fail(loc.error());
      auto it = std::find_if(runs.begin(), runs.end(), [&](const RunFound& r) { return r.dir == loc->dir; });
      if (!it->deleted && !it->experiment_in_trash)
        return fail(Status::failed_precondition("run '" + id + "'",
                                                "is not in the deleted lifecycle stage; only deleted runs can be collected (spec §7)"));
      run_pick.push_back(&*it);
    }
  } else {
    for (const RunFound& r : runs)
      if (r.deleted && old_enough(r.deleted_time, opt, now) && !collected_exps.count(r.experiment_id))
        run_pick.push_back(&r);
  }
  for (const RunFound& r : runs)
    if (r.experiment_in_trash && collected_exps.count(r.experiment_id) &&
        std::find(run_pick.begin(), run_pick.end(), &r) == run_pick.end())
      run_pick.push_back(&r);

  std::erase_if(run_pick, [&](const RunFound* r) {
    auto artifacts = detail::local_path_of(r->artifact_uri);  // under the experiment's location, maybe
    return keep("run " + r->id, r->dir) || (artifacts && keep("run " + r->id, *artifacts));
  });
  std::map<std::string, std::string> external_roots;  // artifacts folder -> <location>/<run_id>
  for (const RunFound* r : run_pick) {
    GcItem item{GcItem::Kind::kRun, r->id, r->experiment_id, r->dir, r->deleted_time, false, {}};
    // Artifacts outside the run folder: the run's own folder under its
    // experiment's artifact location is removed with it (as mlflow gc does)
    // when the caller asks; anything else (s3://, another tree's run a moved
    // tree's URI still names) is left in place and reported.
    if (!r->artifact_uri.empty()) {
      auto p = detail::local_path_of(r->artifact_uri);
      // A run of a trashed experiment keeps the URI it had before the move
      // into .trash/ (<root>/<exp>/<run>/artifacts): its artifacts are in
      // the run folder, removed with it.
      const bool stale_own = r->experiment_in_trash && p &&
                             *p == join(join(join(root, r->experiment_id), r->id), "artifacts");
      if (p && *p != join(r->dir, "artifacts") && !stale_own) {
        std::string why;
        auto dir = external_artifacts_of(env, root, *r, why);
        if (dir) {
          if (std::string shared = shared_with(runs, *r, dir->run_root); !shared.empty()) {
            why = "'" + dir->run_root + "' is not run " + r->id + "'s alone: " + shared;
            dir.reset();
          }
        }
        if (dir && !opt.include_outside_artifacts) {
          report.notes.push_back("run " + r->id + ": its artifact folder outside the tree '" + dir->path +
                                 "' left in place (gc --include-outside-artifacts removes it with the run; once the run "
                                 "is gone, only by hand)");
        } else if (dir) {
          item.external_artifacts = dir->path;
          external_roots[dir->path] = dir->run_root;
        } else {
          report.notes.push_back("run " + r->id + ": artifacts at '" + r->artifact_uri + "' left in place: " + why);
        }
      } else if (!p) {
        report.notes.push_back("run " + r->id + ": artifacts at '" + r->artifact_uri +
                               "' are not on this machine and were left in place");
      }
    }
    const auto records = collected_exps.count(r->experiment_id) ? decltype(records_of_run(env, *r)){}
                                                                 : records_of_run(env, *r);
    for (const auto& [dir, id] : records)
      report.notes.push_back(std::string(opt.dry_run ? "would remove" : "removing") + " logged model " + id +
                             " with run " + r->id + " (its files are the run's)");
    if (!opt.dry_run) {
      Status s = remover.remove(r->dir, r->experiment_id + "-" + r->id, item.removed);
      if (!s) report.errors.push_back(s);
      if (item.removed)
        for (const auto& [dir, id] : records) {
          bool gone = false;
          if (Status m = remover.remove(dir, r->experiment_id + "-" + id, gone); !m) report.errors.push_back(m);
        }
      if (s && !item.external_artifacts.empty()) {
        // Only <location>/<run_id>/artifacts (format/artifact_dir.h), by
        // descriptors below that root, then <location>/<run_id> if nothing
        // else is in it (rmdir: an empty real folder only).
        Status a = env.remove_tree(item.external_artifacts);
        if (a) (void)env.unconfined()->remove_dir(external_roots[item.external_artifacts]);
        else report.errors.push_back(a);
      }
    }
    report.items.push_back(std::move(item));
  }
  detail::NameClaims claims(env, root, "experiments");
  for (GcItem& x : exp_items) {
    if (!opt.dry_run) {
      std::string name;
      if (auto text = detail::read_small(env, join(x.path, "meta.yaml")))
        if (auto info = detail::parse_experiment_meta(*text, true)) name = info->name;
      Status s = remover.remove(x.path, "experiment-" + x.id, x.removed);
      if (!s) report.errors.push_back(s);
      // Its name is free again (write/name_claim.h).
      if (x.removed && !name.empty()) (void)claims.release(name, x.id);
    }
    report.items.push_back(std::move(x));
  }
  if (!opt.dry_run) remover.done(report);
  return report;
}

}  // namespace mlruns
