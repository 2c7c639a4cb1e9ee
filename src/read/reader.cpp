// The Reader: lists experiments and runs of an mlruns tree, tolerating every
// MLflow version's layout and damaged or hostile trees (docs/reading.md).
//
// Safety rules, applied everywhere below:
// - Every file is read with no_follow and ReaderOptions::max_file_bytes.
// - A directory is entered only if lstat (or the parent's listing) says it is
//   a real directory: symlinks inside the tree are never followed, so nothing
//   outside the tree is read through them.
// - Damage costs only the damaged part; on_warning says what and where.
#include "mlruns/reader.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "format/file_uri.h"
#include "format/input_meta.h"
#include "format/layout.h"
#include "format/meta_parse.h"
#include "format/metric_file.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "util/parallel.h"
#include "read/reader_impl.h"
#include "format/tracking_uri.h"

namespace mlruns {
namespace detail {
namespace {

constexpr int kMaxKeyDepth = 64;        // a key is at most 250 characters
constexpr int kMaxArtifactDepth = 256;  // deeper trees are cut with a warning
// MLflow retries an empty meta.yaml after 0.1 s and 0.2 s (spec §11, §14.9):
// it may be caught between truncate and write.
constexpr int kEmptyMetaRetryMs[] = {100, 200};
constexpr std::int64_t kRecentMetaMs = 10000;

std::string quoted(std::string_view s) { return "'" + escape_control(s) + "'"; }

const char* type_name(FileType t) {
  switch (t) {
    case FileType::kRegular: return "a file";
    case FileType::kDirectory: return "a folder";
    case FileType::kSymlink: return "a symbolic link";
    case FileType::kMissing: return "missing";
    default: return "a special file";
  }
}

}  // namespace

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

Result<std::string> ReaderContext::read_file(const std::string& path) const {
  return env->read_file(path, options.max_file_bytes, /*no_follow=*/true);
}

// ---- key folders: params/, tags/, metrics/, <exp>/tags/ (spec §2.4) -------

namespace {

// Walks `dir` (known to be a real directory) and calls on_file(key, path) for
// each regular file whose relative path is a valid key. Everything else is
// reported and skipped.
template <typename OnFile>
void walk_keys(const ReaderContext& ctx, const std::string& dir, const std::string& prefix, int depth,
               const char* what, OnFile&& on_file) {
  auto entries = ctx.env->list_dir(dir);
  if (!entries) {
    ctx.warn(dir, std::string("cannot list ") + what + " folder: " + entries.error().to_string());
    return;
  }
  for (const DirEntry& e : *entries) {
    std::string path = join(dir, e.name);
    std::string key = prefix.empty() ? e.name : prefix + "/" + e.name;
    // Inside params/, tags/ or metrics/ MLflow would take litter for keys (spec §2.4, §14.5).
    if (is_litter_name(e.name)) {
      ctx.warn(path, std::string("stray ") + type_name(e.type) + ", not a " + what + "; ignored");
      continue;
    }
    if (e.type == FileType::kSymlink) {
      ctx.warn(path, "symbolic link; not followed, " + std::string(what) + " ignored");
      continue;
    }
    if (e.type == FileType::kDirectory) {
      if (depth >= kMaxKeyDepth) {
        ctx.warn(path, "folders nested too deeply for a key; ignored");
        continue;
      }
      walk_keys(ctx, path, key, depth + 1, what, on_file);
      continue;
    }
    if (e.type != FileType::kRegular) {
      ctx.warn(path, std::string("not a regular file; ") + what + " ignored");
      continue;
    }
    // Readers re-validate keys (spec §6.1); MLflow fails the whole run here.
    if (Status s = validate_key(what, key, NameRules::kMlflow); !s) {
      ctx.warn(path, s.message() + "; " + what + " ignored");
      continue;
    }
    on_file(key, path);
  }
}

void read_value_dir(const ReaderContext& ctx, const std::string& dir, const char* what,
                    std::map<std::string, std::string>& out) {
  FileType t = ctx.lstat_type(dir);
  if (t == FileType::kMissing) return;
  if (t != FileType::kDirectory) {
    ctx.warn(dir, std::string("is ") + type_name(t) + ", not a folder; " + what + "s ignored");
    return;
  }
  walk_keys(ctx, dir, "", 0, what, [&](const std::string& key, const std::string& path) {
    auto text = ctx.read_file(path);
    if (!text) {
      ctx.warn(path, "cannot read " + std::string(what) + ": " + ReaderContext::detail_of(text.error(), path));
      return;
    }
    out[key] = std::move(*text);  // whole-file value (spec §2.2)
  });
}

void warn_metric_problems(const ReaderContext& ctx, const std::string& path,
                          const MetricFileProblems& problems) {
  if (problems.any()) ctx.warn(path, problems.describe());
}

// Latest value of one metric file; false if none.
bool read_latest(const ReaderContext& ctx, const std::string& key, const std::string& path, bool missing_ok,
                 Metric& out) {
  auto text = ctx.read_file(path);
  if (!text) {
    if (missing_ok && text.error().code() == Code::kNotFound) return false;
    // A requested key that names a folder (asked for "val", the tree has
    // "val/acc") is simply not a metric.
    if (missing_ok && ctx.lstat_type(path) == FileType::kDirectory) return false;
    ctx.warn(path, "cannot read metric: " + ReaderContext::detail_of(text.error(), path));
    return false;
  }
  ParsedPoint p;
  MetricFileProblems problems;
  bool found = latest_metric_point(*text, p, problems);
  warn_metric_problems(ctx, path, problems);
  if (!found) return false;
  out = to_metric(key, p);
  return true;
}

}  // namespace

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

Result<std::vector<Metric>> ReaderContext::history(const std::string& run_dir, std::string_view key) const {
  if (Status s = validate_key("metric key", key, NameRules::kMlflow); !s) return fail(s);
  std::string metrics = join(run_dir, "metrics");
  FileType t = lstat_type(metrics);
  if (t == FileType::kMissing) return std::vector<Metric>{};
  if (t != FileType::kDirectory) {
    warn(metrics, std::string("is ") + type_name(t) + ", not a folder; metrics ignored");
    return std::vector<Metric>{};
  }
  FileType on_way = path_below(metrics, key);
  if (on_way == FileType::kMissing) return std::vector<Metric>{};
  if (on_way != FileType::kDirectory)
    return fail(Status::invalid_argument("metric '" + std::string(key) + "'",
                                         "a folder on its path is not a real folder (a symbolic link?); not followed"));
  std::string path = join(metrics, key);
  auto text = read_file(path);
  if (!text) {
    if (text.error().code() == Code::kNotFound) return std::vector<Metric>{};
    return fail(text.error());
  }
  MetricFileProblems problems;
  std::vector<Metric> out = metric_history_points(key, *text, problems);
  warn_metric_problems(*this, path, problems);
  return out;
}

// ---- meta.yaml --------------------------------------------------------------

Result<std::string> ReaderContext::read_meta(const std::string& path) const {
  auto text = read_file(path);
  if (!text || !text->empty()) return text;
  // Only a file written in the last few seconds may be mid-write; an old
  // empty one (a job killed between truncate and write) stays empty, and
  // waiting for each of many such runs would stall the listing.
  auto info = env->stat(path, false);
  if (!info || env->now_ms() - info->mtime_ms > kRecentMetaMs) return text;
  for (int delay : kEmptyMetaRetryMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    text = read_file(path);
    if (!text || !text->empty()) break;
  }
  return text;
}

std::optional<Experiment> ReaderContext::load_experiment(const std::string& base, const std::string& id,
                                                         bool in_trash) const {
  std::string dir = join(base, id);
  std::string meta_path = join(dir, kMetaFile);
  auto text = read_meta(meta_path);
  if (!text) {
    warn(meta_path, text.error().code() == Code::kNotFound
                        ? "no meta.yaml; experiment skipped"
                        : "cannot read: " + detail_of(text.error(), meta_path) + "; experiment skipped");
    return std::nullopt;
  }
  std::vector<std::string> problems;
  auto e = parse_experiment_meta(*text, in_trash, &problems);
  if (!e) {
    warn(meta_path, e.error().message() + "; experiment skipped");
    return std::nullopt;
  }
  for (const std::string& p : problems) warn(meta_path, p);
  if (e->experiment_id != id) {
    // MLflow >= 2.0 skips it too (spec §3.2).
    warn(meta_path, "experiment_id " + quoted(e->experiment_id) + " does not match the folder name " + quoted(id) +
                        "; experiment skipped");
    return std::nullopt;
  }
  read_value_dir(*this, join(dir, "tags"), "experiment tag", e->tags);
  return std::move(*e);
}

std::vector<std::string> ReaderContext::experiment_dirs(const std::string& base) const {
  std::vector<std::string> out;
  auto entries = env->list_dir(base);
  if (!entries) {
    if (entries.error().code() != Code::kNotFound) warn(base, "cannot list: " + entries.error().to_string());
    return out;
  }
  for (const DirEntry& e : *entries) {
    std::string_view name = e.name;
    if (name.size() >= kTrashDir.size() && name.substr(name.size() - kTrashDir.size()) == kTrashDir) continue;
    if (name == "models") continue;  // the model registry (spec §1.2)
    if (e.type == FileType::kSymlink) {
      warn(join(base, e.name), "symbolic link; not followed, not read as an experiment");
      continue;
    }
    if (e.type != FileType::kDirectory) continue;  // files at root level are ignored, as MLflow does
    if (Status s = validate_experiment_id(e.name); !s) {
      // MLflow fails search_experiments for the whole store here (spec §1.2, §14.7).
      warn(join(base, e.name), "folder is not an experiment (" + s.message() + "); ignored");
      continue;
    }
    out.push_back(e.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- runs ---------------------------------------------------------------------

namespace {

// <dataset dir>/meta.yaml, or nullopt after a warning naming it.
std::optional<Dataset> read_dataset_meta(const ReaderContext& ctx, const std::string& dir) {
  std::string dataset_meta = join(dir, kMetaFile);
  auto text = ctx.read_meta(dataset_meta);
  if (!text) {
    ctx.warn(dataset_meta, text.error().code() == Code::kNotFound
                               ? "no meta.yaml; dataset not read"
                               : "cannot read: " + ReaderContext::detail_of(text.error(), dataset_meta) +
                                     "; dataset not read");
    return std::nullopt;
  }
  std::vector<std::string> problems;
  auto dataset = parse_dataset_meta(*text, &problems);
  if (!dataset) {
    ctx.warn(dataset_meta, dataset.error().message() + "; dataset not read");
    return std::nullopt;
  }
  for (const std::string& p : problems) ctx.warn(dataset_meta, p);
  return std::move(*dataset);
}

// The dataset an input links to, or nullopt after a warning naming `meta`
// (the input's meta.yaml) or the dataset's own files.
std::optional<Dataset> read_dataset(const ReaderContext& ctx, const std::string& datasets, const std::string& id,
                                    const std::string& meta, DatasetCache* cache) {
  std::string dir = join(datasets, id);
  FileType t = ctx.lstat_type(dir);
  if (t == FileType::kMissing) {
    // MLflow too skips such an input with a warning (spec §10.6).
    ctx.warn(meta, "dataset " + quoted(id) + " not found in " + datasets + "; input ignored");
    return std::nullopt;
  }
  if (t == FileType::kSymlink) {
    ctx.warn(dir, "symbolic link; not followed, dataset not read");
    return std::nullopt;
  }
  if (t != FileType::kDirectory) {
    ctx.warn(dir, std::string("is ") + type_name(t) + ", not a folder; dataset not read");
    return std::nullopt;
  }
  if (!cache) return read_dataset_meta(ctx, dir);
  {
    std::lock_guard<std::mutex> lock(cache->mu);
    auto it = cache->by_dir.find(dir);
    if (it != cache->by_dir.end()) return it->second;
  }
  // Read outside the lock; two workers may both read it once.
  std::optional<Dataset> dataset = read_dataset_meta(ctx, dir);
  std::lock_guard<std::mutex> lock(cache->mu);
  return cache->by_dir.emplace(dir, std::move(dataset)).first->second;
}

// Run::dataset_inputs from <run>/inputs/ and <exp>/datasets/ (spec §9.1),
// ordered by input folder name. Model inputs (MLflow >= 3.0) are skipped.
void read_inputs(const ReaderContext& ctx, const std::string& run_dir, const std::string& exp_dir,
                 DatasetCache* cache, std::vector<DatasetInput>& out) {
  std::string inputs = join(run_dir, "inputs");
  FileType t = ctx.lstat_type(inputs);
  if (t == FileType::kMissing) return;
  if (t != FileType::kDirectory) {
    ctx.warn(inputs, std::string("is ") + type_name(t) + ", not a folder; inputs ignored");
    return;
  }
  auto entries = ctx.env->list_dir(inputs);
  if (!entries) {
    ctx.warn(inputs, "cannot list inputs folder: " + entries.error().to_string());
    return;
  }
  std::sort(entries->begin(), entries->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  const std::string datasets = join(exp_dir, "datasets");
  std::optional<FileType> datasets_type;  // looked up once, when first needed
  for (const DirEntry& e : *entries) {
    std::string path = join(inputs, e.name);
    if (is_litter_name(e.name)) {
      ctx.warn(path, std::string("stray ") + type_name(e.type) + ", not an input; ignored");
      continue;
    }
    if (e.type == FileType::kSymlink) {
      ctx.warn(path, "symbolic link; not followed, input ignored");
      continue;
    }
    if (e.type != FileType::kDirectory) {
      ctx.warn(path, std::string("is ") + type_name(e.type) + ", not an input folder; ignored");
      continue;
    }
    std::string meta = join(path, kMetaFile);
    auto text = ctx.read_meta(meta);
    if (!text) {
      ctx.warn(meta, text.error().code() == Code::kNotFound
                         ? "no meta.yaml; input ignored"
                         : "cannot read: " + ReaderContext::detail_of(text.error(), meta) + "; input ignored");
      continue;
    }
    std::vector<std::string> problems;
    auto link = parse_input_meta(*text, &problems);
    if (!link) {
      ctx.warn(meta, link.error().message() + "; input ignored");
      continue;
    }
    for (const std::string& p : problems) ctx.warn(meta, p);
    if (link->source_type == "MODEL") continue;  // a model input, not a dataset (spec §9.1)
    if (link->source_type != "DATASET") {
      ctx.warn(meta, "source_type " + quoted(link->source_type) + " is neither DATASET nor MODEL; input ignored");
      continue;
    }
    // The id becomes a path: one plain folder name, nothing else.
    if (!is_valid_dataset_id(link->source_id)) {
      ctx.warn(meta, "source_id " + quoted(link->source_id) + " is not a valid dataset folder name; input ignored");
      continue;
    }
    if (!datasets_type) {
      datasets_type = ctx.lstat_type(datasets);
      if (*datasets_type != FileType::kDirectory && *datasets_type != FileType::kMissing)
        ctx.warn(datasets, std::string("is ") + type_name(*datasets_type) + ", not a folder; datasets not read");
    }
    if (*datasets_type == FileType::kMissing) {
      ctx.warn(meta, "dataset " + quoted(link->source_id) + " not found: the experiment has no datasets folder; "
                     "input ignored");
      continue;
    }
    if (*datasets_type != FileType::kDirectory) continue;
    auto dataset = read_dataset(ctx, datasets, link->source_id, meta, cache);
    if (!dataset) continue;
    out.push_back(DatasetInput{std::move(*dataset), std::move(link->tags)});
  }
}

}  // namespace

Result<std::optional<Run>> ReaderContext::load_run(const std::string& exp_dir, const std::string& exp_id,
                                                   const std::string& run_name, ViewType view,
                                                   const RunFields& fields, DatasetCache* datasets) const {
  std::string dir = join(exp_dir, run_name);
  std::string meta_path = join(dir, kMetaFile);
  auto text = read_meta(meta_path);
  if (!text) {
    if (text.error().code() == Code::kNotFound) return fail(Status::not_found(meta_path, "no meta.yaml; not a run"));
    return fail(Status::corruption(meta_path, "cannot read: " + detail_of(text.error(), meta_path)));
  }
  std::vector<std::string> problems;
  auto info = parse_run_meta(*text, &problems);
  if (!info) return fail(Status::corruption(meta_path, info.error().message()));
  if (info->run_id != run_name)
    return fail(Status::corruption(meta_path, "run_id " + quoted(info->run_id) + " does not match the folder name " +
                                                  quoted(run_name)));
  if (info->experiment_id.empty()) {
    info->experiment_id = exp_id;
  } else if (info->experiment_id != exp_id) {
    // MLflow skips such a run in searches and refuses it in get_run (spec §10.2, §10.4).
    return fail(Status::corruption(meta_path, "experiment_id " + quoted(info->experiment_id) +
                                                  " does not match the experiment folder " + quoted(exp_id)));
  }
  for (const std::string& p : problems) warn(meta_path, p);
  if (view == ViewType::kActiveOnly && info->lifecycle_stage != LifecycleStage::kActive) return std::optional<Run>();
  if (view == ViewType::kDeletedOnly && info->lifecycle_stage != LifecycleStage::kDeleted) return std::optional<Run>();

  Run run;
  run.info = std::move(*info);
  if (fields.params) read_value_dir(*this, join(dir, "params"), "param", run.params);
  if (fields.tags) read_value_dir(*this, join(dir, "tags"), "tag", run.tags);
  if (run.info.run_name.empty()) {
    // Runs from before MLflow 1.30 have only the tag (spec §4.4).
    if (fields.tags) {
      auto it = run.tags.find("mlflow.runName");
      if (it != run.tags.end()) run.info.run_name = it->second;
    } else {
      std::string tags = join(dir, "tags");
      if (lstat_type(tags) == FileType::kDirectory) {
        auto name = read_file(join(tags, "mlflow.runName"));
        if (name) run.info.run_name = std::move(*name);
      }
    }
  }
  if (fields.all_metrics || !fields.metrics.empty()) {
    std::string metrics = join(dir, "metrics");
    FileType t = lstat_type(metrics);
    if (t != FileType::kMissing && t != FileType::kDirectory) {
      warn(metrics, std::string("is ") + type_name(t) + ", not a folder; metrics ignored");
    } else if (t == FileType::kDirectory && fields.all_metrics) {
      walk_keys(*this, metrics, "", 0, "metric", [&](const std::string& key, const std::string& path) {
        Metric m;
        if (read_latest(*this, key, path, false, m)) run.metrics.emplace(key, std::move(m));
      });
    } else if (t == FileType::kDirectory) {
      for (const std::string& key : fields.metrics) {
        if (run.metrics.count(key) || !is_valid_key(key, NameRules::kMlflow)) continue;
        if (!safe_below(metrics, key)) continue;
        Metric m;
        if (read_latest(*this, key, join(metrics, key), true, m)) run.metrics.emplace(key, std::move(m));
      }
    }
  }
  if (fields.inputs) read_inputs(*this, dir, exp_dir, datasets, run.dataset_inputs);
  return std::optional<Run>(std::move(run));
}

// .trash is entered only if it is a real folder: a symlink could lead anywhere.
bool ReaderContext::trash_usable(bool report) const {
  FileType t = lstat_type(layout.trash());
  if (t == FileType::kDirectory) return true;
  if (report && t != FileType::kMissing)
    warn(layout.trash(), std::string("is ") + type_name(t) + ", not a folder; deleted experiments not read");
  return false;
}

// <root>/<id> if it is an experiment folder, else <root>/.trash/<id>.
std::optional<std::pair<std::string, bool>> ReaderContext::experiment_location(std::string_view id) const {
  for (bool deleted : {false, true}) {
    if (deleted && !trash_usable(false)) break;
    std::string base = deleted ? layout.trash() : layout.root;
    std::string dir = join(base, id);
    FileType t = lstat_type(dir);
    if (t == FileType::kDirectory) return std::make_pair(base, deleted);
    if (t == FileType::kSymlink) warn(dir, "symbolic link; not followed, not read as an experiment");
  }
  return std::nullopt;
}

Result<std::string> ReaderContext::find_run_dir(std::string_view run_id, std::string* exp_id) const {
  if (Status s = validate_run_id(run_id); !s) return fail(s);
  for (bool deleted : {false, true}) {
    if (deleted && !trash_usable(false)) break;
    std::string base = deleted ? layout.trash() : layout.root;
    for (const std::string& exp : experiment_dirs_quiet(base)) {
      std::string dir = join(join(base, exp), run_id);
      if (lstat_type(dir) != FileType::kDirectory) continue;
      if (lstat_type(join(dir, kMetaFile)) != FileType::kRegular) continue;
      if (exp_id) *exp_id = exp;
      return dir;
    }
  }
  return fail(Status::not_found("run '" + std::string(run_id) + "'", "no such run in " + layout.root));
}

std::vector<std::string> ReaderContext::experiment_dirs_quiet(const std::string& base) const {
  std::vector<std::string> out;
  auto entries = env->list_dir(base);
  if (!entries) return out;
  for (const DirEntry& e : *entries) {
    if (e.type != FileType::kDirectory || e.name == "models" || e.name == kTrashDir) continue;
    if (validate_experiment_id(e.name)) out.push_back(e.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace detail

// ---- Reader -------------------------------------------------------------------

using detail::join;

struct Reader::Impl : detail::ReaderContext {};

Reader::Reader(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Reader> Reader::open(std::string_view tracking_uri, ReaderOptions options) {
  auto impl = std::make_shared<Impl>();
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
  return Reader(std::move(impl));
}

const std::string& Reader::root() const { return impl_->layout.root; }
const ReaderOptions& Reader::options() const { return impl_->options; }

Result<std::vector<Experiment>> Reader::experiments(ViewType view) const {
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

namespace detail {

// The stored artifact_uri is used only if it is a local path that exists and
// ends with /<run_id>/artifacts: that is how MLflow builds every run's URI
// (spec §8.1), so a hostile meta.yaml cannot point the reader at an arbitrary
// folder (/etc, $HOME). Otherwise the folder inside the tree is used, which
// covers trees that were moved or rsynced (spec §8.2, §14.12).
Result<std::string> ReaderContext::artifact_root_of(const std::string& run_dir, std::string_view run_id) const {
  std::string in_tree = join(run_dir, "artifacts");
  auto text = read_file(join(run_dir, kMetaFile));
  std::string uri;
  if (text) {
    if (auto info = parse_run_meta(*text)) uri = info->artifact_uri;
  }
  if (!uri.empty()) {
    auto path = file_uri_to_path(uri);
    std::string suffix = "/" + std::string(run_id) + "/artifacts";
    if (path) {
      while (path->size() > 1 && path->back() == '/') path->pop_back();
      bool shaped = path->size() > suffix.size() && path->compare(path->size() - suffix.size(), suffix.size(), suffix) == 0 &&
                    path->find("/../") == std::string::npos && path->find("/./") == std::string::npos;
      if (shaped) {
        auto info = env->stat(*path, /*follow_symlinks=*/true);
        if (info && info->type == FileType::kDirectory) return *path;
      } else {
        warn(join(run_dir, kMetaFile), "artifact_uri " + quoted(uri) + " does not end with " + suffix +
                                           "; using the artifacts folder inside the tree");
      }
    } else if (uri.find("://") != std::string::npos || uri.substr(0, 17) == "mlflow-artifacts:") {
      warn(join(run_dir, kMetaFile), "artifact_uri " + quoted(uri) +
                                         " is not on this machine; using the artifacts folder inside the tree");
    }
  }
  FileType t = lstat_type(in_tree);
  if (t == FileType::kSymlink)
    return fail(Status::invalid_argument(in_tree, "is a symbolic link; not followed (it could leave the tree)"));
  return in_tree;
}

namespace {

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

}  // namespace detail
}  // namespace mlruns
