#include "env/run_artifacts.h"

#include "env/atomic_file.h"

namespace mlruns::detail {

std::optional<std::string> run_artifacts_owner(std::string_view path, std::string_view run_id) {
  constexpr std::string_view kArtifacts = "/artifacts";
  if (run_id.empty() || path.empty() || path.front() != '/') return std::nullopt;
  if (path.size() <= kArtifacts.size() || path.substr(path.size() - kArtifacts.size()) != kArtifacts)
    return std::nullopt;
  std::string_view owner = path.substr(0, path.size() - kArtifacts.size());
  std::size_t slash = owner.rfind('/');
  if (slash == std::string_view::npos || owner.substr(slash + 1) != run_id) return std::nullopt;
  std::string_view location = owner.substr(0, slash);
  if (location.empty()) return std::nullopt;  // /<run_id>/artifacts: no location folder
  // Normalized: no empty, "." or ".." component anywhere.
  for (std::size_t i = 1; i <= path.size();) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    i = j + 1;
  }
  return std::string(owner);
}

Status make_run_artifacts_dir(Env& env, const std::string& artifacts_dir, std::string_view run_id) {
  auto owner = run_artifacts_owner(artifacts_dir, run_id);
  if (!owner)
    return Status::failed_precondition(
        "artifact folder '" + artifacts_dir + "'",
        "is not <location>/" + std::string(run_id) + "/artifacts, the run's own folder (spec §8.2); mlruns "
        "writes nothing else outside a tree");
  std::string location = parent_dir(*owner);
  MLRUNS_RETURN_IF_ERROR(env.create_dirs(location));
  for (const std::string& dir : {*owner, artifacts_dir}) {
    Status made = env.create_dir(dir);
    if (!made.is_ok() && made.code() != Code::kAlreadyExists) return made;
    auto info = env.stat(dir, /*follow_symlinks=*/false);
    if (!info) return info.error();
    if (info->type != FileType::kDirectory)
      return Status::failed_precondition(dir, "is not a real folder (a symbolic link?); not followed");
  }
  return Status::ok();
}

}  // namespace mlruns::detail
