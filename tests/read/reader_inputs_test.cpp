// Run inputs and datasets (spec §9.1): read with their dataset and tags; a
// damaged or hostile input costs only that input, with a warning.
#include <catch2/catch.hpp>

#include <algorithm>

#include "damaged_tree.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

std::string dataset_meta(const std::string& name, const std::string& digest) {
  return "digest: " + digest + "\nname: " + name + "\nprofile: null\nschema: null\n"
         "source: '{\"uri\": \"/data/" + name + ".csv\"}'\nsource_type: local\n";
}

std::string input_meta(const std::string& source_id, const std::string& source_type = "DATASET",
                       const std::string& tags = "tags:\n  mlflow.data.context: training\n") {
  return "destination_id: " + source_id + "\ndestination_type: RUN\nsource_id: " + source_id +
         "\nsource_type: " + source_type + "\n" + tags;
}

}  // namespace

TEST_CASE("dataset inputs are read with their dataset and input tags, model inputs are skipped (spec §9.1)",
          "[reader][inputs]") {
  Tree t;
  const std::string ds = "0123456789abcdef0123456789abcdef";
  write_file(t.root / kExp / "datasets" / ds / "meta.yaml", dataset_meta("iris", "abc123"));
  write_file(t.run(kRunA) / "inputs" / "i2" / "meta.yaml", input_meta(ds));
  // A 3.x model input: not a dataset, no warning.
  write_file(t.run(kRunA) / "inputs" / "i1" / "meta.yaml",
             input_meta("m-44271154e70a46ba98b37b5af53c134f", "MODEL", "tags: {}\n"));
  auto runs = t.runs();
  INFO(t.warnings.dump());
  CHECK(t.warnings.list.empty());
  REQUIRE(runs.size() == 2);
  REQUIRE(runs[0].dataset_inputs.size() == 1);
  const DatasetInput& in = runs[0].dataset_inputs[0];
  CHECK(in.dataset.name == "iris");
  CHECK(in.dataset.digest == "abc123");
  CHECK(in.dataset.source_type == "local");
  CHECK(in.dataset.source == "{\"uri\": \"/data/iris.csv\"}");
  CHECK_FALSE(in.dataset.schema);
  CHECK_FALSE(in.dataset.profile);
  CHECK(in.tags == std::map<std::string, std::string>{{"mlflow.data.context", "training"}});
  CHECK(runs[1].dataset_inputs.empty());
  // Off in the fast paths: nothing under inputs/ is read.
  RunFields f = RunFields::everything();
  f.inputs = false;
  CHECK(t.runs(ViewType::kActiveOnly, f)[0].dataset_inputs.empty());
  CHECK(t.runs(ViewType::kActiveOnly, RunFields::info_only())[0].dataset_inputs.empty());
}

TEST_CASE("a damaged input or dataset costs only that input, with a warning naming the path", "[reader][damaged]") {
  Tree t;
  const std::string good = "0123456789abcdef0123456789abcdef";
  const fs::path datasets = t.root / kExp / "datasets";
  write_file(datasets / good / "meta.yaml", dataset_meta("iris", "abc123"));
  write_file(datasets / "broken" / "meta.yaml", "name: [unclosed\n");
  write_file(datasets / "noname" / "meta.yaml", "digest: x\nsource: s\nsource_type: local\n");
  fs::create_directories(datasets / "nometa");
  const fs::path inputs = t.run(kRunA) / "inputs";
  write_file(inputs / "a-good" / "meta.yaml", input_meta(good));
  write_file(inputs / "b-empty" / "meta.yaml", "");
  write_file(inputs / "c-yaml" / "meta.yaml", "source_id: {{{\n");
  write_file(inputs / "d-missing" / "meta.yaml", input_meta("ffffffffffffffffffffffffffffffff"));
  write_file(inputs / "e-broken" / "meta.yaml", input_meta("broken"));
  write_file(inputs / "f-noname" / "meta.yaml", input_meta("noname"));
  write_file(inputs / "g-nometa" / "meta.yaml", input_meta("nometa"));
  write_file(inputs / "h-type" / "meta.yaml", input_meta(good, "TABLE"));
  write_file(inputs / "i-nosource" / "meta.yaml", "source_type: DATASET\ntags: {}\n");
  fs::create_directories(inputs / "j-nofile");
  write_file(inputs / "k-file", "not a folder");
  write_file(inputs / "l-deep" / "meta.yaml", "source_id: " + std::string(5000, '[') + "\n");
  write_file(inputs / "m-badtags" / "meta.yaml", input_meta(good, "DATASET", "tags:\n  ok: yes\n  bad: [1, 2]\n"));
  // The inputs folder of run B is a file; a third run shares the datasets.
  write_file(t.run(kRunB) / "inputs", "x");
  const std::string run_c = "cccccccccccccccccccccccccccccccc";
  write_file(t.run(run_c) / "meta.yaml", run_meta(kExp, run_c));
  write_file(t.run(run_c) / "inputs" / "x" / "meta.yaml", input_meta("broken"));
  write_file(t.run(run_c) / "inputs" / "y" / "meta.yaml", input_meta(good, "DATASET", "tags: {}\n"));

  auto runs = t.runs();
  INFO(t.warnings.dump());
  REQUIRE(runs.size() == 3);
  REQUIRE(runs[0].dataset_inputs.size() == 2);  // a-good, and m-badtags without its bad tag
  CHECK(runs[0].dataset_inputs[0].dataset.name == "iris");
  // `ok: yes` is unquoted: PyYAML loads True, which MLflow shows as str(True) (spec §14.4)
  CHECK(runs[0].dataset_inputs[1].tags == std::map<std::string, std::string>{{"ok", "True"}});
  CHECK(runs[1].dataset_inputs.empty());
  REQUIRE(runs[2].dataset_inputs.size() == 1);
  CHECK(runs[2].dataset_inputs[0].dataset.digest == "abc123");
  CHECK(runs[2].dataset_inputs[0].tags.empty());
  // A dataset is read once per listing: its damage is reported once.
  CHECK(std::count_if(t.warnings.list.begin(), t.warnings.list.end(), [](const Warning& w) {
          return w.path.find("datasets/broken/meta.yaml") != std::string::npos;
        }) == 1);
  // Both runs' other data is intact.
  CHECK(runs[0].params.at("lr") == "0.01");
  CHECK(runs[0].metrics.at("loss").value == 0.25);

  CHECK(t.warnings.has("b-empty/meta.yaml", "empty"));
  CHECK(t.warnings.has("c-yaml/meta.yaml", "input ignored"));
  CHECK(t.warnings.has("d-missing/meta.yaml", "not found"));
  CHECK(t.warnings.has("datasets/broken/meta.yaml", "invalid YAML"));
  CHECK(t.warnings.has("datasets/noname/meta.yaml", "no name"));
  CHECK(t.warnings.has("datasets/nometa/meta.yaml", "no meta.yaml"));
  CHECK(t.warnings.has("h-type/meta.yaml", "'TABLE'"));
  CHECK(t.warnings.has("i-nosource/meta.yaml", "no source_id"));
  CHECK(t.warnings.has("j-nofile/meta.yaml", "no meta.yaml"));
  CHECK(t.warnings.has("inputs/k-file", "not an input folder"));
  CHECK(t.warnings.has("l-deep/meta.yaml", "too deeply nested"));
  CHECK(t.warnings.has("m-badtags/meta.yaml", "tag"));
  CHECK(t.warnings.has(kRunB + "/inputs", "not a folder"));
  // One search-relevant fact: the damaged inputs are simply not there.
  auto reader = t.open();
  auto one = reader.run(kRunA);
  REQUIRE(one);
  CHECK(one->dataset_inputs.size() == 2);
}

TEST_CASE("input source ids that would leave datasets/ and symlinked inputs or datasets are refused",
          "[reader][hostile]") {
  Tree t;
  TempDir outside_dir;
  const fs::path outside = outside_dir.path();
  write_file(outside / "ds" / "meta.yaml", dataset_meta("stolen", "secret"));
  write_file(outside / "input" / "meta.yaml", input_meta("0123456789abcdef0123456789abcdef"));
  const fs::path datasets = t.root / kExp / "datasets";
  write_file(datasets / "0123456789abcdef0123456789abcdef" / "meta.yaml", dataset_meta("iris", "abc123"));
  fs::create_directory_symlink(outside / "ds", datasets / "linked");
  const fs::path inputs = t.run(kRunA) / "inputs";
  // A relative id climbing out of datasets/, an absolute one, one with a '/'.
  write_file(inputs / "a" / "meta.yaml", input_meta("'../../../../" + outside.filename().string() + "/ds'"));
  write_file(inputs / "b" / "meta.yaml", input_meta(outside.string() + "/ds"));
  write_file(inputs / "c" / "meta.yaml", input_meta("'..'"));
  write_file(inputs / "d" / "meta.yaml", input_meta("linked"));
  fs::create_directory_symlink(outside / "input", inputs / "e");
  // The whole inputs/ of run B and the datasets/ of another experiment are symlinks.
  fs::create_directory_symlink(outside, t.run(kRunB) / "inputs");
  write_file(t.root / "200" / "meta.yaml", exp_meta("200", "other", 3));
  const std::string run_c = kRunA.substr(0, 31) + "c";
  write_file(t.root / "200" / run_c / "meta.yaml", run_meta("200", run_c));
  write_file(t.root / "200" / run_c / "inputs" / "x" / "meta.yaml", input_meta("0123456789abcdef0123456789abcdef"));
  fs::create_directory_symlink(datasets, t.root / "200" / "datasets");

  auto runs = t.runs();
  INFO(t.warnings.dump());
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].dataset_inputs.empty());
  CHECK(runs[1].dataset_inputs.empty());
  CHECK(t.warnings.has("inputs/a/meta.yaml", "not a valid dataset folder name"));
  CHECK(t.warnings.has("inputs/b/meta.yaml", "not a valid dataset folder name"));
  CHECK(t.warnings.has("inputs/c/meta.yaml", "not a valid dataset folder name"));
  CHECK(t.warnings.has("datasets/linked", "symbolic link"));
  CHECK(t.warnings.has("inputs/e", "symbolic link"));
  CHECK(t.warnings.has(kRunB + "/inputs", "symbolic link"));
  auto other = t.open().runs({"200"});
  REQUIRE(other);
  REQUIRE(other->size() == 1);
  CHECK((*other)[0].dataset_inputs.empty());
  CHECK(t.warnings.has("200/datasets", "symbolic link"));
  for (const Warning& w : t.warnings.list) CHECK(w.message.find("stolen") == std::string::npos);
}
