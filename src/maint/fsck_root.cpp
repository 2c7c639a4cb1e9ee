// fsck at the root of the tree (fsck_checker.h): the root's own folders and
// stray entries, temp leftovers of killed writers at every level, and the
// registry and trace locations that point outside the tree.
#include <algorithm>
#include <string>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_parse.h"
#include "format/meta_write.h"
#include "maint/fsck_checker.h"
#include "mlruns/key.h"
#include "mlruns/relocate.h"
#include "write/name_claim.h"

namespace mlruns::detail {

void FsckChecker::check_root() {
  std::string_view p = root_;
  std::size_t pos = 0;
  while ((pos = p.find("/artifacts", pos)) != std::string_view::npos) {
    std::size_t end = pos + 10;
    if (end == p.size() || p[end] == '/') {
      std::string outside = std::string(p.substr(0, pos)) + "/mlruns";
      add(root_, "root.artifacts_ancestor", "the tree lies under a folder named 'artifacts'",
          "MLflow >= 3.8: get_run fails for every run (spec §1.1, §14.21)", FsckSeverity::kError,
          Fix::left_alone("only moving the whole tree fixes this, e.g. mv " + root_ + " " + outside +
                          " && mlruns relocate --tracking-uri " + outside));
      break;
    }
    pos = end;
  }
  std::string trash = join(root_, kTrashDir);
  auto ti = env_.stat(trash);
  if (ti && ti->type == FileType::kMissing)
    add(trash, "root.missing_trash", "no .trash/ folder",
        "every version: a read-only store without .trash/ cannot be opened (spec §1.1)", FsckSeverity::kWarning,
        [this, trash]() -> Result<std::string> {
          MLRUNS_TRY(env_.create_dir(trash));
          return std::string("created .trash/");
        });
  std::string zero = join(root_, "0");
  auto zi = env_.stat(join(zero, "meta.yaml"));
  auto zt = env_.stat(join(trash, "0"));
  if (zi && zi->type == FileType::kMissing && zt && zt->type == FileType::kMissing)
    add(zero, "root.missing_default", "no default experiment 0/meta.yaml",
        "every version: start_run() without an experiment fails 'Could not find experiment with ID 0' (spec §1.1, §14.8)",
        FsckSeverity::kWarning, [this, zero]() -> Result<std::string> {
          MLRUNS_TRY(env_.create_dirs(zero));
          Experiment e;
          e.experiment_id = "0";
          e.name = "Default";
          e.artifact_location = path_to_file_uri(zero);
          e.creation_time = e.last_update_time = env_.now_ms();
          MLRUNS_TRY(write_file_atomic(env_, join(zero, "meta.yaml"), render_experiment_meta(e),
                                               {.sync = true, .temp_dir = {}}));
          return std::string("created experiment 0 'Default'");
        });
  auto entries = env_.list_dir(root_);
  if (!entries) return;
  for (const DirEntry& e : *entries) {
    std::string path = join(root_, e.name);
    if (e.name.starts_with(kTempPrefix)) {
      check_temp_leftover(path, e.type, "staging folder of a killed writer (half-made experiments or runs)");
      continue;
    }
    if (e.name == kGcStagingDir && e.type == FileType::kDirectory) {
      auto left = env_.list_dir(path);
      if (left && !left->empty())
        add(path, "root.gc_interrupted", std::to_string(left->size()) + " folder(s) of an interrupted mlruns gc",
            "none: no reader looks there; they only take space", FsckSeverity::kWarning,
            Fix::left_alone("they were already chosen for removal: run mlruns gc again to finish"));
      continue;
    }
    bool trashlike = e.name.size() >= 6 && e.name.compare(e.name.size() - 6, 6, ".trash") == 0;
    if (e.type == FileType::kSymlink) {
      // .trash, the gc staging folder or an experiment as a link: no mlruns
      // verb follows it (docs/hpc.md); the verbs that need it refuse.
      add(path, "root.symlink", "symlink in the root; MLflow follows it, mlruns does not",
          trashlike ? "MLflow deletes, restores and collects through it, outside the tree"
                    : "MLflow may read outside the tree through it",
          trashlike ? FsckSeverity::kError : FsckSeverity::kWarning,
          Fix::left_alone(trashlike ? "mlruns never follows it: experiments delete/restore and gc refuse; replace "
                                      "the link by a real folder"
                                    : "if it is an experiment kept on another disk, mlruns cannot see it: replace the "
                                      "link by the folder, or point --tracking-uri at a tree without links"));
      continue;
    }
    if (e.name == kNameClaimsDir && e.type == FileType::kDirectory) {
      check_name_claims();
      continue;
    }
    if (trashlike || e.name == "models") continue;
    if (e.type != FileType::kDirectory) continue;  // root files are ignored by every reader
    Status id = validate_experiment_id(e.name);
    if (!id) {
      add(path, "root.stray_folder", "folder '" + e.name + "' is not a valid experiment id",
          "every version: search_experiments fails for the whole store (spec §1.2, §14.7)", FsckSeverity::kError,
          quarantine(path, "not an experiment id; breaks search_experiments (spec §1.2)"));
    } else if (e.name.find_first_not_of("0123456789") != std::string::npos) {
      add(path, "root.non_integer_id", "experiment id '" + e.name + "' is not an integer",
          "mlflow migrate-filestore skips it; MLflow >= 3.7 does not detect the store (spec §3.3, §14.17)",
          FsckSeverity::kWarning,
          Fix::left_alone("renumbering would break every script, URI and run that names this id; "
                          "export its runs into a new experiment if the tree must be migrated"));
    }
  }
}

// Name claims (write/name_claim.h): one whose experiment no longer holds the
// name (a killed creator, a rename or gc by MLflow or by hand) blocks that
// name for no one once the grace period is over, but is litter; quarantined.
void FsckChecker::check_name_claims() {
  NameClaims claims(env_, root_, "experiments");
  for (const NameClaim& c : claims.list()) {
    bool held = false;
    for (bool trash : {false, true}) {
      if (c.owner.empty() || !validate_experiment_id(c.owner)) break;
      auto text = env_.read_file(join(join(trash ? join(root_, kTrashDir) : root_, c.owner), "meta.yaml"), 1 << 20, true);
      if (!text) continue;
      auto e = parse_experiment_meta(*text, trash);
      held = e && e->name == c.name;
      break;
    }
    // The claim folder's own mtime, as NameClaims::claim judges it.
    const std::int64_t idle = env_.now_ms() - c.mtime_ms;
    if (held || c.mtime_ms == 0 || idle < std::max<std::int64_t>(opt_.temp_grace_ms, kNameClaimGraceMs)) continue;
    add(c.dir, "root.stale_name_claim",
        "name claim of '" + c.name + "' for experiment " + (c.owner.empty() ? "?" : c.owner) +
            ", which does not hold that name",
        "none: MLflow never reads it; mlruns takes such a claim over when the name is created again",
        FsckSeverity::kNotice, quarantine(c.dir, "stale name claim"));
  }
}

// How long `path` has been untouched: a folder counts as touched when
// anything directly inside it is. nullopt if it cannot be stat'ed.
std::optional<std::int64_t> FsckChecker::idle_ms(const std::string& path, FileType type) {
  auto info = env_.stat(path);
  if (!info || info->type == FileType::kMissing) return std::nullopt;
  std::int64_t last = info->mtime_ms;
  if (type == FileType::kDirectory)
    if (auto entries = env_.list_dir(path))
      for (const DirEntry& e : *entries)
        if (auto ei = env_.stat(join(path, e.name)); ei) last = std::max(last, ei->mtime_ms);
  return env_.now_ms() - last;
}

// ".mlruns-tmp-*" files and staging folders: what a killed writer left
// (spec §11). MLflow ignores them, but nothing will ever finish them and a
// half-copied checkpoint can be large. A recent one may be a write in
// progress and is left alone without a word.
void FsckChecker::check_temp_leftover(const std::string& path, FileType type, const std::string& what) {
  if (type == FileType::kSymlink) return;  // not ours: mlruns never makes links
  auto idle = idle_ms(path, type);
  if (!idle || *idle < opt_.temp_grace_ms) return;
  add(path, "temp.leftover", what + ", untouched for " + std::to_string(*idle / 60000) + " min",
      "none: every MLflow version ignores it; it only takes space", FsckSeverity::kWarning,
      quarantine(path, "left by an interrupted mlruns write"));
}

// Temp files directly inside an experiment or run folder.
void FsckChecker::check_temp_files(const std::string& dir) {
  auto entries = env_.list_dir(dir);
  if (!entries) return;
  for (const DirEntry& e : *entries)
    if (e.name.starts_with(kTempPrefix))
      check_temp_leftover(join(dir, e.name), e.type, "temp file of an interrupted write");
}

// Registry versions and traces name artifact locations too (spec §8.2,
// §9.3, §9.4). relocate knows how to find their in-tree part, so fsck
// asks it (dry run) and, to repair, lets it rewrite them.
void FsckChecker::check_other_locations() {
  auto dry = relocate(root_, {.env = &env_, .dry_run = true});
  if (!dry) return;
  std::size_t n = 0;
  std::string first;
  for (const RelocateChange& c : dry->changes) {
    if (c.key != "source" && c.key != "storage_location" && c.key != "mlflow.artifactLocation") continue;
    if (n++ == 0) first = c.path + ": " + c.key + " '" + c.old_value + "'";
  }
  if (n == 0) return;
  add(root_, "registry.location_elsewhere",
      std::to_string(n) + " model registry or trace location(s) do not point into this tree (moved or rsynced); first: " +
          first,
      "every version: the registered model or trace artifacts are not found (spec §8.2, §9.4)", FsckSeverity::kWarning,
      [this]() -> Result<std::string> {
        auto done = relocate(root_, {.env = &env_});
        if (!done) return fail(done.error());
        if (!done->errors.empty()) return fail(done->errors.front());
        return "ran relocate: " + std::to_string(done->changes.size()) + " value(s) rewritten";
      });
}

}  // namespace mlruns::detail
