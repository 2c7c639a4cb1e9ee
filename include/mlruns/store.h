// Store: writes an mlruns tree exactly like MLflow's file store (spec §13.1).
//
//   auto store = mlruns::Store::open();                       // ./mlruns or MLFLOW_TRACKING_URI
//   std::string exp = *store.get_or_create_experiment("rl-sweep");
//   mlruns::ActiveRun run = store.start_run({.experiment_id = exp, .run_name = "ppo"});
//   run.log_param("lr", "0.001");
//   for (int i = 0; i < 100; ++i) run.log_metric("episode_reward_mean", reward(i), i);
//   run.log_artifact("checkpoint_000010");                    // a directory
//   // leaving scope ends the run FINISHED (FAILED if an exception is in flight)
//
// Errors follow StoreOptions::errors: kThrow throws mlruns::Error, kCount
// never throws, returns the Status and counts it (failure_count()).
//
// Thread and process safety: a Store and its ActiveRuns are safe to use from
// many threads. Many processes (MPI ranks, Slurm array tasks) may write one
// tree at once, each to its own runs; get_or_create_experiment() is safe
// across processes and nodes, relying only on atomic mkdir and rename (NFS).
// One run should be written by one process at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/model.h"
#include "mlruns/options.h"
#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns {

using StringMap = std::map<std::string, std::string>;

class ActiveRun;
class ModelRegistry;  // registry.h

// What logging an artifact does to an artifact file that exists already.
enum class Overwrite {
  kRefuse,   // kAlreadyExists naming the file; nothing is copied (default)
  kReplace,  // replaced, each file atomically (what MLflow does silently)
};

struct RunOptions {
  std::string experiment_id = "0";
  // Empty: a generated "adjective-noun-N" name, as MLflow makes them (spec §4.4).
  std::string run_name{};
  // Sets the mlflow.parentRunId tag (nested runs).
  std::string parent_run_id{};
  StringMap tags{};
  // Run description, the mlflow.note.content tag.
  std::string description{};
  // ms since epoch; default now.
  std::optional<std::int64_t> start_time{};
  // mlflow.user, mlflow.source.name/type, mlflow.source.git.commit and our
  // own mlruns.host, mlruns.pid, mlruns.slurm.* (spec §4.5).
  bool system_tags = true;
  // Where mlflow.source.git.commit comes from: the HEAD commit of the git
  // repository holding this folder. Empty: the folder of the program's
  // executable (/proc/self/exe), MLflow's rule for the entry point (the
  // repository of sys.argv[0]'s folder; no fallback to the working folder).
  // The mlruns CLI passes its working folder.
  std::string source_dir{};
  // The process that owns the run, recorded as mlruns.pid / mlruns.pid.start
  // for `mlruns reap` (liveness.h): 0 is this process. A CLI passes its
  // caller's pid; -1 records none (the run is judged by its silence alone).
  int owner_pid = 0;
  // With owner_pid > 0: also record owner_pid's ancestors up to its session
  // leader as mlruns.owner.chain (owner_chain in liveness.h), the rule for a
  // CLI whose caller may itself be short-lived (a subshell, `timeout`). The
  // mlruns CLI sets it for its default owner, not for --owner-pid.
  bool owner_chain = false;
};

class Store {
 public:
  // Opens (and, if missing, creates with .trash/ and experiment 0 "Default")
  // the tree named by options.tracking_uri, else MLFLOW_TRACKING_URI, else
  // ./mlruns. A server URI (http:, https:, databricks ...) is refused with
  // kNotSupported. In ErrorMode::kCount a failed open returns a Store whose
  // every call fails (and counts) instead of throwing; check ok().
  static Store open(StoreOptions options = {});

  bool ok() const;
  Status status() const;       // why open failed, else OK
  const std::string& root() const;  // absolute path of the tree
  const StoreOptions& options() const;

  // ---- experiments (spec §3, §7) ----
  // New experiment with an 18-digit id; kAlreadyExists if the name is taken.
  // artifact_location: where its runs' artifacts go; empty gives
  // <StoreOptions::artifact_root>/<id>. A relative path or relative file: URI
  // is taken against the current directory (<cwd>/<path>, file://<cwd>/<path>),
  // as MLflow's FileStore does (resolve_uri_if_local, mlflow/utils/uri.py);
  // other values are written as given. kInvalidArgument beyond 2048 bytes
  // or for bad UTF-8.
  Result<std::string> create_experiment(std::string_view name, const StringMap& tags = {},
                                        std::string_view artifact_location = {});
  // The id of the experiment with this name, created if needed. Exactly one
  // experiment results when many processes on many nodes race on one name.
  Result<std::string> get_or_create_experiment(std::string_view name);
  Result<Experiment> get_experiment(std::string_view experiment_id) const;
  Result<Experiment> get_experiment_by_name(std::string_view name) const;
  Status rename_experiment(std::string_view experiment_id, std::string_view new_name);
  Status set_experiment_tag(std::string_view experiment_id, std::string_view key, std::string_view value);
  Status delete_experiment_tag(std::string_view experiment_id, std::string_view key);
  // Marks its runs deleted, writes lifecycle_stage: deleted, moves it to .trash/.
  Status delete_experiment(std::string_view experiment_id);
  Status restore_experiment(std::string_view experiment_id);

  // ---- runs (spec §4, §7) ----
  ActiveRun start_run(const RunOptions& options = {});
  // Status back to RUNNING; end_time keeps its old value (spec §7, §14.19).
  ActiveRun resume_run(std::string_view run_id);
  // Logs to a run without taking it over: for CLI verbs and other processes.
  Status log_batch(std::string_view run_id, const std::vector<Metric>& metrics,
                   const StringMap& params, const StringMap& tags);
  Status set_terminated(std::string_view run_id, RunStatus status,
                        std::optional<std::int64_t> end_time = std::nullopt);
  Status delete_run(std::string_view run_id);
  Status restore_run(std::string_view run_id);
  // Removes the run's tag `key`, as MLflow's FileStore.delete_tag
  // (file_store.py): kNotFound if the run does not exist or has no such tag,
  // kFailedPrecondition if the run is deleted, kInvalidArgument for a key
  // that cannot be a tag file name (key.h). Irreversible.
  Status delete_tag(std::string_view run_id, std::string_view key);
  // As ActiveRun::log_artifact and log_artifacts, by run id.
  Status log_artifact(std::string_view run_id, const std::string& local_path,
                      std::string_view artifact_path = {}, Overwrite overwrite = Overwrite::kRefuse);
  Status log_artifacts(std::string_view run_id, const std::string& local_dir,
                       std::string_view artifact_path = {}, Overwrite overwrite = Overwrite::kRefuse);
  // ActiveRun::log_model for a run given by id (another process's run, a
  // CLI verb); the run must not be deleted.
  Result<LoggedModel> log_model(std::string_view run_id, const std::string& local_path,
                                const ModelOptions& options = {});

  // Writes every buffered point of every active run of this Store.
  Status flush();

  // The tree's Model Registry (registry.h), with this Store's options.
  ModelRegistry registry() const;

  // Failures seen in ErrorMode::kCount (also counted in kThrow).
  std::uint64_t failure_count() const;
  Status last_error() const;

  struct Impl;

 private:
  explicit Store(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_{};
  friend class ActiveRun;
  friend class ModelRegistry;
};

// A run being written. Move-only. Its destructor flushes and ends the run:
// FINISHED normally, FAILED when the scope is left by an exception. Use
// end() to choose the status yourself.
class ActiveRun {
 public:
  ActiveRun() = default;  // not a run; ok() is false
  ActiveRun(ActiveRun&&) noexcept;
  ActiveRun& operator=(ActiveRun&&) noexcept;
  ~ActiveRun();

  bool ok() const;  // false if the run could not be created (kCount mode)
  const std::string& id() const;
  const std::string& experiment_id() const;
  const std::string& name() const;
  const std::string& artifact_uri() const;

  // Params are immutable: the same value again is fine, another is kAlreadyExists.
  Status log_param(std::string_view key, std::string_view value);
  Status log_param(std::string_view key, const char* value) { return log_param(key, std::string_view(value)); }
  Status log_param(std::string_view key, const std::string& value) { return log_param(key, std::string_view(value)); }
  // Numbers are written as Python's str() (types.h: python_str): true -> "True",
  // 5u, 5LL, v.size() -> "5", 3e-4 -> "0.0003", 0.1f -> "0.1". Character
  // types do not compile (a character or its code? say which).
  template <PythonNumber T>
  Status log_param(std::string_view key, T value) { return log_param(key, std::string_view(python_str(value))); }
  template <CharType T>
  Status log_param(std::string_view key, T value) = delete;
  // Any number of params: written in MLflow-sized batches of 100, as MLflow's
  // log_params does; every key and value is checked before the first is written.
  Status log_params(const StringMap& params);

  // Buffered: costs a few tens of nanoseconds; see FlushPolicy.
  Status log_metric(std::string_view key, double value, std::int64_t step = 0);
  Status log_metric(std::string_view key, double value, std::int64_t step, std::int64_t timestamp_ms);
  // Any number of metrics (MLflow splits log_metrics into batches of 1000);
  // every key is checked before the first point is buffered.
  Status log_metrics(const std::map<std::string, double>& metrics, std::int64_t step = 0);

  Status set_tag(std::string_view key, std::string_view value);
  Status set_tag(std::string_view key, const char* value) { return set_tag(key, std::string_view(value)); }
  Status set_tag(std::string_view key, const std::string& value) { return set_tag(key, std::string_view(value)); }
  template <PythonNumber T>
  Status set_tag(std::string_view key, T value) { return set_tag(key, std::string_view(python_str(value))); }
  template <CharType T>
  Status set_tag(std::string_view key, T value) = delete;
  // Any number of tags, in batches of 100 as MLflow's set_tags; all checked first.
  Status set_tags(const StringMap& tags);
  Status delete_tag(std::string_view key);
  // MLflow's log_batch, with its limits (spec §6.3).
  Status log_batch(const std::vector<Metric>& metrics, const StringMap& params = {},
                   const StringMap& tags = {});

  // MLflow's log_artifact (spec §8.2): a file goes to
  // artifacts/<artifact_path>/<its name>; a directory keeps its name too:
  // artifacts/<artifact_path>/<dir name>/... An artifact file that exists
  // already is kAlreadyExists (naming it) unless Overwrite::kReplace; then
  // nothing is copied at all. Each file is copied to a temp name, then renamed.
  Status log_artifact(const std::string& local_path, std::string_view artifact_path = {},
                      Overwrite overwrite = Overwrite::kRefuse);
  // MLflow's log_artifacts: the *contents* of a directory go to
  // artifacts/<artifact_path>/...; the same rules.
  Status log_artifacts(const std::string& local_dir, std::string_view artifact_path = {},
                       Overwrite overwrite = Overwrite::kRefuse);
  // Writes `text` to artifacts/<artifact_file> (replacing it: MLflow's log_text).
  Status log_text(std::string_view text, std::string_view artifact_file);
  // Logs a model file or folder as an MLflow model (model.h, spec §8.3):
  // artifacts/<artifact_path>/ with an MLmodel file, and an entry in the
  // run's mlflow.log-model.history tag. Errors: kInvalidArgument (bad
  // options, signature or flavor; nothing written), kNotFound (no such
  // file), kAlreadyExists (artifact_path taken, see overwrite).
  Result<LoggedModel> log_model(const std::string& local_path, const ModelOptions& options = {});

  // A nested run in the same experiment with mlflow.parentRunId set.
  ActiveRun start_child(RunOptions options = {});

  // Writes buffered points to their files.
  Status flush();
  // Flushes and writes status and end_time. Later calls are no-ops.
  Status end(RunStatus status = RunStatus::kFinished);
  // Flushes and lets go of the run WITHOUT ending it: it stays RUNNING
  // (end_time null), e.g. for a CLI verb that starts a run in one process
  // and ends it in another (Store::set_terminated). Later calls are no-ops.
  Status detach();

  struct State;

 private:
  friend class Store;
  explicit ActiveRun(std::shared_ptr<State> state);
  std::shared_ptr<State> state_{};
  int uncaught_at_start_ = 0;
};

}  // namespace mlruns
