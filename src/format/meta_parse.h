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

// The top level of a YAML mapping as PyYAML's CSafeLoader reads it: each
// key's value is a string, a null, or a collection. A collection that is a
// mapping of scalars (an input's `tags:`) keeps its pairs in file order;
// deeper nesting is skipped. Every YAML file MLflow writes is read through
// this (meta.yaml of experiments, runs, inputs and datasets; fsck's checks).
struct YamlValue {
  enum class Kind { kString, kNull, kCollection };
  Kind kind = Kind::kNull;
  std::string text;
  bool plain = false;  // a plain (unquoted) scalar: PyYAML's resolver types it
  // A plain scalar's text as written; `text` is Python's str() of what
  // PyYAML makes of it (`yes` -> "True", `017` -> "15"). fsck quotes this.
  std::string raw;
  // kCollection: true for a mapping; `pairs` its scalar pairs in file order
  // (a repeated key: the last wins, as in PyYAML), `pairs_ok` false if some
  // key or value was not a scalar.
  bool mapping = false;
  bool pairs_ok = true;
  std::vector<std::pair<std::string, std::string>> pairs;
};
using YamlMap = std::vector<std::pair<std::string, YamlValue>>;

// `text` as a YamlMap (kCorruption: empty, larger than `max_bytes`, invalid
// YAML, more than one document, not a mapping, a collection as a key).
Result<YamlMap> load_yaml_map(std::string_view text, std::size_t max_bytes = 1 << 20,
                              MetaParser parser = MetaParser::kAuto);
// The value of `key` (the last one if given twice, as PyYAML); null if absent.
const YamlValue* yaml_find(const YamlMap& m, std::string_view key);

// The int a scalar equals in Python once PyYAML has loaded it, as MLflow's
// RunStatus.to_string looks a run's status up in a dict of ints
// (file_store.py _read_persisted_run_info_dict): a plain int (0x1F, 1_000),
// a plain float with an integral value (3.0 == 3: FINISHED) and a plain bool
// (true == 1: RUNNING). nullopt for a string, null or collection.
std::optional<std::int64_t> python_int_value(const YamlValue& v);

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
