#include "write/artifact_copy.h"

#include <vector>

#include "env/atomic_file.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "mlruns/key.h"
#include "util/printable.h"

namespace mlruns::detail {
namespace {

constexpr int kMaxDepth = 64;

// The source is the user's own path (env.unconfined(): links there are the
// user's choice); everything written goes through `env`.
// Copies `src` to a new temp file in t.temp_dir (outside artifacts/);
// returns its path. On failure nothing is left behind.
Result<std::string> copy_to_temp(Env& env, const ArtifactTarget& t, const std::string& src) {
  auto in = env.unconfined()->new_sequential_file(src);
  if (!in) return fail(in.error());
  std::string tmp = join(t.temp_dir, unique_temp_name(".artifact"));
  Status s;
  {
    auto out = env.new_writable_file(tmp, /*exclusive=*/true);
    if (!out) return fail(out.error());
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
  if (!s.is_ok()) {
    (void)env.remove_file(tmp);
    return fail(s);
  }
  return tmp;
}

struct Planned {
  std::string from;
  std::string rel;  // below the artifact root
};

// Every file of `src` (a directory) with its path below the root, validated.
Status plan_dir(Env& env, const std::string& src, const std::string& rel, int depth, std::vector<Planned>& out) {
  if (depth > kMaxDepth) return Status::invalid_argument(src, "directory nesting deeper than 64 levels");
  auto entries = env.unconfined()->list_dir(src);
  if (!entries) return entries.error();
  for (const DirEntry& e : *entries) {
    std::string from = join(src, e.name);
    if (Status v = validate_artifact_path(e.name); !v.is_ok()) return v.with_context("artifact file '" + from + "'");
    FileType type = e.type;
    if (type == FileType::kSymlink || type == FileType::kOther) {
      auto info = env.unconfined()->stat(from, /*follow_symlinks=*/true);
      if (!info) return info.error();
      if (info->type != FileType::kRegular) continue;  // dangling, directory or special: skipped
      type = FileType::kRegular;
    }
    std::string to = rel.empty() ? e.name : join(rel, e.name);
    if (type == FileType::kRegular) out.push_back({from, to});
    else if (type == FileType::kDirectory) MLRUNS_RETURN_IF_ERROR(plan_dir(env, from, to, depth + 1, out));
  }
  return Status::ok();
}

// A destination that exists: refused unless it is a file we may replace.
Status check_destination(Env& env, const std::string& root, const std::string& rel, bool replace) {
  auto slot = file_slot(env, root, rel, "artifact '" + rel + "'");
  if (!slot) return slot.error();
  if (*slot == FileType::kRegular && !replace)
    return Status::already_exists("artifact '" + rel + "'",
                                  "exists already; nothing was copied (replace it with --overwrite / "
                                  "Overwrite::kReplace)");
  return Status::ok();
}

// The real path of `path` (absolute, as the Env takes it), resolving its
// deepest existing ancestor: the artifacts folder may not exist yet.
std::string real_existing(Env& env, const std::string& path) {
  std::string rest;
  std::string at = path;
  for (int i = 0; i < 64 && !at.empty(); ++i) {
    if (auto real = env.unconfined()->real_path(at)) return rest.empty() ? *real : join(*real, rest);
    std::size_t slash = at.find_last_of('/');
    if (slash == std::string::npos || at == "/") break;
    rest = rest.empty() ? at.substr(slash + 1) : join(at.substr(slash + 1), rest);
    at = slash == 0 ? "/" : at.substr(0, slash);
  }
  return path;
}

}  // namespace

Status copy_artifact(Env& env, const ArtifactTarget& t, const std::string& local_path,
                     std::string_view artifact_path, CopyWhat what, bool replace) {
  MLRUNS_RETURN_IF_ERROR(validate_artifact_path(artifact_path));
  if (local_path.empty()) return Status::invalid_argument("artifact source ''", "empty path");
  auto info = env.unconfined()->stat(local_path, /*follow_symlinks=*/true);
  if (!info) return info.error();
  std::string_view p = local_path;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  std::string base(p.substr(p.find_last_of('/') == std::string_view::npos ? 0 : p.find_last_of('/') + 1));
  std::string prefix(artifact_path);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::vector<Planned> plan;
  if (info->type == FileType::kDirectory) {
    // The source is the user's path, outside the tree: resolved unconfined.
    auto src_real = env.unconfined()->real_path(local_path);
    if (!src_real) return src_real.error();
    // A folder that holds the run's artifact folder (the tree inside the
    // project folder being logged, say `log-artifact RUN .`) would be copied
    // into itself.
    for (const std::string& dest : {t.artifacts_root, t.temp_dir}) {
      std::string d = real_existing(env, dest);
      if (d == *src_real || d.rfind(*src_real + "/", 0) == 0 || *src_real == "/")
        return Status::invalid_argument(
            "artifact source '" + printable_prefix(local_path, 200) + "' ('" + printable_prefix(*src_real, 200) + "')",
            "contains the run's own folder '" + printable_prefix(d, 200) +
                "' (the tree is inside it): logging it would copy the tree into itself; log a subfolder, "
                "or keep the tree outside the folder you log");
    }
    if (what == CopyWhat::kItself) {
      // MLflow: the directory's own name, os.path.basename(os.path.normpath(path)).
      if (base == "." || base == "..") base = src_real->substr(src_real->find_last_of('/') + 1);
      if (Status v = validate_artifact_path(base); !v.is_ok() || base.empty())
        return Status::invalid_argument("artifact folder name '" + base + "'", "not a valid artifact name");
      prefix = prefix.empty() ? base : join(prefix, base);
    }
    MLRUNS_RETURN_IF_ERROR(plan_dir(env, local_path, prefix, 0, plan));
  } else if (info->type == FileType::kRegular) {
    if (what == CopyWhat::kContents)
      return Status::invalid_argument("artifact source '" + local_path + "'",
                                      "is a file; log_artifacts copies a directory's contents (use log_artifact)");
    if (Status v = validate_artifact_path(base); !v.is_ok() || base.empty())
      return Status::invalid_argument("artifact file name '" + base + "'", "not a valid artifact name");
    plan.push_back({local_path, prefix.empty() ? base : join(prefix, base)});
  } else {
    return Status::not_found("artifact source '" + local_path + "'", "no such file or directory");
  }
  // Everything is checked before the first file is written.
  for (const Planned& f : plan) MLRUNS_RETURN_IF_ERROR(check_destination(env, t.artifacts_root, f.rel, replace));
  if (plan.empty() && !prefix.empty()) return env.create_dirs(join(t.artifacts_root, prefix));  // an empty folder
  // Every file to a temp name first: a copy that fails half-way (a full
  // disk) leaves nothing under artifacts/, so it can simply be retried. Then
  // each is renamed into place.
  std::vector<std::string> temps;
  auto drop_temps = [&] {
    for (const std::string& tmp : temps) (void)env.remove_file(tmp);
  };
  for (const Planned& f : plan) {
    auto tmp = copy_to_temp(env, t, f.from);
    if (!tmp) {
      drop_temps();
      return tmp.error();
    }
    temps.push_back(*tmp);
  }
  for (std::size_t i = 0; i < plan.size(); ++i) {
    std::string dest = join(t.artifacts_root, plan[i].rel);
    Status s = env.create_dirs(parent_dir(dest));
    if (s.is_ok()) s = env.rename(temps[i], dest);
    if (!s.is_ok()) {
      temps.erase(temps.begin(), temps.begin() + static_cast<std::ptrdiff_t>(i));
      drop_temps();
      return s;
    }
  }
  return Status::ok();
}

Status write_artifact(Env& env, const ArtifactTarget& t, std::string_view artifact_file, std::string_view data) {
  MLRUNS_RETURN_IF_ERROR(validate_artifact_path(artifact_file));
  if (artifact_file.empty() || artifact_file.back() == '/')
    return Status::invalid_argument("artifact file '" + std::string(artifact_file) + "'", "must name a file");
  // A file replaces a file (MLflow's log_text), never a folder or a file on the way.
  MLRUNS_RETURN_IF_ERROR(check_destination(env, t.artifacts_root, std::string(artifact_file), /*replace=*/true));
  std::string dest = join(t.artifacts_root, artifact_file);
  MLRUNS_RETURN_IF_ERROR(env.create_dirs(parent_dir(dest)));
  AtomicWriteOptions o;
  o.sync = t.sync;
  o.temp_dir = t.temp_dir;
  return write_file_atomic(env, dest, data, o);
}

}  // namespace mlruns::detail
