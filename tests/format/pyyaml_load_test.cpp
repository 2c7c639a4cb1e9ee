// meta.yaml read exactly as PyYAML's CSafeLoader (MLflow's reader) reads it
// (issue 15 item 4). The table tests/fixtures/pyyaml_scalars.json was made
// once with Debian's python3-yaml (tools/scripts/gen_pyyaml_cases.py):
// "cases" are values as MLflow writes them (CSafeDumper, spec §2.1) with the
// text it wrote, so CSafeLoader reads each back to its value; "loads" are
// documents other writers produce, with CSafeLoader's result.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "format/input_meta.h"
#include "format/meta_parse.h"

using namespace mlruns;
using namespace mlruns::detail;

namespace {

nlohmann::json table() {
  std::ifstream in(std::string(MLRUNS_FIXTURES_DIR) + "/pyyaml_scalars.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("every value MLflow writes reads back as PyYAML's CSafeLoader reads it", "[meta][pyyaml]") {
  const nlohmann::json j = table();
  std::size_t failures = 0, checked = 0;
  for (const auto& c : j.at("cases")) {
    if (c.at("key") != "name") continue;
    const std::string value = c.at("loaded"), yaml = c.at("yaml");
    for (MetaParser p : {MetaParser::kAuto, MetaParser::kYamlOnly}) {
      auto e = parse_experiment_meta("artifact_location: x\nexperiment_id: '1'\n" + yaml, false, nullptr, p);
      ++checked;
      bool same = e && e->name == value;
      if (!same && ++failures <= 10) {
        INFO("value " << nlohmann::json(value).dump() << " written as " << nlohmann::json(yaml).dump()
                      << (p == MetaParser::kAuto ? " (auto)" : " (libyaml)"));
        CHECK((e ? nlohmann::json(e->name).dump() : e.error().to_string()) == nlohmann::json(value).dump());
      }
    }
  }
  CHECK(checked > 3000);
  CHECK(failures == 0);  // main (yaml-cpp): \N and \_ read as lone bytes, U+2028 folded with spaces
}

TEST_CASE("escapes, folding, duplicate keys and YAML 1.1 ints read as PyYAML's CSafeLoader reads them",
          "[meta][pyyaml]") {
  const nlohmann::json j = table();
  REQUIRE(j.at("loads").size() >= 30);
  for (const auto& c : j.at("loads")) {
    const std::string yaml = c.at("yaml"), key = c.at("key"), type = c.at("type"), value = c.at("value");
    INFO("document " << nlohmann::json(yaml).dump() << " -> " << type << " " << nlohmann::json(value).dump());
    if (key == "creation_time") {
      auto e = parse_experiment_meta("artifact_location: x\nexperiment_id: '1'\nname: n\n" + yaml, false);
      REQUIRE(e);
      if (type == "int" && value.size() < 19) CHECK(e->creation_time == std::stoll(value));
      else if (type == "int" && value == "9223372036854775807") CHECK(e->creation_time == INT64_MAX);
      else if (type == "int") CHECK_FALSE(e->creation_time);  // beyond 64 bits: not a time mlruns can hold
      else if (type == "str" && yaml.find('\'') != std::string::npos && !value.empty())
        CHECK(e->creation_time == std::stoll(value));  // lenient on purpose: a quoted int is read as one
      else CHECK_FALSE(e->creation_time);  // a str, float, bool, null or date is no int to MLflow either
      continue;
    }
    auto e = parse_experiment_meta("artifact_location: x\nexperiment_id: '1'\n" + yaml, false);
    if (type == "error") {
      CHECK_FALSE(e);
      continue;
    }
    REQUIRE(e);
    REQUIRE(type == "str");
    CHECK(nlohmann::json(e->name).dump() == nlohmann::json(value).dump());
  }
}

TEST_CASE("input and dataset meta.yaml read every value as PyYAML's CSafeLoader reads it", "[meta][pyyaml][inputs]") {
  const nlohmann::json j = table();
  std::size_t failures = 0, checked = 0;
  auto indent = [](const std::string& yaml) {
    std::string out = "  ";
    for (char c : yaml) {
      out += c;
      if (c == '\n') out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  };
  for (const auto& c : j.at("cases")) {
    if (c.at("key") != "name") continue;
    const std::string value = c.at("loaded"), yaml = c.at("yaml");
    auto d = parse_dataset_meta("digest: abc\n" + yaml);
    auto link = parse_input_meta("source_id: x\nsource_type: DATASET\ntags:\n" + indent(yaml));
    checked += 2;
    const bool dataset_same = d && d->name == value;
    const bool tag_same = link && link->tags.count("name") && link->tags.at("name") == value;
    if ((!dataset_same || !tag_same) && ++failures <= 10) {
      INFO("value " << nlohmann::json(value).dump() << " written as " << nlohmann::json(yaml).dump());
      CHECK((d ? nlohmann::json(d->name).dump() : d.error().to_string()) == nlohmann::json(value).dump());
      CHECK((link && link->tags.count("name") ? nlohmann::json(link->tags.at("name")).dump() : std::string("none")) ==
            nlohmann::json(value).dump());
    }
  }
  CHECK(checked > 3000);
  CHECK(failures == 0);  // main (yaml-cpp): about a fifth of these differed
  // A key given twice: the last wins, as in PyYAML's construct_mapping.
  auto link = parse_input_meta("source_id: x\nsource_type: MODEL\nsource_type: DATASET\ntags:\n  a: '1'\n  a: '2'\n");
  REQUIRE(link);
  CHECK(link->source_type == "DATASET");
  CHECK(link->tags.at("a") == "2");
  // A schema of 300 columns is 300 brackets of quoted JSON, not nesting.
  std::string schema = "'{\"mlflow_colspec\": [";
  for (int i = 0; i < 300; ++i) schema += std::string(i ? ", " : "") + "{\"type\": \"long\", \"name\": \"c" + std::to_string(i) + "\"}";
  schema += "]}'";
  auto wide = parse_dataset_meta("digest: d\nname: n\nschema: " + schema + "\n");
  REQUIRE(wide);
  CHECK(wide->schema->size() > 300 * 20);
}

TEST_CASE("plain scalars read as MLflow's str() of what PyYAML's YAML 1.1 resolvers make of them: bool "
          "yes/no/on/off/true/false in three cases, ints, floats (resolver.py, constructor.py)",
          "[meta][pyyaml][inputs]") {
  // (text, str() of yaml.load("k: " + text, Loader=yaml.CSafeLoader)["k"]), from Debian's python3-yaml 6.0.
  const std::pair<const char*, const char*> kCases[] = {
      {"yes", "True"},     {"No", "False"},       {"ON", "True"},       {"off", "False"},    {"TRUE", "True"},
      {"false", "False"},  {"y", "y"},            {"n", "n"},           {"tRUE", "tRUE"},    {"0x1F", "31"},
      {"017", "15"},       {"1_000", "1000"},     {"1:30", "90"},       {"0b101", "5"},      {"+1", "1"},
      {"-0", "0"},         {"1.50", "1.5"},       {".inf", "inf"},      {"-.Inf", "-inf"},   {".nan", "nan"},
      {"1.0e5", "1.0e5"},  {"1.0e+5", "100000.0"}, {".5", "0.5"},       {"+.5", "+.5"},      {"1.", "1.0"},
      {"1:30.5", "90.5"},  {"2001-12-14", "2001-12-14"}, {"1e3", "1e3"}, {"0o17", "0o17"},   {"plain", "plain"},
      {"._5", "._5"},      {"._", "._"},
  };
  for (const auto& [text, shown] : kCases) {
    INFO(text << " -> " << shown);
    // An input tag's value and key (MLflow: InputTag(key, value) straight from the YAML).
    auto link = parse_input_meta(std::string("source_id: x\nsource_type: DATASET\ntags:\n  t: ") + text + "\n  " +
                                 text + ": v\n");
    REQUIRE(link);
    CHECK(link->tags["t"] == shown);
    CHECK(link->tags[shown] == "v");
    // Quoted, it is the text itself.
    auto quoted = parse_input_meta(std::string("source_id: x\nsource_type: DATASET\ntags:\n  t: '") + text + "'\n");
    REQUIRE(quoted);
    CHECK(quoted->tags["t"] == text);
    // A top-level field, through both parsers, and a dataset's fields.
    for (MetaParser p : {MetaParser::kAuto, MetaParser::kYamlOnly}) {
      auto e = parse_experiment_meta(std::string("artifact_location: x\nexperiment_id: '1'\nname: ") + text + "\n",
                                     false, nullptr, p);
      REQUIRE(e);
      CHECK(e->name == shown);
    }
    auto d = parse_dataset_meta(std::string("digest: d\nname: ") + text + "\n");
    REQUIRE(d);
    CHECK(d->name == shown);
  }
}

TEST_CASE("an input tag written as =, <<, ~, Null or NULL reads as PyYAML's CSafeLoader reads it: a "
          "ConstructorError MLflow fails on, or None as MLflow shows it",
          "[meta][pyyaml][inputs]") {
  const nlohmann::json j = table();
  REQUIRE(j.at("input_tags").size() >= 10);
  for (const auto& c : j.at("input_tags")) {
    const std::string yaml = c.at("yaml"), type = c.at("type"), value = c.at("value");
    INFO("document " << nlohmann::json(yaml).dump() << " -> " << type << " " << nlohmann::json(value).dump());
    auto link = parse_input_meta(yaml);
    if (type == "error") {
      // main: '=' and '<<' read as text where PyYAML raises.
      REQUIRE_FALSE(link);
      CHECK(link.error().to_string().find("PyYAML") != std::string::npos);
      continue;
    }
    REQUIRE(link);
    REQUIRE(link->tags.count("t"));
    CHECK(link->tags.at("t") == value);  // main: a null tag was dropped (shown empty), MLflow shows None
  }
}
