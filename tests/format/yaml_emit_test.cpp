// meta.yaml scalars byte for byte as PyYAML writes them (spec §2.1).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "format/yaml_emit.h"
#include "mlruns/yaml.h"

using namespace mlruns::detail;

TEST_CASE("yaml_emit matches PyYAML CSafeDumper on every oracle case (spec §2.1)", "[yaml_emit]") {
  std::ifstream in(std::string(MLRUNS_FIXTURES_DIR) + "/pyyaml_scalars.json");
  REQUIRE(in);
  nlohmann::json j = nlohmann::json::parse(in);
  const auto& cases = j.at("cases");
  REQUIRE(cases.size() > 1000);
  std::size_t failures = 0;
  for (const auto& c : cases) {
    std::string key = c.at("key"), value = c.at("value"), expected = c.at("yaml");
    std::string got;
    yaml_emit_str(got, key, value);
    if (got != expected) {
      ++failures;
      if (failures <= 10) {
        INFO("value: " << nlohmann::json(value).dump());
        CHECK(got == expected);
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("yaml_emit quotes strings YAML 1.1 reads as other types (spec §2.1, §14.4)", "[yaml_emit]") {
  auto emit = [](std::string_view v) {
    std::string out;
    yaml_emit_str(out, "name", v);
    return out;
  };
  CHECK(emit("0") == "name: '0'\n");
  CHECK(emit("597879202354782463") == "name: '597879202354782463'\n");
  CHECK(emit("yes") == "name: 'yes'\n");
  CHECK(emit("2024-01-01") == "name: '2024-01-01'\n");
  CHECK(emit("1:20") == "name: '1:20'\n");
  CHECK(emit("") == "name: ''\n");
  CHECK(emit("1e3") == "name: 1e3\n");
  CHECK(emit("it's") == "name: it's\n");
  CHECK(emit("a: it's") == "name: 'a: it''s'\n");
  CHECK(emit("a\tb") == "name: \"a\\tb\"\n");
  CHECK(emit("\xF0\x9F\x99\x82") == "name: \"\\U0001F642\"\n");
  CHECK(emit("a\nb") == "name: 'a\n\n  b'\n");
}

TEST_CASE("yaml_emit writes ints, null and the empty list as MLflow does (spec §4.2)", "[yaml_emit]") {
  std::string out;
  yaml_emit_int(out, "start_time", 1736942400028);
  yaml_emit_null(out, "end_time");
  yaml_emit_empty_list(out, "tags");
  yaml_emit_int(out, "source_type", 4);
  CHECK(out == "start_time: 1736942400028\nend_time: null\ntags: []\nsource_type: 4\n");
}

namespace {

YamlNode node_from_json(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::string: return YamlNode::string(j.get<std::string>());
    case nlohmann::json::value_t::boolean: return YamlNode::boolean(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return YamlNode::integer(j.get<std::int64_t>());
    case nlohmann::json::value_t::array: {
      YamlNode l = YamlNode::list();
      for (const auto& item : j) l.items.push_back(node_from_json(item));
      return l;
    }
    case nlohmann::json::value_t::object: {
      YamlNode m = YamlNode::map();
      for (const auto& [k, v] : j.items()) m.set(k, node_from_json(v));
      return m;
    }
    default: return YamlNode::null();
  }
}

}  // namespace

TEST_CASE("yaml_dump writes nested documents as PyYAML does, for MLmodel and registry files (spec §8.3, §9.4)",
          "[yaml_emit]") {
  std::ifstream in(std::string(MLRUNS_FIXTURES_DIR) + "/pyyaml_documents.json");
  REQUIRE(in);
  nlohmann::json j = nlohmann::json::parse(in);
  const auto& cases = j.at("cases");
  REQUIRE(cases.size() >= 600);
  std::size_t failures = 0, ascii_only = 0;
  for (const auto& c : cases) {
    bool unicode = c.at("allow_unicode").get<bool>();
    if (!unicode) ++ascii_only;
    std::string expected = c.at("yaml");
    std::string got = yaml_dump(node_from_json(c.at("document")), unicode ? PyYamlDumper::kWriteYaml : PyYamlDumper::kSafeDump);
    if (got != expected && ++failures <= 5) {
      INFO("document: " << c.at("document").dump() << "\nallow_unicode: " << unicode);
      CHECK(got == expected);
    }
  }
  CHECK(ascii_only >= 300);  // both dumpers are covered
  CHECK(failures == 0);
}

TEST_CASE("yaml_dump: nesting, indentless lists, empty collections and escapes (spec §8.3)", "[yaml_emit]") {
  YamlNode doc = YamlNode::map();
  YamlNode onnx = YamlNode::map();
  onnx.set("data", YamlNode::string("model.onnx"));
  YamlNode providers = YamlNode::list();
  providers.items.push_back(YamlNode::string("CPUExecutionProvider"));
  onnx.set("providers", providers);
  onnx.set("code", YamlNode::null());
  YamlNode flavors = YamlNode::map();
  flavors.set("onnx", onnx);
  doc.set("flavors", flavors);
  doc.set("aliases", YamlNode::map());
  doc.set("tags", YamlNode::list());
  doc.set("name", YamlNode::string("caf\xC3\xA9"));
  doc.set("version", YamlNode::integer(3));
  CHECK(yaml_dump(doc, PyYamlDumper::kWriteYaml) ==
        "aliases: {}\nflavors:\n  onnx:\n    code: null\n    data: model.onnx\n    providers:\n"
        "    - CPUExecutionProvider\nname: caf\xC3\xA9\ntags: []\nversion: 3\n");
  // yaml.safe_dump (allow_unicode=False, as Model.to_yaml): escaped in double quotes.
  CHECK(yaml_dump(doc, PyYamlDumper::kSafeDump).find("name: \"caf\\xE9\"\n") != std::string::npos);
}

TEST_CASE("yaml_quote_if_ambiguous, the public form of the rule, is the writer's scalar (spec §13.1, §14.4)",
          "[yaml_emit]") {
  // The benchmarks and hand-written trees use it (tools/bench_tree.h): one
  // rule with the writer, checked against PyYAML's own output.
  CHECK(mlruns::yaml_quote_if_ambiguous("1234567890") == "'1234567890'");
  CHECK(mlruns::yaml_quote_if_ambiguous("0b101") == "'0b101'");
  CHECK(mlruns::yaml_quote_if_ambiguous("yes") == "'yes'");
  CHECK(mlruns::yaml_quote_if_ambiguous("3c5a0f2e9b1d4c7a8e6f0a1b2c3d4e5f") == "3c5a0f2e9b1d4c7a8e6f0a1b2c3d4e5f");
  CHECK(mlruns::yaml_quote_if_ambiguous("a: it's") == "'a: it''s'");
  std::ifstream in(std::string(MLRUNS_FIXTURES_DIR) + "/pyyaml_scalars.json");
  REQUIRE(in);
  const nlohmann::json j = nlohmann::json::parse(in);
  std::size_t checked = 0, failures = 0;
  for (const auto& c : j.at("cases")) {
    const std::string key = c.at("key"), value = c.at("value"), yaml = c.at("yaml");
    const std::string prefix = key + ": ";
    // One-line scalars: "key: <scalar>\n".
    if (yaml.rfind(prefix, 0) != 0 || yaml.find('\n') != yaml.size() - 1) continue;
    ++checked;
    const std::string expected = yaml.substr(prefix.size(), yaml.size() - prefix.size() - 1);
    if (mlruns::yaml_quote_if_ambiguous(value) != expected && ++failures <= 10) {
      INFO("value: " << nlohmann::json(value).dump());
      CHECK(mlruns::yaml_quote_if_ambiguous(value) == expected);
    }
  }
  CHECK(checked > 1000);
  CHECK(failures == 0);
}
