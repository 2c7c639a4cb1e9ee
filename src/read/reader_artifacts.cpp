// The Reader's artifact listings (reader_impl.h): where a run's artifacts
// are, and what lies below them, without following a symbolic link.
#include <algorithm>

#include "env/atomic_file.h"
#include "format/artifact_dir.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "format/meta_parse.h"
#include "mlruns/env.h"
#include "read/reader_impl.h"

namespace mlruns::detail {

// The stored artifact_uri is used only if it is a local path that exists and
// follows format/artifact_dir.h's rule: <location>/<run_id>/artifacts as
// MLflow builds every run's URI (spec §8.1), and outside the tree exactly
// under the experiment's artifact_location for a uuid4().hex run id, so a
// hostile meta.yaml cannot point the reader at an arbitrary folder (/etc,
// $HOME, <location>/victim). Otherwise the folder inside the tree is used,
// with a warning, which covers trees that were moved or rsynced (spec §8.2,
// §14.12).
Result<std::string> ReaderContext::artifact_root_of(const std::string& run_dir, std::string_view run_id) const {
  std::string in_tree = join(run_dir, "artifacts");
  auto text = read_file(join(run_dir, kMetaFile));
  std::string uri;
  if (text) {
    if (auto info = parse_run_meta(*text)) uri = info->artifact_uri;
  }
  if (!uri.empty()) {
    // One shape rule for every verb (format/artifact_dir.h).
    auto dir = run_artifact_dir(*env, layout.root, run_dir, uri, run_id, /*create=*/false);
    if (dir) {
      FileType t = lstat_type(dir->path);
      if (t == FileType::kDirectory) return dir->path;
      // What was found (the folder the URI names is a link) and what was
      // done instead; a link that is the in-tree folder itself is refused below.
      if (t == FileType::kSymlink && dir->path != in_tree)
        warn(join(run_dir, kMetaFile), "artifact_uri " + quoted(uri) + " names " + quoted(dir->path) +
                                           ", which is a symbolic link: not followed (it could lead out of the "
                                           "tree); the run's artifacts are read from " + quoted(in_tree) + " instead");
    } else if (dir.error().code() == Code::kNotSupported) {
      warn(join(run_dir, kMetaFile), "artifact_uri " + quoted(uri) +
                                         " is not on this machine; using the artifacts folder inside the tree");
    } else if (dir.error().code() != Code::kNotFound) {
      warn(join(run_dir, kMetaFile), detail_of(dir.error(), "") + "; using the artifacts folder inside the tree");
    } else if (auto p = local_path_of(uri)) {
      // <location>/<run_id> missing is normal (MLflow makes it on demand);
      // <location> missing usually means the tree's project folder moved.
      const std::string& path = *p;
      // A moved tree's URIs (<old root>/<exp>/<run>/artifacts) fall back silently.
      const std::string exp_id = parent_dir(run_dir).substr(parent_dir(run_dir).rfind('/') + 1);
      if (auto owner = run_artifacts_owner(path, run_id))
        if (auto missing = missing_artifact_location(*env, layout.root, parent_dir(*owner));
            missing && missing->substr(missing->rfind('/') + 1) != exp_id)
          warn(join(run_dir, kMetaFile), "artifact_uri " + quoted(uri) + ": its location '" + *missing +
                                             "' does not exist (moved? mlruns relocate --from OLD --to NEW); "
                                             "using the artifacts folder inside the tree");
    }
  }
  FileType t = lstat_type(in_tree);
  if (t == FileType::kSymlink)
    return fail(Status::invalid_argument(in_tree, "is a symbolic link; not followed (it could leave the tree)"));
  return in_tree;
}

namespace {

constexpr int kMaxArtifactDepth = 256;  // deeper trees are cut with a warning

void list_dir_entries(const ReaderContext& ctx, const std::string& dir, const std::string& rel, bool recursive,
                      int depth, std::vector<ArtifactEntry>& out) {
  auto entries = ctx.env->list_dir(dir);
  if (!entries) {
    ctx.warn(dir, "cannot list: " + entries.error().to_string());
    return;
  }
  for (const DirEntry& e : *entries) {
    std::string path = join(dir, e.name);
    std::string child = rel.empty() ? e.name : rel + "/" + e.name;
    if (e.type == FileType::kSymlink) {
      ctx.warn(path, "symbolic link; not followed, left out of the listing");
      continue;
    }
    if (e.type == FileType::kDirectory) {
      if (!recursive) {
        out.push_back(ArtifactEntry{child, true, 0});
      } else if (depth >= kMaxArtifactDepth) {
        ctx.warn(path, "folders nested too deeply; not listed");
      } else {
        list_dir_entries(ctx, path, child, true, depth + 1, out);
      }
      continue;
    }
    if (e.type != FileType::kRegular) continue;
    auto info = ctx.env->stat(path, false);
    out.push_back(ArtifactEntry{child, false, info ? info->size : 0});
  }
}

}  // namespace

Result<std::vector<ArtifactEntry>> ReaderContext::list_artifacts_in(const std::string& root, std::string_view rel,
                                                                    bool recursive) const {
  std::vector<ArtifactEntry> out;
  FileType t = lstat_type(root);
  if (t == FileType::kMissing) {
    if (rel.empty()) return out;
    return fail(Status::not_found("artifact '" + std::string(rel) + "'", "the run has no artifacts"));
  }
  std::string dir = root;
  if (!rel.empty()) {
    if (!safe_below(root, rel))
      return fail(Status::not_found("artifact '" + std::string(rel) + "'", "no such folder (or a symbolic link on the way)"));
    dir = join(root, rel);
    t = lstat_type(dir);
    if (t == FileType::kMissing) return fail(Status::not_found("artifact '" + std::string(rel) + "'", "no such file or folder"));
    if (t == FileType::kSymlink)
      return fail(Status::invalid_argument("artifact '" + std::string(rel) + "'", "is a symbolic link; not followed"));
    if (t == FileType::kRegular) return out;  // MLflow lists nothing under a file
  }
  list_dir_entries(*this, dir, std::string(rel), recursive, 0, out);
  std::sort(out.begin(), out.end(), [](const ArtifactEntry& a, const ArtifactEntry& b) { return a.path < b.path; });
  return out;
}

}  // namespace mlruns::detail
