// Shared by the model verbs (models_cli.h).
#include "models_cli.h"

#include <iostream>

#include "cli_common.h"
#include "mlruns/registry.h"

namespace mlruns::cli {

DownloadResult download_with_progress(const std::function<Result<DownloadResult>(const DownloadOptions&)>& download,
                                      bool overwrite) {
  Progress progress([](std::uint64_t done, std::uint64_t total) {
    const int pct = total > 0 ? static_cast<int>(done * 100 / total) : 100;
    return "downloading " + format_bytes(done) + " / " + format_bytes(total) + " (" + std::to_string(pct) + "%)";
  });
  DownloadOptions dopt;
  dopt.overwrite = overwrite;
  dopt.overwrite_hint = "add --overwrite to replace it";
  dopt.on_progress = [&progress](std::uint64_t done, std::uint64_t total) { progress(done, total); };
  Result<DownloadResult> r = download(dopt);
  progress.finish();
  DownloadResult d = check(std::move(r));
  std::cerr << "  downloaded " << d.files << " file(s), " << format_bytes(d.bytes) << " to " << d.local_path << '\n';
  return d;
}

std::string model_path_of_run(const Reader& reader, const std::string& run_id, const std::string& given,
                              const std::string& option) {
  if (!given.empty()) {
    check(validate_artifact_path(given));
    return given;
  }
  const std::vector<LoggedModel> models = check(reader.logged_models(run_id));
  if (models.size() == 1) return models.front().artifact_path;
  if (models.empty())
    check(Status::failed_precondition("run " + run_id, "has logged no model (no mlflow.log-model.history entry with an "
                                                       "MLmodel); name the artifact folder with " + option));
  std::string list;
  for (const LoggedModel& m : models) list += (list.empty() ? "" : ", ") + m.artifact_path;
  check(Status::failed_precondition("run " + run_id, "has logged " + std::to_string(models.size()) +
                                                         " models (" + list + "); choose one with " + option));
  return {};
}

ModelVersion register_version(Store& store, const Reader& reader, const Registration& r) {
  ModelVersionOptions o;
  o.description = r.description;
  for (const std::string& kv : r.tags) o.tags.insert(split_key_value(kv, "--tag"));
  o.aliases = r.aliases;  // checked with every other input before anything is written
  const ModelVersion v = check(store.registry().create_model_version(r.name, r.source, o));
  return check(reader.model_version(r.name, v.version));
}

}  // namespace mlruns::cli
