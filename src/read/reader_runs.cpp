// The Reader's loading of one run (reader_impl.h): meta.yaml, the key folders
// params/, tags/ and metrics/ (only the fields asked for), metric histories
// and dataset inputs. Damage costs only the damaged part, with a warning.
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "format/input_meta.h"
#include "format/layout.h"
#include "format/meta_parse.h"
#include "format/metric_file.h"
#include "mlruns/env.h"
#include "mlruns/key.h"
#include "read/reader_impl.h"

namespace mlruns::detail {

// ---- key folders: params/, tags/, metrics/, <exp>/tags/ (spec §2.4) -------

namespace {

constexpr int kMaxKeyDepth = 64;        // a key is at most 250 characters

// The entries of a key folder (params/, tags/, metrics/): nullopt when it is
// missing (silently), or not a real folder or unreadable (with a warning).
// A confined Env (env.h: Env::unconfined() is another Env) refuses a link, a
// file or a FIFO in the open itself (O_DIRECTORY, O_NOFOLLOW, no link at any
// component), so the folder costs one open, and its type is looked up only
// to word a refusal; any other Env is asked for the type first, so no link is
// ever listed through.
std::optional<std::vector<DirEntry>> list_key_dir(const ReaderContext& ctx, const std::string& dir,
                                                  const char* what) {
  const bool refuses_links = ctx.env->unconfined() != ctx.env;
  auto not_a_folder = [&](FileType t) {
    if (t != FileType::kMissing)
      ctx.warn(dir, std::string("is ") + type_name(t) + ", not a folder; " + what + "s ignored");
  };
  if (!refuses_links) {
    const FileType t = ctx.lstat_type(dir);
    if (t != FileType::kDirectory) {
      not_a_folder(t);
      return std::nullopt;
    }
  }
  auto entries = ctx.env->list_dir(dir);
  if (entries) return std::move(*entries);
  if (entries.error().code() == Code::kNotFound) return std::nullopt;
  if (refuses_links) {
    const FileType t = ctx.lstat_type(dir);
    if (t != FileType::kDirectory) {
      not_a_folder(t);
      return std::nullopt;
    }
  }
  ctx.warn(dir, std::string("cannot list ") + what + " folder: " + entries.error().to_string());
  return std::nullopt;
}

// Calls on_file(key, path) for each regular file below `dir` (listed as
// `entries`) whose relative path is a valid key. Everything else is
// reported and skipped.
template <typename OnFile>
void walk_entries(const ReaderContext& ctx, const std::string& dir, const std::vector<DirEntry>& entries,
                  const std::string& prefix, int depth, const char* what, OnFile&& on_file);

// The same for a folder found inside a key folder (listed here: readdir said it is a folder).
template <typename OnFile>
void walk_keys(const ReaderContext& ctx, const std::string& dir, const std::string& prefix, int depth,
               const char* what, OnFile&& on_file) {
  auto entries = ctx.env->list_dir(dir);
  if (!entries) {
    ctx.warn(dir, std::string("cannot list ") + what + " folder: " + entries.error().to_string());
    return;
  }
  walk_entries(ctx, dir, *entries, prefix, depth, what, on_file);
}

template <typename OnFile>
void walk_entries(const ReaderContext& ctx, const std::string& dir, const std::vector<DirEntry>& entries,
                  const std::string& prefix, int depth, const char* what, OnFile&& on_file) {
  for (const DirEntry& e : entries) {
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
    if (Status s = validate_key_name(what, key, NameRules::kMlflow); !s) {
      ctx.warn(path, s.message() + "; " + what + " ignored");
      continue;
    }
    on_file(key, path);
  }
}

}  // namespace

void read_value_dir(const ReaderContext& ctx, const std::string& dir, const char* what,
                    std::map<std::string, std::string>& out) {
  auto entries = list_key_dir(ctx, dir, what);
  if (!entries) return;
  walk_entries(ctx, dir, *entries, "", 0, what, [&](const std::string& key, const std::string& path) {
    auto text = ctx.read_value(path, what);
    if (!text) {
      ctx.warn(path, "cannot read " + std::string(what) + ": " + ReaderContext::detail_of(text.error(), path));
      return;
    }
    out[key] = std::move(*text);  // whole-file value (spec §2.2)
  });
}

namespace {

void warn_metric_problems(const ReaderContext& ctx, const std::string& path,
                          const MetricFileProblems& problems) {
  if (problems.any()) ctx.warn(path, problems.describe());
}

// Latest value of one metric file; false if none.
// Metric files up to this size (or max_file_bytes if smaller) are read whole
// (open, fstat, one read, close: the fast path of ranking); larger ones are
// streamed (LineStream) whatever their size, so it never becomes memory
// (issue 15 item 3). max_file_bytes limits only files read whole.
constexpr std::uint64_t kWholeMetricBytes = 4 << 20;

// The good points of a metric file, each given to on_point(const
// ParsedPoint&) (whose dataset views die with the call): a file up to
// kWholeMetricBytes is read whole (one read), a larger or sparse one is
// streamed (LineStream, a hole passed over, never read).
template <typename OnPoint>
Result<MetricFileProblems> parse_metric_file(const ReaderContext& ctx, const std::string& path, OnPoint&& on_point) {
  auto text = ctx.env->read_file(path, std::min(kWholeMetricBytes, ctx.options.max_file_bytes), /*no_follow=*/true);
  if (text) return for_each_metric_point(*text, on_point);
  if (text.error().code() != Code::kInvalidArgument ||
      (text.error().message().find("exceeds the limit") == std::string::npos &&
       text.error().message().find("sparse file") == std::string::npos))
    return fail(text.error());
  auto file = ctx.env->new_sequential_file(path);
  if (!file) return fail(file.error());
  LineStream lines(**file);
  return for_each_metric_point(lines, on_point);
}

bool read_latest(const ReaderContext& ctx, const std::string& key, const std::string& path, bool missing_ok,
                 Metric& out) {
  ParsedPoint latest;
  bool found = false;
  std::string name, digest;  // the views of a point die with its call
  auto problems = parse_metric_file(ctx, path, [&](const ParsedPoint& p) {
    if (found && !is_later_point(p, latest)) return;
    latest = p;
    name.assign(p.dataset_name);
    digest.assign(p.dataset_digest);
    found = true;
  });
  if (!problems) {
    if (missing_ok && problems.error().code() == Code::kNotFound) return false;
    // A requested key that names a folder (asked for "val", the tree has
    // "val/acc") is simply not a metric.
    if (missing_ok && ctx.lstat_type(path) == FileType::kDirectory) return false;
    ctx.warn(path, "cannot read metric: " + ReaderContext::detail_of(problems.error(), path));
    return false;
  }
  warn_metric_problems(ctx, path, *problems);
  if (!found) return false;
  latest.dataset_name = name;
  latest.dataset_digest = digest;
  out = to_metric(key, latest);
  return true;
}

// <run_dir>/metrics if it is a real folder; empty if there is none, or if it
// is something else (a link, a file: warned about, never followed).
std::string metrics_folder(const ReaderContext& ctx, const std::string& run_dir) {
  std::string metrics = join(run_dir, "metrics");
  FileType t = ctx.lstat_type(metrics);
  if (t == FileType::kDirectory) return metrics;
  if (t != FileType::kMissing) ctx.warn(metrics, std::string("is ") + type_name(t) + ", not a folder; metrics ignored");
  return {};
}

}  // namespace

Status ReaderContext::visit_history(const std::string& run_dir, std::string_view key,
                                   const std::function<void(const Metric&)>& on_point) const {
  if (Status s = validate_key_name("metric key", key, NameRules::kMlflow); !s) return s;
  const std::string metrics = metrics_folder(*this, run_dir);
  if (metrics.empty()) return Status::ok();
  FileType on_way = path_below(metrics, key);
  if (on_way == FileType::kMissing) return Status::ok();
  if (on_way != FileType::kDirectory)
    return Status::invalid_argument("metric '" + std::string(key) + "'",
                                    "a folder on its path is not a real folder (a symbolic link?); not followed");
  std::string path = join(metrics, key);
  auto file = env->new_sequential_file(path);
  if (!file) {
    if (file.error().code() == Code::kNotFound) return Status::ok();
    return file.error();
  }
  // One chunk and one line at a time: memory does not grow with the file.
  LineStream lines(**file);
  Metric m;
  m.key = std::string(key);
  auto problems = for_each_metric_point(lines, [&](const ParsedPoint& p) {
    m.timestamp = p.timestamp;
    m.value = p.value;
    m.step = p.step;
    m.dataset_name.assign(p.dataset_name);
    m.dataset_digest.assign(p.dataset_digest);
    on_point(m);
  });
  if (!problems) return problems.error();
  warn_metric_problems(*this, path, *problems);
  return Status::ok();
}

Result<std::vector<Metric>> ReaderContext::history(const std::string& run_dir, std::string_view key) const {
  std::vector<Metric> out;
  Status s = visit_history(run_dir, key, [&](const Metric& m) { out.push_back(m); });
  if (!s) return fail(s);
  return out;
}

std::vector<std::string> ReaderContext::metric_keys(const std::string& run_dir) const {
  std::vector<std::string> keys;
  const std::string metrics = metrics_folder(*this, run_dir);
  if (!metrics.empty())
    walk_keys(*this, metrics, "", 0, "metric", [&](const std::string& key, const std::string&) { keys.push_back(key); });
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status ReaderContext::visit_histories(const std::string& run_dir, std::span<const std::string> keys,
                                      const std::function<void(std::size_t, const Metric&)>& on_point) const {
  for (const std::string& key : keys)
    if (Status s = validate_key_name("metric key", key, NameRules::kMlflow); !s) return s;
  const std::string metrics = metrics_folder(*this, run_dir);
  if (metrics.empty()) return Status::ok();
  Metric m;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::string& key = keys[k];
    std::string path = join(metrics, key);
    FileType on_way = path_below(metrics, key);
    if (on_way == FileType::kMissing) continue;
    if (on_way != FileType::kDirectory) {
      warn(path, "a folder on its path is not a real folder (a symbolic link?); not followed");
      continue;
    }
    m.key = key;
    auto problems = parse_metric_file(*this, path, [&](const ParsedPoint& p) {
      m.timestamp = p.timestamp;
      m.value = p.value;
      m.step = p.step;
      // Most lines have no dataset: then the strings stay empty, untouched.
      if (!p.dataset_name.empty() || !m.dataset_name.empty()) m.dataset_name.assign(p.dataset_name);
      if (!p.dataset_digest.empty() || !m.dataset_digest.empty()) m.dataset_digest.assign(p.dataset_digest);
      on_point(k, m);
    });
    if (!problems) {
      if (problems.error().code() == Code::kNotFound) continue;
      warn(path, "cannot read metric: " + detail_of(problems.error(), path));
      continue;
    }
    warn_metric_problems(*this, path, *problems);
  }
  return Status::ok();
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

void ReaderContext::load_fields(const std::string& exp_dir, Run& run, const RunFields& fields,
                                const RunFields& have, DatasetCache* datasets) const {
  const std::string dir = join(exp_dir, run.info.run_id);
  // A metric the run was loaded with (`have`) is not read again, found or not.
  auto had_metric = [&](const std::string& key) {
    return have.all_metrics || std::find(have.metrics.begin(), have.metrics.end(), key) != have.metrics.end();
  };
  const bool want_params = fields.params && !have.params;
  const bool want_tags = fields.tags && !have.tags;
  if (want_params) read_value_dir(*this, join(dir, "params"), "param", run.params);
  if (want_tags) read_value_dir(*this, join(dir, "tags"), "tag", run.tags);
  if (run.info.run_name.empty() && !have.tags) {
    // Runs from before MLflow 1.30 have only the tag (spec §4.4).
    if (fields.tags) {
      auto it = run.tags.find("mlflow.runName");
      if (it != run.tags.end()) run.info.run_name = it->second;
    } else {
      std::string tags = join(dir, "tags");
      if (lstat_type(tags) == FileType::kDirectory) {
        auto name = read_value(join(tags, "mlflow.runName"), "tag");
        if (name) run.info.run_name = std::move(*name);
      }
    }
  }
  if ((fields.all_metrics && !have.all_metrics) ||
      std::any_of(fields.metrics.begin(), fields.metrics.end(), [&](const std::string& k) { return !had_metric(k); })) {
    std::string metrics = join(dir, "metrics");
    if (fields.all_metrics) {
      // One open of metrics/ (list_key_dir), not an lstat, an open and a stat.
      if (auto entries = list_key_dir(*this, metrics, "metric"))
        walk_entries(*this, metrics, *entries, "", 0, "metric", [&](const std::string& key, const std::string& path) {
          if (had_metric(key)) return;
          Metric m;
          if (read_latest(*this, key, path, false, m)) run.metrics.emplace(key, std::move(m));
        });
    } else if (FileType t = lstat_type(metrics); t != FileType::kMissing && t != FileType::kDirectory) {
      if (have.metrics.empty()) warn(metrics, std::string("is ") + type_name(t) + ", not a folder; metrics ignored");
    } else if (t == FileType::kDirectory) {
      for (const std::string& key : fields.metrics) {
        if (had_metric(key) || run.metrics.count(key) || !validate_key_name("metric key", key, NameRules::kMlflow))
          continue;
        if (!safe_below(metrics, key)) continue;
        Metric m;
        if (read_latest(*this, key, join(metrics, key), true, m)) run.metrics.emplace(key, std::move(m));
      }
    }
  }
  if (fields.inputs && !have.inputs) read_inputs(*this, dir, exp_dir, datasets, run.dataset_inputs);
}

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
  load_fields(exp_dir, run, fields, RunFields::info_only(), datasets);
  return std::optional<Run>(std::move(run));
}

}  // namespace mlruns::detail
