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

// "/a/./b//c/../d/" -> "/a/b/d". REQUIRES: absolute path.
std::string normalize_absolute_path(std::string_view path);

}  // namespace mlruns::detail
