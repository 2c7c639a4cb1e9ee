// ActiveRun: writing one run (metrics through its buffer, params, tags,
// artifacts, end) and ActiveRun::State, which holds it. Starting and resuming
// a run are in run_start.cpp, the registry of live runs in run_registry.cpp.
#include <exception>
#include <set>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_write.h"
#include "format/py_format.h"
#include "mlruns/key.h"
#include "write/artifact_copy.h"
#include "write/model_log.h"
#include "write/store_impl.h"

namespace mlruns {
namespace detail {
namespace {

const std::string& empty_string() {
  static const std::string s;
  return s;
}

}  // namespace
}  // namespace detail

using namespace detail;

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
  auto series = metrics.series(*store->env, key, store->options.names);
  if (!series) return series.error();
  const FlushPolicy& policy = store->options.flush;
  Status added = buffer_locked(*series, MetricPoint{ts, value, step});
  if (policy.write_through) {
    if (!retry_due_locked()) return added.is_ok() ? last_flush_error : added;
    Status s = metrics.flush_series(*store->env, *series, store->sync_each_flush());
    note_flush_locked(s);
    if (added.is_ok()) return s;
    if (!s.is_ok()) store->note(s);
    return added;
  }
  Status s;
  if (metrics.pending_points() >= policy.max_points) s = auto_flush_locked();
  else if ((calls_since_failure & 255) == 0 && steady_ms() - oldest_pending_ms >= policy.max_age.count())
    s = auto_flush_locked();
  if (added.is_ok()) return s;
  if (!s.is_ok()) store->note(s);  // the failed retry counts too; the call answers for its own point
  return added;
}

Status ActiveRun::State::buffer_locked(MetricBuffer::Series* series, const MetricPoint& p) {
  const FlushPolicy& policy = store->options.flush;
  ++calls_since_failure;
  if (metrics.pending_points() >= std::max(policy.max_pending, policy.max_points))
    return Status::failed_precondition(
        "metric '" + series->key + "' point at step " + std::to_string(p.step),
        "dropped: " + std::to_string(metrics.pending_points()) +
            " points already wait for the store to accept writes again (FlushPolicy::max_pending); the newest "
            "are dropped, the kept ones are written when it does");
  if (metrics.pending_points() == 0) oldest_pending_ms = steady_ms();
  metrics.add(series, p);
  return Status::ok();
}

bool ActiveRun::State::retry_due_locked() const {
  return failed_flushes == 0 || calls_since_failure >= retry_after_calls || steady_ms() >= retry_at_ms;
}

Status ActiveRun::State::auto_flush_locked() {
  if (!retry_due_locked()) return Status::ok();
  return flush_locked();
}

// After a failed flush the next automatic one waits twice as long as the
// last (calls or time, options.h ErrorMode::kCount); a success resets it.
void ActiveRun::State::note_flush_locked(const Status& s) {
  if (s.is_ok()) {
    failed_flushes = 0;
    last_flush_error = Status::ok();
    return;
  }
  // Write-through retries on the next call at first, buffering after
  // max_points more; either way a retry (O(pending), at most max_pending)
  // comes at most once per 65,536 calls or so in the end: O(1) a call.
  const FlushPolicy& policy = store->options.flush;
  const int shift = std::min(failed_flushes, policy.write_through ? 16 : 6);
  ++failed_flushes;
  calls_since_failure = 0;
  const std::uint64_t base_calls = policy.write_through ? 1 : std::max<std::size_t>(policy.max_points, 1);
  retry_after_calls = base_calls << shift;
  const std::int64_t base_ms = std::max<std::int64_t>(policy.max_age.count(), 1);
  retry_at_ms = steady_ms() + std::min<std::int64_t>(base_ms << shift, 60000);
  last_flush_error = s;
}

Status ActiveRun::State::flush_locked() {
  if (!valid) return check_writable();
  if (metrics.pending_points() == 0) {
    note_flush_locked(Status::ok());
    return Status::ok();
  }
  Status s = metrics.flush(*store->env, store->sync_each_flush());
  if (metrics.pending_points() > 0) oldest_pending_ms = steady_ms();  // what failed stays; retried later
  if (!s.is_ok() && !exists(*store->env, dir))
    s = Status::not_found("run " + info.run_id,
                          "its folder '" + dir + "' is gone (removed or moved after the run started); " +
                              std::to_string(metrics.pending_points()) +
                              " metric points are kept and written if it comes back");
  note_flush_locked(s);
  return s;
}

Status ActiveRun::State::batch_locked(const std::vector<Metric>& ms, const StringMap& params, const StringMap& tags) {
  MLRUNS_RETURN_IF_ERROR(check_writable());
  // MLflow's limits (spec §6.3).
  if (ms.size() > 1000 || params.size() > 100 || tags.size() > 100 || ms.size() + params.size() + tags.size() > 1000)
    return Status::invalid_argument(
        "log_batch of " + std::to_string(ms.size()) + " metrics, " + std::to_string(params.size()) + " params, " +
            std::to_string(tags.size()) + " tags",
        "limits are 1000 metrics, 100 params, 100 tags, 1000 in total (spec §6.3); log_params, log_metrics "
        "and set_tags take any number");
  return checked_write_locked(ms, params, tags);
}

Status ActiveRun::State::many_locked(const StringMap& values, bool are_tags) {
  MLRUNS_RETURN_IF_ERROR(check_writable());
  // MLflow's log_params and set_tags split a large map into batches of 100
  // (its log_batch limit); here every key and value is checked first, so a
  // refused call writes nothing, and a file store has no batch to respect.
  return are_tags ? checked_write_locked({}, {}, values) : checked_write_locked({}, values, {});
}

// Everything that could refuse the call is checked before anything is
// written: names, values, the keys against each other and against what the
// run's folders hold, params against their logged values, the run's
// lifecycle on disk. Then params, metrics, tags (MLflow's order).
Status ActiveRun::State::checked_write_locked(const std::vector<Metric>& ms, const StringMap& params,
                                              const StringMap& tags) {
  Store::Impl& im = *store;
  for (const Metric& m : ms) {
    MLRUNS_RETURN_IF_ERROR(metrics.check_key(*im.env, m.key, im.options.names));
    if (m.timestamp < 0)
      return Status::invalid_argument("metric '" + m.key + "' timestamp " + std::to_string(m.timestamp),
                                      "must be >= 0 (spec §6.4)");
  }
  std::set<std::string_view> keys;  // this call's metric keys against each other: a vs a/b (spec §2.4)
  for (const Metric& m : ms) keys.insert(m.key);
  for (std::string_view k : keys)
    for (std::size_t slash = k.find('/'); slash != std::string_view::npos; slash = k.find('/', slash + 1))
      if (keys.count(k.substr(0, slash)))
        return Status::invalid_argument("metric key '" + std::string(k) + "'",
                                        "conflicts with metric key '" + std::string(k.substr(0, slash)) +
                                            "' of the same call: a key cannot also be a folder of keys (spec §2.4)");
  StringMap p2 = params, t2 = tags;
  for (auto& [k, v] : p2) MLRUNS_RETURN_IF_ERROR(im.check_param(dir, k, v, &this->params));
  for (auto& [k, v] : t2) MLRUNS_RETURN_IF_ERROR(im.check_tag(dir, k, v));
  if (!ms.empty() || !p2.empty() || !t2.empty()) MLRUNS_RETURN_IF_ERROR(im.check_run_active(dir, info.run_id));
  for (auto& [k, v] : p2) {
    MLRUNS_RETURN_IF_ERROR(im.write_param(dir, k, v, &this->params));
    if (im.options.durability == Durability::kOnClose) unsynced_files.push_back(join(join(dir, "params"), k));
  }
  Status added;
  for (const Metric& m : ms) {
    auto series = metrics.series(*im.env, m.key, im.options.names);
    if (!series) return series.error();
    Status a = buffer_locked(*series, MetricPoint{m.timestamp, m.value, m.step});
    if (added.is_ok()) added = a;
  }
  if (!ms.empty() && (im.options.flush.write_through || metrics.pending_points() >= im.options.flush.max_points))
    MLRUNS_RETURN_IF_ERROR(auto_flush_locked());
  for (auto& [k, v] : t2) {
    MLRUNS_RETURN_IF_ERROR(im.write_tag(dir, &info, k, v));
    if (im.options.durability == Durability::kOnClose) unsynced_files.push_back(join(join(dir, "tags"), k));
  }
  return added;  // a point dropped (FlushPolicy::max_pending) does not keep the tags from being written
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
      // Never created here: a tag deleted since it was written stays deleted.
      auto f = im.env->reopen_appendable_file(path);
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
      state->released = true;
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
  MLRUNS_RUN_CALL(st.check_writable().is_ok() ? st.checked_write_locked({}, {{std::string(key), std::string(value)}}, {})
                                              : st.check_writable());
}

Status ActiveRun::log_params(const StringMap& params) {
  MLRUNS_RUN_CALL(st.many_locked(params, /*tags=*/false));
}

Status ActiveRun::set_tags(const StringMap& tags) {
  MLRUNS_RUN_CALL(st.many_locked(tags, /*tags=*/true));
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
    // Every key first (a bad one buffers nothing), then the points.
    MLRUNS_RETURN_IF_ERROR(st.check_writable());
    for (const auto& [k, v] : metrics) MLRUNS_RETURN_IF_ERROR(st.metrics.check_key(*st.store->env, k, st.store->options.names));
    for (const auto& [k, v] : metrics) MLRUNS_RETURN_IF_ERROR(st.metric_locked(k, v, step, now));
    return Status::ok();
  }());
}

Status ActiveRun::set_tag(std::string_view key, std::string_view value) {
  MLRUNS_RUN_CALL(st.check_writable().is_ok() ? st.checked_write_locked({}, {}, {{std::string(key), std::string(value)}})
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
  return st.store->artifact_target(st.dir, st.artifact_uri, st.info.run_id);
}
}  // namespace

namespace {
// REQUIRES: st.mu held.
Status copy_locked(const ActiveRun::State& st, const std::string& local_path, std::string_view artifact_path,
                   CopyWhat what, Overwrite overwrite) {
  MLRUNS_RETURN_IF_ERROR(st.check_writable());
  auto t = artifact_target(st);
  if (!t) return t.error();
  return copy_artifact(*st.store->env, *t, local_path, artifact_path, what, overwrite == Overwrite::kReplace);
}
}  // namespace

Status ActiveRun::log_artifact(const std::string& local_path, std::string_view artifact_path, Overwrite overwrite) {
  MLRUNS_RUN_CALL(copy_locked(st, local_path, artifact_path, CopyWhat::kItself, overwrite));
}

Status ActiveRun::log_artifacts(const std::string& local_dir, std::string_view artifact_path, Overwrite overwrite) {
  MLRUNS_RUN_CALL(copy_locked(st, local_dir, artifact_path, CopyWhat::kContents, overwrite));
}

Status ActiveRun::log_text(std::string_view text, std::string_view artifact_file) {
  MLRUNS_RUN_CALL([&] {
    MLRUNS_RETURN_IF_ERROR(st.check_writable());
    auto t = artifact_target(st);
    if (!t) return t.error();
    return write_artifact(*st.store->env, *t, artifact_file, text);
  }());
}

Result<LoggedModel> ActiveRun::log_model(const std::string& local_path, const ModelOptions& options) {
  if (!state_) return fail(no_run());
  Result<LoggedModel> r = [&]() -> Result<LoggedModel> {
    std::lock_guard<std::mutex> lock(state_->mu);
    State& st = *state_;
    // After a stopping signal later calls are quiet: no count, no throw.
    if (st.stopped_by_signal) return fail(Status::failed_precondition("run " + st.info.run_id, "stopped by a signal"));
    if (Status w = st.check_writable(); !w) return fail(w);
    return log_model_to_run(*st.store, st.dir, st.info, local_path, options);
  }();
  if (!r && state_->stopped_by_signal) return r;
  return state_->store->finish(std::move(r));
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
