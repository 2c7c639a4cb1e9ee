// relocate: after an mlruns tree was moved, copied or rsynced, points every
// experiment's artifact_location and every run's artifact_uri (active and
// in .trash, and 3.x logged models) at the tree's current place, so that
// `mlflow ui` finds the artifacts again (spec §8.2, §14.12).
//
//   auto report = mlruns::relocate("/home/me/mlruns", {.dry_run = true});
//
// Each meta.yaml is edited in place (only that one line changes; the new
// value is emitted as PyYAML would and the file is re-parsed to prove that
// nothing else changed) and replaced atomically, one file at a time. A URI
// keeps its form (file:// URI or plain path). Running it twice changes
// nothing the second time.
//
// Which URIs are rewritten: without from_prefix, local ones (file:, absolute
// or relative paths) whose path ends the way MLflow builds it
// (<exp>, <exp>/<run>/artifacts, <exp>/models/<model>/artifacts); with
// from_prefix, any local URI under that prefix. s3://, mlflow-artifacts:
// and other remote URIs are never touched.
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
  Env* env = nullptr;  // null: Env::posix()
  bool dry_run = false;
  // Old location (path or file: URI) of the tree; only URIs under it change.
  std::string from_prefix;
  // New location to write; empty: the tree's own real path.
  std::string to_root;
};

struct RelocateChange {
  std::string path;  // the meta.yaml
  std::string key;   // "artifact_location" or "artifact_uri"
  std::string old_value;
  std::string new_value;
  bool applied = false;  // false in dry-run mode
};

struct RelocateReport {
  std::string root;
  std::vector<RelocateChange> changes;
  std::size_t files_checked = 0;
  // meta.yaml files left alone, with the reason (unreadable, remote URI, ...).
  std::vector<std::string> skipped;
  // Errors while writing (the file named is unchanged).
  std::vector<Status> errors;
};

Result<RelocateReport> relocate(std::string_view tracking_uri, const RelocateOptions& options = {});

}  // namespace mlruns
