// Store::start_run and resume_run: a new run is built whole in the staging
// area and renamed into its experiment; a resumed one is RUNNING again. Both
// join the registry of live runs (run_registry.cpp).
#include "env/atomic_file.h"
#include "format/meta_write.h"
#include "format/tracking_uri.h"
#include "format/run_names.h"
#include "mlruns/key.h"
#include "util/printable.h"
#include "write/store_impl.h"
#include "write/system_tags.h"

namespace mlruns {

using namespace detail;

std::shared_ptr<ActiveRun::State> Store::Impl::create_run(const RunOptions& ro, Status* status) {
  auto fail_with = [&](Status s) -> std::shared_ptr<ActiveRun::State> {
    *status = s;
    return nullptr;
  };
  if (!open_status.is_ok()) return fail_with(open_status);
  bool in_trash = false;
  auto exp = load_experiment(ro.experiment_id, false, &in_trash);
  if (!exp) return fail_with(exp.error());
  if (in_trash || exp->lifecycle_stage != LifecycleStage::kActive)
    return fail_with(Status::failed_precondition("experiment " + ro.experiment_id,
                                                 "is deleted; runs can only be started in active experiments"));
  // Tags: system tags, then the caller's, then the ones options imply.
  StringMap tags;
  if (ro.system_tags) tags = system_tags(*env, ro.source_dir, ro.owner_pid, ro.owner_chain);
  for (const auto& [k, v] : ro.tags) tags[k] = v;
  std::string name = ro.run_name;
  auto tag_name = ro.tags.find("mlflow.runName");
  if (tag_name != ro.tags.end()) {
    if (!name.empty() && name != tag_name->second)
      return fail_with(Status::invalid_argument(
          "run name '" + printable_prefix(name, 80) + "'",
          "differs from the mlflow.runName tag '" + printable_prefix(tag_name->second, 80) + "' (spec §4.4)"));
    name = tag_name->second;
  }
  if (name.empty()) name = generate_run_name();
  // Each rule names itself; the value is shown shortened (printable_prefix).
  if (!is_valid_utf8(name))
    return fail_with(Status::invalid_argument("run name '" + printable_prefix(name, 80) + "'", "must be valid UTF-8"));
  if (std::size_t chars = utf8_length(name); chars > kMaxRunNameLength)
    return fail_with(Status::invalid_argument("run name '" + printable_prefix(name, 80) + "'",
                                              std::to_string(chars) + " characters, longer than " +
                                                  std::to_string(kMaxRunNameLength) + " (spec §6.2)"));
  tags["mlflow.runName"] = name;
  if (!ro.parent_run_id.empty()) {
    auto parent = load_run(ro.parent_run_id);
    if (!parent) return fail_with(parent.error().with_context("parent run"));
    tags["mlflow.parentRunId"] = ro.parent_run_id;
  }
  if (!ro.description.empty()) tags["mlflow.note.content"] = ro.description;
  for (auto& [k, v] : tags) {
    if (Status s = validate_tag_key("tag key", k, options.names); !s.is_ok()) return fail_with(s);
    if (Status s = check_value("tag", k, v, kMaxTagValueLength); !s.is_ok()) return fail_with(s);
  }
  if (ro.start_time && *ro.start_time < 0)
    return fail_with(Status::invalid_argument("start_time " + std::to_string(*ro.start_time), "must be >= 0"));

  RunInfo info;
  info.run_id = new_run_id();
  info.run_name = name;
  info.experiment_id = ro.experiment_id;
  auto user = tags.find("mlflow.user");
  info.user_id = user != tags.end() ? user->second : "unknown";
  info.status = RunStatus::kRunning;
  info.start_time = ro.start_time ? *ro.start_time : env->now_ms();
  // MLflow's FileStore._get_artifact_dir: append_to_uri_path(location, run_id, "artifacts").
  info.artifact_uri = append_to_uri_path(exp->artifact_location, info.run_id + "/artifacts");
  info.lifecycle_stage = LifecycleStage::kActive;

  // Build the whole run folder aside, then one rename: no reader ever sees
  // a run without meta.yaml, metrics/, params/, artifacts/ or tags/ (spec §1.1).
  auto staged = new_staging_folder();
  if (!staged) return fail_with(staged.error());
  bool sync = sync_each_flush();
  // Plain writes: the staging folder is invisible to readers until the rename.
  Status s = write_new_file(*env, join(*staged, kMetaFile), render_run_meta(info), sync);
  for (const char* sub : {"metrics", "params", "artifacts", "tags"})
    if (s.is_ok()) s = env->create_dir(join(*staged, sub));
  std::vector<std::string> tag_keys;
  for (const auto& [k, v] : tags) {
    if (!s.is_ok()) break;
    std::string path = join(join(*staged, "tags"), k);
    if (k.find('/') != std::string::npos) s = env->create_dirs(parent_dir(path));
    if (s.is_ok()) s = write_new_file(*env, path, v, sync);
    tag_keys.push_back(k);
  }
  if (!s.is_ok()) {
    (void)env->remove_tree(*staged);
    return fail_with(s);
  }
  std::string exp_dir = layout.experiment_dir(ro.experiment_id);
  std::string dir = join(exp_dir, info.run_id);
  s = publish(*staged, dir);
  if (!s.is_ok()) return fail_with(s);
  if (sync) (void)env->sync_dir(exp_dir);

  auto state = std::make_shared<ActiveRun::State>(join(dir, "metrics"));
  state->valid = true;
  state->info = std::move(info);
  state->dir = dir;
  state->artifact_uri = state->info.artifact_uri;
  if (options.durability == Durability::kOnClose) {
    state->unsynced_files.push_back(join(dir, kMetaFile));
    for (const auto& k : tag_keys) state->unsynced_files.push_back(join(join(dir, "tags"), k));
  }
  *status = Status::ok();
  return state;
}

ActiveRun Store::start_run(const RunOptions& options) {
  Status s;
  auto state = impl_->create_run(options, &s);
  if (!state) {
    impl_->finish(s);  // throws in kThrow
    state = std::make_shared<ActiveRun::State>();
    state->error = s;
  }
  state->store = impl_;
  if (state->valid) {
    impl_->register_run(state);
    registry_add(state, impl_->options.flush.background_thread && !impl_->options.flush.write_through);
  }
  return ActiveRun(std::move(state));
}

ActiveRun Store::resume_run(std::string_view run_id) {
  Impl& im = *impl_;
  auto run = [&]() -> Result<std::shared_ptr<ActiveRun::State>> {
    if (!im.open_status.is_ok()) return fail(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return fail(ref.error());
    if (ref->info.lifecycle_stage != LifecycleStage::kActive)
      return fail(Status::failed_precondition("run " + std::string(run_id), "is deleted; restore it before resuming"));
    for (const char* sub : {"metrics", "params", "artifacts", "tags"})
      if (Status s = im.env->create_dirs(join(ref->dir, sub)); !s.is_ok()) return fail(s);
    // RUNNING again; end_time keeps its old value, as MLflow does (spec §7, §14.19).
    ref->info.status = RunStatus::kRunning;
    if (Status s = im.write_run_meta(ref->dir, ref->info); !s.is_ok()) return fail(s);
    auto state = std::make_shared<ActiveRun::State>(join(ref->dir, "metrics"));
    state->valid = true;
    state->info = std::move(ref->info);
    state->dir = ref->dir;
    state->artifact_uri = state->info.artifact_uri;
    return state;
  };
  auto r = run();
  std::shared_ptr<ActiveRun::State> state;
  if (!r) {
    impl_->finish(r.error());
    state = std::make_shared<ActiveRun::State>();
    state->error = r.error();
  } else {
    state = std::move(*r);
  }
  state->store = impl_;
  if (state->valid) {
    impl_->register_run(state);
    registry_add(state, impl_->options.flush.background_thread && !impl_->options.flush.write_through);
  }
  return ActiveRun(std::move(state));
}

}  // namespace mlruns
