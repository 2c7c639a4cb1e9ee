// What the model verbs share: downloading with progress (download,
// get-top-run) and registering a run's model (models register, get-top-run
// --register).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlruns/download.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"

namespace mlruns::cli {

// Runs `download` with a progress line on stderr and the library's
// DownloadOptions (overwrite as given); kAlreadyExists gets the hint to use
// --overwrite. Prints "  downloaded N file(s), SIZE to PATH" on stderr.
DownloadResult download_with_progress(const std::function<Result<DownloadResult>(const DownloadOptions&)>& download,
                                      bool overwrite);

// The artifact path of the model to register from a run: `given` if not
// empty, else the run's only logged model (Reader::logged_models); none or
// several is kFailedPrecondition naming them and the option to choose.
std::string model_path_of_run(const Reader& reader, const std::string& run_id, const std::string& given,
                              const std::string& option);

struct Registration {
  std::string name;
  std::string source;                // runs:/<run>/<path>, a models:/ URI or a path in the tree
  std::vector<std::string> aliases;  // each moved to the new version once it is complete
  std::optional<std::string> description;
  std::vector<std::string> tags;  // K=V
};
// Creates the version (and the registered model if needed), then moves the
// aliases; returns the version as the Reader reads it back.
ModelVersion register_version(Store& store, const Reader& reader, const Registration& r);

}  // namespace mlruns::cli
