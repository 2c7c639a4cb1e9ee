// Reader: reads any mlruns tree, written by MLflow 1.30 to 3.x or by mlruns,
// including damaged and hostile ones. Never writes, never throws, never reads
// outside the tree (symlinks that leave it are refused).
//
//   auto reader = mlruns::Reader::open("/scratch/mlruns");
//   if (!reader) { std::cerr << reader.error().to_string(); return 1; }
//   for (const mlruns::Experiment& e : *reader->experiments()) ...
//
// Where MLflow fails a whole search for one bad file (spec §10.6), the Reader
// skips or partly reads just the bad part and reports it through
// ReaderOptions::on_warning, naming the path and what is wrong.
//
// Thread safety: a Reader is immutable after open; its methods may be called
// from many threads. Listing runs uses ReaderOptions::threads workers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlruns/status.h"
#include "mlruns/types.h"

namespace mlruns {

class Env;

struct Warning {
  std::string path{};     // the file or folder concerned
  std::string message{};  // what is wrong with it and what was done
};

struct ReaderOptions {
  // null: Env::posix_beneath(root), confined to the tree (env.h); a given
  // Env is used as it is (wrap Env::posix_beneath to keep the confinement).
  Env* env = nullptr;
  // Called for every damaged or skipped part; may be called from worker
  // threads, but never concurrently.
  std::function<void(const Warning&)> on_warning{};
  // Worker threads for listing runs; 0 means the number of cores.
  unsigned threads = 0;
  // Files larger than this are not read (warning instead). meta.yaml files
  // are read up to 4 MiB at most (a dataset's is at most ~1 MiB in MLflow).
  std::uint64_t max_file_bytes = 256ull << 20;
  // A param or tag value (or a run name from tags/mlflow.runName) longer than
  // this is cut to it, never inside a UTF-8 sequence, with a warning, so a
  // 50 MB value costs 1 MiB of memory and output. MLflow accepts at most
  // 6,000 characters for a param value and 8,000 for a tag value (spec §6.3),
  // so only values written past MLflow are ever cut. A value file above
  // max_file_bytes is not read at all (warning).
  std::uint64_t max_value_bytes = 1ull << 20;
  // A run named by id alone (run(), metric_history(), artifact_root(), ...)
  // whose id is in more than one experiment (a copied experiment folder) is
  // refused with kFailedPrecondition naming the experiments, unless this
  // names the experiment to take it from (the CLI's -e EXP). Empty: the run
  // must be the only one with its id (format/layout.h pick_run).
  std::string run_experiment_id{};
};

// Which parts of each run to load: a search reads only what it needs.
struct RunFields {
  bool params = true;
  bool tags = true;
  bool all_metrics = true;           // every metric file's latest value
  std::vector<std::string> metrics{};  // else only these keys (latest values)
  // Run::dataset_inputs: reads <run>/inputs/ and the experiment's datasets/.
  bool inputs = true;

  static RunFields everything() { return {}; }
  static RunFields info_only() { return {false, false, false, {}, false}; }
};

struct ArtifactEntry {
  std::string path{};  // relative to the run's artifact root, '/'-separated
  bool is_dir = false;
  std::uint64_t size = 0;  // bytes, for files
};

class Reader {
 public:
  // Resolves the tracking URI like Store::open (explicit, MLFLOW_TRACKING_URI,
  // ./mlruns) and checks that the root is a directory.
  static Result<Reader> open(std::string_view tracking_uri = {}, ReaderOptions options = {});

  const std::string& root() const;
  // The options in effect: env is never null (without one given, the
  // Reader's own confined Env, valid while the Reader lives), threads never 0.
  const ReaderOptions& options() const;

  // Experiments in MLflow's default order: creation_time DESC, then
  // experiment_id ASC (spec §10.1). Deleted ones come from .trash/.
  Result<std::vector<Experiment>> experiments(ViewType view = ViewType::kActiveOnly) const;
  Result<Experiment> experiment(std::string_view experiment_id) const;
  Result<Experiment> experiment_by_name(std::string_view name) const;
  // An id if one exists, else a name; kNotFound otherwise.
  Result<Experiment> find_experiment(std::string_view name_or_id) const;

  // Runs of the given experiments (active ones looked up in the root, deleted
  // ones in .trash/), filtered by lifecycle_stage. Ordered by experiment as
  // given, then by run folder name (callers sort as they need). An unknown
  // experiment id is kNotFound; a damaged run is skipped with a warning.
  Result<std::vector<Run>> runs(const std::vector<std::string>& experiment_ids,
                                ViewType view = ViewType::kActiveOnly,
                                const RunFields& fields = RunFields::everything()) const;
  // Loads into runs this Reader listed with runs(..., have) the parts
  // `fields` asks for beyond `have`, in parallel (options().threads): their
  // meta.yaml and the metrics of `have` are not read again, so a search reads
  // the filter's and order's metrics once. A run gone since the listing keeps
  // what it has; what cannot be read is warned about as runs() warns.
  void complete_runs(std::span<Run> runs, const RunFields& have, const RunFields& fields) const;
  // One run by id, everything loaded; searched in every experiment, active
  // ones first (spec §10.4). kCorruption if its meta.yaml is unusable.
  Result<Run> run(std::string_view run_id) const;

  // Every point of a metric in file order (spec §10.3). Unknown key: empty.
  // Damaged lines are skipped with a warning.
  Result<std::vector<Metric>> metric_history(std::string_view run_id, std::string_view key) const;
  // The same points, one call each in file order, without holding the
  // history: the file is read in 256 KiB chunks, so memory stays bounded
  // whatever its size (a line longer than 64 KiB, such as a sparse hole read
  // as NULs, counts as one bad line). Errors as metric_history.
  Status for_each_metric_point(std::string_view run_id, std::string_view key,
                               const std::function<void(const Metric&)>& on_point) const;

  // A run's metric keys (the files of its metrics/ folder; nested folders
  // give "a/b"), sorted, without reading the files: the keys runs() would
  // load. Links, litter and invalid names are skipped with a warning, as
  // runs() skips them. kNotFound if there is no such run.
  Result<std::vector<std::string>> metric_keys(std::string_view run_id) const;
  // Several metrics of one run, each file read once and streamed as
  // for_each_metric_point streams one: on_point(k, point) for every good
  // line of keys[k], key after key in the order given, points in file order
  // (what a report needs: the latest values and the histories in one pass).
  // The run is looked up once. A missing key has no points; a file that
  // cannot be read is skipped with a warning. kNotFound if there is no such
  // run, kInvalidArgument for an invalid key (nothing is read then).
  Status for_each_metric_point(std::string_view run_id, std::span<const std::string> keys,
                               const std::function<void(std::size_t, const Metric&)>& on_point) const;

  // Local directory holding a run's artifacts: the path in artifact_uri if it
  // exists and ends with /<run_id>/artifacts (so a hostile URI cannot point
  // anywhere else), else <run dir>/artifacts inside this tree (moved or
  // rsynced trees, runs of deleted experiments). docs/reading.md has the rule.
  Result<std::string> artifact_root(std::string_view run_id) const;
  // Direct children of `path` under the run's artifacts (MLflow's
  // list_artifacts), sorted by path; empty for a file. `recursive` lists every
  // file below (no folder entries). Symlinks are left out with a warning.
  // kNotFound for a missing path, kInvalidArgument for a bad one.
  Result<std::vector<ArtifactEntry>> list_artifacts(std::string_view run_id,
                                                    std::string_view path = {},
                                                    bool recursive = false) const;

  // ---- logged models and the Model Registry (spec §8.3, §9.4) ----

  // The models a run logged: its mlflow.log-model.history entries, the
  // newest per artifact_path (as MLflow's UI shows them), newest first, each
  // only if artifacts/<artifact_path>/MLmodel exists (else a warning).
  // An entry's model_id is MLmodel's (the MLflow 3.x LoggedModel mlruns
  // records for the same files, models:/<model_id>); LoggedModels MLflow 3.x
  // wrote elsewhere (<exp>/models/<id>/artifacts) are not listed.
  Result<std::vector<LoggedModel>> logged_models(std::string_view run_id) const;

  // Registered models in MLflow's search order (name), each with its tags,
  // aliases and latest_versions. A model whose meta.yaml is unreadable is
  // skipped with a warning. No <root>/models folder: none.
  Result<std::vector<RegisteredModel>> registered_models() const;
  // kNotFound if there is no such model.
  Result<RegisteredModel> registered_model(std::string_view name) const;
  // A model's versions as MLflow's model-versions/search orders them
  // (last_updated_timestamp DESC, then version DESC), with tags and aliases;
  // deleted versions are left out, as MLflow leaves them out.
  Result<std::vector<ModelVersion>> model_versions(std::string_view name) const;
  // kNotFound for a missing or deleted version.
  Result<ModelVersion> model_version(std::string_view name, std::int64_t version) const;

  // Where a model URI's files are in this tree, as MLflow resolves it:
  //   runs:/<run_id>/<path>   the run's artifact <path>
  //   models:/<name>/<n>      version n
  //   models:/<name>/<stage>  the newest version in a 2.x stage (any case)
  //   models:/<name>/latest   the newest version
  //   models:/<name>@<alias>  the version the alias points at
  //   models:/<model_id>      an MLflow 3.x LoggedModel (m-<hex>)
  // A version's files are its storage_location, else its source (MLflow's
  // get_model_version_download_uri): a runs:/ or models:/ URI, or a local
  // path that must lie in the tree, or in a run's artifacts by the shape
  // rule of artifact_root() (so a moved tree still resolves). Anything else
  // is refused: kNotSupported for remote URIs (s3://, mlflow-artifacts:),
  // kFailedPrecondition for a local path outside the tree, kInvalidArgument
  // for a malformed URI, kNotFound for a missing model, version, alias or file.
  struct ModelLocation {
    std::string uri{};                      // as given
    std::string path{};                     // absolute path of the model folder (or file) in this tree
    std::string run_id{};                   // the run whose artifacts hold it, if known
    std::string artifact_path{};            // its path inside that run's artifacts
    std::optional<ModelVersion> version{};  // for a registry URI: the version resolved
  };
  Result<ModelLocation> resolve_model_uri(std::string_view uri) const;

  struct Impl;

 private:
  explicit Reader(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_{};
};

}  // namespace mlruns
