// Which local tree a tracking URI names (spec §12.1), shared by Store and
// Reader: an explicit path or file: URI, else MLFLOW_TRACKING_URI, else
// ./mlruns. Server URIs (http, https, databricks, ...) are refused.
#pragma once

#include <string>
#include <string_view>

#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

// The absolute, lexically normalised root directory for `uri` (which may be
// empty). Relative paths are taken against the current directory (via
// env.real_path(".")). Errors: kNotSupported for a non-file scheme,
// kInvalidArgument for a malformed file: URI. Does not touch the tree.
Result<std::string> resolve_tracking_root(std::string_view uri, Env* env = nullptr);

// MLflow's resolve_uri_if_local (mlflow/utils/uri.py), applied to an
// experiment's artifact_location and a default artifact root: a relative
// path becomes <cwd>/<path> (joined as pathlib does: '.' components, doubled
// and trailing '/' dropped, '..' kept), a file: URI with a relative path
// becomes file://<cwd>/<path> (query and fragment kept); absolute paths,
// absolute file: URIs and other schemes are returned as they are. The
// current directory comes from env's unconfined Env (not the tree's).
Result<std::string> resolve_uri_if_local(std::string_view uri, Env& env);

// MLflow's append_to_uri_path (mlflow/utils/uri.py) for one name: `name`
// joins the path component of `uri` with one '/'; a URI's query or
// fragment stays at the end ("s3://b/p?x=1" + "7" -> "s3://b/p/7?x=1").
std::string append_to_uri_path(std::string_view uri, std::string_view name);

// "/a/./b//c/../d/" -> "/a/b/d". REQUIRES: absolute path.
std::string normalize_absolute_path(std::string_view path);

}  // namespace mlruns::detail
