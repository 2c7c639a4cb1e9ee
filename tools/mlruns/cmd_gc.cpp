// `mlruns gc --older-than 30d|--all|--run-ids ..|--experiment-ids .. [--dry-run]` (gc.h).
// Removal is for good, so gc removes nothing unless told what: an age, --all,
// or the ids (issue 10 item 6); --dry-run alone lists what --all would remove.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "exit_codes.h"
#include "maint_cli.h"
#include "mlruns/gc.h"
#include "rest_json.h"

namespace mlruns::cli {

struct GcCliOptions {
  std::string older_than;
  std::vector<std::string> experiment_ids, run_ids;
  bool all = false;
  bool dry_run = false;
  bool collect_registered = false;
  bool include_outside_artifacts = false;
  bool verbose = false;
  bool json = false;
};

int run_gc(const GcCliOptions& opt) {
  const bool chosen = opt.all || !opt.older_than.empty() || !opt.experiment_ids.empty() || !opt.run_ids.empty();
  if (!chosen && !opt.dry_run) {
    throw UsageError("gc removes deleted runs for good, so it needs --older-than D (e.g. 30d), --all, --run-ids or "
                     "--experiment-ids; --dry-run lists what would go");
  }
  GcOptions o{.experiment_ids = opt.experiment_ids, .run_ids = opt.run_ids, .dry_run = opt.dry_run,
                .collect_registered = opt.collect_registered, .include_outside_artifacts = opt.include_outside_artifacts};
  if (!opt.older_than.empty()) o.older_than_ms = parse_duration_ms(opt.older_than, "--older-than");
  GcReport r = check(gc(globals().tracking_uri, o));
  if (opt.json) {
    nlohmann::json j{{"root", r.root}, {"dry_run", opt.dry_run}, {"deleted_runs", r.deleted_runs},
                     {"trashed_experiments", r.trashed_experiments}, {"items", nlohmann::json::array()},
                     {"notes", r.notes}, {"errors", nlohmann::json::array()}};
    for (const GcItem& i : r.items) {
      nlohmann::json x{{"kind", i.kind == GcItem::Kind::kRun ? "run" : "experiment"}, {"id", i.id},
                       {"experiment_id", i.experiment_id}, {"path", i.path}, {"removed", i.removed}};
      if (i.deleted_time) x["deleted_time"] = *i.deleted_time;
      if (!i.external_artifacts.empty()) x["external_artifacts"] = i.external_artifacts;
      j["items"].push_back(std::move(x));
    }
    for (const Status& s : r.errors) j["errors"].push_back(s.to_string());
    machine_out() << dump(j);
  } else {
    for (const GcItem& i : r.items)
      std::cout << (opt.dry_run ? "would remove " : i.removed ? "removed " : "NOT removed ")
                << (i.kind == GcItem::Kind::kRun ? "run " : "experiment ") << i.id << " (" << i.path
                << (i.external_artifacts.empty() ? "" : ", and its artifacts " + i.external_artifacts) << ")\n";
    if (r.items.empty()) {
      std::cout << "nothing to remove: " << r.deleted_runs << " deleted run(s), " << r.trashed_experiments
                << " trashed experiment(s)";
      if (!opt.older_than.empty() && r.deleted_runs + r.trashed_experiments > 0)
        std::cout << ", none deleted " << opt.older_than << " ago or longer";
      std::cout << "\n";
    }
    print_notes(r.notes, opt.verbose);
  }
  for (const Status& s : r.errors) std::cerr << "mlruns: " << s.to_string() << "\n";
  return r.errors.empty() ? kExitOk : exit_code_for(r.errors.front().code());
}

void setup_gc(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<GcCliOptions>();
  auto* sub = app.add_subcommand("gc", "Permanently remove deleted runs and trashed experiments (like mlflow gc); "
                                       "needs --older-than, --all or ids, and --dry-run shows what would go");
  sub->footer(
      "Outside the tree gc removes nothing unless given --include-outside-artifacts: then a deleted run's own\n"
      "<location>/<run_id>/artifacts, where <location> is its experiment's artifact_location, the run id is 32\n"
      "lowercase hex digits naming the run's folder and <location>/<run_id> is a real folder holding nothing else,\n"
      "as mlflow gc deletes a deleted run's artifacts, then <location>/<run_id> if empty; no link below\n"
      "<location>/<run_id> is followed. Without the flag such folders are listed as notes; any other artifact\n"
      "folder outside the tree is listed as a note and never touched (docs/hpc.md, gc).");
  auto* older = sub->add_option("--older-than", opt->older_than,
                                "Remove items deleted at least this long ago: #d#h#m#s, e.g. 30d");
  sub->add_flag("--all", opt->all, "Remove every deleted run and trashed experiment, whatever its age")->excludes(older);
  comma_list(sub->add_option("--experiment-ids", opt->experiment_ids, "Remove these deleted experiments (comma-separated)"));
  comma_list(sub->add_option("--run-ids", opt->run_ids, "Remove these deleted runs (comma-separated)"));
  sub->add_flag("--dry-run", opt->dry_run, "List what would be removed, remove nothing");
  sub->add_flag("--collect-registered", opt->collect_registered,
                "Also remove runs whose files registered model versions use (kept by default, unlike mlflow gc)");
  sub->add_flag("--include-outside-artifacts", opt->include_outside_artifacts,
                "Also remove deleted runs' own artifact folders outside the tree (<location>/<run_id>/artifacts; "
                "listed and left by default)");
  sub->add_flag("--verbose,-v", opt->verbose, "List every note (default: the first 3 and a count)");
  sub->add_flag("--json", opt->json,
                "JSON: {root, dry_run, deleted_runs, trashed_experiments, items: [{kind, id, experiment_id, path, "
                "deleted_time, removed, external_artifacts}], notes, errors}");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_gc(*opt); });
}

}  // namespace mlruns::cli
