// The Reader: lists experiments and runs of an mlruns tree, tolerating every
// MLflow version's layout and damaged or hostile trees (docs/reading.md).
//
// Safety rules, applied everywhere below:
// - Every file is read with no_follow and ReaderOptions::max_file_bytes.
// - A directory is entered only if lstat (or the parent's listing) says it is
//   a real directory: symlinks inside the tree are never followed, so nothing
//   outside the tree is read through them.
// - Damage costs only the damaged part; on_warning says what and where.
//
// Here: the Reader's public calls and the ReaderContext primitives that
// enforce the rules above; the walk over experiments (reader_tree.cpp), the
// loading of runs (reader_runs.cpp) and artifact listings
// (reader_artifacts.cpp) build on them.
#include "mlruns/reader.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "format/layout.h"
#include "format/tracking_uri.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "read/reader_impl.h"
#include "util/parallel.h"

namespace mlruns {
namespace detail {

std::string quoted(std::string_view s) { return "'" + printable_prefix(s, 200) + "'"; }

const char* type_name(FileType t) {
  switch (t) {
    case FileType::kRegular: return "a file";
    case FileType::kDirectory: return "a folder";
    case FileType::kSymlink: return "a symbolic link";
    case FileType::kMissing: return "missing";
    default: return "a special file";
  }
}

void ReaderContext::warn(std::string path, std::string message) const {
  if (!options.on_warning) return;
  Warning w{escape_control(path), escape_control(message)};
  std::lock_guard<std::mutex> lock(*warn_mu);
  options.on_warning(w);
}

FileType ReaderContext::lstat_type(const std::string& path) const {
  auto info = env->stat(path, false);
  if (!info) return FileType::kOther;
  return info->type;
}

Result<std::string> ReaderContext::read_file(const std::string& path, std::uint64_t max) const {
  return env->read_file(path, std::min(max, options.max_file_bytes), /*no_follow=*/true);
}

Result<std::string> ReaderContext::read_value(const std::string& path, const char* what) const {
  const std::uint64_t limit = std::min(options.max_value_bytes, options.max_file_bytes);
  auto whole = read_file(path, limit);
  if (whole || whole.error().code() != Code::kInvalidArgument ||
      whole.error().message().find("exceeds the limit") == std::string::npos || limit == options.max_file_bytes)
    return whole;  // a file above max_file_bytes is not read at all
  if (auto info = env->stat(path, false); info && info->size > options.max_file_bytes)
    return read_file(path, options.max_file_bytes);  // its "exceeds the limit" error
  // Far above MLflow's limits: only the first `limit` bytes are read.
  auto file = env->new_sequential_file(path);
  if (!file) return fail(file.error());
  std::string out(static_cast<std::size_t>(limit) + 1, '\0');  // one byte more: is the cut inside a character?
  std::size_t got = 0;
  while (got < out.size()) {
    auto hole = (*file)->skip_hole();
    if (!hole) return fail(hole.error());
    if (*hole > 0) return fail(Status::invalid_argument(path, "sparse file: a hole (NULs, which no MLflow file holds); not read"));
    auto r = (*file)->read(out.size() - got, out.data() + got);
    if (!r) return fail(r.error());
    if (r->empty()) break;
    if (r->data() != out.data() + got) std::memmove(out.data() + got, r->data(), r->size());
    got += r->size();
  }
  out.resize(utf8_prefix(std::string_view(out.data(), got), static_cast<std::size_t>(limit)).size());
  warn(path, std::string(what) + " value longer than " + std::to_string(limit) +
                 " bytes (MLflow allows 6,000 characters for a param, 8,000 for a tag); only its first " +
                 std::to_string(out.size()) + " bytes are read");
  return out;
}

// kDirectory if every folder on the way from `base` (a real directory) to
// `base/rel` is a real directory, so a read of base/rel with no_follow cannot
// leave the tree; else the type of the first one that is not.
// `rel` is a validated key or artifact path.
FileType ReaderContext::path_below(const std::string& base, std::string_view rel) const {
  std::size_t pos = 0;
  std::string path = base;
  for (;;) {
    std::size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) return FileType::kDirectory;
    path = join(path, rel.substr(pos, slash - pos));
    FileType t = lstat_type(path);
    if (t != FileType::kDirectory) return t;
    pos = slash + 1;
  }
}

bool ReaderContext::safe_below(const std::string& base, std::string_view rel) const {
  return path_below(base, rel) == FileType::kDirectory;
}

std::string ReaderContext::detail_of(const Status& s, const std::string& path) {
  const std::string& m = s.message();
  if (m.size() > path.size() + 2 && m.compare(0, path.size(), path) == 0 && m.compare(path.size(), 2, ": ") == 0)
    return m.substr(path.size() + 2);
  return m;
}

}  // namespace detail

// ---- Reader -------------------------------------------------------------------

using detail::join;

Reader::Reader(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Reader> Reader::open(std::string_view tracking_uri, ReaderOptions options) {
  auto impl = std::make_shared<Impl>();
  const bool options_env_given = options.env != nullptr;
  impl->env = options.env ? options.env : Env::posix();
  auto root = detail::resolve_tracking_root(tracking_uri, impl->env);
  if (!root) return fail(root.error());
  options.env = impl->env;
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  impl->options = std::move(options);
  impl->warn_mu = std::make_shared<std::mutex>();
  auto info = impl->env->stat(*root, /*follow_symlinks=*/true);
  if (!info) return fail(info.error());
  if (info->type == FileType::kMissing)
    return fail(Status::not_found("tracking root '" + *root + "'", "no such directory"));
  if (info->type != FileType::kDirectory)
    return fail(Status::invalid_argument("tracking root '" + *root + "'", "not a directory"));
  auto real = impl->env->real_path(*root);
  if (!real) return fail(real.error());
  impl->layout.root = *real;
  // Every later call goes through the Env confined to the tree (env.h),
  // unless the caller gave an Env of its own.
  if (!options_env_given) {
    impl->owned_env = Env::posix_beneath(*real);
    impl->env = impl->owned_env.get();
    impl->options.env = impl->env;
  }
  return Reader(std::move(impl));
}

const std::string& Reader::root() const { return impl_->layout.root; }
const ReaderOptions& Reader::options() const { return impl_->options; }

Result<std::vector<Experiment>> Reader::experiments(ViewType view) const {
  impl_->new_listing();
  std::vector<Experiment> out;
  for (bool deleted : {false, true}) {
    if (deleted && view == ViewType::kActiveOnly) continue;
    if (!deleted && view == ViewType::kDeletedOnly) continue;
    if (deleted && !impl_->trash_usable(true)) continue;
    std::string base = deleted ? impl_->layout.trash() : impl_->layout.root;
    for (const std::string& id : impl_->experiment_dirs(base))
      if (auto e = impl_->load_experiment(base, id, deleted)) out.push_back(std::move(*e));
  }
  // creation_time DESC with missing times last, then experiment_id ASC as
  // strings (spec §10.1).
  std::stable_sort(out.begin(), out.end(), [](const Experiment& a, const Experiment& b) {
    if (a.creation_time.has_value() != b.creation_time.has_value()) return a.creation_time.has_value();
    if (a.creation_time && *a.creation_time != *b.creation_time) return *a.creation_time > *b.creation_time;
    return a.experiment_id < b.experiment_id;
  });
  return out;
}

Result<Experiment> Reader::experiment(std::string_view experiment_id) const {
  if (Status s = validate_experiment_id(experiment_id); !s) return fail(s);
  auto loc = impl_->experiment_location(experiment_id);
  if (!loc) return fail(Status::not_found("experiment '" + std::string(experiment_id) + "'", "no such experiment"));
  auto e = impl_->load_experiment(loc->first, std::string(experiment_id), loc->second);
  if (!e)
    return fail(Status::corruption("experiment '" + std::string(experiment_id) + "'",
                                   "its meta.yaml is unreadable (see warnings)"));
  return std::move(*e);
}

Result<Experiment> Reader::experiment_by_name(std::string_view name) const {
  // The first match in the default order, as MLflow (spec §11): the newest.
  auto all = experiments(ViewType::kAll);
  if (!all) return fail(all.error());
  for (Experiment& e : *all)
    if (e.name == name && e.lifecycle_stage == LifecycleStage::kActive) return std::move(e);
  for (Experiment& e : *all)
    if (e.name == name) return std::move(e);
  return fail(Status::not_found("experiment named '" + std::string(name) + "'", "no such experiment"));
}

Result<Experiment> Reader::find_experiment(std::string_view name_or_id) const {
  if (validate_experiment_id(name_or_id) && impl_->experiment_location(name_or_id)) {
    auto e = experiment(name_or_id);
    if (e) return e;
  }
  return experiment_by_name(name_or_id);
}

Result<std::vector<Run>> Reader::runs(const std::vector<std::string>& experiment_ids, ViewType view,
                                      const RunFields& fields) const {
  struct Job {
    std::size_t exp;  // index into exp_dirs
    std::string run;
  };
  impl_->new_listing();
  std::vector<std::pair<std::string, std::string>> exp_dirs;  // (dir, id)
  std::vector<Job> jobs;
  std::set<std::string> seen;
  for (const std::string& id : experiment_ids) {
    if (!seen.insert(id).second) continue;
    if (Status s = validate_experiment_id(id); !s) return fail(s);
    auto loc = impl_->experiment_location(id);
    if (!loc) return fail(Status::not_found("experiment '" + id + "'", "no such experiment in " + root()));
    std::string dir = join(loc->first, id);
    auto entries = impl_->env->list_dir(dir);
    if (!entries) return fail(entries.error());
    exp_dirs.emplace_back(dir, id);
    // Sorted by folder name: the same tree gives the same order every time.
    std::sort(entries->begin(), entries->end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    for (const DirEntry& e : *entries) {
      if (e.type == FileType::kRegular) continue;  // meta.yaml, stray files: not runs
      if (detail::is_reserved_experiment_folder(e.name)) continue;
      std::string path = join(dir, e.name);
      if (e.type == FileType::kSymlink) {
        impl_->warn(path, "symbolic link; not followed, not read as a run");
        continue;
      }
      if (e.type != FileType::kDirectory) continue;
      if (Status s = validate_run_id(e.name); !s) {
        impl_->warn(path, "folder is not a run (" + s.message() + "); ignored");
        continue;
      }
      jobs.push_back(Job{exp_dirs.size() - 1, e.name});
    }
  }
  std::vector<std::optional<Run>> slots(jobs.size());
  detail::DatasetCache datasets;
  auto work = [&](std::size_t i) {
    const Job& job = jobs[i];
    const auto& [dir, id] = exp_dirs[job.exp];
    auto run = impl_->load_run(dir, id, job.run, view, fields, &datasets);
    if (!run) {
      const Status& s = run.error();
      // A folder without meta.yaml is not a run (MLflow skips it quietly);
      // say so all the same, it may be a run being created or a stray folder.
      std::string meta = join(join(dir, job.run), detail::kMetaFile);
      if (s.code() == Code::kNotFound) impl_->warn(join(dir, job.run), "folder has no meta.yaml; not a run, skipped");
      else impl_->warn(meta, detail::ReaderContext::detail_of(s, meta) + "; run skipped");
      return;
    }
    slots[i] = std::move(*run);
  };
  // Runs are handed out in small batches: cheap to balance, few atomics.
  constexpr std::size_t kBatch = 8;
  detail::parallel_for(jobs.size(), impl_->options.threads, work, kBatch);
  std::vector<Run> out;
  out.reserve(slots.size());
  for (auto& s : slots)
    if (s) out.push_back(std::move(*s));
  return out;
}

void Reader::complete_runs(std::span<Run> runs, const RunFields& have, const RunFields& fields) const {
  // Each experiment's folder looked up once (runs() gave each run's experiment_id).
  std::map<std::string, std::optional<std::string>> exp_dirs;
  std::vector<const std::optional<std::string>*> dir_of(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto [it, added] = exp_dirs.try_emplace(runs[i].info.experiment_id);
    if (added && validate_experiment_id(it->first))
      if (auto loc = impl_->experiment_location(it->first)) it->second = join(loc->first, it->first);
    dir_of[i] = &it->second;
  }
  detail::DatasetCache datasets;
  unsigned workers = std::min<unsigned>(detail::worker_count(runs.size()), impl_->options.threads);
  detail::parallel_for(runs.size(), workers, [&](std::size_t i) {
    if (*dir_of[i]) impl_->load_fields(**dir_of[i], runs[i], fields, have, &datasets);
  }, 8);
}

Result<Run> Reader::run(std::string_view run_id) const {
  std::string exp_id;
  auto dir = impl_->find_run_dir(run_id, &exp_id);
  if (!dir) return fail(dir.error());
  std::string exp_dir = dir->substr(0, dir->size() - run_id.size() - 1);
  auto run = impl_->load_run(exp_dir, exp_id, std::string(run_id), ViewType::kAll, RunFields::everything());
  if (!run) return fail(run.error());
  return std::move(**run);
}

Result<std::vector<Metric>> Reader::metric_history(std::string_view run_id, std::string_view key) const {
  auto dir = impl_->find_run_dir(run_id, nullptr);
  if (!dir) return fail(dir.error());
  return impl_->history(*dir, key);
}

Status Reader::for_each_metric_point(std::string_view run_id, std::string_view key,
                                     const std::function<void(const Metric&)>& on_point) const {
  auto dir = impl_->find_run_dir(run_id, nullptr);
  if (!dir) return dir.error();
  return impl_->visit_history(*dir, key, on_point);
}

Result<std::vector<std::string>> Reader::metric_keys(std::string_view run_id) const {
  auto dir = impl_->find_run_dir(run_id, nullptr);
  if (!dir) return fail(dir.error());
  return impl_->metric_keys(*dir);
}

Status Reader::for_each_metric_point(std::string_view run_id, std::span<const std::string> keys,
                                     const std::function<void(std::size_t, const Metric&)>& on_point) const {
  auto dir = impl_->find_run_dir(run_id, nullptr);
  if (!dir) return dir.error();
  return impl_->visit_histories(*dir, keys, on_point);
}

Result<std::string> Reader::artifact_root(std::string_view run_id) const {
  auto dir = impl_->find_run_dir(run_id, nullptr);
  if (!dir) return fail(dir.error());
  return impl_->artifact_root_of(*dir, run_id);
}

Result<std::vector<ArtifactEntry>> Reader::list_artifacts(std::string_view run_id, std::string_view path,
                                                          bool recursive) const {
  if (Status s = validate_artifact_path(path); !s) return fail(s);
  auto root_dir = artifact_root(run_id);
  if (!root_dir) return fail(root_dir.error());
  return impl_->list_artifacts_in(*root_dir, path, recursive);
}

}  // namespace mlruns
