// Options for writing a tree: how errors surface, how points reach the disk,
// which names are allowed. Plain structs with defaults; set what you need
// with designated initializers:
//
//   mlruns::Store store = mlruns::Store::open({.tracking_uri = "/scratch/mlruns",
//                                              .errors = mlruns::ErrorMode::kCount});
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "mlruns/key.h"
#include "mlruns/status.h"

namespace mlruns {

class Env;

enum class ErrorMode {
  // A failed call throws mlruns::Error. For scripts and short jobs.
  kThrow,
  // No call throws or aborts. A failed call returns its Status, bumps
  // Store::failure_count() and is passed to StoreOptions::on_error; without
  // an on_error of your own, failures are printed by summarize_errors():
  // the first in full, then counts per kind, never a line per call. Buffered
  // points that could not be written stay buffered and are retried on the
  // next flush, so a full disk that is cleared loses nothing (up to
  // FlushPolicy::max_pending points a run). While writes keep failing, the
  // automatic flushes back off: the next is tried after twice as many calls
  // (from max_points up to 64 x max_points; write-through: from the next
  // call up to 65,536 calls later) or twice as long (from max_age up to a
  // minute), whichever comes first, so a broken store costs O(1) a call;
  // flush() and end() always try. For simulations that must outlive
  // any logging trouble.
  kCount,
};

// When written data is forced to stable storage (fsync). Whatever the mode,
// a *process* crash (kill -9, segfault) loses only points still in the
// in-memory buffer: flushed lines are in the kernel's page cache. The modes
// differ on a *machine* crash (power loss, node panic):
enum class Durability {
  // Never fsync. A machine crash may lose anything written in the last few
  // seconds (the kernel's write-back delay), including meta.yaml updates
  // (whose rename may be lost: the old meta.yaml survives, never a torn one).
  kNone,
  // fsync each metric, param and tag file and meta.yaml when the run ends
  // (and experiment meta.yaml when written). A machine crash during the run
  // may lose recent points, not a finished run. Default: one fsync per file
  // per run is cheap even on Lustre/GPFS.
  kOnClose,
  // fsync after every flush and every meta.yaml write. A machine crash loses
  // only unflushed points. Costs a metadata-server round trip per flush on
  // parallel file systems: pair it with a large FlushPolicy::max_points.
  kEveryFlush,
};

// Over-long param and tag values (spec §6.2).
enum class LongValues {
  kReject,    // refuse with kInvalidArgument (MLflow before 2.11)
  kTruncate,  // cut to the limit, as MLflow >= 2.11 does by default
};

// When buffered metric points are written to their files. A point reaches
// the file at the first of: max_points buffered in the run, a point older
// than max_age (checked on every log call and, with background_thread, every
// max_age), an explicit flush(), the end of the run, or normal process exit.
struct FlushPolicy {
  std::size_t max_points = 16384;
  std::chrono::milliseconds max_age{2000};
  bool background_thread = true;
  // Write every point before log_metric returns (no buffering at all).
  bool write_through = false;
  // At most this many points wait in a run's buffer (at least max_points).
  // Only reached while writes fail (run folder removed, disk full, quota):
  // then a point beyond it is dropped and its call fails (kFailedPrecondition,
  // counted like any failure), so a months-long job never runs out of memory.
  // The newest points are the ones dropped: what is kept continues each
  // metric file without a gap up to the outage, and keeping is O(1) a call.
  // 24 bytes a point: 6 MiB a run by default.
  std::size_t max_pending = 262144;
};

struct StoreOptions {
  // A path or file: URI. Empty: MLFLOW_TRACKING_URI, then ./mlruns (spec §12.1).
  std::string tracking_uri{};
  // Where new experiments keep their artifacts, as MLflow's
  // FileStore(root, artifact_root_uri) and `mlflow server
  // --default-artifact-root`: an experiment created without an
  // artifact_location (Default "0" of a new tree included) gets
  // <artifact_root>/<experiment id>. Any URI MLflow accepts (a path, file:,
  // s3://, ...); a relative path or file: URI is taken against the current
  // directory when the Store opens (resolve_uri_if_local, mlflow/utils/uri.py).
  // Empty: the tree itself, file://<root>/<id>. Existing experiments keep
  // theirs. Open fails with kInvalidArgument for bad UTF-8 or beyond 2048 bytes.
  std::string artifact_root{};
  // The file-system seam; null means Env::posix_beneath(root), confined to
  // the tree (env.h). A given Env is used as it is.
  Env* env = nullptr;
  // As ReaderOptions::run_experiment_id: the experiment to take a run from
  // when its id (log_*, end_run, delete_run, ... by run id) is in more than
  // one experiment; empty: such an id is refused (kFailedPrecondition).
  std::string run_experiment_id{};
  ErrorMode errors = ErrorMode::kThrow;
  Durability durability = Durability::kOnClose;
  FlushPolicy flush{};
  NameRules names = NameRules::kPortable;
  LongValues long_values = LongValues::kReject;
  // Sign of life of running runs (liveness.h): with the background thread,
  // the mtime of each active run's meta.yaml is set to now this often, so
  // `mlruns reap --older-than` can tell a silent run from a dead one. One
  // utimensat per run per period; 0 turns it off.
  std::chrono::milliseconds heartbeat{30000};
  // Called once per failure in either mode (before throwing in kThrow).
  // Must not call back into the Store. May run on mlruns' background flush
  // thread; not called for failures while ending runs at process exit.
  // Empty in ErrorMode::kCount: summarize_errors() (pass a function that
  // does nothing to print nothing).
  std::function<void(const Status&)> on_error{};
};

// An on_error that reports failures on stderr without flooding it: the first
// failure in full ("mlruns: not supported: ... (further failures are counted
// and summarized)"), then, when `interval` has passed since the last report
// and when the Store closes (the last copy of the function goes), one line
// with the number of failures since, and one per kind (Code) with its count
// and latest message. A loop of 100,000 failing calls prints 1 line, then a
// summary every `interval`, then 2-3 lines at the end. Thread-safe.
std::function<void(const Status&)> summarize_errors(std::chrono::seconds interval = std::chrono::seconds(60));

}  // namespace mlruns
