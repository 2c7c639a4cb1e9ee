// reap: ends runs that still say RUNNING although nobody writes them any
// more (the job was scancel'ed, the node died, kill -9), as KILLED with
// end_time = their last sign of life.
//
// A run is reaped when
//   * it carries mlruns.host equal to this host and mlruns.pid names a
//     process that is gone, or a process that started after the run did
//     (the pid was reused); or
//   * its last sign of life (newest mtime of its meta.yaml, metric, param
//     and tag files and the liveness file the writer touches) is older than
//     older_than_ms, and its process is not known to be alive on this host.
// A run whose process is alive on this host is never reaped.
//
//   auto report = mlruns::reap("/scratch/mlruns", {.older_than_ms = 30 * 60 * 1000, .dry_run = true});
//
// Thread and process safety: safe while writers work; a run whose meta.yaml
// changes between the check and the edit is left alone.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"

namespace mlruns {

class Env;

enum class ProcessState { kAlive, kGone, kUnknown };

struct ReapOptions {
  Env* env = nullptr;  // null: Env::posix()
  std::int64_t older_than_ms = 30 * 60 * 1000;
  bool dry_run = false;
  // This host's name; empty: gethostname().
  std::string host;
  // Is process `pid`, which should have started no later than `run_start_ms`,
  // still alive on this host? Default: kill(pid, 0) and the process start
  // time from /proc. Tests replace it.
  std::function<ProcessState(std::int64_t pid, std::int64_t run_start_ms)> probe;
};

struct ReapChange {
  std::string run_id;
  std::string experiment_id;
  std::string path;    // the run's meta.yaml
  std::string reason;  // "process 1234 on node17 is gone", "silent for 2h 3m"
  std::int64_t end_time = 0;  // last sign of life, ms
  bool applied = false;       // false in dry-run mode or on error
};

struct ReapReport {
  std::string root;
  std::vector<ReapChange> changes;
  std::size_t running = 0;  // runs found RUNNING
  std::size_t alive = 0;    // of those, left alone
  std::vector<Status> errors;
};

Result<ReapReport> reap(std::string_view tracking_uri, const ReapOptions& options = {});

// The default ReapOptions::probe.
ProcessState probe_local_process(std::int64_t pid, std::int64_t run_start_ms);

}  // namespace mlruns
