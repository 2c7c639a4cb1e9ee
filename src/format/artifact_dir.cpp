#include "format/artifact_dir.h"

#include <algorithm>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/meta_parse.h"
#include "format/tracking_uri.h"

namespace mlruns::detail {

namespace {

// Why `path` (local_path_of `uri`) fails run_artifacts_owner: the rule it
// broke, so that a URI ending in /<run_id>/artifacts but with a '..' in it
// is not told it has the wrong ending.
Status wrong_shape(std::string_view uri, std::string_view path, std::string_view run_id) {
  const std::string tail = "/" + std::string(run_id) + "/artifacts";
  std::string_view bad;  // the first empty, "." or ".." component (a leading "./" aside)
  bool found = false;
  for (std::size_t i = !path.empty() && path.front() == '/' ? 1 : path.substr(0, 2) == "./" ? 2 : 0;
       i <= path.size() && !found;) {
    const std::size_t j = std::min(path.find('/', i), path.size());
    bad = path.substr(i, j - i);
    found = bad.empty() || bad == "." || bad == "..";
    i = j + 1;
  }
  std::string why;
  if (found && bad == "..")
    why = "is a relative path with a '..' component, which would be resolved against the current directory, "
          "not the tree (MLflow stores an absolute <artifact_location>" + tail + ", spec §8.1)";
  else if (found)
    why = std::string("has ") + (bad == "." ? "a '.'" : "an empty ('//')") +
          " component: not a normalised path (MLflow writes none, spec §8.1)";
  else if (path.size() < tail.size() || path.substr(path.size() - tail.size()) != tail)
    why = "does not end with " + tail + ", the shape MLflow builds (spec §8.1)";
  else
    why = "has no artifact location before " + tail + " (MLflow builds <artifact_location>" + tail + ", spec §8.1)";
  return Status::failed_precondition("artifact_uri '" + std::string(uri) + "'",
                                     why + "; mlruns uses only a run's own artifact folder (docs/hpc.md)");
}

// Refused outside the tree: the message names the URI, the folder it names
// once '..' is folded (local_path_of), and the rule.
Status not_followed(std::string_view uri, std::string_view path, const std::string& why) {
  const bool folded = uri.find("/..") != std::string_view::npos || uri.find("/./") != std::string_view::npos;
  return Status::failed_precondition("artifact_uri '" + std::string(uri) + "'",
                                     (folded ? "names '" + std::string(path) + "' (its '..' folded lexically, as for "
                                               "every path: no link is followed to resolve it), which " : "") +
                                         "is outside the tree and " + why +
                                         "; outside the tree mlruns uses only <experiment artifact_location>/<run_id>/"
                                         "artifacts of a run whose id is 32 lowercase hex digits (docs/hpc.md)");
}

// The experiment artifact_location (a path) of the run in `run_dir`.
std::optional<std::string> experiment_location_of(Env& env, std::string_view run_dir) {
  auto text = env.read_file(join(parent_dir(run_dir), "meta.yaml"), 1 << 20, /*no_follow=*/true);
  if (!text) return std::nullopt;
  auto exp = parse_experiment_meta(*text, /*in_trash=*/false);
  if (!exp) return std::nullopt;
  return local_path_of(exp->artifact_location);
}

}  // namespace

std::optional<std::string> local_path_of(std::string_view uri) {
  auto path = file_uri_to_path(uri);
  if (!path) return std::nullopt;
  if (!path->empty() && path->front() == '/') return normalize_absolute_path(*path);
  while (path->size() > 1 && path->back() == '/') path->pop_back();
  return path;
}

bool is_generated_run_id(std::string_view run_id) {
  if (run_id.size() != 32) return false;
  for (char c : run_id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<std::string> run_artifacts_owner(std::string_view path, std::string_view run_id) {
  constexpr std::string_view kArtifacts = "/artifacts";
  if (run_id.empty() || path.empty()) return std::nullopt;
  if (path.size() <= kArtifacts.size() || path.substr(path.size() - kArtifacts.size()) != kArtifacts)
    return std::nullopt;
  std::string_view owner = path.substr(0, path.size() - kArtifacts.size());
  std::size_t slash = owner.rfind('/');
  if (slash == std::string_view::npos || owner.substr(slash + 1) != run_id) return std::nullopt;
  if (slash == 0) return std::nullopt;  // /<run_id>/artifacts: no location folder
  // Normalized: no empty, "." or ".." component (but a leading "./").
  for (std::size_t i = path.front() == '/' ? 1 : path.substr(0, 2) == "./" ? 2 : 0; i <= path.size();) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    i = j + 1;
  }
  return std::string(owner);
}

Result<ArtifactDir> run_artifact_dir(Env& env, std::string_view tree_root, std::string_view run_dir,
                                     std::string_view artifact_uri, std::string_view run_id, bool create) {
  auto p = local_path_of(artifact_uri);
  // A relative path (no scheme) with '..' in it: refused for its '..', the
  // rule it breaks, rather than as "not a local path".
  const std::size_t colon = artifact_uri.find(':');
  if (!p && !artifact_uri.empty() && artifact_uri.front() != '/' &&
      (colon == std::string_view::npos || artifact_uri.find('/') < colon) &&
      (artifact_uri.substr(0, 3) == "../" || artifact_uri.find("/../") != std::string_view::npos ||
       artifact_uri == ".." || artifact_uri.ends_with("/..")))
    return fail(wrong_shape(artifact_uri, artifact_uri, run_id));
  if (!p)
    return fail(Status::not_supported("artifact_uri '" + std::string(artifact_uri) + "'",
                                      "not a local path; mlruns copies artifacts into local trees only"));
  std::string path = *p;
  const std::string suffix = "/" + std::string(run_id) + "/artifacts";
  if (!run_artifacts_owner(path, run_id)) return fail(wrong_shape(artifact_uri, path, run_id));
  std::string root(tree_root);
  if (path.compare(0, root.size() + 1, root + "/") == 0) return ArtifactDir{path, false};

  // Outside: only a writer's run id, in its own folder, under its experiment's location.
  if (!is_generated_run_id(run_id))
    return fail(not_followed(artifact_uri, path, "run id '" + std::string(run_id) + "' is not uuid4().hex (spec §4.4)"));
  std::string_view folder = run_dir;
  while (folder.size() > 1 && folder.back() == '/') folder.remove_suffix(1);
  if (folder.substr(folder.rfind('/') + 1) != run_id)
    return fail(not_followed(artifact_uri, path, "the run's folder '" + std::string(run_dir) + "' is not named by its id"));
  // <location> is the user's (links allowed, resolved once).
  std::string location = path.substr(0, path.size() - suffix.size());
  if (location.empty()) location = "/";
  if (experiment_location_of(env, folder) != location)
    return fail(not_followed(artifact_uri, path, "not <artifact_location>/" + std::string(run_id) +
                                               "/artifacts of the run's experiment"));
  Env& user = *env.unconfined();
  if (create) {
    // MLflow makes the location on demand (os.makedirs): it is the user's path, links allowed.
    Status made = user.create_dirs(location);
    if (!made.is_ok()) return fail(made.with_context("artifact location of run " + std::string(run_id)));
  }
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
  return ArtifactDir{join(run_root, "artifacts"), true, run_root};
}

std::optional<std::string> missing_artifact_location(Env& env, std::string_view tree_root,
                                                     std::string_view location_uri) {
  auto p = file_uri_to_path(location_uri);
  if (!p || p->empty() || p->front() != '/') return std::nullopt;
  std::string path = *p;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::string root(tree_root);
  if (path == root || path.compare(0, root.size() + 1, root + "/") == 0) return std::nullopt;
  auto info = env.unconfined()->stat(path, /*follow_symlinks=*/true);
  if (!info || info->type != FileType::kMissing) return std::nullopt;
  return path;
}

}  // namespace mlruns::detail
