// Helpers for the reader and download tests: warnings, minimal meta.yaml files
// (temporary trees and fixtures: test_util.h).
#pragma once

#include <string>
#include <vector>

#include "format/yaml_emit.h"
#include "mlruns/reader.h"
#include "test_util.h"

namespace mlruns::testing {

namespace fs = std::filesystem;

// Collects warnings.
struct Warnings {
  std::vector<Warning> list;
  ReaderOptions options() {
    ReaderOptions o;
    o.on_warning = [this](const Warning& w) { list.push_back(w); };
    return o;
  }
  // True if some warning's path contains `path_part` and its message `message_part`.
  bool has(const std::string& path_part, const std::string& message_part = "") const {
    for (const Warning& w : list)
      if (w.path.find(path_part) != std::string::npos && w.message.find(message_part) != std::string::npos)
        return true;
    return false;
  }
  std::string dump() const {
    std::string out;
    for (const Warning& w : list) out += w.path + ": " + w.message + "\n";
    return out;
  }
};

// A minimal canonical run meta.yaml (spec Appendix B). A run id PyYAML would
// type (all digits: 017... is an octal int) is quoted, as yaml.safe_dump
// writes it (spec §2.1, §14.4).
inline std::string run_meta(const std::string& exp, const std::string& run, const std::string& extra = "",
                            const std::string& root = "/nonexistent/mlruns") {
  const std::string id = detail::yaml_plain_is_ambiguous(run) ? "'" + run + "'" : run;
  return "artifact_uri: file://" + root + "/" + exp + "/" + run + "/artifacts\nend_time: 1700000001000\n"
         "entry_point_name: ''\nexperiment_id: '" + exp + "'\nlifecycle_stage: active\nrun_id: " + id +
         "\nrun_name: name-" + run + "\nrun_uuid: " + id +
         "\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\nstatus: 3\ntags: []\n"
         "user_id: tester\n" + extra;
}

inline std::string exp_meta(const std::string& exp, const std::string& name, long long created = 1700000000000) {
  return "artifact_location: file:///nonexistent/mlruns/" + exp + "\ncreation_time: " + std::to_string(created) +
         "\nexperiment_id: '" + exp + "'\nlast_update_time: " + std::to_string(created) +
         "\nlifecycle_stage: active\nname: " + name + "\n";
}

}  // namespace mlruns::testing
