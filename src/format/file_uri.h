// file:// URIs as MLflow writes them (pathlib.Path.as_uri(), spec §8.1) and
// tracking-URI resolution (spec §12.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mlruns/status.h"

namespace mlruns::detail {

// "/data/my dir/ü" -> "file:///data/my%20dir/%C3%BC". REQUIRES: absolute path.
// Percent-encodes every byte outside [A-Za-z0-9_.~/-] as Python's as_uri does.
std::string path_to_file_uri(std::string_view absolute_path);

// Inverse of path_to_file_uri; also accepts "file:/x", "file://localhost/x" and
// a plain absolute path (1.x and explicit roots store those). Returns nullopt
// for other schemes (s3://, mlflow-artifacts:/ ...) and relative paths.
std::optional<std::string> file_uri_to_path(std::string_view uri);

// A runs:/ model URI, MLflow's "runs:/<run_id>/<path>" (mlflow/store/
// artifact/runs_artifact_repo.py): the run id as written, and the artifact
// path folded by normalize_artifact_path (key.h), so "runs:/R/./model/" is
// runs:/R/model in every verb and function that takes one (register,
// download, get-top-run --register). Neither is validated here.
struct RunsUri {
  std::string run_id;
  std::string path;  // "" for the run's artifact root
};
// nullopt if `uri` does not start with "runs:/".
std::optional<RunsUri> parse_runs_uri(std::string_view uri);

}  // namespace mlruns::detail
