// Writes one run with the installed mlruns: proves headers, library and
// dependencies of the package are complete. Usage: app <tracking root>
#include <cstdio>
#include <exception>

#include <mlruns/store.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  try {
    mlruns::Store store = mlruns::Store::open({.tracking_uri = argv[1]});
    mlruns::Result<std::string> exp = store.get_or_create_experiment("consumer");
    if (!exp) throw mlruns::Error(exp.error());
    mlruns::ActiveRun run = store.start_run({.experiment_id = *exp, .run_name = "from-package"});
    run.log_param("lr", 0.001);
    for (int step = 0; step < 10; ++step) run.log_metric("loss", 1.0 / (step + 1), step);
    std::printf("%s/%s\n", exp->c_str(), run.id().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "app: %s\n", e.what());
    return 1;
  }
  return 0;
}
