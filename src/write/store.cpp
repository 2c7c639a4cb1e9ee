// Store: opening a tree, error accounting (ErrorMode), the staging area in
// which experiments and runs are built before they appear, and flush. The
// experiments are in store_experiments.cpp, the by-id run operations in
// store_runs.cpp, writing one run in active_run.cpp.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "env/atomic_file.h"
#include "format/tracking_uri.h"
#include "mlruns/key.h"
#include "util/printable.h"
#include "write/store_impl.h"

namespace mlruns {
namespace detail {

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

bool exists(Env& env, const std::string& path) {
  auto info = env.stat(path);
  return info && info->type != FileType::kMissing;
}

namespace {

std::string sanitize_host() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return "host";
  std::string out;
  for (char* p = host; *p && out.size() < 40; ++p) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    out += ok ? c : '-';
  }
  return out.empty() ? "host" : out;
}

}  // namespace
}  // namespace detail

using namespace detail;

// ---------------------------------------------------------------- Impl ----

Store::Impl::~Impl() {
  if (!staging.empty()) (void)env->remove_dir(staging);  // only if empty
}

Status Store::Impl::note(Status s, bool call_on_error) {
  if (s.is_ok()) return s;
  failures.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(error_mu);
    last_error = s;
  }
  if (call_on_error && options.on_error) {
    try {
      options.on_error(s);
    } catch (...) {
    }
  }
  return s;
}

Status Store::Impl::finish(Status s) {
  if (s.is_ok()) return s;
  note(s);
  if (options.errors == ErrorMode::kThrow) throw Error(s);
  return s;
}

Result<std::string> Store::Impl::new_staging_folder() {
  std::lock_guard<std::mutex> lock(staging_mu);
  // Twice: after months of idling, fsck --repair may have quarantined the
  // staging folder of this very process.
  for (int attempt = 0;; ++attempt) {
    if (staging.empty()) {
      // Root folders ending in ".trash" are skipped by every MLflow reader (spec §1.2).
      std::string dir = join(layout.root, std::string(kTempPrefix) + sanitize_host() + "-" +
                                              std::to_string(::getpid()) + "-" + new_run_id().substr(0, 8) + ".trash");
      Status s = env->create_dir(dir);
      if (!s.is_ok() && s.code() != Code::kAlreadyExists) return fail(s);
      staging = dir;
    }
    std::string folder = join(staging, unique_temp_name());
    Status s = env->create_dir(folder);
    if (s.is_ok()) return folder;
    if (s.code() != Code::kNotFound || attempt > 0) return fail(s);
    staging.clear();
  }
}

Status Store::Impl::publish(const std::string& staged, const std::string& target) {
  Status s = env->rename(staged, target);
  if (s.is_ok()) return s;
  (void)env->remove_tree(staged);
  if (s.code() == Code::kAlreadyExists || s.os_error() == ENOTEMPTY || s.os_error() == EEXIST)
    return Status::already_exists(target, "already exists");
  return s;
}

Status Store::Impl::resolve_artifact_root() {
  const std::string& given = options.artifact_root;
  if (given.empty()) return Status::ok();
  if (given.size() > 2048 || !is_valid_utf8(given) || given.find('\0') != std::string::npos)
    return Status::invalid_argument("artifact_root '" + escape_control(given) + "'",
                                    "must be valid UTF-8 of at most 2048 characters without NUL (spec §6.2)");
  auto resolved = resolve_uri_if_local(given, *env);
  if (!resolved) return resolved.error();
  artifact_root = std::move(*resolved);
  return Status::ok();
}

Status detail::copy_small_files(Env& env, const std::string& from, const std::string& to, bool sync, std::uint64_t max_bytes,
                        int depth) {
  if (depth > 64) return Status::corruption(from, "nested too deep");
  auto entries = env.list_dir(from);
  if (!entries) return entries.error().code() == Code::kNotFound ? Status::ok() : entries.error();
  MLRUNS_RETURN_IF_ERROR(env.create_dirs(to));
  for (const DirEntry& e : *entries) {
    if (is_litter_name(e.name)) continue;
    if (e.type == FileType::kDirectory) {
      MLRUNS_RETURN_IF_ERROR(copy_small_files(env, join(from, e.name), join(to, e.name), sync, max_bytes, depth + 1));
    } else if (e.type == FileType::kRegular) {
      auto text = env.read_file(join(from, e.name), max_bytes, /*no_follow=*/true);
      if (!text) return text.error();
      MLRUNS_RETURN_IF_ERROR(write_new_file(env, join(to, e.name), *text, sync));
    }
  }
  return Status::ok();
}

Status Store::Impl::ensure_tree() {
  MLRUNS_RETURN_IF_ERROR(env->create_dirs(layout.root));
  auto info = env->stat(layout.root, /*follow_symlinks=*/true);
  if (!info) return info.error();
  if (info->type != FileType::kDirectory)
    return Status::invalid_argument("tracking root '" + layout.root + "'", "is not a directory");
  Status s = env->create_dir(layout.trash());
  if (!s.is_ok() && s.code() != Code::kAlreadyExists) return s;
  if (!exists(*env, layout.experiment_dir("0")) && !exists(*env, layout.experiment_dir("0", true))) {
    s = build_experiment("0", "Default", {}, "", env->now_ms());
    if (!s.is_ok() && s.code() != Code::kAlreadyExists) return s;  // another process made it
  }
  return Status::ok();
}

void Store::Impl::register_run(const std::shared_ptr<ActiveRun::State>& state) {
  std::lock_guard<std::mutex> lock(runs_mu);
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const auto& w) { return w.expired(); }), runs.end());
  runs.push_back(state);
}

// --------------------------------------------------------------- Store ----

Store::Store(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store Store::open(StoreOptions options) {
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  if (impl->options.errors == ErrorMode::kCount && !impl->options.on_error)
    impl->options.on_error = summarize_errors();  // failures are never silent, nor one line per call
  impl->env = impl->options.env ? impl->options.env : Env::posix();
  auto root = resolve_tracking_root(impl->options.tracking_uri, impl->env);
  if (!root) {
    impl->open_status = root.error();
  } else if (Status a = impl->resolve_artifact_root(); !a.is_ok()) {
    impl->open_status = a;
  } else {
    impl->layout.root = *root;
    // Every later call goes through the Env confined to the tree (env.h),
    // unless the caller gave an Env of its own.
    if (!impl->options.env) {
      impl->owned_env = Env::posix_beneath(*root);
      impl->env = impl->owned_env.get();
    }
    impl->open_status = impl->ensure_tree();
    // The tree's path once: most failures already name it (or a path in it),
    // as "<path>: <reason>"; only one that does not gets it as context.
    if (!impl->open_status.is_ok())
      impl->open_status = impl->open_status.with_context(
          impl->open_status.message().find(*root) == std::string::npos ? "opening " + *root : "opening the tree");
  }
  impl->finish(impl->open_status);
  return Store(std::move(impl));
}

bool Store::ok() const { return impl_->open_status.is_ok(); }
Status Store::status() const { return impl_->open_status; }
const std::string& Store::root() const { return impl_->layout.root; }
const StoreOptions& Store::options() const { return impl_->options; }

std::uint64_t Store::failure_count() const { return impl_->failures.load(); }
Status Store::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->error_mu);
  return impl_->last_error;
}

Status Store::flush() {
  Impl& im = *impl_;
  std::vector<std::shared_ptr<ActiveRun::State>> live;
  {
    std::lock_guard<std::mutex> lock(im.runs_mu);
    for (auto& w : im.runs)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  Status first = im.open_status;
  for (auto& s : live) {
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->valid || s->ended) continue;
    Status st = s->flush_locked();
    if (!st.is_ok() && first.is_ok()) first = st;
  }
  return im.finish(first);
}

}  // namespace mlruns
