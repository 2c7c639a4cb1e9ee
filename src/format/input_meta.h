// Reading run inputs and datasets (spec §9.1): <run>/inputs/<id>/meta.yaml
// links a run to <exp>/datasets/<source_id>/meta.yaml. Never throws.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns::detail {

// What <run>/inputs/<id>/meta.yaml says. destination_id is not kept: every
// MLflow version writes the source id there (spec §9.1).
struct InputLink {
  std::string source_type;  // "DATASET"; "MODEL" for 3.x model inputs
  std::string source_id;    // the dataset (or model) id; not yet validated as a folder name
  std::map<std::string, std::string> tags;
};

// Hard errors (kCorruption): empty, invalid YAML, not a mapping, too deeply
// nested, no source_type or source_id. Softer problems (a tag that is not a
// string) go to `problems` and the part is skipped.
Result<InputLink> parse_input_meta(std::string_view text, std::vector<std::string>* problems = nullptr);

// <exp>/datasets/<id>/meta.yaml. Hard errors as above, and a missing name or
// digest (what searches compare). A missing source_type or source is a
// problem and left empty; schema and profile may be null.
Result<Dataset> parse_dataset_meta(std::string_view text, std::vector<std::string>* problems = nullptr);

// True for a dataset id that may be joined to <exp>/datasets/: one plain
// folder name (no '/', not "." or "..", no control characters, at most 255
// bytes). MLflow writes 32 hex digits.
bool is_valid_dataset_id(std::string_view id);

}  // namespace mlruns::detail
