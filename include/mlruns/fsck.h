// fsck: checks an mlruns tree against every trap that makes some MLflow
// version fail or hide data (spec §10.6, §14) and, on request, repairs what
// can be repaired safely.
//
//   mlruns::FsckOptions opt{.repair = true};
//   auto report = mlruns::fsck("/scratch/mlruns", opt);
//   for (const mlruns::FsckFinding& f : report->findings) std::cout << f.path << ": " << f.problem << "\n";
//
// Repairs are atomic (temp file + rename through Env), each one is logged in
// its finding, and nothing is ever deleted: what cannot be fixed in place is
// moved to <root>/quarantine-<UTC time>-<random>.trash/ (a root folder ending in
// ".trash" is ignored by every MLflow reader, spec §1.2), with NOTES.txt
// saying where each item came from and logging every in-place repair.
// Symlinks are never followed.
//
// What is left alone, on purpose, carries a `hint`: a tree below a folder
// named "artifacts" (only moving the whole tree fixes it), non-integer
// experiment ids (renumbering would break every reference to them), and
// keys containing ':' (a notice: valid for MLflow >= 2.16 on Linux and
// macOS; quarantining them would hide data from those readers).
//
// Thread and process safety: run it while no writer works on the tree, or
// accept that a run being written may be reported (never damaged: edits
// re-read the file and give up if it changed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"

namespace mlruns {

class Env;

enum class FsckSeverity {
  kError,    // some MLflow version fails on it (a search, get_run, the whole store)
  kWarning,  // data is hidden or skipped, or only old/new readers disagree
  kNotice,   // valid for current MLflow; matters only to old readers or other platforms
};

enum class FsckAction {
  kNone,         // reported only (not repairable, or no --repair)
  kRepaired,     // fixed in place
  kQuarantined,  // moved to the quarantine folder
  kFailed,       // a repair was attempted and failed (see `action`)
};

struct FsckFinding {
  std::string path{};     // absolute path of the file or folder concerned
  std::string check{};    // stable id, e.g. "run.missing_run_uuid"
  std::string problem{};  // what is wrong, e.g. "no run_uuid key"
  std::string breaks{};   // which MLflow versions it breaks, e.g. "MLflow <= 2.22: ... (spec §4.3)"
  FsckSeverity severity = FsckSeverity::kError;
  bool repairable = false;  // --repair can fix it (in place or by quarantine)
  FsckAction outcome = FsckAction::kNone;
  std::string action{};  // what --repair did, e.g. "added run_uuid: <id>"
  std::string hint{};    // for what --repair leaves alone: why, and what the user can do
};

struct FsckOptions {
  Env* env = nullptr;  // null: Env::posix_beneath(root), confined to the tree (env.h)
  bool repair = false;
  // Temp files and staging folders of a killed writer (".mlruns-tmp-*") are
  // reported and quarantined only once untouched for this long: a younger one
  // may belong to a write in progress.
  std::int64_t temp_grace_ms = 3600 * 1000;
  // Called for each finding as soon as it is final (after its repair).
  std::function<void(const FsckFinding&)> on_finding{};
};

struct FsckReport {
  std::string root{};
  std::vector<FsckFinding> findings{};
  std::size_t experiments = 0;   // experiment folders checked (root and .trash)
  std::size_t runs = 0;          // run folders checked
  std::size_t metric_files = 0;  // metric files checked
  std::string quarantine{};        // the quarantine folder, if something was moved there

  // Errors and warnings not repaired (outcome kNone or kFailed); notices
  // do not count.
  std::size_t remaining() const;
  std::size_t repaired() const;
};

// Checks (and with options.repair, repairs) the tree at `tracking_uri` (a
// path or file: URI). Fails only if the root cannot be opened; everything
// wrong inside the tree is a finding.
Result<FsckReport> fsck(std::string_view tracking_uri, const FsckOptions& options = {});

std::string_view to_string(FsckSeverity severity);  // "error", "warning", "notice"
std::string_view to_string(FsckAction action);      // "none", "repaired", "quarantined", "failed"

}  // namespace mlruns
