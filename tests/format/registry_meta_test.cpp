// The Model Registry's meta.yaml bytes against files real MLflow wrote
// (spec §9.4; mlflow/store/model_registry/file_store.py).
#include <catch2/catch.hpp>

#include <optional>

#include "format/registry_meta.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::detail;
using mlruns::testing::fixture_dir;
using mlruns::testing::read_file;

namespace {
std::string registry_file(const std::string& fixture, const std::string& rel) {
  return read_file(fixture_dir(fixture) / "mlruns" / "models" / rel);
}
}  // namespace

TEST_CASE("registered model meta.yaml is rendered byte for byte as MLflow 2.10 wrote it (spec §9.4)", "[registry_meta]") {
  for (const char* rel : {"reg-model/meta.yaml", "bare/meta.yaml", "unicod\xC3\xA9 \xC3\xBC/meta.yaml"}) {
    INFO(rel);
    std::string text = registry_file("mlflow-2.10-models", rel);
    auto m = parse_registered_model_meta(text);
    REQUIRE(m);
    if (m->name == "reg-model") {
      CHECK(m->description == std::optional<std::string>("the sweep's best"));
      m->aliases["champion"] = 1;  // the aliases/ folder; the meta.yaml copy is a snapshot
    } else if (m->name == "bare") {
      CHECK_FALSE(m->description.has_value());  // description: null
    }
    CHECK(render_registered_model_meta(*m) == text);
  }
}

TEST_CASE("model version meta.yaml is rendered byte for byte as MLflow 2.10 wrote it, deleted ones too (spec §9.4)",
          "[registry_meta]") {
  for (int v = 1; v <= 3; ++v) {
    INFO("version " << v);
    std::string text = registry_file("mlflow-2.10-models", "reg-model/version-" + std::to_string(v) + "/meta.yaml");
    std::vector<std::string> problems;
    auto meta = parse_model_version_meta(text, &problems);
    REQUIRE(meta);
    CHECK(problems.empty());
    CHECK(meta->version.version == v);
    CHECK(meta->deleted == (v == 3));
    if (v == 1) {
      CHECK(meta->version.current_stage == ModelStage::kProduction);
      meta->version.aliases = {"champion"};
    }
    if (v == 2) CHECK(meta->version.current_stage == ModelStage::kArchived);
    CHECK_FALSE(meta->version.run_link.has_value());
    CHECK(render_model_version_meta(meta->version, meta->deleted) == text);
  }
}

TEST_CASE("MLflow 3.8's registry files are read: model_id, deployment keys, no aliases list (spec §9.4)",
          "[registry_meta]") {
  auto meta = parse_model_version_meta(registry_file("mlflow-3.8-models", "reg-model/version-1/meta.yaml"));
  REQUIRE(meta);
  CHECK(meta->version.model_id == std::optional<std::string>("m-f8f07ec25846460e917e72f7dc04f6f7"));
  CHECK(meta->version.source == "models:/m-f8f07ec25846460e917e72f7dc04f6f7");
  CHECK(meta->version.storage_location.value_or("").ends_with("/models/m-f8f07ec25846460e917e72f7dc04f6f7/artifacts"));
  auto deleted = parse_model_version_meta(registry_file("mlflow-3.8-models", "reg-model/version-3/meta.yaml"));
  REQUIRE(deleted);
  CHECK(deleted->deleted);
  CHECK_FALSE(deleted->version.model_id.has_value());  // model_id: null
  auto model = parse_registered_model_meta(registry_file("mlflow-3.8-models", "bare/meta.yaml"));
  REQUIRE(model);
  CHECK(model->name == "bare");
}

TEST_CASE("registry parsing refuses what is not a registry file and tolerates odd values", "[registry_meta]") {
  CHECK(parse_registered_model_meta("").error().code() == Code::kCorruption);
  CHECK(parse_registered_model_meta("- a\n- b\n").error().code() == Code::kCorruption);
  CHECK(parse_registered_model_meta("description: x\n").error().code() == Code::kCorruption);  // no name
  CHECK(parse_model_version_meta("name: m\nversion: x\n").error().code() == Code::kCorruption);
  CHECK(parse_model_version_meta("name: m\nversion: 0\n").error().code() == Code::kCorruption);
  std::vector<std::string> problems;
  auto odd = parse_model_version_meta("name: m\nversion: '7'\ncurrent_stage: Shipping\n", &problems);
  REQUIRE(odd);
  CHECK(odd->version.version == 7);
  CHECK(odd->version.current_stage == ModelStage::kNone);
  CHECK(problems.size() == 2);  // the unknown stage, no creation_timestamp
  std::string deep(5000, '[');
  CHECK(parse_registered_model_meta("name: " + deep).error().code() == Code::kCorruption);
}

TEST_CASE("version folders and alias files are read as MLflow writes them (spec §9.4)", "[registry_meta]") {
  CHECK(parse_version_folder("version-1") == 1);
  CHECK(parse_version_folder("version-64") == 64);
  CHECK_FALSE(parse_version_folder("version-0"));
  CHECK_FALSE(parse_version_folder("version-01"));
  CHECK_FALSE(parse_version_folder("version-"));
  CHECK_FALSE(parse_version_folder("version-1a"));
  CHECK_FALSE(parse_version_folder("versions-1"));
  CHECK_FALSE(parse_version_folder("version-99999999999999999999"));
  CHECK(version_folder(12) == "version-12");
  CHECK(parse_alias_file("1") == 1);
  CHECK(parse_alias_file(registry_file("mlflow-2.10-models", "reg-model/aliases/champion")) == 1);
  CHECK(parse_alias_file(" 3\n") == 3);
  CHECK_FALSE(parse_alias_file(""));
  CHECK_FALSE(parse_alias_file("-1"));
  CHECK_FALSE(parse_alias_file("two"));
}

TEST_CASE("registry meta.yaml: a key given twice reads as its last value, as MLflow's yaml.safe_load "
          "(PyYAML construct_mapping) reads it, the rule of run meta.yaml (t15 F4)",
          "[registry_meta]") {
  std::string version = registry_file("mlflow-2.10-models", "reg-model/version-1/meta.yaml");
  version += "current_stage: Archived\ndescription: second\n";
  auto v = parse_model_version_meta(version);
  REQUIRE(v);
  CHECK(v->version.current_stage == ModelStage::kArchived);
  CHECK(v->version.description == std::optional<std::string>("second"));
  auto renumbered = parse_model_version_meta(version + "version: 7\n");
  REQUIRE(renumbered);
  CHECK(renumbered->version.version == 7);
  std::string model = registry_file("mlflow-2.10-models", "reg-model/meta.yaml") + "name: other\ndescription: last\n";
  auto m = parse_registered_model_meta(model);
  REQUIRE(m);
  CHECK(m->name == "other");
  CHECK(m->description == std::optional<std::string>("last"));
}

TEST_CASE("a version meta's `version` reads as PyYAML loads it and MLflow shows it (MLflow 2.10 and 3.8 "
          "model_registry/file_store.py: no int())",
          "[registry_meta]") {
  struct Case {
    const char* written;
    const char* shown;  // what search_model_versions listed in MLflow 2.10 and 3.8
    std::optional<double> number;
    bool plain_int;
  };
  const Case cases[] = {
      {"2", "2", 2, true},          {"2.0", "2.0", 2, false},     {"0x2", "2", 2, false},
      {"02", "2", 2, false},        {"1_0", "10", 10, false},     {"1:00", "60", 60, false},
      {"+3", "3", 3, false},        {"true", "True", 1, false},   {"3.0e+1", "30.0", 30, false},
      {"2.5", "2.5", 2.5, false},   {"'2'", "'2'", 2, false},     {"' 2 '", "' 2 '", 2, false},
      {"1e3", "1e3", 1000, false},  {"'abc'", "'abc'", std::nullopt, false}, {"'0x2'", "'0x2'", std::nullopt, false},
  };
  for (const Case& c : cases) {
    INFO(c.written);
    auto f = read_version_field(std::string("name: m\nversion: ") + c.written + "\n");
    REQUIRE(f);
    CHECK(f->shown == c.shown);
    CHECK(f->written == std::string(c.written));
    CHECK(f->number == c.number);
    CHECK(f->plain_int_text == c.plain_int);
  }
  CHECK_FALSE(read_version_field("name: m\n"));
  CHECK_FALSE(read_version_field("name: m\nversion: null\n"));
  CHECK(highest_version_seen("version-3.0", nullptr) == 3.0);  // MLflow names a float version's folder so
  CHECK(highest_version_seen("version-2.bak", nullptr) == std::nullopt);
  const std::string meta = "name: m\nversion: 7.0\n";
  CHECK(highest_version_seen("version-2.bak", &meta) == 7.0);
  CHECK(highest_version_seen("version-9", &meta) == 9.0);
}
