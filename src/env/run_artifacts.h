// A run's own artifact folder, <location>/<run_id>/artifacts (spec §8.2):
// the only place outside a tree that mlruns creates, writes or removes
// anything. An experiment created with its own artifact location (an
// absolute path, a file: URI, or a relative path made absolute) gives its
// runs such folders; MLflow creates them on demand (os.makedirs), and so does
// mlruns, but below <location> it never follows a symbolic link.
//
// The shape check is one function, so that every verb (writer, gc, the
// confined resolver of the POSIX Env) applies the same rule.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// If `path` (absolute, normalized: no "." or ".." component, no "//") is
// <location>/<run_id>/artifacts for this `run_id`, returns <location>/<run_id>,
// the run's own folder there; else nullopt.
std::optional<std::string> run_artifacts_owner(std::string_view path, std::string_view run_id);

// Creates what is missing of `artifacts_dir` = <location>/<run_id>/artifacts:
// <location> with its parents (they are the user's path, links allowed),
// then <location>/<run_id> and artifacts/ as real folders. kFailedPrecondition
// if `artifacts_dir` does not have that shape, or if <location>/<run_id> or
// artifacts/ exists as anything but a real folder (a symlink is refused).
Status make_run_artifacts_dir(Env& env, const std::string& artifacts_dir, std::string_view run_id);

}  // namespace mlruns::detail
