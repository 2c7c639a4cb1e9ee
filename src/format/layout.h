// Where things live in an mlruns tree (spec §1). One place for every path
// the writer and the reader build, so that both agree.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "env/atomic_file.h"  // kTempPrefix, join
#include "mlruns/env.h"
#include "mlruns/status.h"

namespace mlruns::detail {

inline constexpr std::string_view kTrashDir = ".trash";
inline constexpr std::string_view kMetaFile = "meta.yaml";
// Experiment sub-folders that are not runs (spec §1.2, union over versions).
inline constexpr std::string_view kReservedExperimentFolders[] = {"tags", "datasets", "traces", "models"};

bool is_reserved_experiment_folder(std::string_view name);

// Where gc moves each folder before removing it (gc.h): a ".trash" root
// folder, invisible to every reader; a later gc finishes what is left there.
inline constexpr std::string_view kGcStagingDir = ".mlruns-gc.trash";

// True for a file or folder MLflow never wrote but an OS, editor, file
// system or killed mlruns writer leaves around: .DS_Store, ._x, Thumbs.db,
// desktop.ini, .ipynb_checkpoints, .nfsXXXX, .fuse_hiddenXXXX, .x.swp, x~,
// .mlruns-tmp-*. The reader skips these with a warning; fsck quarantines them.
bool is_litter_name(std::string_view name);

struct Layout {
  std::string root;  // absolute, no trailing '/'

  std::string trash() const { return join(root, kTrashDir); }
  // <root>/<id> or <root>/.trash/<id>.
  std::string experiment_dir(std::string_view id, bool deleted = false) const {
    return join(deleted ? trash() : root, id);
  }
};

struct RunLocation {
  std::string dir;            // <root>[/.trash]/<exp>/<run>
  std::string experiment_id;  // the parent folder's name
  bool experiment_deleted = false;  // the experiment sits in .trash/
};

// The one rule for a run named by its id alone (every verb, the Store and
// the Reader): of the folders <root>[/.trash]/<exp>/<run_id> holding a
// meta.yaml (`found`, active experiments first), the one in experiment
// `experiment_id` if that is given, else the only one. MLflow's FileStore
// takes the first it lists (_find_run_root, spec §10.4), which for the same
// id in two experiments (a copied experiment folder) is whichever listing
// order gives, so a delete or a log could land in the wrong copy: mlruns
// refuses instead. Errors: kNotFound (none, or none in `experiment_id`);
// kFailedPrecondition "run 'ID' is in experiments 1 and 7 (the same run id
// twice: a copied experiment?); name the experiment (-e EXP,
// StoreOptions/ReaderOptions::run_experiment_id)".
Result<RunLocation> pick_run(std::vector<RunLocation> found, std::string_view run_id,
                             std::string_view experiment_id, const std::string& root);

// Finds a run folder by id under pick_run's rule. REQUIRES: run_id passed
// validate_run_id.
Result<RunLocation> find_run(Env& env, const Layout& layout, std::string_view run_id,
                             std::string_view experiment_id = {});

// Names of the experiment folders directly under `dir` (the root or .trash):
// directories whose name is a valid experiment id. Others are returned in
// `skipped` if given.
Result<std::vector<std::string>> list_experiment_dirs(Env& env, const std::string& dir,
                                                      std::vector<std::string>* skipped = nullptr);

// The shapes a registry version's local source may have below the tree root
// (`parts`: its components there), the ones create_model_version accepts
// and the Reader, fsck and relocate resolve: a run's artifacts or a part of
// them, <exp>/<run_id>/artifacts[/...], or an MLflow 3.x LoggedModel's
// folder, <exp>/models/m-<32 hex>/artifacts[/...] (spec §9.2, §9.4). Not the
// registry's own folders, a meta.yaml or a whole run folder.
bool is_model_source_shape(const std::vector<std::string>& parts);
inline constexpr const char* kModelSourceShapes =
    "<exp>/<run_id>/artifacts[/<path>] (a run's artifacts) or <exp>/models/m-<id>/artifacts[/<path>] (a logged model)";

}  // namespace mlruns::detail
