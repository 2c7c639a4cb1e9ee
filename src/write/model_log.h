// Logging a model into a run (model.h, spec §8.3): shared by
// ActiveRun::log_model and Store::log_model (by run id).
#pragma once

#include <string>

#include "mlruns/model.h"
#include "mlruns/status.h"
#include "mlruns/types.h"
#include "write/store_impl.h"

namespace mlruns::detail {

// The run at `run_dir` with meta `info`: copies `local_path`, writes
// MLmodel, publishes artifacts/<artifact_path>/ and appends to the history
// tag. Validates everything before writing.
Result<LoggedModel> log_model_to_run(Store::Impl& store, const std::string& run_dir, const RunInfo& info,
                                     const std::string& local_path, const ModelOptions& options);

}  // namespace mlruns::detail
