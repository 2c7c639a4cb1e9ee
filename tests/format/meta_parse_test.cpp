// Reading meta.yaml as MLflow's readers do (spec §3.2, §4.3).
#include <catch2/catch.hpp>

#include "format/meta_parse.h"

using namespace mlruns;
using namespace mlruns::detail;

TEST_CASE("run meta.yaml of MLflow 2.22 is read (spec §4.2)", "[meta]") {
  const char* text =
      "artifact_uri: file:///data/mlruns/789925878442086410/f768674c8267489eae40fb4abef490be/artifacts\n"
      "end_time: 1736942400084\nentry_point_name: ''\nexperiment_id: '789925878442086410'\n"
      "lifecycle_stage: active\nrun_id: f768674c8267489eae40fb4abef490be\nrun_name: parent-run\n"
      "run_uuid: f768674c8267489eae40fb4abef490be\nsource_name: ''\nsource_type: 4\nsource_version: ''\n"
      "start_time: 1736942400028\nstatus: 3\ntags: []\nuser_id: root\n";
  std::vector<std::string> problems;
  auto r = parse_run_meta(text, &problems);
  REQUIRE(r);
  CHECK(problems.empty());
  CHECK(r->run_id == "f768674c8267489eae40fb4abef490be");
  CHECK(r->experiment_id == "789925878442086410");
  CHECK(r->status == RunStatus::kFinished);
  CHECK(r->end_time == 1736942400084);
  CHECK(r->start_time == 1736942400028);
  CHECK(r->user_id == "root");
}

TEST_CASE("legacy and damaged run meta (spec §4.3, §14.9)", "[meta]") {
  SECTION("only run_uuid, int experiment_id, no status or stage") {
    auto r = parse_run_meta("run_uuid: abc\nexperiment_id: 1\nstart_time: 5\nend_time: null\nuser_id: u\n");
    REQUIRE(r);
    CHECK(r->run_id == "abc");
    CHECK(r->experiment_id == "1");
    CHECK(r->status == RunStatus::kRunning);
    CHECK(r->lifecycle_stage == LifecycleStage::kActive);
    CHECK_FALSE(r->end_time);
  }
  SECTION("empty file is corruption") { CHECK(parse_run_meta("").error().code() == Code::kCorruption); }
  SECTION("garbage is corruption") { CHECK_FALSE(parse_run_meta("{[: :").has_value()); }
  SECTION("a scalar is not a mapping") { CHECK_FALSE(parse_run_meta("hello").has_value()); }
  SECTION("deep nesting is refused without recursion") {
    CHECK_FALSE(parse_run_meta(std::string(100000, '[')).has_value());
  }
  SECTION("status as a string is a problem, not a crash") {
    std::vector<std::string> problems;
    auto r = parse_run_meta("run_id: a\nstatus: FINISHED\nstart_time: 1\n", &problems);
    REQUIRE(r);
    CHECK(problems.size() == 3);  // status, user_id, experiment_id
    CHECK(r->status == RunStatus::kRunning);
  }
}

TEST_CASE("experiment meta: stage from the file, else from the location (spec §3.2)", "[meta]") {
  auto e = parse_experiment_meta("artifact_location: file:///x/0\nexperiment_id: 0\nname: Default\n", true);
  REQUIRE(e);
  CHECK(e->experiment_id == "0");
  CHECK(e->lifecycle_stage == LifecycleStage::kDeleted);
  CHECK_FALSE(e->creation_time);
  auto named_yes = parse_experiment_meta("experiment_id: '5'\nname: 'yes'\nlifecycle_stage: active\n", true);
  REQUIRE(named_yes);
  CHECK(named_yes->name == "yes");
  CHECK(named_yes->lifecycle_stage == LifecycleStage::kActive);
}

TEST_CASE("a key given twice: the last one wins, as PyYAML's CSafeLoader reads it (issue 15 item 4)", "[meta]") {
  // python3 -c "import yaml; print(yaml.load(TEXT, Loader=yaml.CSafeLoader))" (Debian's python3-yaml 6.0)
  // gives {'status': 4, 'lifecycle_stage': 'deleted', ...}.
  const char* text = "status: 3\nlifecycle_stage: active\nstatus: 4\nlifecycle_stage: deleted\nrun_id: a\n"
                     "experiment_id: 1\nstart_time: 1\nuser_id: u\n";
  for (MetaParser p : {MetaParser::kAuto, MetaParser::kYamlOnly}) {
    auto r = parse_run_meta(text, nullptr, p);
    REQUIRE(r);
    CHECK(r->status == RunStatus::kFailed);  // main: FINISHED (the first)
    CHECK(r->lifecycle_stage == LifecycleStage::kDeleted);
  }
  auto e = parse_experiment_meta("experiment_id: '1'\nname: first\nname: second\nartifact_location: x\n", false);
  REQUIRE(e);
  CHECK(e->name == "second");
}

TEST_CASE("status and lifecycle_stage are read as MLflow reads them: Python equality for status, null stages "
          "reported (file_store.py _read_persisted_run_info_dict, issue 15)",
          "[meta]") {
  auto status_of = [](const std::string& value, std::vector<std::string>* problems = nullptr) {
    auto r = parse_run_meta("run_id: a\nexperiment_id: '1'\nuser_id: u\nstart_time: 1\nstatus: " + value + "\n",
                            problems);
    REQUIRE(r);
    return r->status;
  };
  CHECK(status_of("3.0") == RunStatus::kFinished);  // RunStatus.to_string(3.0): 3.0 == 3
  CHECK(status_of("4.") == RunStatus::kFailed);
  CHECK(status_of("5.0e+0") == RunStatus::kKilled);
  CHECK(status_of("true") == RunStatus::kRunning);  // True == 1
  CHECK(status_of("0x3") == RunStatus::kFinished);
  std::vector<std::string> problems;
  CHECK(status_of("3.5", &problems) == RunStatus::kRunning);
  CHECK(problems.size() == 1);
  problems.clear();
  CHECK(status_of("~", &problems) == RunStatus::kRunning);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("null") != std::string::npos);
  problems.clear();
  auto r = parse_run_meta("run_id: a\nexperiment_id: '1'\nuser_id: u\nstart_time: 1\nlifecycle_stage: ~\n", &problems);
  REQUIRE(r);
  CHECK(r->lifecycle_stage == LifecycleStage::kActive);
  REQUIRE(problems.size() == 1);  // main: none, while MLflow's search fails ("Invalid lifecycle stage 'None'")
  CHECK(problems[0].find("lifecycle_stage") != std::string::npos);
}
