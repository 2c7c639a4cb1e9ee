#include "write/artifact_copy.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "env/atomic_file.h"
#include "env/sparse_copy.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "mlruns/key.h"
#include "util/parallel.h"
#include "util/printable.h"

namespace mlruns::detail {
namespace {

constexpr int kMaxDepth = 64;

// Files copied at once: each copy waits on its open, close and fsync (a
// metadata round trip on Lustre/NFS, a journal commit on a local disk), and
// concurrent fsyncs share commits; 8 keeps a 2-core node busy without
// flooding a metadata server.
constexpr std::size_t kCopyThreads = 8;

// The source is the user's own path (env.unconfined(): links there are the
// user's choice); everything written goes through `env`.
// Copies `src` to the new file `dest` (fsynced if `sync`); on failure
// nothing is left at `dest`.
Status copy_file(Env& env, const std::string& src, const std::string& dest, bool sync) {
  auto in = env.unconfined()->new_sequential_file(src);
  if (!in) return in.error();
  Status s;
  {
    auto out = env.new_writable_file(dest, /*exclusive=*/true);
    if (!out) return out.error();
    // Holes stay holes: a sparse checkpoint costs what its data costs.
    auto copied = copy_sparse(**in, **out, src, UINT64_MAX);
    if (!copied) s = copied.error();
    if (s.is_ok() && sync) s = (*out)->sync();
    Status c = (*out)->close();
    if (s.is_ok()) s = c;
  }
  if (!s.is_ok()) (void)env.remove_file(dest);
  return s;
}

struct Planned {
  std::string from;
  std::string rel;  // below the artifact root
};

// What a folder being planned must not be: one of the folders it is inside
// (a link back up, an endless loop), or one holding the run's own folders.
struct PlanGuard {
  std::vector<std::string> on_path;  // real paths of the folders being listed
  std::vector<std::string> dests;    // real paths of the destination folders
};

Status refuse_entry(const std::string& from, std::string_view why) {
  return Status::invalid_argument("artifact source '" + printable_prefix(from, 200) + "'",
                                  std::string(why) + "; nothing was copied");
}

// "" if the folder `real` may be copied into the destinations, else why not.
std::string holds_destination(const std::vector<std::string>& dests, const std::string& real) {
  for (const std::string& d : dests)
    if (d == real || d.rfind(real + "/", 0) == 0 || real == "/") return d;
  return {};
}

// Every file of `src` (a directory, whose real path is `real`) with its path
// below the root, validated. As MLflow's log_artifacts (shutil.copytree,
// symlinks=False): links to files and folders are followed and copied as
// what they point at. What cannot be copied is refused before anything is
// written: a FIFO, socket or device (opening a FIFO would block), a dangling
// link, a link back to a folder it is inside.
Status plan_dir(Env& env, const std::string& src, const std::string& real, const std::string& rel, int depth,
                PlanGuard& guard, std::vector<Planned>& out) {
  if (depth > kMaxDepth) return Status::invalid_argument(src, "directory nesting deeper than 64 levels");
  auto entries = env.unconfined()->list_dir(src);
  if (!entries) return entries.error();
  guard.on_path.push_back(real);
  for (const DirEntry& e : *entries) {
    std::string from = join(src, e.name);
    if (Status v = validate_artifact_path(e.name); !v.is_ok()) return v.with_context("artifact file '" + from + "'");
    FileType type = e.type;
    std::string child_real = join(real, e.name);
    if (type == FileType::kSymlink || type == FileType::kOther) {
      auto info = env.unconfined()->stat(from, /*follow_symlinks=*/true);
      if (!info) return info.error();
      type = info->type;
      if (type == FileType::kMissing)
        return refuse_entry(from, "is a dangling symbolic link (what it points at does not exist)");
      if (type == FileType::kDirectory) {
        auto r = env.unconfined()->real_path(from);
        if (!r) return r.error();
        child_real = *r;
      }
    }
    if (type != FileType::kRegular && type != FileType::kDirectory)
      return refuse_entry(from, "is a FIFO, socket or device: only files, folders and links to them can be logged");
    std::string to = rel.empty() ? e.name : join(rel, e.name);
    if (type == FileType::kRegular) {
      out.push_back({from, to});
      continue;
    }
    for (const std::string& up : guard.on_path)
      if (up == child_real)
        return refuse_entry(from, "is a link to '" + printable_prefix(up, 200) +
                                      "', a folder it is inside: copying it would never end");
    if (std::string d = holds_destination(guard.dests, child_real); !d.empty())
      return refuse_entry(from, "leads to '" + printable_prefix(child_real, 200) + "', which holds the run's own folder '" +
                                    printable_prefix(d, 200) + "': logging it would copy the tree into itself");
    MLRUNS_RETURN_IF_ERROR(plan_dir(env, from, child_real, to, depth + 1, guard, out));
  }
  guard.on_path.pop_back();
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
    PlanGuard guard;
    for (const std::string& dest : {t.artifacts_root, t.temp_dir}) guard.dests.push_back(real_existing(env, dest));
    if (std::string d = holds_destination(guard.dests, *src_real); !d.empty())
      return Status::invalid_argument(
          "artifact source '" + printable_prefix(local_path, 200) + "' ('" + printable_prefix(*src_real, 200) + "')",
          "contains the run's own folder '" + printable_prefix(d, 200) +
              "' (the tree is inside it): logging it would copy the tree into itself; log a subfolder, "
              "or keep the tree outside the folder you log");
    if (what == CopyWhat::kItself) {
      // MLflow: the directory's own name, os.path.basename(os.path.normpath(path)).
      if (base == "." || base == "..") base = src_real->substr(src_real->find_last_of('/') + 1);
      if (Status v = validate_artifact_path(base); !v.is_ok() || base.empty())
        return Status::invalid_argument("artifact folder name '" + base + "'", "not a valid artifact name");
      prefix = prefix.empty() ? base : join(prefix, base);
    }
    MLRUNS_RETURN_IF_ERROR(plan_dir(env, local_path, *src_real, prefix, 0, guard, plan));
  } else if (info->type == FileType::kRegular) {
    if (what == CopyWhat::kContents)
      return Status::invalid_argument("artifact source '" + local_path + "'",
                                      "is a file; log_artifacts copies a directory's contents (use log_artifact)");
    if (Status v = validate_artifact_path(base); !v.is_ok() || base.empty())
      return Status::invalid_argument("artifact file name '" + base + "'", "not a valid artifact name");
    plan.push_back({local_path, prefix.empty() ? base : join(prefix, base)});
  } else if (info->type == FileType::kMissing) {
    return Status::not_found("artifact source '" + local_path + "'", "no such file or directory");
  } else {
    return refuse_entry(local_path, "is a FIFO, socket or device: only files, folders and links to them can be logged");
  }
  // Everything is checked before the first file is written.
  for (const Planned& f : plan) MLRUNS_RETURN_IF_ERROR(check_destination(env, t.artifacts_root, f.rel, replace));
  if (plan.empty() && !prefix.empty()) return env.create_dirs(join(t.artifacts_root, prefix));  // an empty folder
  // Every folder first, then the files, kCopyThreads at a time. Into the
  // run's artifacts (others see them): every file to a temp name first, so a
  // copy that fails half-way (a full disk) leaves nothing under artifacts/
  // and can simply be retried; then each is renamed into place. Into a
  // folder nobody sees yet (t.unseen: log_model's staging folder, published
  // whole by one rename): each file under its final name, no rename.
  std::vector<std::string> dirs;
  for (const Planned& f : plan) {
    std::string dir = parent_dir(join(t.artifacts_root, f.rel));
    if (dirs.empty() || dirs.back() != dir) {
      MLRUNS_RETURN_IF_ERROR(env.create_dirs(dir));
      dirs.push_back(dir);
    }
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  std::vector<std::string> written(plan.size());
  std::vector<Status> failed(plan.size());
  parallel_for(plan.size(), std::min(kCopyThreads, plan.size()), [&](std::size_t i) {
    std::string to = t.unseen ? join(t.artifacts_root, plan[i].rel) : join(t.temp_dir, unique_temp_name(".artifact"));
    failed[i] = copy_file(env, plan[i].from, to, t.sync);
    if (failed[i]) written[i] = std::move(to);
  });
  auto drop_written = [&] {
    for (const std::string& w : written)
      if (!w.empty()) (void)env.remove_file(w);
  };
  for (const Status& s : failed)
    if (!s) {
      drop_written();
      return s;
    }
  if (t.unseen) {
    // The folder entries durable before the caller's rename publishes them.
    if (t.sync)
      for (const std::string& dir : dirs) MLRUNS_RETURN_IF_ERROR(env.sync_dir(dir));
    return Status::ok();
  }
  for (std::size_t i = 0; i < plan.size(); ++i) {
    Status s = env.rename(written[i], join(t.artifacts_root, plan[i].rel));
    if (!s.is_ok()) {
      for (std::size_t j = 0; j < i; ++j) written[j].clear();  // in place: kept, as before
      drop_written();
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
