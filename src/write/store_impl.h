// Internals shared by the Store's files (store.cpp, store_experiments.cpp,
// store_runs.cpp) and ActiveRun's (active_run.cpp, run_start.cpp,
// run_registry.cpp): Store::Impl (the open tree, error accounting, experiment
// and run operations that never throw) and ActiveRun::State (one run being
// written).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "format/layout.h"
#include "mlruns/store.h"
#include "write/artifact_copy.h"
#include "write/name_claim.h"
#include "write/metric_buffer.h"

namespace mlruns {

struct Store::Impl {
  StoreOptions options;
  Env* env = nullptr;                // owned_env, or the caller's StoreOptions::env
  std::unique_ptr<Env> owned_env;    // Env::posix_beneath(root)
  detail::Layout layout;
  Status open_status;

  std::atomic<std::uint64_t> failures{0};
  mutable std::mutex error_mu;
  Status last_error;

  std::mutex staging_mu;
  std::string staging;  // <root>/.mlruns-tmp-....trash, created on first use

  std::mutex runs_mu;
  std::vector<std::weak_ptr<ActiveRun::State>> runs;

  ~Impl();

  // Counts a failure and calls on_error; returns `s`. OK passes through.
  Status note(Status s, bool call_on_error = true);
  // note() + throw in kThrow.
  Status finish(Status s);
  template <typename T>
  Result<T> finish(Result<T> r) {
    if (!r) finish(r.error());
    return r;
  }

  bool sync_meta() const { return options.durability != Durability::kNone; }
  bool sync_each_flush() const { return options.durability == Durability::kEveryFlush; }

  Status ensure_tree();
  // Checks and resolves options.artifact_root into artifact_root (with env, before confinement).
  Status resolve_artifact_root();
  // A fresh empty folder in the staging area, to build a complete
  // experiment or run in before renaming it into place.
  Result<std::string> new_staging_folder();
  // rename(2) of a finished folder; kAlreadyExists if the target exists.
  Status publish(const std::string& staged, const std::string& target);

  // Experiments.
  Result<Experiment> load_experiment(std::string_view id, bool with_tags, bool* in_trash = nullptr) const;
  // All experiments (no tags): active ones, then deleted ones.
  std::vector<Experiment> list_experiments() const;
  std::optional<Experiment> find_experiment_by_name(std::string_view name) const;
  Status build_experiment(const std::string& id, std::string_view name, const StringMap& tags,
                          const std::string& artifact_location, std::int64_t now);
  Status write_experiment_meta(const std::string& dir, const Experiment& e);
  Result<std::string> default_artifact_location(const std::string& id) const;
  // StoreOptions::artifact_root resolved at open (resolve_uri_if_local); empty: the tree.
  std::string artifact_root;
  // Experiment names are unique across processes (write/name_claim.h):
  // claims `name` for `id`, then looks for a holder without a claim;
  // kAlreadyExists if it is taken. The caller releases it if it gives up.
  Status claim_experiment_name(std::string_view name, const std::string& id);
  detail::NameClaims experiment_names();

  // Runs.
  struct RunRef {
    std::string dir;
    RunInfo info;
  };
  Result<RunRef> load_run(std::string_view run_id) const;
  // load_run for a by-id write: the run must be active, else
  // kFailedPrecondition "run <id>: is deleted; restore it to <to_do>".
  Result<RunRef> load_active_run(std::string_view run_id, std::string_view to_do = "log to it") const;
  Status write_run_meta(const std::string& run_dir, const RunInfo& info);
  std::shared_ptr<ActiveRun::State> create_run(const RunOptions& options, Status* status);

  // Params, tags: validation and atomic writes shared by ActiveRun and the
  // by-id Store calls. `known` caches values already written (may be null).
  Status check_value(std::string_view what, std::string_view key, std::string& value, std::size_t limit) const;
  // What write_param / write_tag would refuse (kInvalidArgument, kAlreadyExists:
  // another value logged, the key's path taken by a folder or a file), without
  // writing; `value` may be cut to the limit (LongValues::kTruncate).
  Status check_param(const std::string& run_dir, std::string_view key, std::string& value,
                     const std::map<std::string, std::string, std::less<>>* known) const;
  Status check_tag(const std::string& run_dir, std::string_view key, std::string& value) const;
  // kFailedPrecondition if the run's meta.yaml says it was deleted (spec §7):
  // by another process, while this one writes.
  Status check_run_active(const std::string& run_dir, std::string_view run_id) const;
  Status write_param(const std::string& run_dir, std::string_view key, std::string value,
                     std::map<std::string, std::string, std::less<>>* known);
  Status write_tag(const std::string& run_dir, RunInfo* info, std::string_view key, std::string value);
  Status delete_tag(const std::string& run_dir, std::string_view key);

  // Where a run's artifacts go: its artifact_uri through
  // detail::run_artifact_dir (the shape rule of docs/hpc.md).
  Result<detail::ArtifactTarget> artifact_target(const std::string& run_dir, const std::string& artifact_uri,
                                                 const std::string& run_id);

  void register_run(const std::shared_ptr<ActiveRun::State>& state);
};

struct ActiveRun::State {
  std::shared_ptr<Store::Impl> store;
  std::mutex mu;
  bool valid = false;  // false: creation failed; every call returns `error`
  Status error;
  bool ended = false;
  RunInfo info;
  std::string dir;
  std::string artifact_uri;
  detail::MetricBuffer metrics;
  std::map<std::string, std::string, std::less<>> params;  // written values (immutability)
  std::vector<std::string> unsynced_files;  // params/tags to fsync at end (kOnClose)
  std::int64_t oldest_pending_ms = 0;        // steady clock, of the oldest buffered point
  // Backoff of automatic flushes while writes fail (FlushPolicy, ErrorMode::kCount).
  int failed_flushes = 0;                    // in a row; 0: the last flush wrote everything
  std::uint64_t calls_since_failure = 0;     // points logged since the last failed flush
  std::uint64_t retry_after_calls = 0;       // an automatic retry is due after this many...
  std::int64_t retry_at_ms = 0;              // ...or at this steady-clock time
  Status last_flush_error;                   // write-through's answer while a retry is not due
  std::int64_t last_beat_ms = 0;             // steady clock, last heartbeat touch of meta.yaml
  bool stopped_by_signal = false;            // ended KILLED by a signal: later calls are quiet no-ops
  // The ActiveRun is gone (its end may have failed): the registry no longer
  // touches the run, whose Env the caller may destroy now.
  bool released = false;

  State() : metrics(std::string()) {}
  explicit State(std::string metrics_dir) : metrics(std::move(metrics_dir)) {}

  // All REQUIRE mu held.
  Status check_writable() const;
  Status metric_locked(std::string_view key, double value, std::int64_t step, std::int64_t timestamp);
  Status batch_locked(const std::vector<Metric>& metrics, const StringMap& params, const StringMap& tags);
  Status many_locked(const StringMap& values, bool are_tags);  // log_params, set_tags: any number
  Status checked_write_locked(const std::vector<Metric>& metrics, const StringMap& params, const StringMap& tags);
  // Points into the buffer: refused (and dropped) beyond FlushPolicy::max_pending.
  Status buffer_locked(detail::MetricBuffer::Series* series, const detail::MetricPoint& p);
  // Writes every buffered point (flush(), end(): always tried).
  Status flush_locked();
  // A flush the buffer asks for (max_points, max_age, write-through, the
  // background thread): after failures, only once the backoff is over.
  bool retry_due_locked() const;
  Status auto_flush_locked();
  void note_flush_locked(const Status& s);  // the backoff after a flush (or write-through append)
  Status end_locked(RunStatus status, std::optional<std::int64_t> end_time);
};

namespace detail {
// Process-wide list of live runs: the background flusher and the exit hook.
void registry_add(const std::shared_ptr<ActiveRun::State>& state, bool background);
std::int64_t steady_ms();
std::string new_run_id();
// Copies the small files below `from` (tags/, params/, aliases/: keys with
// '/' are folders) into the new folder `to`, as they are; litter (temp
// files) and symlinks are left out, so nothing outside `from` is read. No
// `from`: nothing to copy. kCorruption past 64 levels or for a file over
// `max_bytes`.
Status copy_small_files(Env& env, const std::string& from, const std::string& to, bool sync,
                        std::uint64_t max_bytes, int depth = 0);
std::string random_experiment_id();
std::string derived_experiment_id(std::string_view name, int attempt);
// "SIGUSR1" for SIGUSR1 on every architecture; "signal N" if unknown.
std::string signal_name(int sig);
// True if `path` exists; a failed stat counts as missing.
bool exists(Env& env, const std::string& path);
}  // namespace detail

}  // namespace mlruns
