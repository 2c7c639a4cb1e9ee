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
  // Progress: bytes copied so far and in total.
  std::function<void(std::uint64_t done, std::uint64_t total)> on_progress;
};

struct DownloadResult {
  std::string local_path;  // what was created: <dest_dir>/<basename of artifact_path>
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Copies artifacts/<artifact_path> (all artifacts when empty) of `run_id`
// into `dest_dir`. kAlreadyExists if the target exists and !overwrite.
Result<DownloadResult> download_artifacts(const Reader& reader, std::string_view run_id,
                                          std::string_view artifact_path, const std::string& dest_dir,
                                          const DownloadOptions& options = {});

}  // namespace mlruns
