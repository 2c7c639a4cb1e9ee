// `mlruns reap [--older-than 30m] [--dry-run] [--json]`: end orphaned RUNNING runs as KILLED (reap.h).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "commands.h"
#include "exit_codes.h"
#include "maint_cli.h"
#include "mlruns/reap.h"
#include "rest_json.h"

namespace mlruns::cli {

struct ReapCliOptions {
  std::string older_than = "30m";
  bool dry_run = false;
  bool json = false;
};

int run_reap(const ReapCliOptions& opt) {
  ReapOptions o{.older_than_ms = parse_duration_ms(opt.older_than, "--older-than"), .dry_run = opt.dry_run};
  ReapReport r = check(reap(globals().tracking_uri, o));
  if (opt.json) {
    nlohmann::json j{{"root", r.root},           {"dry_run", opt.dry_run}, {"running", r.running},
                     {"alive", r.alive},         {"changes", nlohmann::json::array()},
                     {"errors", nlohmann::json::array()}};
    for (const ReapChange& c : r.changes)
      j["changes"].push_back({{"run_id", c.run_id},
                              {"experiment_id", c.experiment_id},
                              {"path", c.path},
                              {"reason", c.reason},
                              {"end_time", c.end_time},
                              {"applied", c.applied},
                              {"partial_lines_cut", c.partial_lines_cut}});
    for (const Status& s : r.errors) j["errors"].push_back(s.to_string());
    machine_out() << dump(j);
    for (const Status& s : r.errors) std::cerr << "mlruns: " << s.to_string() << "\n";
    return r.errors.empty() ? kExitOk : exit_code_for(r.errors.front().code());
  }
  for (const ReapChange& c : r.changes)
    std::cout << (opt.dry_run ? "would end " : "ended ") << c.run_id << " (experiment " << c.experiment_id
              << ") KILLED, end_time " << c.end_time << " (" << format_time_ms(c.end_time) << "): " << c.reason
              << "\n";
  for (const ReapChange& c : r.changes)
    for (const std::string& path : c.partial_lines_cut)
      std::cout << "  cut the partial last line the killed writer left in " << path << "\n";
  for (const Status& s : r.errors) std::cerr << "mlruns: " << s.to_string() << "\n";
  std::cout << r.running << " running run(s): " << r.changes.size() << (opt.dry_run ? " to reap, " : " reaped, ")
            << r.alive << " alive\n";
  return r.errors.empty() ? kExitOk : exit_code_for(r.errors.front().code());
}

void setup_reap(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<ReapCliOptions>();
  auto* sub = app.add_subcommand("reap", "End RUNNING runs whose process is gone or silent too long as KILLED");
  sub->add_option("--older-than", opt->older_than, "Silence after which a run counts as dead: #d#h#m#s")->capture_default_str();
  sub->add_flag("--dry-run", opt->dry_run, "List what would change, change nothing");
  sub->add_flag("--json", opt->json,
                "JSON: {root, dry_run, running, alive, changes: [{run_id, experiment_id, path, reason, end_time, "
                "applied, partial_lines_cut}], errors}");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_reap(*opt); });
}

}  // namespace mlruns::cli
