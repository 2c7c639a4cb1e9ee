// relocate: after an mlruns tree was moved, copied or rsynced, points every
// experiment's artifact_location and every run's artifact_uri (active and
// in .trash), 3.x logged models' artifact_location, the Model Registry's
// version `source` / `storage_location` (<root>/models/<name>/version-<n>/,
// spec §9.4) and traces' mlflow.artifactLocation tag (spec §9.3) at the
// tree's current place, so that `mlflow ui` finds the artifacts again
// (spec §8.2, §14.12).
//
//   auto report = mlruns::relocate("/home/me/mlruns", {.dry_run = true});
//
// Each meta.yaml is edited in place (only the URI lines change; the new
// value is emitted as PyYAML would and the file is re-parsed to prove that
// nothing else changed) and replaced atomically, one file at a time; a trace
// tag file is replaced whole, atomically. A URI
// keeps its form (file:// URI or plain path). Running it twice changes
// nothing the second time.
//
// Which URIs are rewritten: without from_prefix, local ones (file:, absolute
// or relative paths) whose path ends the way MLflow builds it
// (<exp>, <exp>/<run>/artifacts, <exp>/models/<model>/artifacts,
// <exp>/traces/<trace>/artifacts); registry URIs name a sub-path of run or
// logged-model artifacts, so for them the path must contain
// <exp>/<run>/artifacts or <exp>/models/<model>/artifacts whose folders
// exist in this tree (the leftmost such part is kept, the prefix before it
// replaced). With from_prefix, any local URI under that prefix. s3://,
// mlflow-artifacts:, runs:/, models:/ and other remote URIs are never
// touched. Registered model folders are taken from the listing of
// <root>/models; symlinks are never followed.
//
// Thread and process safety: safe while writers work on the tree (they do not
// rewrite artifact_uri); two relocates at once converge to the same result.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"

namespace mlruns {

class Env;

struct RelocateOptions {
  Env* env = nullptr;  // null: Env::posix_beneath(root), confined to the tree (env.h)
  bool dry_run = false;
  // A prefix mapping from_prefix -> to_root (paths or file: URIs): every
  // local URI under from_prefix gets to_root in its place. Empty to_root: the
  // tree's own real path, right only when from_prefix is the tree's old
  // location; a mapping that would point a URI into a folder of the tree that
  // does not exist (from_prefix is a folder above the old tree, say) is an
  // error in `errors` and, without dry_run, nothing is changed. A from_prefix
  // no URI is under sets RelocateReport::nothing_under_from.
  std::string from_prefix{};
  std::string to_root{};
};

struct RelocateChange {
  std::string path{};  // the meta.yaml (or a trace's tag file)
  // "artifact_location", "artifact_uri", "source", "storage_location" or
  // (trace tag file) "mlflow.artifactLocation"
  std::string key{};
  std::string old_value{};
  std::string new_value{};
  bool applied = false;  // false in dry-run mode
};

struct RelocateReport {
  std::string root{};
  std::vector<RelocateChange> changes{};
  std::size_t files_checked = 0;
  // meta.yaml files left alone, with the reason (unreadable, remote URI, ...).
  // With nothing_under_from, the files whose URI is not under from_prefix are
  // not listed here one by one: that one fact says it for all of them.
  std::vector<std::string> skipped{};
  // from_prefix was given, files_checked > 0, and no URI of the tree is
  // under it (neither changed nor already right): nothing to change.
  bool nothing_under_from = false;
  // Errors while writing. The file named holds its old or its complete new
  // content (new only if the folder fsync after the rename failed).
  std::vector<Status> errors{};
};

Result<RelocateReport> relocate(std::string_view tracking_uri, const RelocateOptions& options = {});

}  // namespace mlruns
