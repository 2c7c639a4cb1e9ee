// The fast meta.yaml path (MLflow's canonical "key: value" lines) and the
// yaml-cpp path must read every file identically.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "format/meta_parse.h"

using namespace mlruns;
using namespace mlruns::detail;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void same_run(std::string_view text) {
  INFO("meta.yaml:\n" << text);
  std::vector<std::string> pa, pb;
  auto a = parse_run_meta(text, &pa, MetaParser::kAuto);
  auto b = parse_run_meta(text, &pb, MetaParser::kYamlOnly);
  REQUIRE(a.has_value() == b.has_value());
  CHECK(pa == pb);
  if (!a) return;
  CHECK(a->run_id == b->run_id);
  CHECK(a->run_name == b->run_name);
  CHECK(a->experiment_id == b->experiment_id);
  CHECK(a->user_id == b->user_id);
  CHECK(a->status == b->status);
  CHECK(a->start_time == b->start_time);
  CHECK(a->end_time == b->end_time);
  CHECK(a->deleted_time == b->deleted_time);
  CHECK(a->artifact_uri == b->artifact_uri);
  CHECK(a->lifecycle_stage == b->lifecycle_stage);
}

void same_experiment(std::string_view text, bool in_trash) {
  INFO("meta.yaml:\n" << text);
  std::vector<std::string> pa, pb;
  auto a = parse_experiment_meta(text, in_trash, &pa, MetaParser::kAuto);
  auto b = parse_experiment_meta(text, in_trash, &pb, MetaParser::kYamlOnly);
  REQUIRE(a.has_value() == b.has_value());
  CHECK(pa == pb);
  if (!a) return;
  CHECK(a->experiment_id == b->experiment_id);
  CHECK(a->name == b->name);
  CHECK(a->artifact_location == b->artifact_location);
  CHECK(a->lifecycle_stage == b->lifecycle_stage);
  CHECK(a->creation_time == b->creation_time);
  CHECK(a->last_update_time == b->last_update_time);
}

}  // namespace

TEST_CASE("fast and yaml-cpp meta.yaml paths agree on every meta.yaml of both fixtures", "[meta][fastpath]") {
  int runs = 0, exps = 0;
  for (const char* fixture : {"mlflow-3.8", "mlflow-2.10"}) {
    fs::path root = fs::path(MLRUNS_FIXTURES_DIR) / fixture / "mlruns";
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.path().filename() != "meta.yaml") continue;
      fs::path rel = fs::relative(e.path(), root);
      std::string text = slurp(e.path());
      auto depth = std::distance(rel.begin(), rel.end());
      bool trash = *rel.begin() == ".trash";
      if (depth == 2 + trash) {
        same_experiment(text, trash);
        ++exps;
      } else if (depth == 3 + trash && rel.parent_path().parent_path().filename() != "datasets") {
        same_run(text);
        CHECK(meta_fast_path_applies(text));
        ++runs;
      }
    }
  }
  CHECK(exps == 8);
  CHECK(runs == 28);
}

TEST_CASE("fast and yaml-cpp paths agree on unusual meta.yaml forms (spec §2.1, §4.3)", "[meta][fastpath]") {
  const std::string base = "artifact_uri: file:///x/1/abc/artifacts\nend_time: null\nexperiment_id: '1'\n"
                           "run_id: abc\nstart_time: 5\nstatus: 3\nuser_id: u\n";
  for (std::string extra : {
           "run_name: 'it''s'\n", "run_name: 'yes'\n", "run_name: yes\n", "run_name: \"dq \\t x\"\n",
           "run_name: a: b\n", "run_name: a #comment\n", "run_name: ''\n", "run_name:\n", "run_name: ~\n",
           "run_name: 実験 ü\n", "run_name: '1:20'\n", "run_name: x\n  continued\n", "run_name: [a, b]\n",
           "run_name: - x\n", "run_name: -x\n", "lifecycle_stage: deleted\ndeleted_time: 7\n",
           "lifecycle_stage: bogus\n", "run_uuid: abc\n", "tags: []\n", "tags:\n  a: b\n", "# comment\n",
           "run_name: ends with space \n", "run_name: 'unterminated\n", "run_name: &anchor x\n",
       }) {
    same_run(base + extra);
  }
  same_run("run_uuid: only\nexperiment_id: 1\nstart_time: +5\nend_time: 1_000\nuser_id: u\nstatus: '3'\n");
  same_run("run_id: abc\r\nstart_time: 5\r\n");
  same_run("\xEF\xBB\xBFrun_id: abc\nstart_time: 5\n");
  same_run("run_id: abc\nrun_id: def\n");
  same_run("");
  same_run("{[: :");
  same_run("just a scalar\n");
  same_run("- a\n- b\n");
  same_experiment("artifact_location: file:///x/0\nexperiment_id: 0\nname: Default\n", true);
  same_experiment("artifact_location: file:///x/0\nexperiment_id: '0'\nname: 'null'\nlifecycle_stage: deleted\n"
                  "creation_time: 12\nlast_update_time: 13\ntags:\n  team: a\n",
                  false);
  same_experiment("experiment_id: '5'\nname: demo experiment\n", false);
  same_experiment("experiment_id: '5'\n", false);
}

TEST_CASE("the fast path is taken for MLflow's canonical output", "[meta][fastpath]") {
  // A value yaml-cpp would read differently from the raw text would show up
  // above; here we just pin the canonical run meta (spec §4.2).
  const char* text =
      "artifact_uri: file:///data/mlruns/7/f7/artifacts\nend_time: 1736942400084\nentry_point_name: ''\n"
      "experiment_id: '7'\nlifecycle_stage: active\nrun_id: f7\nrun_name: parent-run\nrun_uuid: f7\n"
      "source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1736942400028\nstatus: 3\ntags: []\n"
      "user_id: root\n";
  CHECK(meta_fast_path_applies(text));
  CHECK_FALSE(meta_fast_path_applies("run_id: a\ntags:\n  x: y\n"));
  CHECK_FALSE(meta_fast_path_applies("run_name: \"dq\"\n"));
  auto r = parse_run_meta(text);
  REQUIRE(r);
  CHECK(r->run_name == "parent-run");
  CHECK(r->end_time == 1736942400084);
  same_run(text);
}
