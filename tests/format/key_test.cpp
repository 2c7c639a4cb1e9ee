// Name rules of spec §6.1 and §6.4: what may become a path in the tree.
#include <catch2/catch.hpp>

#include "mlruns/key.h"

using namespace mlruns;

TEST_CASE("keys follow MLflow's path rule (spec §6.1)", "[key]") {
  for (const char* good : {"loss", "val/acc", ".hidden", "x..y", " lead", "train batch size",
                           "info/learner/default_policy/entropy", "a-b_c.d"})
    CHECK(is_valid_key(good));
  for (const char* bad : {"", ".", "..", "../x", "/x", "a//b", "a/", "./a", "a/./b", "a/../b", "..x",
                          "None"})
    CHECK_FALSE(is_valid_key(bad));
}

TEST_CASE("portable keys refuse ':' and non-ASCII, MLflow rules allow them (spec §6.1, §14.6)", "[key]") {
  CHECK_FALSE(is_valid_key("a:b"));
  CHECK(is_valid_key("a:b", NameRules::kMlflow));
  CHECK_FALSE(is_valid_key("\xe6\x90\x8d\xe5\xa4\xb1"));
  CHECK(is_valid_key("\xe6\x90\x8d\xe5\xa4\xb1", NameRules::kMlflow));
  CHECK_FALSE(is_valid_key("\xff\xfe", NameRules::kMlflow));  // not UTF-8
}

TEST_CASE("hostile keys are refused with a message naming value and rule", "[key]") {
  Status s = validate_key("param key", "../etc/passwd");
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("param key '../etc/passwd'") != std::string::npos);
  CHECK(s.message().find("spec §6.1") != std::string::npos);
  CHECK_FALSE(is_valid_key(std::string("a\0b", 3)));
  CHECK_FALSE(is_valid_key("a\nb"));
  CHECK_FALSE(is_valid_key(std::string(251, 'k')));
  CHECK(is_valid_key(std::string(250, 'k')));
}

TEST_CASE("run and experiment ids (spec §6.4)", "[key]") {
  CHECK(validate_run_id("f768674c8267489eae40fb4abef490be").is_ok());
  CHECK(validate_experiment_id("789925878442086410").is_ok());
  CHECK(validate_experiment_id("0").is_ok());
  CHECK_FALSE(validate_experiment_id(".trash").is_ok());
  CHECK_FALSE(validate_experiment_id("..").is_ok());
  CHECK_FALSE(validate_experiment_id("_x").is_ok());
  CHECK_FALSE(validate_run_id("a/b").is_ok());
  CHECK_FALSE(validate_experiment_id(std::string(65, '1')).is_ok());
}

TEST_CASE("artifact paths stay inside the run", "[key]") {
  CHECK(validate_artifact_path("").is_ok());
  CHECK(validate_artifact_path("checkpoint_000010").is_ok());
  CHECK(validate_artifact_path("eval/summary report.txt").is_ok());
  CHECK(validate_artifact_path("dir/").is_ok());
  for (const char* bad : {"/etc", "../x", "a/../../b", "a//b", "./a", "a\\b", "a\x01"})
    CHECK_FALSE(validate_artifact_path(bad).is_ok());
}

TEST_CASE("experiment names (spec §3.4)", "[key]") {
  CHECK(validate_experiment_name("rl-sweep").is_ok());
  CHECK(validate_experiment_name("\xe5\xae\x9f\xe9\xa8\x93 \xc3\xbc").is_ok());
  CHECK_FALSE(validate_experiment_name("").is_ok());
  CHECK_FALSE(validate_experiment_name("it's").is_ok());
  CHECK_FALSE(validate_experiment_name(std::string(501, 'x')).is_ok());
}

TEST_CASE("registered model names follow MLflow's file store and fit a folder name (spec §9.4)", "[key]") {
  for (const char* ok : {"reg-model", "PPO champion", "unicod\xC3\xA9 \xC3\xBC", "a:b", "a@b", "x.y", "v1"})
    CHECK(validate_registered_model_name(ok).is_ok());
  for (std::string bad : {std::string(""), std::string("a/b"), std::string("a\\b"), std::string("50%"),
                          std::string("."), std::string(".."), std::string(".hidden"), std::string(" a"),
                          std::string("a "), std::string("a\nb"), std::string("a\x01"), std::string("\xFF"),
                          std::string(256, 'x')}) {
    INFO(bad);
    Status s = validate_registered_model_name(bad);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message().find("registered model name") != std::string::npos);
  }
  CHECK(validate_registered_model_name(std::string(255, 'x')).is_ok());
}

TEST_CASE("model aliases follow MLflow's rule, latest and v<n> are reserved", "[key]") {
  for (const char* ok : {"champion", "challenger-2", "best_of_sweep", "v", "vX", "V1a", "LATEST_run"})
    CHECK(validate_model_alias(ok).is_ok());
  for (std::string bad : {std::string(""), std::string("latest"), std::string("Latest"), std::string("v1"),
                          std::string("V42"), std::string("a b"), std::string("a/b"), std::string("a.b"),
                          std::string("caf\xC3\xA9"), std::string(256, 'a')}) {
    INFO(bad);
    CHECK(validate_model_alias(bad).code() == Code::kInvalidArgument);
  }
}

TEST_CASE("a tag key has MLflow's set_tag limits: no length limit in characters (FileStore.set_tag and "
          "set_experiment_tag call only _validate_tag_name, MLflow 2.10 and 3.8 mlflow/store/tracking/file_store.py), "
          "a part longer than a file name is refused, param and metric keys keep 250 (validation.py "
          "MAX_ENTITY_KEY_LENGTH, _validate_param, _validate_metric)",
          "[key]") {
  CHECK(validate_tag_key("tag key", std::string(251, 't')).is_ok());
  CHECK(validate_tag_key("tag key", std::string(255, 't') + "/" + std::string(255, 'u')).is_ok());
  Status too_long = validate_tag_key("tag key", std::string(256, 't'));
  CHECK(too_long.code() == Code::kInvalidArgument);
  CHECK_THAT(too_long.message(), Catch::Contains("NAME_MAX"));
  CHECK_FALSE(validate_tag_key("tag key", "a//b").is_ok());  // the name rules still hold
  CHECK_FALSE(validate_key("param key", std::string(251, 'p')).is_ok());
  CHECK_FALSE(validate_key("metric key", std::string(251, 'm')).is_ok());
}
