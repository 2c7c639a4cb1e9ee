// fsck's findings and repairs (fsck_checker.h): a finding is recorded, and
// with --repair its repair made, logged in the quarantine's NOTES.txt first.
#include <string>
#include <utility>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_write.h"
#include "maint/fsck_checker.h"
#include "maint/relocate_uri.h"
#include "mlruns/key.h"

namespace mlruns::detail {

void FsckChecker::add(std::string path, std::string check, std::string problem, std::string breaks, FsckSeverity sev,
                      Fix fix) {
  FsckFinding f{std::move(path), std::move(check), std::move(problem), std::move(breaks), sev,
                static_cast<bool>(fix.repair), FsckAction::kNone, {}, std::move(fix.hint)};
  if (opt_.repair && fix.repair) {
    // In-place repairs are logged first, like the quarantine's moves, so
    // NOTES.txt never misses a change; a repair that fails is unlogged.
    Status logged = fix.quarantines ? Status::ok()
                                    : q_.note("fixed " + relative_to(root_, f.path) + " [" + f.check +
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

FsckChecker::Fix FsckChecker::quarantine(const std::string& path, std::string reason) {
  Fix f = [this, path, reason]() -> Result<std::string> {
    auto to = q_.move_in(path, reason);
    if (!to) return fail(to.error());
    return "moved to " + *to;
  };
  f.quarantines = true;
  return f;
}

FsckChecker::Repair FsckChecker::edit(const std::string& path, std::map<std::string, MetaValue> edits,
                                      std::string what) {
  return [this, path, edits, what]() -> Result<std::string> {
    auto text = read_small(env_, path);
    if (!text) return fail(text.error());
    auto done = apply_meta_edit(env_, path, *text, edits);
    if (!done) return fail(done.error());
    return what;
  };
}

// `uri` moved from the MLflow-built place ending in `from_tail` (in this
// tree or the one it was copied from) to <root>/<to_tail>, in the same form;
// nullopt for a custom or remote location, which stays as it is.
std::optional<std::string> FsckChecker::retarget(std::string_view uri, const std::string& from_tail,
                                                 const std::string& to_tail) {
  if (from_tail == to_tail || !validate_artifact_path(from_tail).is_ok()) return std::nullopt;
  std::string why;
  auto here = relocated_uri(uri, from_tail, {root_, {}}, why);
  if (!here && !why.empty()) return std::nullopt;
  std::string in_tree = here ? *here : std::string(uri);
  return relocated_uri(in_tree, {}, {join(root_, to_tail), join(root_, from_tail)}, why);
}

// A fresh meta.yaml for experiment folder `e`, named "recovered-<id>".
Result<std::string> FsckChecker::write_recovered_meta(const ExperimentDir& e, const std::string& meta) {
  Experiment x;
  x.experiment_id = e.id;
  x.name = "recovered-" + e.id;
  x.artifact_location = path_to_file_uri(join(root_, e.id));
  x.lifecycle_stage = e.in_trash ? LifecycleStage::kDeleted : LifecycleStage::kActive;
  x.creation_time = x.last_update_time = env_.now_ms();
  MLRUNS_TRY(write_file_atomic(env_, meta, render_experiment_meta(x), {.sync = true, .temp_dir = {}}));
  return "wrote a new meta.yaml named '" + x.name + "'";
}

}  // namespace mlruns::detail
