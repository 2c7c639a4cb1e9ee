// Copying artifacts into a run (spec §8.2) so that no half-copied file ever
// sits under its final name: each file is copied to a temp name in
// `temp_dir` (outside artifacts/, same file system) and renamed into place,
// or, into a folder nobody sees yet (ArtifactTarget::unseen), written under
// its final name. Files are copied 8 at a time.
#pragma once

#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

struct ArtifactTarget {
  std::string artifacts_root;  // local folder of the run's artifact_uri
  std::string temp_dir;        // for temp copies, e.g. the run folder
  bool sync = false;           // fsync each file (and, if unseen, each folder) before it is published
  // artifacts_root is a folder nobody sees yet (log_model's staging folder,
  // renamed into place whole): files are written under their final names.
  bool unseen = false;
};

// What a copy puts where (spec §8.2). MLflow's log_artifact: a file goes to
// <root>/<artifact_path>/<basename>, a directory to
// <root>/<artifact_path>/<dir name>/... (MlflowClient.log_artifact calls
// log_artifacts with the directory's name appended). log_artifacts
// (kContents): a directory's contents go to <root>/<artifact_path>/...
enum class CopyWhat { kItself, kContents };

// Copies recursively, as MLflow's log_artifacts (shutil.copytree with
// symlinks=False): links to files and folders in the source are followed and
// copied as what they point at. Refused before anything is written
// (kInvalidArgument naming the entry): a FIFO, socket or device (never
// opened), a dangling link, a link to a folder it is inside (a loop), a
// folder holding the run's own folders. Every
// name is validated and every destination checked before anything is written:
// an artifact file that exists already is kAlreadyExists naming it (unless
// `replace`), a destination whose folder is a file is kAlreadyExists too, so a
// refused call writes nothing.
Status copy_artifact(Env& env, const ArtifactTarget& target, const std::string& local_path,
                     std::string_view artifact_path, CopyWhat what, bool replace);

// Writes `data` to <root>/<artifact_file> atomically (log_text, log_dict).
Status write_artifact(Env& env, const ArtifactTarget& target, std::string_view artifact_file,
                      std::string_view data);

}  // namespace mlruns::detail
