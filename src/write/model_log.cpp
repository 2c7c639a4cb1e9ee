// log_model (model.h, spec §8.3, §9.2): the model folder is built in a
// staging folder beside the run's artifacts (the copied files, then MLmodel),
// renamed into artifacts/<artifact_path> whole, and then recorded in the
// run's mlflow.log-model.history tag under the run's lock (Env::lock_file),
// then (ModelForm::kMlflow2And3) as an MLflow 3.x LoggedModel: the record
// folder <exp>/models/<id>/, then the run's outputs/<id>/ link, each built
// in the tree's staging area and renamed into place.
#include "write/model_log.h"

#include <algorithm>
#include <cerrno>
#include <functional>

#include "env/atomic_file.h"
#include "format/layout.h"
#include "format/logged_model_meta.h"
#include "format/meta_edit.h"
#include "format/mlmodel.h"
#include "mlruns/key.h"
#include "write/artifact_copy.h"

namespace mlruns::detail {
namespace {

// The MLflow release whose MLmodel and file-store format mlruns writes (spec
// §13.1: byte for byte like MLflow 2.22). No MLflow reader checks this key;
// it is a PEP 440 version so that tools comparing versions can parse it.
constexpr const char* kMlflowFormatVersion = "2.22.0";
// Kept (empty) after use: an open-file-description lock lives on the file
// while any process holds it open, so the file is never removed.
constexpr const char* kLockName = ".mlruns-lock-log-model-history";
constexpr int kUnlockedAttempts = 8;
constexpr std::size_t kMaxFlavorName = 64;
constexpr std::size_t kMaxMetadataKeyBytes = 100;  // yaml_dump writes keys up to 100 bytes

enum class FlavorKind { kOnnx, kTorchScript, kGeneric };

// MLflow's built-in flavors (mlflow/<flavor>/__init__.py FLAVOR_NAME): their
// loaders would try to read a generic model's files as their own.
constexpr std::string_view kMlflowFlavors[] = {
    "python_function", "pyfunc", "sklearn", "pytorch", "tensorflow", "keras", "xgboost", "lightgbm",
    "catboost", "spark", "mleap", "h2o", "statsmodels", "prophet", "pmdarima", "diviner", "fastai",
    "gluon", "paddle", "spacy", "transformers", "sentence_transformers", "langchain", "llama_index",
    "openai", "johnsnowlabs", "shap", "promptflow", "dspy", "onnx", "pyspark", "crate", "mlflow"};

Result<FlavorKind> flavor_kind(std::string_view flavor) {
  if (flavor == "onnx") return FlavorKind::kOnnx;
  if (flavor == "torchscript") return FlavorKind::kTorchScript;
  std::string shown = "model flavor '" + std::string(flavor) + "'";
  if (flavor.empty() || flavor.size() > kMaxFlavorName)
    return fail(Status::invalid_argument(shown, "must have 1 to 64 characters"));
  for (char c : flavor)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return fail(Status::invalid_argument(shown, "only lower-case letters, digits and '_' are allowed"));
  if (flavor == "pytorch")
    return fail(Status::invalid_argument(shown, "use 'torchscript': mlruns logs TorchScript files for the pytorch flavor"));
  for (std::string_view f : kMlflowFlavors)
    if (flavor == f)
      return fail(Status::invalid_argument(
          shown, "is one of MLflow's own flavors, whose loader would not understand these files; use onnx, "
                 "torchscript or a name of your own"));
  return FlavorKind::kGeneric;
}

std::string basename_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The model file inside a folder: options.data, or the only top-level file
// with the flavor's extension.
Result<std::string> find_data_in_dir(Env& env, const std::string& dir, FlavorKind kind, const std::string& data) {
  if (!data.empty()) {
    auto info = env.stat(join(dir, data), /*follow_symlinks=*/true);
    if (!info) return fail(info.error());
    if (info->type != FileType::kRegular)
      return fail(Status::not_found("model data '" + data + "'", "no such file in " + dir));
    return data;
  }
  if (kind == FlavorKind::kGeneric) return std::string();
  auto entries = env.list_dir(dir);
  if (!entries) return fail(entries.error());
  std::vector<std::string> found;
  for (const DirEntry& e : *entries) {
    bool match = kind == FlavorKind::kOnnx ? has_suffix(e.name, ".onnx")
                                           : has_suffix(e.name, ".pt") || has_suffix(e.name, ".pth") ||
                                                 has_suffix(e.name, ".ts");
    if (!match) continue;
    auto info = env.stat(join(dir, e.name), true);
    if (info && info->type == FileType::kRegular) found.push_back(e.name);
  }
  const char* what = kind == FlavorKind::kOnnx ? "*.onnx" : "*.pt, *.pth or *.ts";
  if (found.size() == 1) return found.front();
  if (found.empty())
    return fail(Status::invalid_argument("model folder '" + dir + "'",
                                         std::string("has no top-level ") + what + " file; name it with the data option (mlruns log-model --data)"));
  std::sort(found.begin(), found.end());
  std::string list;
  for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
  return fail(Status::invalid_argument("model folder '" + dir + "'",
                                       std::string("has several ") + what + " files (" + list +
                                           "); choose one with data"));
}

OrderedJson build_flavors(FlavorKind kind, const std::string& flavor, const std::string& data,
                          const ModelOptions& o) {
  OrderedJson f = OrderedJson::object();
  switch (kind) {
    case FlavorKind::kOnnx: {
      // As mlflow.onnx.save_model: pyfunc.add_to_model, then the onnx flavor.
      f["python_function"] = {{"loader_module", "mlflow.onnx"}, {"data", data}};
      OrderedJson onnx = OrderedJson::object();
      if (!o.framework_version.empty()) onnx["onnx_version"] = o.framework_version;
      onnx["data"] = data;
      OrderedJson providers = OrderedJson::array();
      if (o.onnx_providers.empty()) {
        providers = {"CUDAExecutionProvider", "CPUExecutionProvider"};  // mlflow.onnx's default
      } else {
        for (const auto& p : o.onnx_providers) providers.push_back(p);
      }
      onnx["providers"] = providers;
      onnx["onnx_session_options"] = nullptr;
      onnx["code"] = nullptr;
      f["onnx"] = std::move(onnx);
      break;
    }
    case FlavorKind::kTorchScript:
      // As mlflow.pytorch.save_model: the pytorch flavor, then pyfunc; model_data
      // names the TorchScript file itself (mlflow.pytorch._load_model torch.load()s it).
      f["pytorch"] = {{"model_data", data},
                      {"pytorch_version", o.framework_version.empty() ? "unknown" : o.framework_version},
                      {"code", nullptr}};
      f["python_function"] = {{"loader_module", "mlflow.pytorch"}, {"data", data}};
      break;
    case FlavorKind::kGeneric: {
      OrderedJson g = OrderedJson::object();
      if (!data.empty()) g["data"] = data;
      g["mlruns_version"] = MLRUNS_VERSION_STRING;
      f[flavor] = std::move(g);
      break;
    }
  }
  return f;
}

Status check_metadata(const std::map<std::string, std::string>& metadata) {
  for (const auto& [k, v] : metadata) {
    std::string shown = "model metadata key '" + k.substr(0, 80) + "'";
    if (k.empty() || k.size() > kMaxMetadataKeyBytes)
      return Status::invalid_argument(shown, "must have 1 to 100 bytes");
    if (!is_valid_utf8(k) || !is_valid_utf8(v)) return Status::invalid_argument(shown, "key and value must be UTF-8");
    for (unsigned char c : k)
      if (c < 0x20 || c == 0x7f) return Status::invalid_argument(shown, "control characters are not allowed");
  }
  return Status::ok();
}

Result<std::uint64_t> tree_size(Env& env, const std::string& dir, int depth = 0) {
  if (depth > 128) return fail(Status::invalid_argument(dir, "folders nested too deep"));
  auto entries = env.list_dir(dir);
  if (!entries) return fail(entries.error());
  std::uint64_t total = 0;
  for (const DirEntry& e : *entries) {
    std::string p = join(dir, e.name);
    if (e.type == FileType::kDirectory) {
      auto sub = tree_size(env, p, depth + 1);
      if (!sub) return fail(sub.error());
      total += *sub;
    } else if (e.type == FileType::kRegular) {
      auto info = env.stat(p, false);
      if (!info) return fail(info.error());
      total += info->size;
    }
  }
  return total;
}

// Appends the entry to tags/mlflow.log-model.history. `locked`: the caller
// holds the run's lock. Without it (kNotSupported: NFS mounted nolock,
// Lustre without -o flock), the append is checked by reading the tag back
// and redone if a concurrent writer replaced it without our entry.
Status record_in_history(Store::Impl& im, const std::string& run_dir, const OrderedJson& entry, bool locked) {
  std::string tags = join(run_dir, "tags");
  std::string path = join(tags, kLogModelHistoryTag);
  std::string mark = "\"model_uuid\": \"" + entry.at("model_uuid").get<std::string>() + "\"";
  for (int attempt = 0; attempt < (locked ? 1 : kUnlockedAttempts); ++attempt) {
    auto old = im.env->read_file(path, 64ull << 20, /*no_follow=*/true);
    if (!old && old.error().code() != Code::kNotFound) return old.error();
    auto value = append_history(old ? *old : std::string(), entry);
    if (!value) return value.error().with_context(path);
    MLRUNS_RETURN_IF_ERROR(im.env->create_dirs(tags));
    AtomicWriteOptions o;
    o.sync = im.sync_meta();
    o.temp_dir = run_dir;  // never inside tags/ (spec §11)
    MLRUNS_RETURN_IF_ERROR(write_file_atomic(*im.env, path, *value, o));
    if (locked) return Status::ok();
    auto now = im.env->read_file(path, 64ull << 20, /*no_follow=*/true);
    if (now && now->find(mark) != std::string::npos) return Status::ok();
  }
  return Status::io_error(path, "the model's entry was overwritten by concurrent writers " +
                                    std::to_string(kUnlockedAttempts) + " times (the file system has no locks)");
}

// The run's tags that MLflow 3.x's context_registry.resolve_tags gives a
// LoggedModel too (mlflow/tracking/fluent.py _create_logged_model): who and
// what logged it. mlruns set them on the run (write/system_tags.cpp).
constexpr std::string_view kRecordTags[] = {"mlflow.user", "mlflow.source.name", "mlflow.source.type",
                                            "mlflow.source.git.commit"};
constexpr std::uint64_t kMaxValueBytes = 16u << 20;

// Publishes `files` (name -> bytes, sub-folders created) as the folder
// `target`, built whole in the tree's staging area first.
Status publish_folder(Store::Impl& im, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& files,
                      const std::function<Status(const std::string&)>& more = {}) {
  Env& env = *im.env;
  auto staged = im.new_staging_folder();
  if (!staged) return staged.error();
  Status s = Status::ok();
  if (more) s = more(*staged);
  for (const auto& [name, bytes] : files) {
    if (!s) break;
    s = env.create_dirs(parent_dir(join(*staged, name)));
    if (s) s = write_new_file(env, join(*staged, name), bytes, im.sync_meta());
  }
  if (s && im.sync_meta()) s = env.sync_dir(*staged);
  if (s) s = env.create_dirs(parent_dir(target));
  if (!s) {
    (void)env.remove_tree(*staged);
    return s;
  }
  MLRUNS_RETURN_IF_ERROR(im.publish(*staged, target));
  if (im.sync_meta()) (void)env.sync_dir(parent_dir(target));
  return Status::ok();
}

// `location` (a URI) joined with a relative path, as append_to_uri_path.
std::string uri_join(std::string location, std::string_view path) {
  while (!location.empty() && location.back() == '/') location.pop_back();
  return location + "/" + std::string(path);
}

// The MLflow 3.x LoggedModel of the model just published (spec §9.2): the
// record folder, then the run's outputs link (its step), so that a reader of
// the run never meets an outputs/ entry without meta.yaml (MLflow 3.x's
// get_run would fail on one) nor a link to no record.
Status record_logged_model(Store::Impl& im, const std::string& run_dir, const RunInfo& info, const MlModel& m,
                           const std::string& name, std::int64_t step, std::int64_t now) {
  Env& env = *im.env;
  LoggedModelRecord r;
  r.model_id = m.model_id;
  r.name = name;
  r.experiment_id = info.experiment_id;
  r.source_run_id = info.run_id;
  r.artifact_location = uri_join(info.artifact_uri, m.artifact_path);
  r.creation_timestamp = now;
  r.last_updated_timestamp = now;
  r.status = kLoggedModelReady;  // as after finalize_logged_model: no lifecycle_stage
  std::vector<std::pair<std::string, std::string>> files{{std::string(kMetaFile), render_logged_model_meta(r)}};
  for (std::string_view tag : kRecordTags) {
    auto value = env.read_file(join(join(run_dir, "tags"), tag), kMaxValueBytes, /*no_follow=*/true);
    if (value) files.emplace_back("tags/" + std::string(tag), *value);
  }
  const std::string record = join(join(parent_dir(run_dir), kLoggedModelsDir), m.model_id);
  MLRUNS_RETURN_IF_ERROR(publish_folder(im, record, files, [&](const std::string& staged) {
    MLRUNS_RETURN_IF_ERROR(env.create_dirs(join(staged, "metrics")));
    MLRUNS_RETURN_IF_ERROR(env.create_dirs(join(staged, "params")));
    // The run's params, as MLflow 3.x's log_model gives them to the model.
    return copy_small_files(env, join(run_dir, "params"), join(staged, "params"), false, kMaxValueBytes);
  }));
  return publish_folder(im, join(join(run_dir, kRunOutputsDir), m.model_id),
                        {{std::string(kMetaFile), render_run_output_meta(m.model_id, step)}});
}

// After an overwrite: every live record of this run for the same folder
// but the new one (found through the run's outputs/ links) is marked
// deleted, as MlflowClient.delete_logged_model: one live LoggedModel per
// model folder, also after earlier writers raced or were killed midway.
// Called under the run's log-model lock.
Status retire_logged_models(Store::Impl& im, const std::string& run_dir, const RunInfo& info,
                            const std::string& keep_id, const std::string& location, std::int64_t now) {
  Env& env = *im.env;
  auto outputs = env.list_dir(join(run_dir, kRunOutputsDir));
  if (!outputs) return outputs.error().code() == Code::kNotFound ? Status::ok() : outputs.error();
  for (const DirEntry& e : *outputs) {
    if (e.type != FileType::kDirectory || e.name == keep_id || !is_logged_model_id(e.name)) continue;
    const std::string meta = join(join(join(parent_dir(run_dir), kLoggedModelsDir), e.name), kMetaFile);
    auto text = env.read_file(meta, 1u << 20, /*no_follow=*/true);
    if (!text) {
      if (text.error().code() == Code::kNotFound) continue;
      return text.error();
    }
    auto rec = parse_logged_model_meta(*text);
    if (!rec || rec->source_run_id != info.run_id || rec->artifact_location != location ||
        rec->lifecycle_stage == std::string("deleted"))
      continue;
    auto doc = MetaDoc::parse(*text);
    if (!doc) return doc.error().with_context(meta);
    doc->set_str("lifecycle_stage", "deleted");
    doc->set_int("last_updated_timestamp", now);
    AtomicWriteOptions o;
    o.sync = im.sync_meta();
    MLRUNS_RETURN_IF_ERROR(write_file_atomic(env, meta, doc->text(), o));
  }
  return Status::ok();
}

// Puts the complete folder `staging` at `target`. With `overwrite`, one
// there (or one that appears meanwhile, from a writer without the lock) is
// moved aside and removed; never fails for a concurrent appearance but
// after kUnlockedAttempts rounds.
// Whether a rename onto a model folder failed because something is there.
bool taken(const Status& s) {
  return s.code() == Code::kAlreadyExists || s.os_error() == ENOTEMPTY || s.os_error() == EEXIST ||
         s.os_error() == ENOTDIR || s.os_error() == EISDIR;
}

Status publish_model_folder(Env& env, const std::string& staging, const std::string& target,
                            const std::string& work_dir, bool overwrite) {
  Status s = Status::ok();
  for (int attempt = 0; attempt < kUnlockedAttempts; ++attempt) {
    s = env.rename(staging, target);
    if (s || !overwrite) return s;
    if (!taken(s)) return s;
    std::string aside = join(work_dir, unique_temp_name(".old-model"));
    Status moved = env.rename(target, aside);
    if (!moved && moved.code() != Code::kNotFound) return moved;  // gone meanwhile: try again
    if (!moved) continue;
    s = env.rename(staging, target);
    if (!s && !taken(s)) {
      (void)env.rename(aside, target);  // nothing published: the replaced model goes back
      return s;
    }
    (void)env.remove_tree(aside);  // the replaced model; another writer's if one came between
    if (s) return s;
  }
  return s;
}

}  // namespace

Result<LoggedModel> log_model_to_run(Store::Impl& im, const std::string& run_dir, const RunInfo& info,
                                     const std::string& local_path, const ModelOptions& o) {
  Env& env = *im.env;
  Env& src_env = *env.unconfined();  // the user's own path, outside the tree (links are theirs)
  // ---- everything is checked before anything is written ----
  std::string artifact_path = normalize_artifact_path(o.artifact_path);
  if (artifact_path.empty())
    return fail(Status::invalid_argument("model artifact_path ''", "must name a folder under the run's artifacts"));
  if (Status s = validate_artifact_path(artifact_path); !s) return fail(s);
  auto kind = flavor_kind(o.flavor);
  if (!kind) return fail(kind.error());
  if (Status s = check_metadata(o.metadata); !s) return fail(s);
  const bool record_3x = o.form == ModelForm::kMlflow2And3;
  const std::string model_name = o.name.empty() ? logged_model_name_for(artifact_path) : o.name;
  if (record_3x)
    if (Status s = validate_logged_model_name(model_name); !s) return fail(s);
  if (!o.data.empty())
    if (Status s = validate_artifact_path(o.data); !s) return fail(s.with_context("model data"));
  std::optional<OrderedJson> signature;
  if (!o.signature.empty()) {
    auto sig = parse_signature(o.signature);
    if (!sig) return fail(sig.error());
    signature = std::move(*sig);
  }
  if (local_path.empty()) return fail(Status::invalid_argument("model path ''", "must name a file or folder"));
  auto src = src_env.stat(local_path, /*follow_symlinks=*/true);
  if (!src) return fail(src.error());
  std::string data;
  if (src->type == FileType::kRegular) {
    data = basename_of(local_path);
    if (!o.data.empty() && o.data != data)
      return fail(Status::invalid_argument("model data '" + o.data + "'",
                                           "a single file is logged under its own name '" + data + "'"));
    if (data == kMlModelFile)
      return fail(Status::invalid_argument("model file '" + local_path + "'", "must not be named MLmodel"));
  } else if (src->type == FileType::kDirectory) {
    auto mlmodel = src_env.stat(join(local_path, kMlModelFile), false);
    if (mlmodel && mlmodel->type != FileType::kMissing)
      return fail(Status::invalid_argument("model folder '" + local_path + "'",
                                           "already holds an MLmodel file; log it as artifacts instead (log_artifacts, mlruns log-artifacts)"));
    auto found = find_data_in_dir(src_env, local_path, *kind, o.data);
    if (!found) return fail(found.error());
    data = *found;
  } else {
    return fail(Status::not_found("model path '" + local_path + "'", "no such file or folder"));
  }
  auto where = im.artifact_target(run_dir, info.artifact_uri, info.run_id);  // the shape rule of docs/hpc.md
  if (!where) return fail(where.error());
  const std::string target = join(where->artifacts_root, artifact_path);
  {
    auto existing = env.stat(target, false);
    if (!existing) return fail(existing.error());
    if (existing->type != FileType::kMissing && !o.overwrite)
      return fail(Status::already_exists("artifact path '" + artifact_path + "' of run " + info.run_id,
                                         "already exists; choose another artifact_path or pass overwrite"));
  }

  // ---- the model folder, built aside ----
  const bool sync = where->sync;
  const std::string work_dir = where->temp_dir;  // beside artifacts/: same file system, out of sight
  const std::string staging = join(work_dir, unique_temp_name(".model"));
  if (Status s = env.create_dir(staging); !s) return fail(s);
  auto cleanup = [&] { (void)env.remove_tree(staging); };
  ArtifactTarget t{staging, work_dir, sync, /*unseen=*/true};  // files under their final names, no per-file rename
  // A file under its own name, a folder's contents (it becomes the model folder).
  const CopyWhat what = src->type == FileType::kDirectory ? CopyWhat::kContents : CopyWhat::kItself;
  if (Status s = copy_artifact(env, t, local_path, "", what, /*replace=*/false); !s) {
    cleanup();
    return fail(s);
  }
  auto size = tree_size(env, staging);
  if (!size) {
    cleanup();
    return fail(size.error());
  }
  MlModel m;
  m.artifact_path = artifact_path;
  m.run_id = info.run_id;
  m.model_uuid = new_run_id();  // uuid4().hex, as Model() makes it
  m.utc_time_created = utc_time_string(env.now_ms());
  m.mlflow_version = kMlflowFormatVersion;
  if (record_3x) m.model_id = "m-" + new_run_id();  // as MLflow: "m-" + uuid4().hex
  m.flavors = build_flavors(*kind, o.flavor, data, o);
  if (*size > 0) m.model_size_bytes = *size;  // MLflow leaves out a zero size
  m.signature = std::move(signature);
  for (const auto& [k, v] : o.metadata) m.metadata.emplace_back(k, v);
  Status s = write_new_file(env, join(staging, kMlModelFile), render_mlmodel(m), sync);
  if (s && sync) s = env.sync_dir(staging);
  if (s) s = env.create_dirs(parent_dir(target));
  if (!s) {
    cleanup();
    return fail(s);
  }

  // ---- published whole, under the run's log-model lock ----
  // The lock makes an overwrite, its history entry and the retiring of the
  // replaced 3.x records one step among this run's writers: concurrent
  // overwrites of one folder leave one live record, the last published.
  // Where the file system has no locks, the steps go unlocked (the
  // history append checks itself, spec §8.3).
  auto lock = env.lock_file(join(run_dir, kLockName), /*wait=*/true);
  if (!lock && lock.error().code() != Code::kNotSupported) {
    cleanup();
    return fail(lock.error());
  }
  const bool locked = lock && *lock;
  s = publish_model_folder(env, staging, target, work_dir, o.overwrite);
  if (!s) {
    cleanup();
    if (s.code() == Code::kAlreadyExists || s.os_error() == ENOTEMPTY || s.os_error() == EEXIST)
      return fail(Status::already_exists("artifact path '" + artifact_path + "' of run " + info.run_id,
                                         "appeared while the model was being logged"));
    return fail(s);
  }
  if (sync) (void)env.sync_dir(parent_dir(target));

  if (Status h = record_in_history(im, run_dir, history_entry(m), locked); !h)
    return fail(h.with_context("model files are in place at " + target + ", but the run's " +
                               std::string(kLogModelHistoryTag) + " tag was not updated"));
  if (record_3x) {
    const std::int64_t now = env.now_ms();
    if (Status r = record_logged_model(im, run_dir, info, m, model_name, o.step, now); !r)
      return fail(r.with_context("model files are in place at " + target + " (2.x form), but its MLflow 3.x "
                                 "LoggedModel record " + m.model_id + " was not written"));
    if (o.overwrite)
      if (Status r = retire_logged_models(im, run_dir, info, m.model_id, uri_join(info.artifact_uri, m.artifact_path), now);
          !r)
        return fail(r.with_context("the records of the models this one replaced were not all marked deleted"));
  }
  LoggedModel out;
  out.model_id = m.model_id;
  out.run_id = m.run_id;
  out.artifact_path = m.artifact_path;
  out.model_uuid = m.model_uuid;
  out.utc_time_created = m.utc_time_created;
  for (const auto& [name, fields] : m.flavors.items()) out.flavors.push_back(name);
  return out;
}

}  // namespace mlruns::detail
