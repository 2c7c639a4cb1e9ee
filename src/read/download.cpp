// download_artifacts: copy into a temporary sibling of the target, verify
// every size, then rename into place, so an interrupted download never leaves
// half a checkpoint under the final name.
#include "mlruns/download.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "env/sparse_copy.h"
#include "env/tree_copy.h"
#include "format/layout.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "read/reader_impl.h"
#include "util/parallel.h"

namespace mlruns {
namespace {

using detail::join;

// Files copied at once (as log_artifacts): each waits on open, close and
// fsync, and concurrent fsyncs share a journal commit.
constexpr std::size_t kCopyThreads = 8;
constexpr int kMaxDepth = 256;

struct Item {
  std::string rel;  // '/'-separated, relative to the source; empty = the source itself
  bool is_dir = false;
  std::uint64_t size = 0;
};

class Copier {
 public:
  Copier(Env& env, Env& dest_env, const ReaderOptions& ropts, const DownloadOptions& opts)
      : env_(env), dest_env_(dest_env), ropts_(ropts), opts_(opts) {}

  void warn(const std::string& path, const std::string& message) {
    if (ropts_.on_warning) ropts_.on_warning(Warning{detail::escape_control(path), detail::escape_control(message)});
  }

  // Lists what to copy below `dir` without following symlinks.
  Status plan(const std::string& dir, const std::string& rel, int depth, std::vector<Item>& items) {
    if (depth > kMaxDepth) return Status::invalid_argument(dir, "folders nested more than 256 deep");
    auto entries = env_.list_dir(dir);
    if (!entries) return entries.error();
    for (const DirEntry& e : *entries) {
      std::string path = join(dir, e.name);
      std::string child = rel.empty() ? e.name : rel + "/" + e.name;
      if (e.type == FileType::kSymlink) {
        warn(path, "symbolic link; not followed, not downloaded");
        continue;
      }
      if (e.type == FileType::kDirectory) {
        items.push_back(Item{child, true, 0});
        MLRUNS_RETURN_IF_ERROR(plan(path, child, depth + 1, items));
      } else if (e.type == FileType::kRegular) {
        auto info = env_.stat(path, false);
        if (!info) return info.error();
        items.push_back(Item{child, false, info->size});
        total_ += info->size;
      } else {
        warn(path, "not a regular file; not downloaded");
      }
    }
    return Status::ok();
  }

  Status copy_file(const std::string& from, const std::string& to, std::uint64_t expected) {
    auto in = env_.new_sequential_file(from);
    if (!in) return in.error();
    auto out = dest_env_.new_writable_file(to, /*exclusive=*/true);
    if (!out) return out.error();
    // A hole of a sparse file stays a hole (copy_sparse), so it costs what
    // its data costs, not its size.
    return detail::copy_whole_checked(**in, **out, from, to, expected, opts_.sync,
                                      [this](std::uint64_t n) { progress(n); });
  }

  // Called from every copying thread; on_progress one call at a time.
  void progress(std::uint64_t bytes) {
    std::uint64_t done = done_ += bytes;
    if (!opts_.on_progress) return;
    std::lock_guard<std::mutex> lock(progress_mu_);
    opts_.on_progress(done, total_);
  }

  std::uint64_t total_ = 0;
  std::atomic<std::uint64_t> done_{0};

 private:
  Env& env_;       // the source: the reader's
  Env& dest_env_;  // the destination
  const ReaderOptions& ropts_;
  const DownloadOptions& opts_;
  std::mutex progress_mu_;
};

}  // namespace

namespace {

// Copies `source` (a file or folder in the tree, reached through real
// folders) to <dest_dir>/<basename>: a temporary sibling first, sizes
// verified, then renamed into place.
Result<DownloadResult> copy_out(const Reader& reader, const std::string& source, const std::string& basename,
                                const std::string& shown, const std::string& dest_dir, const DownloadOptions& options) {
  Env& env = *reader.options().env;
  // The destination is the user's: a confined Env of its own keeps every
  // write below dest_dir (a link swapped in there is not followed either).
  // An Env without confinement (a test's) is used for both sides.
  std::unique_ptr<Env> dest_owned;
  Env* dest_env = &env;
  if (env.unconfined() != &env) {
    dest_owned = Env::posix_beneath(dest_dir);
    dest_env = dest_owned.get();
  }
  auto src_info = env.stat(source, false);
  if (!src_info) return fail(src_info.error());
  bool is_dir = src_info->type == FileType::kDirectory;
  if (!is_dir && src_info->type != FileType::kRegular)
    return fail(Status::invalid_argument(shown, "not a regular file or folder"));

  // A file where the destination folder (or one above it) should be: the
  // user's mistake, said plainly (kAlreadyExists, exit 5), not ENOTDIR.
  for (std::string up = dest_dir, prev; !up.empty() && up != prev; prev = up, up = detail::parent_dir(up)) {
    auto info = env.unconfined()->stat(up, true);
    if (!info || info->type == FileType::kMissing) continue;
    if (info->type != FileType::kDirectory)
      return fail(Status::already_exists("download folder '" + dest_dir + "'",
                                         (up == dest_dir ? std::string("is") : "'" + up + "' is") +
                                             " a file, not a folder; choose another -d/--local-path"));
    break;
  }
  if (Status made = dest_env->create_dirs(dest_dir); !made) return fail(made);
  std::string target = join(dest_dir, basename);
  auto existing = dest_env->stat(target, false);
  if (!existing) return fail(existing.error());
  if (existing->type != FileType::kMissing && !options.overwrite)
    return fail(Status::already_exists(target + " is already there (an earlier download?); " + options.overwrite_hint));

  Copier copier(env, *dest_env, reader.options(), options);
  // A folder is walked by descriptors (detail::copy_tree_fd: no depth limit
  // but memory) when both Envs are POSIX ones; an Env that wraps another (a
  // test's fault injection) keeps to its own path calls and to kMaxDepth.
  detail::Fd src_fd;
  if (is_dir) {
    auto fd = detail::open_dir_fd(env, source);
    if (fd) src_fd.reset(*fd);
    else if (fd.error().code() != Code::kNotSupported) return fail(fd.error());
  }
  bool by_fd = false;
  if (src_fd.fd >= 0) {
    auto dest_fd = detail::open_dir_fd(*dest_env, dest_dir);
    by_fd = static_cast<bool>(dest_fd);
    if (by_fd) ::close(*dest_fd);
  }
  std::vector<Item> items;
  if (by_fd) {
    // The total is only for on_progress: no second walk of the tree without it.
    if (options.on_progress) {
      auto total = detail::measure_tree_fd(src_fd.fd, source);
      if (!total) return fail(total.error().with_context("downloading " + shown));
      copier.total_ = *total;
    }
  } else if (is_dir) {
    if (Status planned = copier.plan(source, "", 0, items); !planned) return fail(planned);
  } else {
    items.push_back(Item{"", false, src_info->size});
    copier.total_ = src_info->size;
  }

  // Hidden temporary sibling: same file system as the target, so the final
  // rename is atomic.
  // (The basename is cut so the temporary name stays below NAME_MAX.)
  std::string stem(detail::utf8_prefix(basename, 120));
  std::string tmp = join(dest_dir, "." + stem + ".mlruns-download-" + detail::random_hex(12));
  auto cleanup = [&] { (void)dest_env->remove_tree(tmp); };
  DownloadResult result;
  Status s;
  // The folders first, then the files, kCopyThreads at a time, under their
  // final names inside the temporary folder nobody else uses.
  if (is_dir) s = dest_env->create_dir(tmp);
  std::vector<const Item*> files;
  for (const Item& item : items) {
    if (!s) break;
    if (item.is_dir) s = dest_env->create_dir(join(tmp, item.rel));
    else files.push_back(&item);
  }
  std::vector<Status> failed(files.size());
  if (s && by_fd) {
    auto dst_fd = detail::open_dir_fd(*dest_env, tmp);
    if (!dst_fd) {
      s = dst_fd.error();
    } else {
      detail::Fd dst(*dst_fd);
      detail::TreeCopyOptions topts;
      topts.sync = options.sync;
      topts.threads = kCopyThreads;
      topts.warn = [&copier](const std::string& path, const std::string& message) { copier.warn(path, message); };
      topts.on_bytes = [&copier](std::uint64_t n) { copier.progress(n); };
      auto counts = detail::copy_tree_fd(src_fd.fd, dst.fd, source, tmp, topts);
      if (!counts) {
        s = counts.error();
      } else {
        result.files = counts->files;
        result.bytes = counts->bytes;
      }
    }
  }
  if (s && !by_fd)
    detail::parallel_for(files.size(), std::min(kCopyThreads, files.size()), [&](std::size_t i) {
      const Item& item = *files[i];
      failed[i] = copier.copy_file(item.rel.empty() ? source : join(source, item.rel),
                                   item.rel.empty() ? tmp : join(tmp, item.rel), item.size);
    });
  for (std::size_t i = 0; s && i < files.size(); ++i) {
    s = failed[i];
    ++result.files;
    result.bytes += files[i]->size;
  }
  if (!s) {
    cleanup();
    return fail(s.with_context("downloading " + shown));
  }
  if (is_dir && options.sync && !by_fd) {  // copy_tree_fd syncs each folder it fills
    // Directory entries must be durable before the rename publishes them.
    for (const Item& item : items)
      if (item.is_dir) (void)dest_env->sync_dir(join(tmp, item.rel));
    (void)dest_env->sync_dir(tmp);
  }

  existing = dest_env->stat(target, false);
  if (!existing) {
    cleanup();
    return fail(existing.error());
  }
  if (existing->type == FileType::kMissing) {
    s = dest_env->rename(tmp, target);
  } else if (!options.overwrite) {
    cleanup();
    return fail(Status::already_exists(target + " appeared while downloading and was left untouched; " +
                                       options.overwrite_hint));
  } else if (!is_dir && existing->type == FileType::kRegular) {
    s = dest_env->rename(tmp, target);  // atomic replacement of a file
  } else {
    // A folder cannot be renamed over a non-empty one: move the old one
    // aside, put the new one in place, then delete the old one. The target
    // name always holds a complete copy, old or new, except for the instant
    // between the two renames.
    std::string aside = join(dest_dir, "." + stem + ".mlruns-old-" + detail::random_hex(12));
    s = dest_env->rename(target, aside);
    if (s) {
      s = dest_env->rename(tmp, target);
      if (!s) (void)dest_env->rename(aside, target);
      else (void)dest_env->remove_tree(aside);
    }
  }
  if (!s) {
    cleanup();
    return fail(s.with_context("downloading " + shown));
  }
  if (options.sync) (void)dest_env->sync_dir(dest_dir);
  result.local_path = target;
  return result;
}

}  // namespace

Result<DownloadResult> download_artifacts(const Reader& reader, std::string_view run_id,
                                          std::string_view given_path, const std::string& dest_dir,
                                          const DownloadOptions& options) {
  // "ckpts/best/" names ckpts/best: its files land in <dest_dir>/best, never in dest_dir itself.
  const std::string normalized = normalize_artifact_path(given_path);
  const std::string_view artifact_path = normalized;
  if (Status s = validate_artifact_path(artifact_path); !s) return fail(s);
  if (dest_dir.empty()) return fail(Status::invalid_argument("download destination", "must not be empty"));
  Env& env = *reader.options().env;
  auto root = reader.artifact_root(run_id);
  if (!root) return fail(root.error());

  // The source, reached through real directories only.
  std::string source = *root;
  std::string shown = artifact_path.empty() ? "artifacts of run " + std::string(run_id)
                                            : "artifact '" + std::string(artifact_path) + "'";
  {
    auto t = env.stat(source, false);
    if (!t) return fail(t.error());
    if (t->type != FileType::kDirectory)
      return fail(Status::not_found(shown, "the run has no artifacts folder"));
    std::string_view rest = artifact_path;
    while (!rest.empty()) {
      std::size_t slash = rest.find('/');
      source = join(source, rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      auto info = env.stat(source, false);
      if (!info) return fail(info.error());
      if (info->type == FileType::kMissing) return fail(Status::not_found(shown, "no such file or folder"));
      if (info->type == FileType::kSymlink)
        return fail(Status::invalid_argument(shown, "is a symbolic link; not followed"));
      if (!rest.empty() && info->type != FileType::kDirectory)
        return fail(Status::not_found(shown, "no such file or folder"));
    }
  }
  std::string basename = "artifacts";
  if (!artifact_path.empty()) {
    std::size_t slash = artifact_path.rfind('/');
    basename = std::string(slash == std::string_view::npos ? artifact_path : artifact_path.substr(slash + 1));
  }
  return copy_out(reader, source, basename, shown, dest_dir, options);
}

Result<DownloadResult> download_model(const Reader& reader, const Reader::ModelLocation& model,
                                      const std::string& dest_dir, const DownloadOptions& options) {
  if (!model.run_id.empty()) return download_artifacts(reader, model.run_id, model.artifact_path, dest_dir, options);
  if (dest_dir.empty()) return fail(Status::invalid_argument("download destination", "must not be empty"));
  if (model.path.empty() || model.path.front() != '/')
    return fail(Status::invalid_argument("model '" + model.uri + "'", "has no resolved location"));
  // Named after its folder; an MLflow 3.x LoggedModel's "artifacts" folder after its model id.
  std::string p = model.path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  std::string basename = p.substr(p.rfind('/') + 1);
  std::string parent = p.substr(0, p.rfind('/'));
  std::string grand = parent.substr(parent.rfind('/') + 1);
  if (basename == "artifacts" && grand.rfind("m-", 0) == 0) basename = grand;
  return copy_out(reader, p, basename, "model '" + model.uri + "'", dest_dir, options);
}

}  // namespace mlruns
