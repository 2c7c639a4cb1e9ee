// reap: ends runs that still say RUNNING although nobody writes them any
// more (the job was scancel'ed, the node died, kill -9), as KILLED with
// end_time = their last sign of life.
//
// A run is reaped when
//   * its tags mlruns.host / mlruns.pid / mlruns.pid.start (liveness.h) name
//     a process on this host that is gone, or whose pid now belongs to
//     another process; or
//   * its last sign of life (liveness.h: newest mtime of its meta.yaml,
//     which the writer's heartbeat touches, and of its metric, param and tag
//     files) is older than older_than_ms, and its process is not known to be
//     alive on this host (runs on other hosts are judged by silence only).
// A run whose process is alive on this host is never reaped.
//
// Before a run is ended, each of its metric files that ends in a partial line
// (its writer was killed in the middle of an append) is cut back to its last
// whole line, under the file's lock (see src/env/line_tail.h): the dead
// writer never acknowledged that line, and MLflow refuses the run over it.
//
//   auto report = mlruns::reap("/scratch/mlruns", {.older_than_ms = 30 * 60 * 1000, .dry_run = true});
//
// Thread and process safety: safe while writers work; a run whose meta.yaml
// changes between the check and the edit is left alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/liveness.h"
#include "mlruns/status.h"

namespace mlruns {

class Env;

struct ReapOptions {
  Env* env = nullptr;  // null: Env::posix_beneath(root), confined to the tree (env.h)
  std::int64_t older_than_ms = 30 * 60 * 1000;
  bool dry_run = false;
  // Judges a run's writer from its tags; null: process_state (liveness.h).
  // Tests replace it.
  std::function<ProcessState(const std::map<std::string, std::string>& run_tags)> probe{};
};

struct ReapChange {
  std::string run_id{};
  std::string experiment_id{};
  std::string path{};    // the run's meta.yaml
  std::string reason{};  // "process 1234 on node17 is gone", "silent for 2h 3m"
  std::int64_t end_time = 0;  // last sign of life, ms
  bool applied = false;       // false in dry-run mode or on error
  // Metric files whose partial last line (the killed writer's unfinished
  // append, never acknowledged) was cut, so that they end in whole lines.
  std::vector<std::string> partial_lines_cut{};
};

struct ReapReport {
  std::string root{};
  std::vector<ReapChange> changes{};
  std::size_t running = 0;  // runs found RUNNING
  std::size_t alive = 0;    // of those, left alone
  std::vector<Status> errors{};
};

Result<ReapReport> reap(std::string_view tracking_uri, const ReapOptions& options = {});

}  // namespace mlruns
