// libFuzzer target: MLflow's filter and order_by grammar (search.h). Any
// string yields clauses or an error naming a column, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlruns/search.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto clauses = mlruns::parse_filter(text);
  if (clauses) {
    mlruns::Run run;
    run.info.run_id = "0123456789abcdef0123456789abcdef";
    run.params["lr"] = "0.01";
    run.tags["t"] = "x";
    run.metrics["loss"] = {"loss", 0.5, 1, 2};
    (void)mlruns::matches(run, *clauses);
  }
  (void)mlruns::parse_order_by(text);
  return 0;
}
