// `mlruns relocate [--dry-run] [--from OLD]`: point artifact URIs at the tree's current place (relocate.h).
#include <iostream>
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
  if (!globals().quiet)
    for (const std::string& s : r.skipped) std::cerr << "mlruns: skipped " << s << "\n";
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
