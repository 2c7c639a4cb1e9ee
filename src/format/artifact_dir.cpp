#include "format/artifact_dir.h"

#include "env/atomic_file.h"
#include "format/file_uri.h"

namespace mlruns::detail {

namespace {

Status wrong_shape(std::string_view uri, std::string_view run_id) {
  return Status::failed_precondition(
      "artifact_uri '" + std::string(uri) + "'",
      "does not end with /" + std::string(run_id) +
          "/artifacts, the shape MLflow builds (spec §8.1); mlruns uses only a run's own artifact folder "
          "(docs/hpc.md)");
}

}  // namespace

Result<ArtifactDir> run_artifact_dir(Env& env, std::string_view tree_root, std::string_view artifact_uri,
                                     std::string_view run_id, bool create) {
  auto p = file_uri_to_path(artifact_uri);
  if (!p)
    return fail(Status::not_supported("artifact_uri '" + std::string(artifact_uri) + "'",
                                      "not a local path; mlruns copies artifacts into local trees only"));
  std::string path = *p;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string suffix = "/" + std::string(run_id) + "/artifacts";
  bool shaped = path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                path.find("/../") == std::string::npos && path.find("/./") == std::string::npos &&
                path.find("//") == std::string::npos && path.compare(0, 3, "../") != 0;
  if (!shaped) return fail(wrong_shape(artifact_uri, run_id));
  std::string root(tree_root);
  if (path.compare(0, root.size() + 1, root + "/") == 0) return ArtifactDir{path, false};

  // Outside: <location> is the user's (links allowed, resolved once).
  std::string location = path.substr(0, path.size() - suffix.size());
  if (location.empty()) location = "/";
  Env& user = *env.unconfined();
  auto real = user.real_path(location);
  if (!real) return fail(real.error().with_context("artifact location of run " + std::string(run_id)));
  std::string run_root = join(*real, run_id);
  if (run_root.compare(0, root.size() + 1, root + "/") == 0) return ArtifactDir{join(run_root, "artifacts"), false};
  auto info = user.stat(run_root, /*follow_symlinks=*/false);
  if (!info) return fail(info.error());
  if (info->type == FileType::kMissing && create) {
    Status s = user.create_dir(run_root);
    if (!s.is_ok() && s.code() != Code::kAlreadyExists) return fail(s);
    info = user.stat(run_root, false);
    if (!info) return fail(info.error());
  }
  if (info->type == FileType::kMissing)
    return fail(Status::not_found(run_root, "no such folder (the run's artifact folder outside the tree)"));
  if (info->type != FileType::kDirectory)
    return fail(Status::failed_precondition(run_root, "is not a real folder (a symbolic link or a file); not "
                                                      "followed: outside the tree mlruns uses only the run's own "
                                                      "artifact folder (docs/hpc.md)"));
  if (Status s = env.add_root(run_root); !s.is_ok()) return fail(s);
  return ArtifactDir{join(run_root, "artifacts"), true};
}

}  // namespace mlruns::detail
