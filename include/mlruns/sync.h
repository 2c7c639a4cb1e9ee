// Sync: pushes an mlruns tree to an MLflow tracking server, incrementally and
// without duplicates (docs/sync.md).
//
//   mlruns::SyncOptions opt;
//   opt.server = mlruns::ServerOptions::from_environment("https://mlflow.example.org");
//   auto result = mlruns::sync_tree(*mlruns::Reader::open("/scratch/mlruns"), opt);
//   if (!result) { std::cerr << result.error().to_string(); return 1; }
//   std::cout << result->runs_created << " runs created\n";
//
// What is kept: every run of the chosen experiments with its name, start and
// end time, status, params, tags, metric points (timestamp, step, value;
// NaN and ±inf included), dataset inputs and artifacts; nested runs (parents
// first, mlflow.parentRunId rewritten to the server's id); deleted runs only
// with include_deleted. What cannot be kept: run ids, experiment ids and
// artifact URIs are the server's.
//
// Identity: every run created carries the tag mlruns.sync.source =
// "<tree id>/<local run id>", set in the CreateRun request itself, and is
// looked up by that tag over all lifecycle stages before anything is
// created, so a lost response, a killed sync or a second machine never makes
// a second copy. The tree id is a random UUID kept in
// <root>/.mlruns-sync.trash/tree-id (a ".trash" root folder: no MLflow
// reader looks there, spec §1.2).
//
// The record: <root>/.mlruns-sync.trash/<server key>/runs/<run id>.json
// holds, per run, what the server acknowledged (metric file offsets, hashes of
// the params and tags sent, artifact sizes and times, the server's run id).
// A run whose files did not change since (same sizes and modification times)
// is not read and costs no request. A run being synced is locked (an OFD
// lock on its record's lock file), so two syncs of one tree can run at once.
// A lost record is rebuilt from the server (metric history, artifact
// listing); nothing is sent twice.
//
// Thread safety: sync_tree may be called from several threads or processes
// on the same tree; the callbacks are called from worker threads, never
// concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlruns/reader.h"
#include "mlruns/status.h"

namespace mlruns {

// How to reach the server. from_environment() reads the variables MLflow's
// own clients read (mlflow/environment_variables.py), with MLflow's defaults.
struct ServerOptions {
  std::string url{};  // http(s)://host[:port][/prefix]; userinfo in it is used as Basic auth and never printed
  // Basic auth (MLFLOW_TRACKING_USERNAME/PASSWORD) wins over the bearer token
  // (MLFLOW_TRACKING_TOKEN), as in mlflow/utils/rest_utils.py.
  std::string username{};
  std::string password{};
  std::string token{};
  bool insecure_tls = false;       // MLFLOW_TRACKING_INSECURE_TLS ("true"/"1")
  std::string server_cert_path{};    // MLFLOW_TRACKING_SERVER_CERT_PATH: CA bundle to verify the server
  std::string client_cert_path{};    // MLFLOW_TRACKING_CLIENT_CERT_PATH: client certificate (PEM, key included)
  int max_retries = 7;             // MLFLOW_HTTP_REQUEST_MAX_RETRIES
  double backoff_factor = 2;       // MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: sleep factor * 2^(n-1) s, at most 120 s
  double backoff_jitter = 1.0;     // MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: plus up to this many s at random
  double timeout_seconds = 120;    // MLFLOW_HTTP_REQUEST_TIMEOUT: per request
  bool respect_retry_after = true; // MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER

  // `url` plus the environment. kInvalidArgument names a variable whose
  // value is not a number or boolean.
  static Result<ServerOptions> from_environment(std::string url);
};

// The URL without userinfo, query or fragment: what messages may show.
std::string redact_url(std::string_view url);

struct SyncProgress {
  std::uint64_t runs_total = 0;   // runs that have something to send
  std::uint64_t runs_done = 0;
  std::uint64_t bytes_total = 0;  // metric-file bytes and artifact bytes to send
  std::uint64_t bytes_done = 0;
  std::uint64_t points_sent = 0;
};

enum class RunSyncState {
  kCreated,    // the run was created on the server in this pass
  kUpdated,    // it existed there and something was sent
  kUnchanged,  // nothing to send
  kSkipped,    // not synced: deleted without include_deleted, or busy in another sync
  kFailed,     // an error stopped it; the rest of the tree went on
};
std::string_view to_string(RunSyncState state);  // "created", "updated", ...

// A param whose local value differs from the server's: never overwritten.
struct SyncConflict {
  std::string key{};
  std::string local_value{};
  std::string server_value{};
};

struct RunSyncReport {
  std::string run_id{};          // local
  std::string server_run_id{};   // empty if none
  std::string experiment_name{};
  RunSyncState state = RunSyncState::kUnchanged;
  std::uint64_t points_sent = 0, params_sent = 0, tags_sent = 0, artifacts_sent = 0, bytes_sent = 0;
  std::vector<SyncConflict> conflicts{};
  // Files or folders of the run that could not be read (nested too deep, an I/O error), each
  // named in `notes`: the run is not complete, and the next pass looks at it again.
  std::uint64_t files_unread = 0;
  // Things not synced and why ("artifacts not synced: ...", "key 'a:b' skipped: ..."), and the
  // error of a failed run. Text from the tree or the server is escaped (no control bytes).
  std::vector<std::string> notes{};
};

struct SyncResult {
  std::string tree_id{};
  std::string server_version{};  // as /version answered; empty if unknown
  std::uint64_t runs_created = 0, runs_updated = 0, runs_unchanged = 0, runs_skipped = 0, runs_failed = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t files_unread = 0;  // over all runs (RunSyncReport::files_unread)
  std::uint64_t points_sent = 0, params_sent = 0, tags_sent = 0, artifacts_sent = 0;
  std::uint64_t bytes_sent = 0;       // request bodies: JSON and artifact files
  std::uint64_t write_requests = 0;   // requests that change the server
  std::uint64_t read_requests = 0;
  bool interrupted = false;           // `stop` was set before everything was done
  std::vector<RunSyncReport> runs{};    // every run looked at, in sync order
  // Errors that are not a run's (an experiment deleted on the server, ...).
  std::vector<std::string> errors{};

  // True when nothing failed, conflicted or was left undone.
  bool complete() const {
    return runs_failed == 0 && conflicts == 0 && files_unread == 0 && errors.empty() && !interrupted;
  }
};

struct SyncOptions {
  ServerOptions server{};
  std::vector<std::string> experiments{};  // names or ids; empty: every active experiment
  std::vector<std::string> run_ids{};      // only these runs (and their parents); empty: all
  bool include_deleted = false;          // sync deleted runs (and runs of deleted experiments), deleted there too
  bool dry_run = false;                  // compare with the record and report; send nothing, write nothing
  bool rebuild_record = false;           // ignore the record and rebuild it from the server
  unsigned jobs = 4;                     // parallel connections (runs synced at once)
  // Set (e.g. by a signal handler's thread) to stop after the current batch.
  const std::atomic<bool>* stop = nullptr;
  // Called now and then from worker threads, never concurrently.
  std::function<void(const SyncProgress&)> on_progress{};
  // Called when a run is done, in completion order, never concurrently.
  std::function<void(const RunSyncReport&)> on_run{};
};

// One pass: everything of the tree that the server lacks is sent. Returns an
// error only when nothing could be done (bad URL, server unreachable after
// the retries, the tree's record folder not writable); a run's failure is in
// its report and counted in runs_failed.
Result<SyncResult> sync_tree(const Reader& reader, const SyncOptions& options);

}  // namespace mlruns
