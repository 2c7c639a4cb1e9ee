// `mlruns gc [--older-than 30d] [--experiment-ids ..] [--run-ids ..] [--dry-run]` (gc.h).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "maint_cli.h"
#include "mlruns/gc.h"

namespace mlruns::cli {

struct GcCliOptions {
  std::string older_than;
  std::vector<std::string> experiment_ids, run_ids;
  bool dry_run = false;
};

int run_gc(const GcCliOptions& opt) {
  GcOptions o{.experiment_ids = opt.experiment_ids, .run_ids = opt.run_ids, .dry_run = opt.dry_run};
  if (!opt.older_than.empty()) o.older_than_ms = parse_duration_ms(opt.older_than, "--older-than");
  GcReport r = check(gc(globals().tracking_uri, o));
  for (const GcItem& i : r.items)
    std::cout << (opt.dry_run ? "would remove " : i.removed ? "removed " : "NOT removed ")
              << (i.kind == GcItem::Kind::kRun ? "run " : "experiment ") << i.id << " (" << i.path
              << (i.external_artifacts.empty() ? "" : ", and its artifacts " + i.external_artifacts) << ")\n";
  for (const std::string& n : r.notes) std::cerr << "mlruns: note: " << n << "\n";
  for (const Status& s : r.errors) std::cerr << "mlruns: " << s.to_string() << "\n";
  return r.errors.empty() ? kExitOk : exit_code_for(r.errors.front().code());
}

void setup_gc(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<GcCliOptions>();
  auto* sub = app.add_subcommand("gc", "Permanently remove deleted runs and trashed experiments (like mlflow gc)");
  sub->footer(
      "Outside the tree gc removes only a deleted run's own <location>/<run_id>/artifacts, where <location> is its\n"
      "experiment's artifact_location and <location>/<run_id> is a real folder holding nothing else, as mlflow gc\n"
      "deletes a deleted run's artifacts; no link below <location>/<run_id> is followed. Any other artifact folder\n"
      "outside the tree is listed as a note and never touched (docs/hpc.md, gc).");
  sub->add_option("--older-than", opt->older_than, "Only items deleted at least this long ago: #d#h#m#s, e.g. 30d");
  sub->add_option("--experiment-ids", opt->experiment_ids, "Only these deleted experiments")->delimiter(',');
  sub->add_option("--run-ids", opt->run_ids, "Only these deleted runs")->delimiter(',');
  sub->add_flag("--dry-run", opt->dry_run, "List what would be removed, remove nothing");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_gc(*opt); });
}

}  // namespace mlruns::cli
