// libFuzzer target: the metric-file parser (src/format/metric_file.h). Every line
// either parses or is reported; a whole file never crashes the reader and
// the latest point obeys MLflow's max (step, timestamp, value) rule (spec §5.1).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "format/metric_file.h"

using mlruns::detail::ParsedPoint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParsedPoint latest;
  mlruns::detail::MetricFileProblems problems;
  bool have = mlruns::detail::latest_metric_point(text, latest, problems);
  std::size_t count = 0;
  bool later_seen = false;
  auto seen = mlruns::detail::for_each_metric_point(text, [&](const ParsedPoint& p) {
    ++count;
    if (have && mlruns::detail::is_later_point(p, latest)) later_seen = true;
  });
  if (have != (count > 0)) std::abort();   // a latest point exists iff some line parsed
  if (later_seen) std::abort();            // nothing beats the latest point
  if (seen.bad_lines != problems.bad_lines) std::abort();
  (void)problems.describe();
  auto history = mlruns::detail::metric_history_points("k", text, problems);
  if (history.size() != count) std::abort();
  // Single-line entry point too.
  const char* error = nullptr;
  ParsedPoint one;
  std::size_t nl = text.find('\n');
  (void)mlruns::detail::parse_metric_line(text.substr(0, nl), one, error);
  return 0;
}
