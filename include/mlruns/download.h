// Downloading a run's artifacts so that users can trust the result: files
// are found even when the tree was moved (Reader::artifact_root), written to
// a temporary sibling and renamed into place only when complete, sizes are
// verified, and an existing target is never silently overwritten.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "mlruns/reader.h"
#include "mlruns/status.h"

namespace mlruns {

struct DownloadOptions {
  bool overwrite = false;  // replace an existing target (atomically)
  // How the caller's user asks for `overwrite`, ending the kAlreadyExists
  // message, which is one sentence shown as is: "<target> is already there
  // (an earlier download?); <overwrite_hint>". The CLI gives "add --overwrite
  // to replace it", the Python package "pass overwrite=True to replace it".
  std::string overwrite_hint = "set DownloadOptions::overwrite to replace it";
  // fsync every file and folder of the copy before the rename that
  // publishes it (the files are copied 8 at a time, their fsyncs overlap), so
  // after a machine crash the target is complete or absent. false: no fsync
  // at all, the kernel writes back when it likes (faster on a local disk;
  // after a machine crash the target may hold empty or short files).
  bool sync = true;
  // Progress: bytes copied so far and in total.
  std::function<void(std::uint64_t done, std::uint64_t total)> on_progress{};
};

struct DownloadResult {
  // What was created: <dest_dir>/<basename of artifact_path>, or
  // <dest_dir>/artifacts when artifact_path is empty (all artifacts).
  std::string local_path{};
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Copies artifacts/<artifact_path> (all artifacts when empty) of `run_id`
// into `dest_dir` (created if missing). kAlreadyExists if the target exists
// (or appears while copying) and !overwrite, with the message described at
// DownloadOptions::overwrite_hint. Symlinks below the artifact root are not followed (they are
// skipped with a warning through ReaderOptions::on_warning); a symlink on
// artifact_path itself is refused. On failure nothing is left under the
// target name and the temporary copy is removed; with overwrite, a failed
// replacement leaves the old target in place.
Result<DownloadResult> download_artifacts(const Reader& reader, std::string_view run_id,
                                          std::string_view artifact_path, const std::string& dest_dir,
                                          const DownloadOptions& options = {});

// Copies a model's files (Reader::resolve_model_uri) into `dest_dir`, the
// same way: <dest_dir>/<name of the model folder> (e.g. "model"; an MLflow
// 3.x LoggedModel's folder is named after its model id), complete or not at
// all. A concurrent alias move or re-registration never mixes two versions:
// the location is resolved once, and a version's files never change.
Result<DownloadResult> download_model(const Reader& reader, const Reader::ModelLocation& model,
                                      const std::string& dest_dir, const DownloadOptions& options = {});

}  // namespace mlruns
