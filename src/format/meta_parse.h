// Reading experiment and run meta.yaml files as every MLflow version wrote
// them (spec §3.2, §4.3): integer or string experiment_id, missing
// lifecycle_stage/status/run_uuid/run_name, legacy keys. Never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns::detail {

// kAuto reads MLflow's canonical "key: value" layout directly and falls back
// to libyaml (the parser under PyYAML's CSafeLoader, which MLflow reads with)
// for anything else; kYamlOnly always uses libyaml (tests check that both
// give what CSafeLoader gives, tests/format/pyyaml_load_test.cpp). A key
// given twice reads as its last value; a plain scalar is an int only where
// PyYAML's YAML 1.1 resolver makes one (0x1F, 017, 1_000, 1:30).
enum class MetaParser { kAuto, kYamlOnly };

// True if kAuto reads `text` without libyaml (for tests and benchmarks).
bool meta_fast_path_applies(std::string_view text);

// Parses <exp>/meta.yaml. `in_trash` gives the stage when the file has none
// (MLflow <= 2.2 went by location). Hard errors (kCorruption): empty file,
// invalid YAML, not a mapping, missing name. Softer problems (a missing
// time, an odd stage) are appended to `problems` and the field defaulted.
Result<Experiment> parse_experiment_meta(std::string_view text, bool in_trash,
                                         std::vector<std::string>* problems = nullptr,
                                         MetaParser parser = MetaParser::kAuto);

// Parses <exp>/<run>/meta.yaml. Hard errors: empty file, invalid YAML, not a
// mapping, neither run_id nor run_uuid. Softer problems (missing start_time,
// status not 1..5, ...) go to `problems` and the field is defaulted.
Result<RunInfo> parse_run_meta(std::string_view text, std::vector<std::string>* problems = nullptr,
                               MetaParser parser = MetaParser::kAuto);

}  // namespace mlruns::detail
