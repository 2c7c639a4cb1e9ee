#include "write/artifact_copy.h"

#include <vector>

#include "env/atomic_file.h"
#include "format/layout.h"
#include "mlruns/key.h"

namespace mlruns::detail {
namespace {

constexpr int kMaxDepth = 64;

// The source is the user's own path (env.unconfined(): links there are the
// user's choice); everything written goes through `env`.
Status copy_file(Env& env, const ArtifactTarget& t, const std::string& src, const std::string& dest) {
  auto in = env.unconfined()->new_sequential_file(src);
  if (!in) return in.error();
  std::string tmp = join(t.temp_dir, unique_temp_name(".artifact"));
  Status s;
  {
    auto out = env.new_writable_file(tmp, /*exclusive=*/true);
    if (!out) return out.error();
    std::vector<char> buf(1 << 20);
    for (;;) {
      auto chunk = (*in)->read(buf.size(), buf.data());
      if (!chunk) {
        s = chunk.error();
        break;
      }
      if (chunk->empty()) break;
      s = (*out)->append(*chunk);
      if (!s.is_ok()) break;
    }
    if (s.is_ok() && t.sync) s = (*out)->sync();
    Status c = (*out)->close();
    if (s.is_ok()) s = c;
  }
  if (s.is_ok()) s = env.create_dirs(parent_dir(dest));
  if (s.is_ok()) s = env.rename(tmp, dest);
  if (!s.is_ok()) (void)env.remove_file(tmp);
  return s;
}

Status copy_dir(Env& env, const ArtifactTarget& t, const std::string& src, const std::string& dest, int depth) {
  if (depth > kMaxDepth) return Status::invalid_argument(src, "directory nesting deeper than 64 levels");
  auto entries = env.unconfined()->list_dir(src);
  if (!entries) return entries.error();
  MLRUNS_RETURN_IF_ERROR(env.create_dirs(dest));
  for (const DirEntry& e : *entries) {
    std::string from = join(src, e.name);
    if (Status v = validate_artifact_path(e.name); !v.is_ok())
      return v.with_context("artifact file '" + from + "'");
    FileType type = e.type;
    if (type == FileType::kSymlink || type == FileType::kOther) {
      auto info = env.unconfined()->stat(from, /*follow_symlinks=*/true);
      if (!info) return info.error();
      if (info->type != FileType::kRegular) continue;  // dangling, directory or special: skipped
      type = FileType::kRegular;
    }
    if (type == FileType::kRegular) {
      MLRUNS_RETURN_IF_ERROR(copy_file(env, t, from, join(dest, e.name)));
    } else if (type == FileType::kDirectory) {
      MLRUNS_RETURN_IF_ERROR(copy_dir(env, t, from, join(dest, e.name), depth + 1));
    }
  }
  return Status::ok();
}

}  // namespace

Status copy_artifact(Env& env, const ArtifactTarget& t, const std::string& local_path,
                     std::string_view artifact_path) {
  MLRUNS_RETURN_IF_ERROR(validate_artifact_path(artifact_path));
  if (local_path.empty()) return Status::invalid_argument("artifact source ''", "empty path");
  auto info = env.unconfined()->stat(local_path, /*follow_symlinks=*/true);
  if (!info) return info.error();
  std::string dest_dir = artifact_path.empty() ? t.artifacts_root : join(t.artifacts_root, artifact_path);
  if (info->type == FileType::kDirectory) return copy_dir(env, t, local_path, dest_dir, 0);
  if (info->type != FileType::kRegular)
    return Status::not_found("artifact source '" + local_path + "'", "no such file or directory");
  std::string_view p = local_path;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  std::string base(p.substr(p.find_last_of('/') == std::string_view::npos ? 0 : p.find_last_of('/') + 1));
  if (Status v = validate_artifact_path(base); !v.is_ok() || base.empty())
    return Status::invalid_argument("artifact file name '" + base + "'", "not a valid artifact name");
  return copy_file(env, t, local_path, join(dest_dir, base));
}

Status write_artifact(Env& env, const ArtifactTarget& t, std::string_view artifact_file, std::string_view data) {
  MLRUNS_RETURN_IF_ERROR(validate_artifact_path(artifact_file));
  if (artifact_file.empty()) return Status::invalid_argument("artifact file ''", "must name a file");
  std::string dest = join(t.artifacts_root, artifact_file);
  MLRUNS_RETURN_IF_ERROR(env.create_dirs(parent_dir(dest)));
  AtomicWriteOptions o;
  o.sync = t.sync;
  o.temp_dir = t.temp_dir;
  return write_file_atomic(env, dest, data, o);
}

}  // namespace mlruns::detail
