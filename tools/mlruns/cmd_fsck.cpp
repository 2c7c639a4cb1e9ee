// `mlruns fsck [--repair] [--json]`: check (and repair) a tree (fsck.h).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "maint_cli.h"
#include "mlruns/fsck.h"
#include "rest_json.h"

namespace mlruns::cli {

struct FsckCliOptions {
  bool repair = false;
  bool json = false;
  std::string temp_grace = "1h";
};

int run_fsck(const FsckCliOptions& opt) {
  FsckOptions o{.repair = opt.repair, .temp_grace_ms = parse_duration_ms(opt.temp_grace, "--temp-grace")};
  if (!opt.json)
    o.on_finding = [](const FsckFinding& f) {
      std::cout << to_string(f.severity) << ": " << f.path << ": " << f.problem << "\n  breaks: " << f.breaks << "\n";
      if (f.outcome != FsckAction::kNone) std::cout << "  " << to_string(f.outcome) << ": " << f.action << "\n";
      else if (f.repairable) std::cout << "  repairable with --repair\n";
      if (!f.hint.empty()) std::cout << "  left alone: " << f.hint << "\n";
    };
  FsckReport r = check(fsck(globals().tracking_uri, o));
  if (opt.json) {
    nlohmann::json j{{"root", r.root}, {"experiments", r.experiments}, {"runs", r.runs},
                     {"metric_files", r.metric_files}, {"remaining", r.remaining()}, {"repaired", r.repaired()},
                     {"quarantine", r.quarantine}, {"findings", nlohmann::json::array()}};
    for (const FsckFinding& f : r.findings)
      j["findings"].push_back({{"path", f.path}, {"check", f.check}, {"problem", f.problem}, {"breaks", f.breaks},
                               {"severity", to_string(f.severity)}, {"repairable", f.repairable},
                               {"outcome", to_string(f.outcome)}, {"action", f.action}, {"hint", f.hint}});
    machine_out() << dump(j);
  } else {
    std::cout << "checked " << r.experiments << " experiments, " << r.runs << " runs, " << r.metric_files
              << " metric files: " << r.findings.size() << " finding(s), " << r.repaired() << " repaired, "
              << r.remaining() << " remaining\n";
    if (!r.quarantine.empty()) std::cout << "quarantine: " << r.quarantine << " (see NOTES.txt)\n";
  }
  // Errors or warnings left (notices do not count): scripts test this.
  return r.remaining() ? kExitCorruption : kExitOk;
}

void setup_fsck(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<FsckCliOptions>();
  auto* sub = app.add_subcommand("fsck", "Check a tree against MLflow's traps (spec §10.6, §14); exit 7 if problems remain");
  sub->add_flag("--repair", opt->repair, "Fix what is safe, atomically; move what cannot be fixed to quarantine-*.trash/");
  sub->add_option("--temp-grace", opt->temp_grace,
                  "Leave .mlruns-tmp-* files younger than this alone (maybe a write in progress): #d#h#m#s; "
                  "0s if no writer runs")
      ->capture_default_str();
  sub->add_flag("--json", opt->json, "Report as JSON");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_fsck(*opt); });
}

}  // namespace mlruns::cli
