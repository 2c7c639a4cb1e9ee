// libFuzzer target: the tolerant meta.yaml reader (src/meta_parse.h) on
// arbitrary bytes, as both an experiment and a run file. It must return a
// Result (value or Status), never crash, hang or throw (spec §10.6: hostile trees).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meta_parse.h"

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
  return 0;
}
