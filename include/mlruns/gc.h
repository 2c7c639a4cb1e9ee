// gc: permanently removes deleted runs and trashed experiments, as
// `mlflow gc` does (spec §7):
//   * runs whose lifecycle_stage is deleted, if deleted_time is older than
//     older_than (runs without deleted_time always qualify);
//   * experiments in .trash/ whose last_update_time is older than
//     older_than, with all their runs.
// Only folders inside the tree are removed (without following symlinks).
// Outside the tree nothing is removed by default: a deleted run's own
// artifact folder <location>/<run_id>/artifacts, when its experiment was
// created with that artifact location outside the tree, is listed in a note;
// with include_outside_artifacts it is removed with the run (as mlflow gc
// deletes a run's artifacts), and <location>/<run_id> after it only if then
// empty (rmdir). "Its own" is format/artifact_dir.h's rule: artifact_uri is
// exactly <experiment artifact_location>/<run_id>/artifacts, the run id is
// uuid4().hex and names the run's folder, <location>/<run_id> is a real folder
// holding nothing but artifacts/. Other artifacts stored elsewhere (s3://, a
// path another tree's run holds) are reported, never touched. Each folder is first renamed into <root>/.mlruns-gc.trash/
// (ignored by every reader, spec §1.2) and deleted there, so a failure
// half-way never leaves a half-deleted run in sight; the next gc finishes
// what such a failure left in that folder.
//
// Unlike mlflow gc, a deleted run (or trashed experiment) whose files a
// registered model version (not deleted) is loaded from is kept, with a
// note naming the version, unless collect_registered: removing it would
// make models:/NAME/N fail. Delete those versions first, or collect anyway.
//
//   auto report = mlruns::gc("/scratch/mlruns", {.older_than_ms = 30LL * 86400000});
//
// Thread and process safety: do not run while someone restores the same runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"

namespace mlruns {

class Env;

struct GcOptions {
  Env* env = nullptr;  // null: Env::posix_beneath(root), confined to the tree (env.h)
  // Only items deleted at least this long ago; nullopt: everything deleted.
  std::optional<std::int64_t> older_than_ms{};
  // Only these experiments (each must be in .trash/, else kFailedPrecondition).
  std::vector<std::string> experiment_ids{};
  // Only these runs (each must be deleted, else kFailedPrecondition).
  std::vector<std::string> run_ids{};
  bool dry_run = false;
  // Also remove runs and experiments whose files registered model versions
  // use (as mlflow gc does); those versions then fail to load.
  bool collect_registered = false;
  // Also remove deleted runs' own artifact folders outside the tree (see
  // above); by default they are listed in notes and left in place.
  bool include_outside_artifacts = false;
};

struct GcItem {
  enum class Kind { kRun, kExperiment };
  Kind kind = Kind::kRun;
  std::string id{};
  std::string experiment_id{};
  std::string path{};  // the folder removed
  std::optional<std::int64_t> deleted_time{};  // run: deleted_time; experiment: last_update_time
  bool removed = false;  // gone from the tree; false in dry-run mode or if it could not be moved
  // A run's own artifact folder under its experiment's artifact location
  // outside the tree (<location>/<run_id>/artifacts), removed with the run
  // (only with GcOptions::include_outside_artifacts).
  std::string external_artifacts{};
};

struct GcReport {
  std::string root{};
  std::vector<GcItem> items{};
  std::vector<std::string> notes{};  // e.g. artifacts outside the tree left in place, registered runs kept
  std::vector<Status> errors{};
  // What the tree holds before the age and id filters: deleted runs (those
  // of trashed experiments included) and experiments in .trash/.
  std::size_t deleted_runs = 0;
  std::size_t trashed_experiments = 0;
};

// With explicit experiment_ids or run_ids that are not deleted, nothing is
// removed and kFailedPrecondition names the first offender (as mlflow gc).
Result<GcReport> gc(std::string_view tracking_uri, const GcOptions& options = {});

}  // namespace mlruns
