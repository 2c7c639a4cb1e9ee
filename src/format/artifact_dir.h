// Which local artifact folder of a run a verb may touch (docs/hpc.md,
// "Security model"). MLflow builds every run's artifact_uri as
// <artifact_location>/<run_id>/artifacts (spec §8.1); a tree's author can
// write any artifact_uri, so it is used only in that shape:
// - inside the tree, the path is used as it is (the confined Env keeps every
//   call below the root);
// - outside the tree, only <experiment's artifact_location>/<run_id>/artifacts
//   exactly, for a run whose id has the form every writer generates (32
//   lowercase hex digits, uuid4().hex: MLflow's FileStore and mlruns'
//   new_run_id) and whose folder in the tree is named by that id: a tree's
//   author cannot name an outside folder (`victim`, `..`) by choosing a run
//   id. <location> is the user's choice and may contain links (resolved once
//   with realpath), but <location>/<run_id> must be a real folder; it becomes
//   a root of the confined Env (Env::add_root), so nothing below it is ever
//   followed. Anything else outside the tree is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// The shape rule, in one function for every verb (writer, reader, gc,
// fsck): if `path` (absolute or relative; no empty, "." or ".." component
// but a leading "./")
// is <location>/<run_id>/artifacts for this `run_id`, with a non-empty
// <location>, returns <location>/<run_id>, the run's own folder there; else
// nullopt.
std::optional<std::string> run_artifacts_owner(std::string_view path, std::string_view run_id);

// The local path of `uri` (a path or file: URI; nullopt for another scheme)
// without trailing '/'; an absolute one lexically normalised ('.', '//' and
// '..' folded without touching the file system, so no link is followed, e.g.
// "/a/b/../c/" -> "/a/c"): MLflow stores a relative artifact_location as
// <cwd>/<path> with '..' kept (resolve_uri_if_local, mlflow/utils/uri.py)
// and builds its runs' URIs below it. Every artifact_uri and
// artifact_location goes through it before the shape rule.
std::optional<std::string> local_path_of(std::string_view uri);

struct ArtifactDir {
  std::string path{};    // the run's artifacts folder, as the Env takes it
  bool outside = false;  // not below the tree root
  std::string run_root{};  // outside: <location>/<run_id>, resolved (a root of the confined Env)
};

// Whether `run_id` has the form MLflow's FileStore and mlruns generate:
// uuid.uuid4().hex, 32 lowercase hex digits (spec §4.4).
bool is_generated_run_id(std::string_view run_id);

// The artifacts folder of run `run_id` (a validated id) according to its
// `artifact_uri` (taken through local_path_of), for a tree rooted at
// `tree_root` (absolute); `run_dir` is
// the run's folder in the tree (<root>[/.trash]/<exp>/<run>), whose parent's
// meta.yaml gives the experiment's artifact_location. Errors: kNotSupported
// for a URI that is not a local path (s3://, mlflow-artifacts:);
// kFailedPrecondition for a local path not of the shape above (the message
// names the URI and the rule); kNotFound if <location> does not exist.
// With `create`, a missing <location> is created with its parents (the
// user's path, as MLflow's os.makedirs) and <location>/<run_id> with one
// mkdir below it; without, they must exist.
Result<ArtifactDir> run_artifact_dir(Env& env, std::string_view tree_root, std::string_view run_dir,
                                     std::string_view artifact_uri, std::string_view run_id, bool create);

// An artifact location outside the tree that does not exist: `location_uri`
// (an experiment's artifact_location, a path or file: URI) names a local
// absolute folder outside `tree_root` that is missing (stat, following the
// user's links); else nullopt. MLflow creates <location>/<run_id>/artifacts
// lazily, but <location> missing for an experiment with runs usually means
// the folder moved (with the tree: `mlruns relocate --from OLD --to NEW`).
std::optional<std::string> missing_artifact_location(Env& env, std::string_view tree_root,
                                                     std::string_view location_uri);

}  // namespace mlruns::detail
