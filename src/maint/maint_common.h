// Shared plumbing of the maintenance tools (fsck, relocate, gc, reap): root
// resolution, atomic replacement of a file through Env, and the quarantine
// folder where fsck --repair moves what it cannot fix.
//
// Thread safety: functions are reentrant; a Quarantine is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/env.h"
#include "mlruns/status.h"

// MLRUNS_RETURN_IF_ERROR for functions that return a Result<T>.
#define MLRUNS_TRY(expr)                                  \
  do {                                                    \
    ::mlruns::Status try_status_ = (expr);                \
    if (!try_status_.is_ok()) return ::mlruns::fail(try_status_); \
  } while (0)

namespace mlruns::detail {

// A tracking URI (path or file: URI; empty: MLFLOW_TRACKING_URI, then
// ./mlruns) to the tree's real absolute path (resolve_tracking_root, then
// realpath). kNotFound if it is not an existing directory.
Result<std::string> resolve_tree_root(Env& env, std::string_view tracking_uri);

// The tree a maintenance verb works on: its real root and the Env every
// file-system call goes through. Without a given Env that is
// Env::posix_beneath(root) (env.h), so no call leaves the tree or follows a
// link in it; a given Env (tests) is used as it is.
struct Tree {
  std::string root;
  std::unique_ptr<Env> owned;
  Env* env = nullptr;
};
Result<Tree> open_tree(Env* given, std::string_view tracking_uri);

// "20261123T091500Z" for a time in ms since the epoch (UTC, no locale).
std::string compact_utc(std::int64_t ms);

// `path` relative to `root` ("" for root itself); `path` must lie under it.
std::string relative_to(std::string_view root, std::string_view path);

// <root>/quarantine-<UTC time>-<random>.trash/: a root folder whose name ends in
// ".trash" is skipped by every MLflow reader (spec §1.2) and by mlruns.
// Created on first use; NOTES.txt inside records every in-place repair and
// where each item came from, written before the item is moved or saved, so
// that it never misses one.
class Quarantine {
 public:
  Quarantine(Env& env, std::string root, std::int64_t now_ms);
  const std::string& dir() const { return dir_; }
  bool used() const { return used_; }
  // Moves `path` (file or folder, by rename; symlinks are moved, not
  // followed) to the same relative place inside the quarantine. Returns the
  // new path.
  Result<std::string> move_in(const std::string& path, std::string_view reason);
  // Stores `data` as <relative path of `origin`><suffix> in the quarantine
  // (e.g. metric lines dropped by a repair). Returns the new path.
  Result<std::string> save(const std::string& origin, std::string_view suffix, std::string_view data,
                           std::string_view reason);
  // Appends a line to NOTES.txt (creating the folder): the durable log of
  // every change a repair made, in place or by moving.
  Status note(std::string_view line);
  // Drops the line the last note() added again (best effort): the change it
  // announced did not happen.
  void unnote();

 private:
  Status ensure_dir(const std::string& rel_parent);
  Env& env_;
  std::string root_;
  std::string dir_;
  std::string notes_;
  std::size_t last_note_ = 0;  // where the last note()'s line starts in notes_
  bool used_ = false;
};

}  // namespace mlruns::detail

namespace mlruns::detail {

// One experiment folder of the tree, active or in .trash/.
struct ExperimentDir {
  std::string id;
  std::string dir;
  bool in_trash = false;
};

// Experiment folders in <root> then <root>/.trash (validly named real
// directories only; symlinks are skipped).
std::vector<ExperimentDir> experiment_dirs(Env& env, const std::string& root);

// Run folders of an experiment: real sub-directories that are not reserved
// (spec §1.2) and whose name is a valid run id.
std::vector<std::string> run_dir_names(Env& env, const std::string& experiment_dir);

// Regular files below a run's metrics/ folder (keys with '/' are sub-folders),
// without following symlinks, at most 64 folders deep.
std::vector<std::string> metric_files(Env& env, const std::string& metrics_dir);

// Reads a small file without following a final symlink; the error names the path.
Result<std::string> read_small(Env& env, const std::string& path, std::uint64_t max = 1 << 20);

}  // namespace mlruns::detail

#include <map>

#include "format/meta_edit.h"

namespace mlruns::detail {

// Edits the meta.yaml at `path`, whose current text the caller read as
// `before`: applies `edits` with MetaDoc (other bytes stay), proves with
// verify_meta_edit that only those keys changed, re-reads the file and gives
// up with kFailedPrecondition if someone changed it meanwhile, then replaces
// it atomically. Returns the new text.
Result<std::string> apply_meta_edit(Env& env, const std::string& path, std::string_view before,
                                    const std::map<std::string, MetaValue>& edits, bool dry_run = false);

}  // namespace mlruns::detail
