#include "format/layout.h"

#include <algorithm>
#include <tuple>

#include "format/logged_model_meta.h"
#include "mlruns/key.h"

namespace mlruns::detail {

bool is_reserved_experiment_folder(std::string_view name) {
  for (std::string_view r : kReservedExperimentFolders)
    if (name == r) return true;
  return false;
}

bool is_litter_name(std::string_view name) {
  auto starts = [&](std::string_view s) { return name.substr(0, s.size()) == s; };
  auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.substr(name.size() - s.size()) == s; };
  if (name == ".DS_Store" || name == "Thumbs.db" || name == "desktop.ini" || name == ".ipynb_checkpoints") return true;
  if (starts("._") || starts(".nfs") || starts(".fuse_hidden") || starts(kTempPrefix)) return true;
  if (starts(".") && (ends(".swp") || ends(".swo") || ends(".swx"))) return true;  // vim: .name.swp
  return ends("~");                                                                 // emacs, gedit backups
}

Result<std::vector<std::string>> list_experiment_dirs(Env& env, const std::string& dir,
                                                      std::vector<std::string>* skipped) {
  auto entries = env.list_dir(dir);
  if (!entries) {
    if (entries.error().code() == Code::kNotFound) return std::vector<std::string>{};
    return fail(entries.error());
  }
  std::vector<std::string> out;
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory) continue;  // files and symlinks are not experiments
    if (e.name.size() >= kTrashDir.size() &&
        std::string_view(e.name).substr(e.name.size() - kTrashDir.size()) == kTrashDir)
      continue;
    if (e.name == "models") continue;  // the model registry (spec §1.2)
    if (!validate_experiment_id(e.name).is_ok()) {
      if (skipped) skipped->push_back(e.name);
      continue;
    }
    out.push_back(e.name);
  }
  return out;
}

Result<RunLocation> pick_run(std::vector<RunLocation> found, std::string_view run_id,
                             std::string_view experiment_id, const std::string& root) {
  const std::string what = "run '" + std::string(run_id) + "'";
  if (!experiment_id.empty()) {
    std::erase_if(found, [&](const RunLocation& l) { return l.experiment_id != experiment_id; });
    if (found.empty())
      return fail(Status::not_found(what, "not in experiment '" + std::string(experiment_id) + "' of " + root));
  }
  if (found.empty()) return fail(Status::not_found(what, "no such run in " + root));
  if (found.size() == 1) return std::move(found.front());
  // Listed in a stable order, whatever the directory order: active ones
  // first, then by id as a number (ids are digits; shorter is smaller).
  std::sort(found.begin(), found.end(), [](const RunLocation& a, const RunLocation& b) {
    return std::tuple(a.experiment_deleted, a.experiment_id.size(), a.experiment_id) <
           std::tuple(b.experiment_deleted, b.experiment_id.size(), b.experiment_id);
  });
  std::string list;
  for (std::size_t i = 0; i < found.size(); ++i) {
    list += i == 0 ? "" : i + 1 == found.size() ? " and " : ", ";
    list += found[i].experiment_id + (found[i].experiment_deleted ? " (in .trash)" : "");
  }
  return fail(Status::failed_precondition(
      what, "is in experiments " + list +
                " (the same run id twice: a copied experiment?); name the experiment with -e EXP (nothing was done)"));
}

Result<RunLocation> find_run(Env& env, const Layout& layout, std::string_view run_id,
                             std::string_view experiment_id) {
  std::vector<RunLocation> found;
  for (bool deleted : {false, true}) {
    std::string base = deleted ? layout.trash() : layout.root;
    auto exps = list_experiment_dirs(env, base);
    if (!exps) return fail(exps.error());
    for (const std::string& exp : *exps) {
      std::string dir = join(join(base, exp), run_id);
      auto info = env.stat(join(dir, kMetaFile));
      if (info && info->type == FileType::kRegular) found.push_back(RunLocation{dir, exp, deleted});
    }
  }
  return pick_run(std::move(found), run_id, experiment_id, layout.root);
}

bool is_model_source_shape(const std::vector<std::string>& parts) {
  if (parts.size() < 3 || !validate_experiment_id(parts[0])) return false;
  if (parts[1] == kLoggedModelsDir)
    return parts.size() >= 4 && is_logged_model_id(parts[2]) && parts[3] == "artifacts";
  return validate_run_id(parts[1]) && parts[2] == "artifacts";
}

}  // namespace mlruns::detail
