// `mlruns relocate [--dry-run] [--from OLD] [--json]`: point artifact URIs at the tree's current place (relocate.h).
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/relocate.h"
#include "rest_json.h"

namespace mlruns::cli {

struct RelocateCliOptions {
  bool dry_run = false;
  std::string from;
  std::string to;
  bool json = false;
};

void print_relocate_json(const RelocateReport& r, bool dry_run) {
  nlohmann::json j{{"root", r.root}, {"dry_run", dry_run}, {"files_checked", r.files_checked},
                   {"nothing_under_from", r.nothing_under_from}, {"changes", nlohmann::json::array()},
                   {"skipped", r.skipped}, {"errors", nlohmann::json::array()}};
  for (const RelocateChange& c : r.changes)
    j["changes"].push_back({{"path", c.path}, {"key", c.key}, {"old_value", c.old_value}, {"new_value", c.new_value},
                            {"applied", c.applied}});
  for (const Status& s : r.errors)
    j["errors"].push_back({{"code", std::string(code_name(s.code()))}, {"message", s.message()}});
  machine_out() << dump(j);
}

int run_relocate(const RelocateCliOptions& opt) {
  RelocateReport r = check(relocate(globals().tracking_uri, {.dry_run = opt.dry_run, .from_prefix = opt.from, .to_root = opt.to}));
  const int code = r.errors.empty() ? kExitOk : exit_code_for(r.errors.front().code());
  if (opt.json) {
    print_relocate_json(r, opt.dry_run);
    return code;
  }
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
  if (r.nothing_under_from) {
    std::cerr << "mlruns: no artifact URI is under --from '" << opt.from << "': " << r.files_checked
              << " file(s) checked, nothing to change\n";
  }
  if (!globals().quiet) {
    for (const std::string& reason : reasons) {
      const std::vector<std::string>& files = by_reason[reason];
      const bool grouped = !reason.empty() && files.size() > kListed;
      for (std::size_t i = 0; i < files.size() && (!grouped || i < 1); ++i) std::cerr << "mlruns: skipped " << files[i] << "\n";
      if (grouped) std::cerr << "mlruns: skipped " << files.size() - 1 << " more file(s) for the same reason: " << reason << "\n";
    }
  }
  for (const Status& s : r.errors) std::cerr << "mlruns: " << s.to_string() << "\n";
  // A registry version changes two keys in one file.
  std::set<std::string> files;
  for (const RelocateChange& c : r.changes) files.insert(c.path);
  std::cout << (opt.dry_run ? r.changes.size() : files.size())
            << (opt.dry_run ? " change(s) to make" : " file(s) changed") << " of " << r.files_checked << " checked\n";
  return code;
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
  sub->add_flag("--json", opt->json,
                "Report as JSON: root, dry_run, files_checked, nothing_under_from (--from matched no URI), changes "
                "(path, key, old_value, new_value, applied), skipped, errors (code, message)");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] { return run_relocate(*opt); });
}

}  // namespace mlruns::cli
