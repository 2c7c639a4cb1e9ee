// `mlruns relocate [--dry-run] [--from OLD]`: point artifact URIs at the tree's current place (relocate.h).
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/relocate.h"

namespace mlruns::cli {

struct RelocateCliOptions {
  bool dry_run = false;
  std::string from;
  std::string to;
};

int run_relocate(const RelocateCliOptions& opt) {
  RelocateReport r = check(relocate(globals().tracking_uri, {.dry_run = opt.dry_run, .from_prefix = opt.from, .to_root = opt.to}));
  for (const RelocateChange& c : r.changes)
    std::cout << (opt.dry_run ? "would change " : "changed ") << c.path << ": " << c.key << ": " << c.old_value
              << " -> " << c.new_value << "\n";
  // Files left alone, grouped by reason: a reason shared by many files (a
  // --from that matches nothing) is said once, with the count.
  std::map<std::string, std::vector<std::string>> by_reason;
  std::vector<std::string> reasons;  // in order of first appearance
  for (const std::string& s : r.skipped) {
    const std::size_t at = s.rfind(" left as is: ");
    const std::string reason = at == std::string::npos ? std::string() : s.substr(at + 13);
    if (by_reason[reason].empty()) reasons.push_back(reason);
    by_reason[reason].push_back(s);
  }
  constexpr std::size_t kListed = 3;
  const bool none_matched = !opt.from.empty() && r.changes.empty() && r.errors.empty() && r.files_checked > 0;
  if (none_matched) {
    std::cerr << "mlruns: no artifact URI is under --from '" << opt.from << "': " << r.files_checked
              << " file(s) checked, nothing to change\n";
  }
  if (!globals().quiet) {
    for (const std::string& reason : reasons) {
      if (none_matched && reason.find("not under") != std::string::npos) continue;  // said above
      const std::vector<std::string>& files = by_reason[reason];
      const bool grouped = !reason.empty() && files.size() > kListed;
      for (std::size_t i = 0; i < files.size() && (!grouped || i < 1); ++i) std::cerr << "mlruns: skipped " << files[i] << "\n";
      if (grouped) std::cerr << "mlruns: skipped " << files.size() - 1 << " more file(s) for the same reason: " << reason << "\n";
    }
  }
  if (!none_matched)  // else said above
    for (const std::string& n : r.notes) std::cerr << "mlruns: note: " << n << "\n";
  for (const Status& s : r.errors) std::cerr << "mlruns: " << s.to_string() << "\n";
  // A registry version changes two keys in one file.
  std::set<std::string> files;
  for (const RelocateChange& c : r.changes) files.insert(c.path);
  std::cout << (opt.dry_run ? r.changes.size() : files.size())
            << (opt.dry_run ? " change(s) to make" : " file(s) changed") << " of " << r.files_checked << " checked\n";
  return r.errors.empty() ? kExitOk : exit_code_for(r.errors.front().code());
}

void setup_relocate(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<RelocateCliOptions>();
  auto* sub = app.add_subcommand("relocate", "Rewrite artifact URIs after the tree was moved or rsynced: experiments' artifact_location, "
                                 "runs' artifact_uri, logged models, registry source/storage_location, trace artifact locations");
  sub->add_flag("--dry-run", opt->dry_run, "List what would change, change nothing");
  sub->add_option("--from", opt->from,
                  "Old prefix (path or file: URI): only local URIs under it change, the prefix replaced by --to");
  sub->add_option("--to", opt->to,
                  "New prefix for --from (default: the tree's current location; right only when --from is the "
                  "tree's old location, e.g. --from /old/project --to /new/project for a project folder holding "
                  "the tree and custom artifact locations)")
      ->needs("--from");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_relocate(*opt); });
}

}  // namespace mlruns::cli
