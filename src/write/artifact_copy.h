// Copying artifacts into a run (spec §8.2) so that no half-copied file ever
// sits under its final name: each file is copied to a temp name in
// `temp_dir` (outside artifacts/, same file system) and renamed into place.
#pragma once

#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

struct ArtifactTarget {
  std::string artifacts_root;  // local folder of the run's artifact_uri
  std::string temp_dir;        // for temp copies, e.g. the run folder
  bool sync = false;           // fsync each file before its rename
};

// MLflow's log_artifact/log_artifacts: a file goes to
// <root>/<artifact_path>/<basename>; a directory's contents go under
// <root>/<artifact_path>/ (recursively). Symlinks to files are copied as
// files; symlinks to directories are skipped (no loops, never leaves the
// source tree). Names are validated before anything is written.
Status copy_artifact(Env& env, const ArtifactTarget& target, const std::string& local_path,
                     std::string_view artifact_path);

// Writes `data` to <root>/<artifact_file> atomically (log_text, log_dict).
Status write_artifact(Env& env, const ArtifactTarget& target, std::string_view artifact_file,
                      std::string_view data);

}  // namespace mlruns::detail
