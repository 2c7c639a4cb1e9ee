// MLmodel files and the mlflow.log-model.history tag against what real MLflow
// wrote (spec §8.3; mlflow/models/model.py, Model.to_yaml and get_tags_dict).
#include <catch2/catch.hpp>

#include "format/mlmodel.h"
#include "test_util.h"

using namespace mlruns;
using namespace mlruns::detail;
using mlruns::testing::fixture_dir;
using mlruns::testing::read_file;

namespace {
const char* kRun210 = "500967655176842725/7a44bb81d7234bdf80814a4a53f7993e";
const char* kRun38 = "650945309232097958/2c7562e497e34305b13cc5e451b50611";

std::string fixture_file(const std::string& fixture, const std::string& rel) {
  return read_file(fixture_dir(fixture) / "mlruns" / rel);
}

// The ONNX model's flavors as mlflow.onnx.save_model adds them: python_function
// first (pyfunc.add_to_model), then onnx.
OrderedJson onnx_flavors() {
  OrderedJson f = OrderedJson::object();
  f["python_function"] = {{"loader_module", "mlflow.onnx"}, {"data", "model.onnx"}, {"config", {{"unused", 1}}}};
  f["onnx"] = {{"onnx_version", "1.12.0"},
               {"data", "model.onnx"},
               {"providers", OrderedJson::array({"CPUExecutionProvider"})},
               {"code", nullptr}};
  return f;
}
}  // namespace

TEST_CASE("render_mlmodel writes an MLmodel byte for byte as MLflow 2.10's Model.to_yaml (spec §8.3)", "[mlmodel]") {
  std::string expected = fixture_file("mlflow-2.10-models", std::string(kRun210) + "/artifacts/model/MLmodel");
  MlModel m;
  m.artifact_path = "model";
  m.run_id = "7a44bb81d7234bdf80814a4a53f7993e";
  m.model_uuid = "ad5d175386414c968e5fa753c6f9cfcb";
  m.utc_time_created = "2026-11-29 18:31:18.940531";
  m.mlflow_version = "2.10.3.dev0";
  m.model_size_bytes = 415;
  m.metadata = {{"epoch", "3"}, {"yes", "no"}};
  m.flavors["python_function"] = {{"model_path", "model.pkl"},
                                  {"predict_fn", "predict"},
                                  {"loader_module", "mlflow.sklearn"},
                                  {"python_version", "3.11.2"},
                                  {"env", {{"conda", "conda.yaml"}, {"virtualenv", "python_env.yaml"}}}};
  m.flavors["sklearn"] = {{"pickled_model", "model.pkl"},
                          {"sklearn_version", "1.2.1"},
                          {"serialization_format", "cloudpickle"},
                          {"code", nullptr}};
  CHECK(render_mlmodel(m) == expected);
}

TEST_CASE("the history tag entry is Model.get_tags_dict() in json.dumps form, config left out (spec §8.3)",
          "[mlmodel]") {
  // MLflow 3.8's _record_logged_model of an ONNX model: exactly this tag file.
  std::string expected = fixture_file("mlflow-3.8-models", std::string(kRun38) + "/tags/mlflow.log-model.history");
  MlModel m;
  m.run_id = "2c7562e497e34305b13cc5e451b50611";
  m.artifact_path = "onnx-model";
  m.utc_time_created = "2026-11-29 18:31:36.135032";
  m.model_uuid = "d8825d5fb4e340078f895392321ead8c";
  m.mlflow_version = "3.8.2.dev0";  // not in the tag
  m.model_size_bytes = 99;          // not in the tag
  m.flavors = onnx_flavors();
  auto tag = append_history("", history_entry(m));
  REQUIRE(tag);
  CHECK(*tag == expected);
}

TEST_CASE("append_history appends to a tag as json.dumps(json.loads(old) + [entry]) (spec §8.3)", "[mlmodel]") {
  // MLflow 2.10's tag (whole to_dict entries): another entry goes after them, the old bytes unchanged.
  std::string old = fixture_file("mlflow-2.10-models", std::string(kRun210) + "/tags/mlflow.log-model.history");
  OrderedJson entry = {{"run_id", "r"}, {"artifact_path", "m"}};
  auto appended = append_history(old, entry);
  REQUIRE(appended);
  CHECK(appended->substr(0, old.size() - 1) == old.substr(0, old.size() - 1));
  CHECK(appended->substr(old.size() - 1) == ", {\"run_id\": \"r\", \"artifact_path\": \"m\"}]");
  CHECK(*append_history("[]", entry) == "[{\"run_id\": \"r\", \"artifact_path\": \"m\"}]");
  CHECK(*append_history("  ", entry) == "[{\"run_id\": \"r\", \"artifact_path\": \"m\"}]");
  // A value nlohmann could not hold survives untouched.
  CHECK(*append_history("[{\"x\": NaN}]", entry) == "[{\"x\": NaN}, {\"run_id\": \"r\", \"artifact_path\": \"m\"}]");
  CHECK(append_history("{\"a\": 1}", entry).error().code() == Code::kCorruption);
  CHECK(append_history("garbage", entry).error().code() == Code::kCorruption);
}

TEST_CASE("parse_history and parse_mlmodel read both MLflow generations (spec §8.3)", "[mlmodel]") {
  auto h210 = parse_history(fixture_file("mlflow-2.10-models", std::string(kRun210) + "/tags/mlflow.log-model.history"));
  REQUIRE(h210);
  REQUIRE(h210->size() == 3);
  CHECK((*h210)[0].artifact_path == "model");
  CHECK((*h210)[1].artifact_path == "model2");
  CHECK((*h210)[2].artifact_path == "onnx-model");
  CHECK((*h210)[2].flavors == std::vector<std::string>{"python_function", "onnx"});
  CHECK((*h210)[0].model_uuid == "ad5d175386414c968e5fa753c6f9cfcb");
  CHECK(parse_history("{}").error().code() == Code::kCorruption);
  auto skipped = parse_history("[1, {\"flavors\": {}}, {\"artifact_path\": \"ok\"}]");
  REQUIRE(skipped);
  CHECK(skipped->size() == 1);

  auto m = parse_mlmodel(fixture_file("mlflow-2.10-models", std::string(kRun210) + "/artifacts/model2/MLmodel"));
  REQUIRE(m);
  CHECK(m->artifact_path == "model2");
  CHECK(m->run_id == "7a44bb81d7234bdf80814a4a53f7993e");
  CHECK(m->flavors == std::vector<std::string>{"python_function", "sklearn"});
  // MLflow 3.x's logged model: artifact_path null, model_id set.
  auto m3 = parse_mlmodel(fixture_file(
      "mlflow-3.8-models", "650945309232097958/models/m-f8f07ec25846460e917e72f7dc04f6f7/artifacts/MLmodel"));
  REQUIRE(m3);
  CHECK(m3->flavors.size() == 2);
  CHECK(parse_mlmodel("- a").error().code() == Code::kCorruption);
  CHECK(parse_mlmodel(std::string(3000, '[')).error().code() == Code::kCorruption);
}

TEST_CASE("utc_time_created is Python's str(datetime) in UTC (spec §8.3)", "[mlmodel]") {
  CHECK(utc_time_string(1795977079408) == "2026-11-29 18:31:19.408000");
  CHECK(utc_time_string(1795977079000) == "2026-11-29 18:31:19");  // no fraction when it is zero
  CHECK(utc_time_string(0) == "1970-01-01 00:00:00");
}

TEST_CASE("signatures become MLmodel's signature: section, as MLflow 2.10 writes it (spec §8.3)", "[mlmodel]") {
  // Real MLflow 2.10 output for ModelSignature(inputs=[TensorSpec(float32, (-1, 4), "x")],
  // outputs=[TensorSpec(float32, (-1, 2))], params=[ParamSpec("temperature", "double", 0.5)]).
  const std::string expected =
      "signature:\n"
      "  inputs: '[{\"name\": \"x\", \"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\":\n"
      "    [-1, 4]}}]'\n"
      "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1,\n"
      "    2]}}]'\n"
      "  params: '[{\"name\": \"temperature\", \"type\": \"double\", \"default\": 0.5, \"shape\": null}]'\n";
  const std::string json =
      R"({"inputs": [{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}],
          "outputs": [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}],
          "params": [{"name": "temperature", "type": "double", "default": 0.5, "shape": null}]})";
  MlModel m;
  m.artifact_path = "model";
  auto sig = parse_signature(json);
  REQUIRE(sig);
  m.signature = *sig;
  std::string yaml = render_mlmodel(m);
  CHECK(yaml.find(expected) != std::string::npos);
  // The same signature given as the YAML of an MLmodel file reads the same.
  auto from_yaml = parse_signature(expected);
  REQUIRE(from_yaml);
  CHECK(*from_yaml == *sig);
  // Outputs only; params null.
  auto outputs_only = parse_signature(R"({"outputs": [{"type": "double"}]})");
  REQUIRE(outputs_only);
  CHECK((*outputs_only)["inputs"].is_null());
  CHECK((*outputs_only)["params"].is_null());
  for (const char* bad : {R"({"inputs": []})", R"({"inputs": [{"name": "x"}]})", R"({"input": [{"type": "long"}]})",
                          R"({"params": [{"name": "p", "type": "long"}]})", R"({"inputs": [{"type": "tensor"}]})",
                          "[1, 2]", "inputs: [not json"}) {
    INFO(bad);
    auto r = parse_signature(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Code::kInvalidArgument);
  }
}
