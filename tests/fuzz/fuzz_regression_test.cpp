// Replays every input kept under tests/fuzz/regressions/<target>/ (crashes
// found by tools/scripts/fuzz.sh, once fixed, plus hand-made edge cases)
// through the same entry points the fuzz targets call. None may crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "format/input_meta.h"
#include "format/meta_parse.h"
#include "format/metric_file.h"
#include "mlruns/search.h"

namespace fs = std::filesystem;

namespace {
std::vector<std::string> inputs(const std::string& target) {
  std::vector<std::string> out;
  fs::path dir = fs::path(MLRUNS_FIXTURES_DIR).parent_path() / "fuzz" / "regressions" / target;
  if (!fs::is_directory(dir)) return out;
  for (auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}
}  // namespace

TEST_CASE("fuzz regressions: meta.yaml inputs parse or fail cleanly", "[fuzz]") {
  auto kept = inputs("meta_yaml");
  REQUIRE(!kept.empty());
  for (const std::string& text : kept) {
    (void)mlruns::detail::parse_experiment_meta(text, false);
    auto run = mlruns::detail::parse_run_meta(text);
    // Every kept input is broken YAML (unclosed flow collections nested
    // hundreds deep, ...): it must come back as an error naming the file.
    REQUIRE(!run);
    CHECK(run.error().to_string().find("meta.yaml") != std::string::npos);
    // The run input and dataset readers refuse them the same way.
    auto input = mlruns::detail::parse_input_meta(text);
    REQUIRE(!input);
    CHECK(input.error().to_string().find("meta.yaml") != std::string::npos);
    REQUIRE(!mlruns::detail::parse_dataset_meta(text));
  }
}

TEST_CASE("fuzz regressions: metric files parse or report their bad lines", "[fuzz]") {
  for (const std::string& text : inputs("metric_line")) {
    mlruns::detail::ParsedPoint p;
    mlruns::detail::MetricFileProblems problems;
    (void)mlruns::detail::latest_metric_point(text, p, problems);
  }
  SUCCEED();
}

TEST_CASE("fuzz regressions: filters parse or name their error", "[fuzz]") {
  for (const std::string& text : inputs("filter")) (void)mlruns::parse_filter(text);
  SUCCEED();
}
