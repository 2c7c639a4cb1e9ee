// The bytes of experiment and run meta.yaml files, as MLflow 2.22 writes
// them (spec §3.1, §4.2, §13.1): keys sorted, PyYAML scalar styles,
// run_uuid == run_id, deleted_time only while deleted.
#pragma once

#include <string>

#include "mlruns/types.h"

namespace mlruns::detail {

// The six keys of spec §3.1; creation_time/last_update_time default to 0 if unset.
std::string render_experiment_meta(const Experiment& experiment);
// The 15 keys of spec §4.2 (16 while deleted).
std::string render_run_meta(const RunInfo& run);

}  // namespace mlruns::detail
