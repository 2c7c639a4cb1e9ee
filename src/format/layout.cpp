#include "format/layout.h"

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

Result<RunLocation> find_run(Env& env, const Layout& layout, std::string_view run_id) {
  for (bool deleted : {false, true}) {
    std::string base = deleted ? layout.trash() : layout.root;
    auto exps = list_experiment_dirs(env, base);
    if (!exps) return fail(exps.error());
    for (const std::string& exp : *exps) {
      std::string dir = join(join(base, exp), run_id);
      auto info = env.stat(join(dir, kMetaFile));
      if (info && info->type == FileType::kRegular) return RunLocation{dir, exp, deleted};
    }
  }
  return fail(Status::not_found("run '" + std::string(run_id) + "'", "no such run in " + layout.root));
}

bool is_model_source_shape(const std::vector<std::string>& parts) {
  if (parts.size() < 3 || !validate_experiment_id(parts[0])) return false;
  if (parts[1] == kLoggedModelsDir)
    return parts.size() >= 4 && is_logged_model_id(parts[2]) && parts[3] == "artifacts";
  return validate_run_id(parts[1]) && parts[2] == "artifacts";
}

}  // namespace mlruns::detail
