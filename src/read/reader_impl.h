// What a Reader holds, and the tree-walking helpers that the Reader's files
// (reader.cpp: the public calls and the safety primitives; reader_tree.cpp,
// reader_runs.cpp, reader_artifacts.cpp) and download.cpp share. Internal.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/layout.h"
#include "mlruns/env.h"
#include "mlruns/reader.h"
#include "util/printable.h"

namespace mlruns::detail {

// Datasets read during one listing, by folder: the runs of a sweep usually
// log the same dataset, whose schema may be 1 MiB. Shared by the workers.
struct DatasetCache {
  std::mutex mu;
  std::map<std::string, std::optional<Dataset>> by_dir;  // nullopt: unreadable (warned once)
};

struct ReaderContext {
  Env* env = nullptr;             // owned_env, or ReaderOptions::env
  std::shared_ptr<Env> owned_env;  // Env::posix_beneath(root)
  Layout layout;
  ReaderOptions options;
  std::shared_ptr<std::mutex> warn_mu;  // on_warning is never called concurrently
  // Empty meta.yaml files still to wait for in this listing (read_meta);
  // refilled by each public listing call.
  static constexpr int kEmptyMetaRetries = 4;
  std::shared_ptr<std::atomic<int>> empty_meta_retries = std::make_shared<std::atomic<int>>(kEmptyMetaRetries);
  void new_listing() const { empty_meta_retries->store(kEmptyMetaRetries, std::memory_order_relaxed); }

  void warn(std::string path, std::string message) const;
  // lstat type; kOther if the call fails.
  FileType lstat_type(const std::string& path) const;
  // meta.yaml files above this are not read (run and experiment meta.yaml
  // files are refused by their parser above 1 MiB, a dataset's above 4 MiB).
  static constexpr std::uint64_t kMaxMetaBytes = 4u << 20;
  // A whole file, no_follow, at most min(max, options.max_file_bytes).
  Result<std::string> read_file(const std::string& path, std::uint64_t max = kMaxMetaBytes) const;
  // A param or tag value: the whole file, or its first options.max_value_bytes
  // (cut at a UTF-8 boundary, with a warning naming `what`). A sparse file is
  // an error (a hole is NULs), never read.
  Result<std::string> read_value(const std::string& path, const char* what) const;
  // read_file, retried while empty as MLflow does.
  Result<std::string> read_meta(const std::string& path) const;
  // True if every folder between `base` and base/rel is a real directory.
  bool safe_below(const std::string& base, std::string_view rel) const;
  FileType path_below(const std::string& base, std::string_view rel) const;
  // A Status message without its leading "<path>: ".
  static std::string detail_of(const Status& s, const std::string& path);

  // Valid experiment folders directly under `base`, sorted; others reported.
  std::vector<std::string> experiment_dirs(const std::string& base) const;
  std::vector<std::string> experiment_dirs_quiet(const std::string& base) const;
  // True if <root>/.trash is a real folder (not a symlink); `report` warns otherwise.
  bool trash_usable(bool report) const;
  // (base dir, in trash) of an experiment folder, active first.
  std::optional<std::pair<std::string, bool>> experiment_location(std::string_view id) const;
  std::optional<Experiment> load_experiment(const std::string& base, const std::string& id, bool in_trash) const;

  // A run folder by id: active experiments first, then deleted ones (spec §10.4).
  Result<std::string> find_run_dir(std::string_view run_id, std::string* exp_id) const;
  // One run. Error: damaged beyond use (the message says why); nullopt:
  // filtered out by `view`.
  // `datasets` (may be null) shares dataset reads between the runs of one listing.
  Result<std::optional<Run>> load_run(const std::string& exp_dir, const std::string& exp_id,
                                      const std::string& run_name, ViewType view, const RunFields& fields,
                                      DatasetCache* datasets = nullptr) const;
  // Loads into `run` (its info read, its folder <exp_dir>/<run_id>) the parts
  // `fields` asks for beyond `have`, the parts it was loaded with: meta.yaml
  // and the metrics of `have` are not read again (found or not).
  void load_fields(const std::string& exp_dir, Run& run, const RunFields& fields, const RunFields& have,
                   DatasetCache* datasets) const;
  Result<std::vector<Metric>> history(const std::string& run_dir, std::string_view key) const;
  // The history streamed (LineStream): on_point per good line, nothing kept.
  Status visit_history(const std::string& run_dir, std::string_view key,
                       const std::function<void(const Metric&)>& on_point) const;
  // The keys of <run_dir>/metrics/, sorted, as load_run finds them (with its warnings).
  std::vector<std::string> metric_keys(const std::string& run_dir) const;
  // Several histories of one run, each file read once (Reader::for_each_metric_point).
  Status visit_histories(const std::string& run_dir, std::span<const std::string> keys,
                         const std::function<void(std::size_t, const Metric&)>& on_point) const;

  Result<std::string> artifact_root_of(const std::string& run_dir, std::string_view run_id) const;
  Result<std::vector<ArtifactEntry>> list_artifacts_in(const std::string& root, std::string_view rel,
                                                       bool recursive) const;
};

// For warnings: 's' with control characters escaped, in quotes, at most 200
// characters of it (a value from a tree may be megabytes long).
std::string quoted(std::string_view s);
// For warnings: "a file", "a folder", "a symbolic link", "missing", "a special file".
const char* type_name(FileType t);
// The values of a params/ or tags/ folder, key -> whole file (spec §2.2);
// what cannot be read is warned about and skipped.
void read_value_dir(const ReaderContext& ctx, const std::string& dir, const char* what,
                    std::map<std::string, std::string>& out);

}  // namespace mlruns::detail

namespace mlruns {
// What a Reader holds: the context every reading file shares.
struct Reader::Impl : detail::ReaderContext {};
}  // namespace mlruns
