// libFuzzer target: the tolerant meta.yaml readers (src/format/meta_parse.h,
// src/format/input_meta.h) on arbitrary bytes, as an experiment, a run, a run input
// and a dataset file. It must return a
// Result (value or Status), never crash, hang or throw (spec §10.6: hostile trees).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "format/input_meta.h"
#include "format/meta_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> problems;
  auto exp = mlruns::detail::parse_experiment_meta(text, size % 2 == 0, &problems);
  if (exp) {
    volatile std::size_t n = exp->name.size() + exp->experiment_id.size();
    (void)n;
  }
  problems.clear();
  auto run = mlruns::detail::parse_run_meta(text, &problems);
  if (run) {
    volatile std::size_t n = run->run_id.size();
    (void)n;
  }
  problems.clear();
  auto input = mlruns::detail::parse_input_meta(text, &problems);
  if (input) {
    volatile bool ok = mlruns::detail::is_valid_dataset_id(input->source_id);
    (void)ok;
  }
  problems.clear();
  auto dataset = mlruns::detail::parse_dataset_meta(text, &problems);
  if (dataset) {
    volatile std::size_t n = dataset->name.size() + dataset->digest.size();
    (void)n;
  }
  return 0;
}
