// ActiveRun: creating, resuming and writing one run; the process-wide
// registry of live runs (background flusher, flush-and-end at exit).
#include <algorithm>
#include <condition_variable>
#include <exception>
#include <thread>

#include "write/artifact_copy.h"
#include "write/process_hooks.h"
#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_write.h"
#include "mlruns/key.h"
#include "format/py_format.h"
#include "format/run_names.h"
#include "write/store_impl.h"
#include "write/system_tags.h"

namespace mlruns {
namespace detail {
namespace {

std::string signal_name(int sig) {
  switch (sig) {
    case 1: return "SIGHUP";
    case 2: return "SIGINT";
    case 10: return "SIGUSR1";
    case 12: return "SIGUSR2";
    case 15: return "SIGTERM";
    default: return "signal " + std::to_string(sig);
  }
}

// Live runs of the whole process. A function-local static: its destructor
// runs at normal process exit (return from main, exit()), stops the
// background flusher, then flushes and ends every run still open FINISHED.
class Registry {
 public:
  ~Registry() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& s : live()) {
      std::lock_guard<std::mutex> lock(s->mu);
      if (!s->valid || s->ended) continue;
      Status st = s->end_locked(RunStatus::kFinished, std::nullopt);
      s->store->note(st, /*call_on_error=*/false);  // the callback's captures may be gone by now
    }
    dead().store(true);
  }

  void add(const std::shared_ptr<ActiveRun::State>& state, bool background) {
    std::lock_guard<std::mutex> lock(mu_);
    if (hook_id_ == 0)  // signals.cpp reaches the runs through this hook
      hook_id_ = add_stop_hook([this](const StopRequest& r) {
        if (!dead().load()) stop(r);
      });
    runs_.erase(std::remove_if(runs_.begin(), runs_.end(), [](const auto& w) { return w.expired(); }), runs_.end());
    runs_.push_back(state);
    if (background) {
      auto age = state->store->options.flush.max_age.count();
      interval_ms_ = std::clamp<std::int64_t>(std::min<std::int64_t>(interval_ms_, age / 2), 5, 1000);
      auto beat = state->store->options.heartbeat.count();
      if (beat > 0) interval_ms_ = std::clamp<std::int64_t>(std::min<std::int64_t>(interval_ms_, beat), 5, 1000);
      state->last_beat_ms = steady_ms();
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
  }

  // A signal (signals.h): flush every run; tag it (warning) or end it KILLED.
  // Runs ended here ignore further calls quietly: the program keeps running
  // for a moment until the signal kills it, and must not die of a throw.
  void stop(const StopRequest& r) {
    for (auto& s : live()) {
      std::lock_guard<std::mutex> lock(s->mu);
      if (!s->valid || s->ended) continue;
      Store::Impl& im = *s->store;
      Status st;
      if (r.action == StopAction::kEndKilled) {
        st = s->end_locked(RunStatus::kKilled, r.time_ms);
        s->stopped_by_signal = s->ended;
      } else {
        st = s->flush_locked();
        if (r.action == StopAction::kWarn) {
          std::string value = signal_name(r.signal) + " at " + std::to_string(r.time_ms);
          Status t = im.write_tag(s->dir, &s->info, "mlruns.signal.warning", value);
          if (st.is_ok()) st = t;
        }
      }
      im.note(st);
    }
  }

  static std::atomic<bool>& dead() {
    static std::atomic<bool> d{false};
    return d;
  }

 private:
  std::vector<std::shared_ptr<ActiveRun::State>> live() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<ActiveRun::State>> out;
    for (auto& w : runs_)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_));
      if (stop_) break;
      lock.unlock();
      {
        auto runs = live();
        std::int64_t now = steady_ms();
        for (auto& s : runs) {
          std::lock_guard<std::mutex> run_lock(s->mu);
          if (!s->valid || s->ended) continue;
          // Sign of life (liveness.h): meta.yaml's mtime, every `heartbeat`.
          auto beat = s->store->options.heartbeat.count();
          if (beat > 0 && now - s->last_beat_ms >= beat) {
            (void)s->store->env->touch(join(s->dir, kMetaFile));  // best effort, never counted
            s->last_beat_ms = now;
          }
          if (s->metrics.pending_points() == 0) continue;
          const FlushPolicy& p = s->store->options.flush;
          if (!p.background_thread || now - s->oldest_pending_ms < p.max_age.count()) continue;
          s->store->note(s->flush_locked());  // never throws here; kThrow callers see it counted
        }
      }  // the last reference to a run may go here: its destructor takes no registry lock
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<ActiveRun::State>> runs_;
  std::thread thread_;
  std::int64_t interval_ms_ = 1000;
  bool stop_ = false;
  int hook_id_ = 0;
};

Registry& registry() {
  static Registry r;
  return r;
}

const std::string& empty_string() {
  static const std::string s;
  return s;
}

}  // namespace

void registry_add(const std::shared_ptr<ActiveRun::State>& state, bool background) {
  if (Registry::dead().load()) return;
  registry().add(state, background);
}

}  // namespace detail

using namespace detail;

// ------------------------------------------------------------ creation ----

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
  if (ro.system_tags) tags = system_tags(*env);
  for (const auto& [k, v] : ro.tags) tags[k] = v;
  std::string name = ro.run_name;
  auto tag_name = ro.tags.find("mlflow.runName");
  if (tag_name != ro.tags.end()) {
    if (!name.empty() && name != tag_name->second)
      return fail_with(Status::invalid_argument(
          "run name '" + name + "'", "differs from the mlflow.runName tag '" + tag_name->second + "' (spec §4.4)"));
    name = tag_name->second;
  }
  if (name.empty()) name = generate_run_name();
  if (!is_valid_utf8(name) || name.size() > 4 * kMaxRunNameLength)
    return fail_with(Status::invalid_argument("run name '" + name + "'", "must be valid UTF-8"));
  {
    std::size_t chars = 0;
    for (unsigned char c : name)
      if ((c & 0xC0) != 0x80) ++chars;
    if (chars > kMaxRunNameLength)
      return fail_with(Status::invalid_argument("run name '" + name.substr(0, 40) + "...'",
                                                "longer than 250 characters (spec §6.2)"));
  }
  tags["mlflow.runName"] = name;
  if (!ro.parent_run_id.empty()) {
    auto parent = load_run(ro.parent_run_id);
    if (!parent) return fail_with(parent.error().with_context("parent run"));
    tags["mlflow.parentRunId"] = ro.parent_run_id;
  }
  if (!ro.description.empty()) tags["mlflow.note.content"] = ro.description;
  for (auto& [k, v] : tags) {
    if (Status s = validate_key("tag key", k, options.names); !s.is_ok()) return fail_with(s);
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
  info.artifact_uri = exp->artifact_location + "/" + info.run_id + "/artifacts";
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

// --------------------------------------------------------------- State ----

Status ActiveRun::State::check_writable() const {
  if (!valid) return error.is_ok() ? Status::failed_precondition("run", "not started") : error;
  if (ended)
    return Status::failed_precondition("run " + info.run_id, "has ended; resume_run() it to log more");
  return Status::ok();
}

Status ActiveRun::State::metric_locked(std::string_view key, double value, std::int64_t step, std::int64_t ts) {
  if (!valid || ended) return check_writable();
  if (ts < 0)
    return Status::invalid_argument("metric '" + std::string(key) + "' timestamp " + std::to_string(ts),
                                    "must be >= 0 (ms since the epoch, spec §6.4)");
  auto series = metrics.series(key, store->options.names);
  if (!series) return series.error();
  const FlushPolicy& policy = store->options.flush;
  if (metrics.pending_points() == 0) oldest_pending_ms = steady_ms();
  metrics.add(*series, MetricPoint{ts, value, step});
  if (policy.write_through) return metrics.flush_series(*store->env, *series, store->sync_each_flush());
  if (metrics.pending_points() >= policy.max_points) return flush_locked();
  if ((metrics.pending_points() & 255) == 0 && steady_ms() - oldest_pending_ms >= policy.max_age.count())
    return flush_locked();
  return Status::ok();
}

Status ActiveRun::State::flush_locked() {
  if (!valid) return check_writable();
  Status s = metrics.flush(*store->env, store->sync_each_flush());
  if (metrics.pending_points() > 0) oldest_pending_ms = steady_ms();  // what failed stays; retried later
  return s;
}

Status ActiveRun::State::batch_locked(const std::vector<Metric>& ms, const StringMap& params, const StringMap& tags) {
  MLRUNS_RETURN_IF_ERROR(check_writable());
  // MLflow's limits (spec §6.3); everything is validated before anything is written.
  if (ms.size() > 1000 || params.size() > 100 || tags.size() > 100 || ms.size() + params.size() + tags.size() > 1000)
    return Status::invalid_argument(
        "log_batch of " + std::to_string(ms.size()) + " metrics, " + std::to_string(params.size()) + " params, " +
            std::to_string(tags.size()) + " tags",
        "limits are 1000 metrics, 100 params, 100 tags, 1000 in total (spec §6.3)");
  Store::Impl& im = *store;
  for (const Metric& m : ms) {
    MLRUNS_RETURN_IF_ERROR(validate_key("metric key", m.key, im.options.names));
    if (m.timestamp < 0)
      return Status::invalid_argument("metric '" + m.key + "' timestamp " + std::to_string(m.timestamp),
                                      "must be >= 0 (spec §6.4)");
  }
  StringMap p2 = params, t2 = tags;
  for (auto& [k, v] : p2) {
    MLRUNS_RETURN_IF_ERROR(validate_key("param key", k, im.options.names));
    MLRUNS_RETURN_IF_ERROR(im.check_value("param", k, v, kMaxParamValueLength));
  }
  for (auto& [k, v] : t2) {
    MLRUNS_RETURN_IF_ERROR(validate_key("tag key", k, im.options.names));
    MLRUNS_RETURN_IF_ERROR(im.check_value("tag", k, v, kMaxTagValueLength));
  }
  // MLflow's order: params, metrics, tags.
  for (auto& [k, v] : p2) {
    MLRUNS_RETURN_IF_ERROR(im.write_param(dir, k, v, &this->params));
    if (im.options.durability == Durability::kOnClose) unsynced_files.push_back(join(join(dir, "params"), k));
  }
  for (const Metric& m : ms) {
    auto series = metrics.series(m.key, im.options.names);
    if (!series) return series.error();
    if (metrics.pending_points() == 0) oldest_pending_ms = steady_ms();
    metrics.add(*series, MetricPoint{m.timestamp, m.value, m.step});
  }
  if (!ms.empty() && (im.options.flush.write_through || metrics.pending_points() >= im.options.flush.max_points))
    MLRUNS_RETURN_IF_ERROR(flush_locked());
  for (auto& [k, v] : t2) {
    MLRUNS_RETURN_IF_ERROR(im.write_tag(dir, &info, k, v));
    if (im.options.durability == Durability::kOnClose) unsynced_files.push_back(join(join(dir, "tags"), k));
  }
  return Status::ok();
}

Status ActiveRun::State::end_locked(RunStatus status, std::optional<std::int64_t> end_time) {
  if (!valid) return check_writable();
  if (ended) return Status::ok();
  Store::Impl& im = *store;
  Status first = flush_locked();
  if (im.options.durability == Durability::kOnClose) {
    // One fsync per file per run: metric files, params, tags (spec: options.h).
    Status s = metrics.sync_all();
    if (!s.is_ok() && first.is_ok()) first = s;
    std::sort(unsynced_files.begin(), unsynced_files.end());
    unsynced_files.erase(std::unique(unsynced_files.begin(), unsynced_files.end()), unsynced_files.end());
    for (const std::string& path : unsynced_files) {
      auto f = im.env->new_appendable_file(path);
      if (f) (void)(*f)->sync();
    }
    unsynced_files.clear();
    for (const char* sub : {"metrics", "params", "tags"}) (void)im.env->sync_dir(join(dir, sub));
  }
  info.status = status;
  info.end_time = end_time ? *end_time : im.env->now_ms();
  AtomicWriteOptions o;
  o.sync = im.options.durability != Durability::kNone;
  Status s = write_file_atomic(*im.env, join(dir, kMetaFile), render_run_meta(info), o);
  if (!s.is_ok()) {
    if (first.is_ok()) first = s;
    return first;  // not ended: end() may be retried
  }
  ended = true;
  metrics.close_all();
  return first;
}

// ------------------------------------------------------------ ActiveRun ----

ActiveRun::ActiveRun(std::shared_ptr<State> state)
    : state_(std::move(state)), uncaught_at_start_(std::uncaught_exceptions()) {}

ActiveRun::ActiveRun(ActiveRun&& other) noexcept
    : state_(std::move(other.state_)), uncaught_at_start_(other.uncaught_at_start_) {}

namespace {
// What leaving the run's scope does: end it FINISHED, or FAILED while an
// exception that started after the run unwinds. Never throws.
void end_on_scope_exit(const std::shared_ptr<ActiveRun::State>& state, int uncaught_at_start) noexcept {
  if (!state || !state->valid) return;
  RunStatus status = std::uncaught_exceptions() > uncaught_at_start ? RunStatus::kFailed : RunStatus::kFinished;
  Status s;
  try {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->ended) return;
      s = state->end_locked(status, std::nullopt);
    }
    state->store->note(s);
  } catch (...) {
  }
}
}  // namespace

ActiveRun& ActiveRun::operator=(ActiveRun&& other) noexcept {
  if (this != &other) {
    end_on_scope_exit(state_, uncaught_at_start_);
    state_ = std::move(other.state_);
    uncaught_at_start_ = other.uncaught_at_start_;
  }
  return *this;
}

ActiveRun::~ActiveRun() { end_on_scope_exit(state_, uncaught_at_start_); }

bool ActiveRun::ok() const { return state_ && state_->valid; }
const std::string& ActiveRun::id() const { return state_ ? state_->info.run_id : empty_string(); }
const std::string& ActiveRun::experiment_id() const { return state_ ? state_->info.experiment_id : empty_string(); }
const std::string& ActiveRun::name() const { return state_ ? state_->info.run_name : empty_string(); }
const std::string& ActiveRun::artifact_uri() const { return state_ ? state_->artifact_uri : empty_string(); }

namespace {
Status no_run() { return Status::failed_precondition("ActiveRun", "default-constructed or moved from: not a run"); }
}  // namespace

#define MLRUNS_RUN_CALL(expr)                         \
  if (!state_) return no_run();                       \
  Status s_;                                          \
  {                                                   \
    std::lock_guard<std::mutex> lock_(state_->mu);    \
    State& st = *state_;                              \
    s_ = st.stopped_by_signal ? Status::ok() : (expr); \
  }                                                   \
  if (s_.is_ok()) return s_;                          \
  return state_->store->finish(s_)

Status ActiveRun::log_param(std::string_view key, std::string_view value) {
  MLRUNS_RUN_CALL(st.check_writable().is_ok()
                      ? [&] {
                          Status w = st.store->write_param(st.dir, key, std::string(value), &st.params);
                          if (w.is_ok() && st.store->options.durability == Durability::kOnClose)
                            st.unsynced_files.push_back(join(join(st.dir, "params"), key));
                          return w;
                        }()
                      : st.check_writable());
}

Status ActiveRun::log_param(std::string_view key, double value) { return log_param(key, py_float(value)); }
Status ActiveRun::log_param(std::string_view key, std::int64_t value) {
  return log_param(key, std::string_view(std::to_string(value)));
}

Status ActiveRun::log_params(const StringMap& params) {
  MLRUNS_RUN_CALL(st.batch_locked({}, params, {}));
}

Status ActiveRun::log_metric(std::string_view key, double value, std::int64_t step) {
  if (!state_) return no_run();
  return log_metric(key, value, step, state_->store->env->now_ms());
}

Status ActiveRun::log_metric(std::string_view key, double value, std::int64_t step, std::int64_t timestamp_ms) {
  MLRUNS_RUN_CALL(st.metric_locked(key, value, step, timestamp_ms));
}

Status ActiveRun::log_metrics(const std::map<std::string, double>& metrics, std::int64_t step) {
  if (!state_) return no_run();
  std::int64_t now = state_->store->env->now_ms();
  MLRUNS_RUN_CALL([&] {
    for (const auto& [k, v] : metrics) MLRUNS_RETURN_IF_ERROR(st.metric_locked(k, v, step, now));
    return Status::ok();
  }());
}

Status ActiveRun::set_tag(std::string_view key, std::string_view value) {
  MLRUNS_RUN_CALL(st.check_writable().is_ok()
                      ? [&] {
                          Status w = st.store->write_tag(st.dir, &st.info, key, std::string(value));
                          if (w.is_ok() && st.store->options.durability == Durability::kOnClose)
                            st.unsynced_files.push_back(join(join(st.dir, "tags"), key));
                          return w;
                        }()
                      : st.check_writable());
}

Status ActiveRun::delete_tag(std::string_view key) {
  MLRUNS_RUN_CALL(st.check_writable().is_ok() ? st.store->delete_tag(st.dir, key) : st.check_writable());
}

Status ActiveRun::log_batch(const std::vector<Metric>& metrics, const StringMap& params, const StringMap& tags) {
  MLRUNS_RUN_CALL(st.batch_locked(metrics, params, tags));
}

namespace {
Result<ArtifactTarget> artifact_target(const ActiveRun::State& st) {
  auto root = file_uri_to_path(st.artifact_uri);
  if (!root)
    return fail(Status::not_supported("artifact_uri '" + st.artifact_uri + "'",
                                      "not a local path; mlruns copies artifacts into local trees only"));
  return ArtifactTarget{*root, parent_dir(*root), st.store->options.durability != Durability::kNone};
}
}  // namespace

Status ActiveRun::log_artifact(const std::string& local_path, std::string_view artifact_path) {
  MLRUNS_RUN_CALL([&] {
    MLRUNS_RETURN_IF_ERROR(st.check_writable());
    auto t = artifact_target(st);
    if (!t) return t.error();
    return copy_artifact(*st.store->env, *t, local_path, artifact_path);
  }());
}

Status ActiveRun::log_text(std::string_view text, std::string_view artifact_file) {
  MLRUNS_RUN_CALL([&] {
    MLRUNS_RETURN_IF_ERROR(st.check_writable());
    auto t = artifact_target(st);
    if (!t) return t.error();
    return write_artifact(*st.store->env, *t, artifact_file, text);
  }());
}

ActiveRun ActiveRun::start_child(RunOptions options) {
  if (!state_) throw Error(no_run());
  if (!state_->valid) {  // kCount: a child of a failed run fails the same way
    auto child = std::make_shared<State>();
    child->store = state_->store;
    child->error = state_->error;
    state_->store->note(child->error);
    return ActiveRun(std::move(child));
  }
  options.experiment_id = state_->info.experiment_id;
  options.parent_run_id = state_->info.run_id;
  Store store(state_->store);
  return store.start_run(options);
}

Status ActiveRun::flush() { MLRUNS_RUN_CALL(st.flush_locked()); }

Status ActiveRun::detach() {
  MLRUNS_RUN_CALL([&] {
    if (!st.valid) return st.check_writable();
    if (st.ended) return Status::ok();
    Status f = st.flush_locked();
    if (!f.is_ok()) return f;
    if (st.store->options.durability != Durability::kNone) (void)st.metrics.sync_all();
    st.metrics.close_all();
    st.ended = true;  // no longer ours: the destructor and the exit hook leave it alone
    return Status::ok();
  }());
}

Status ActiveRun::end(RunStatus status) {
  MLRUNS_RUN_CALL(st.end_locked(status, std::nullopt));
}

}  // namespace mlruns
