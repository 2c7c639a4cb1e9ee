// The parts of one sync pass that its workers share (sync.cpp runs the pass,
// run_sync.cpp syncs one run). Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mlruns/sync.h"
#include "mlruns/types.h"
#include "read/reader_impl.h"
#include "sync/local_run.h"
#include "sync/mlflow_api.h"
#include "sync/record.h"

namespace mlruns::detail {

// One run of the tree that has something to send (or might: the record is
// checked again under the run's lock).
struct RunTask {
  std::string run_id;
  std::string experiment_id;  // local
  std::string experiment_name;
  std::string experiment_dir;
  bool experiment_deleted = false;
  std::string run_dir;
  std::optional<Run> run;  // loaded without metrics
  std::string parent_id;   // local mlflow.parentRunId, if any
  std::uint64_t bytes_estimate = 0;
};

struct ServerExperiment {
  Status status;  // not OK: every run of the experiment fails with it
  std::string id;
};

struct SyncShared {
  const SyncOptions& options;
  Env& env;
  ReaderContext ctx;
  RecordStore records;
  std::string tree_id;
  int server_major = 0;  // 0: unknown
  int server_minor = 0;

  std::mutex mu;  // guards everything below
  std::map<std::string, ServerExperiment> experiments;  // local experiment id ->
  std::map<std::string, std::string> server_run_ids;    // local run id -> server run id (this pass)
  std::map<std::string, Experiment> local_experiments;
  SyncProgress progress;
  std::chrono::steady_clock::time_point last_progress{};

  SyncShared(const SyncOptions& o, Env& e, ReaderContext c, std::string_view url)
      : options(o), env(e), ctx(std::move(c)), records(e, ctx.layout.root, url) {}

  bool stopping() const { return options.stop && options.stop->load(); }
  // Keys with ':' are refused by MLflow servers before 2.16 (spec §14.6).
  bool server_takes_colon() const { return server_major == 0 || server_major > 2 || (server_major == 2 && server_minor >= 16); }
  // mlflow/utils/validation.py: MAX_TAG_VAL_LENGTH is 5000 in 2.x, 8000 in 3.x.
  std::size_t max_tag_value() const { return server_major >= 3 ? 8000 : 5000; }

  // The server's id of the local experiment, created there (with its tags) if absent.
  ServerExperiment server_experiment(MlflowApi& api, const RunTask& task);
  // The server's id of a local run synced (or verified) in this pass.
  std::optional<std::string> verified_server_run_id(const std::string& local_run_id);
  // The server run id its record names: a file in the tree, so a claim to verify
  // (RunSync checks the run's mlruns.sync.source tag before using it).
  std::optional<std::string> recorded_server_run_id(const std::string& local_run_id);
  void add_progress(std::uint64_t bytes, std::uint64_t points, bool run_done);
};

// Syncs one run; fills `report`. `api` is null in a dry run.
void sync_one_run(SyncShared& shared, MlflowApi* api, RunTask& task, RunSyncReport& report);

// The metric-point identity used to match local lines with the server's
// history: (step, timestamp, value), with NaN one value and ±inf equal to
// ±DBL_MAX (the SQL store keeps ±inf as ±max float, spec §6.4).
struct PointKey {
  std::int64_t step;
  std::int64_t timestamp;
  std::uint64_t value_bits;
  auto operator<=>(const PointKey&) const = default;
};
PointKey point_key(std::int64_t step, std::int64_t timestamp, double value);

}  // namespace mlruns::detail
