// JSON text as Python's json.dumps writes it, for the mlflow.log-model.history
// tag and MLmodel signatures (spec §8.3).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "format/py_json.h"

using namespace mlruns::detail;

TEST_CASE("py_json_dumps matches Python's json.dumps on every oracle case (spec §8.3)", "[py_json]") {
  std::ifstream in(std::string(MLRUNS_FIXTURES_DIR) + "/pyjson_cases.json");
  REQUIRE(in);
  nlohmann::json j = nlohmann::json::parse(in);
  const auto& cases = j.at("cases");
  REQUIRE(cases.size() > 300);
  std::size_t failures = 0;
  for (const auto& c : cases) {
    std::string text = c.at("value"), expected = c.at("dumps");
    OrderedJson value = OrderedJson::parse(text);
    std::string got = py_json_dumps(value);
    if (got != expected && ++failures <= 5) {
      INFO("value: " << text);
      CHECK(got == expected);
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("py_json_dumps writes NaN and infinities as Python does, keeps key order", "[py_json]") {
  OrderedJson v = OrderedJson::object();
  v["z"] = std::nan("");
  v["a"] = INFINITY;
  v["m"] = -INFINITY;
  v["e"] = 1e-05;
  v["x"] = "\xF0\x9F\x99\x82";
  CHECK(py_json_dumps(v) == "{\"z\": NaN, \"a\": Infinity, \"m\": -Infinity, \"e\": 1e-05, \"x\": \"\\ud83d\\ude42\"}");
}
