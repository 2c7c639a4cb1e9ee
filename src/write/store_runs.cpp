// Store: the by-id run operations (log_batch, set_terminated, delete and
// restore, log_artifact) and the param, tag and meta.yaml writes they share
// with ActiveRun.
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>

#include <mutex>

#include "env/atomic_file.h"
#include "format/artifact_dir.h"
#include "format/file_uri.h"
#include "format/meta_parse.h"
#include "format/meta_write.h"
#include "mlruns/key.h"
#include "util/printable.h"
#include "write/artifact_copy.h"
#include "write/model_log.h"
#include "write/store_impl.h"

namespace mlruns {
namespace detail {

std::string new_run_id() {
  thread_local boost::uuids::random_generator gen;
  boost::uuids::uuid u = gen();
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (auto b : u) {
    out += kHex[(b >> 4) & 15];
    out += kHex[b & 15];
  }
  return out;
}

namespace {

// Cuts to `limit` characters (code points).
void utf8_truncate(std::string& s, std::size_t limit) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == limit) {
        s.resize(i);
        return;
      }
      ++n;
    }
  }
}

}  // namespace
}  // namespace detail

using namespace detail;

Result<Store::Impl::RunRef> Store::Impl::load_run(std::string_view run_id) const {
  if (Status v = validate_run_id(run_id); !v.is_ok()) return fail(v);
  auto loc = find_run(*env, layout, run_id, options.run_experiment_id);
  if (!loc) return fail(loc.error());
  auto text = env->read_file(join(loc->dir, kMetaFile), 1 << 20, true);
  if (!text) return fail(text.error());
  auto info = parse_run_meta(*text);
  if (!info) return fail(info.error().with_context(join(loc->dir, kMetaFile)));
  if (info->run_id != run_id)
    return fail(Status::corruption(join(loc->dir, kMetaFile), "run_id '" + info->run_id +
                                                                  "' differs from the folder name"));
  return RunRef{loc->dir, std::move(*info)};
}

Result<Store::Impl::RunRef> Store::Impl::load_active_run(std::string_view run_id, std::string_view to_do) const {
  auto ref = load_run(run_id);
  if (ref && ref->info.lifecycle_stage != LifecycleStage::kActive)
    return fail(Status::failed_precondition("run " + std::string(run_id),
                                            "is deleted; restore it to " + std::string(to_do) + " (spec §7)"));
  return ref;
}

Status Store::Impl::write_run_meta(const std::string& run_dir, const RunInfo& info) {
  AtomicWriteOptions o;
  o.sync = sync_each_flush();
  return write_file_atomic(*env, join(run_dir, kMetaFile), render_run_meta(info), o);
}

Status Store::Impl::check_value(std::string_view what, std::string_view key, std::string& value,
                                std::size_t limit) const {
  if (!is_valid_utf8(value))
    return Status::invalid_argument(std::string(what) + " value for '" + printable_prefix(key, 80) + "'",
                                    "not valid UTF-8 (MLflow reads these files as UTF-8, spec §2.2)");
  std::size_t n = utf8_length(value);
  if (n > limit) {
    if (options.long_values == LongValues::kTruncate) {
      utf8_truncate(value, limit);
    } else {
      return Status::invalid_argument(
          std::string(what) + " value for '" + printable_prefix(key, 80) + "' ('" + printable_prefix(value, 40) + "')",
          std::to_string(n) + " characters, longer than the limit of " + std::to_string(limit) +
              " (spec §6.2; LongValues::kTruncate cuts it instead)");
    }
  }
  return Status::ok();
}

Status Store::Impl::check_param(const std::string& run_dir, std::string_view key, std::string& value,
                                const std::map<std::string, std::string, std::less<>>* known) const {
  MLRUNS_RETURN_IF_ERROR(validate_key("param key", key, options.names));
  MLRUNS_RETURN_IF_ERROR(check_value("param", key, value, kMaxParamValueLength));
  auto immutable = [&](const std::string& old) {
    return Status::already_exists("param '" + std::string(key) + "'",
                                  "already logged with value '" + printable_prefix(old, 200) + "'; cannot change it to '" +
                                      printable_prefix(value, 200) + "' (params are immutable, spec §5.2)");
  };
  if (known) {
    auto it = known->find(key);
    if (it != known->end()) return it->second == value ? Status::ok() : immutable(it->second);
  }
  auto slot = file_slot(*env, join(run_dir, "params"), key, "param '" + std::string(key) + "'");
  if (!slot) return slot.error();
  if (*slot == FileType::kRegular) {
    auto old = env->read_file(join(join(run_dir, "params"), key), 1 << 20, true);
    if (!old) return old.error();
    if (*old != value) return immutable(*old);
  }
  return Status::ok();
}

Status Store::Impl::check_tag(const std::string& run_dir, std::string_view key, std::string& value) const {
  MLRUNS_RETURN_IF_ERROR(validate_tag_key("tag key", key, options.names));
  MLRUNS_RETURN_IF_ERROR(check_value("tag", key, value, kMaxTagValueLength));
  auto slot = file_slot(*env, join(run_dir, "tags"), key, "tag '" + std::string(key) + "'");
  return slot ? Status::ok() : slot.error();
}

Status Store::Impl::check_run_active(const std::string& run_dir, std::string_view run_id) const {
  auto text = env->read_file(join(run_dir, kMetaFile), 1 << 20, true);
  if (!text) {
    if (text.error().code() == Code::kNotFound)
      return Status::failed_precondition("run " + std::string(run_id), "its folder is gone (removed by gc?)");
    return text.error();
  }
  auto info = parse_run_meta(*text);
  if (info && info->lifecycle_stage != LifecycleStage::kActive)
    return Status::failed_precondition("run " + std::string(run_id),
                                       "was deleted meanwhile; restore it to log to it (spec §7)");
  return Status::ok();
}

Status Store::Impl::write_param(const std::string& run_dir, std::string_view key, std::string value,
                                std::map<std::string, std::string, std::less<>>* known) {
  MLRUNS_RETURN_IF_ERROR(check_param(run_dir, key, value, known));
  if (known && known->count(key)) return Status::ok();
  std::string path = join(join(run_dir, "params"), key);
  auto info = env->stat(path, false);
  if (!info) return info.error();
  if (info->type == FileType::kMissing) {  // the same value again: nothing to write
    if (key.find('/') != std::string_view::npos) MLRUNS_RETURN_IF_ERROR(env->create_dirs(parent_dir(path)));
    AtomicWriteOptions o;
    o.sync = sync_each_flush();
    o.temp_dir = run_dir;  // never inside params/: MLflow would read a temp file as a key (spec §11)
    MLRUNS_RETURN_IF_ERROR(write_file_atomic(*env, path, value, o));
  }
  if (known) known->emplace(std::string(key), std::move(value));
  return Status::ok();
}

Status Store::Impl::write_tag(const std::string& run_dir, RunInfo* info, std::string_view key, std::string value) {
  MLRUNS_RETURN_IF_ERROR(check_tag(run_dir, key, value));
  std::string path = join(join(run_dir, "tags"), key);
  if (key.find('/') != std::string_view::npos) MLRUNS_RETURN_IF_ERROR(env->create_dirs(parent_dir(path)));
  AtomicWriteOptions o;
  o.sync = sync_each_flush();
  o.temp_dir = run_dir;
  MLRUNS_RETURN_IF_ERROR(write_file_atomic(*env, path, value, o));
  // Setting mlflow.runName renames the run in meta.yaml too (spec §4.4).
  if (key == "mlflow.runName" && info && info->run_name != value) {
    info->run_name = value;
    MLRUNS_RETURN_IF_ERROR(write_run_meta(run_dir, *info));
  }
  return Status::ok();
}

Status Store::Impl::delete_tag(const std::string& run_dir, std::string_view key) {
  MLRUNS_RETURN_IF_ERROR(validate_key_name("tag key", key, NameRules::kMlflow));  // any key a tree holds
  Status s = env->remove_file(join(join(run_dir, "tags"), key));
  if (s.code() == Code::kNotFound)
    return Status::not_found("tag '" + std::string(key) + "'", "the run has no such tag");
  return s;
}

Status Store::log_batch(std::string_view run_id, const std::vector<Metric>& metrics, const StringMap& params,
                        const StringMap& tags) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    if (ref->info.lifecycle_stage != LifecycleStage::kActive)
      return Status::failed_precondition("run " + std::string(run_id), "is deleted; restore it to log to it");
    ActiveRun::State state(join(ref->dir, "metrics"));
    state.metrics.set_keep_open(false);  // one write per file: closed after it
    state.store = impl_;
    state.valid = true;
    state.info = ref->info;
    state.dir = ref->dir;
    std::lock_guard<std::mutex> lock(state.mu);
    // Same validation and order as ActiveRun::log_batch; the points are written at once.
    Status s = state.batch_locked(metrics, params, tags);
    if (s.is_ok()) s = state.metrics.flush(*im.env, im.options.durability != Durability::kNone);
    state.ended = true;
    state.metrics.close_all();
    return s;
  };
  return im.finish(run());
}

Status Store::set_terminated(std::string_view run_id, RunStatus status, std::optional<std::int64_t> end_time) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    if (ref->info.lifecycle_stage != LifecycleStage::kActive)
      return Status::failed_precondition("run " + std::string(run_id), "is deleted (spec §7)");
    ref->info.status = status;
    ref->info.end_time = end_time ? *end_time : im.env->now_ms();
    AtomicWriteOptions o;
    o.sync = im.sync_meta();
    return write_file_atomic(*im.env, join(ref->dir, kMetaFile), render_run_meta(ref->info), o);
  };
  return im.finish(run());
}

Status Store::delete_run(std::string_view run_id) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    if (ref->info.lifecycle_stage == LifecycleStage::kDeleted) return Status::ok();
    ref->info.lifecycle_stage = LifecycleStage::kDeleted;
    ref->info.deleted_time = im.env->now_ms();
    return im.write_run_meta(ref->dir, ref->info);
  };
  return im.finish(run());
}

Status Store::delete_tag(std::string_view run_id, std::string_view key) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_active_run(run_id, "change its tags");
    if (!ref) return ref.error();
    Status s = im.delete_tag(ref->dir, key);
    if (s.code() == Code::kNotFound)
      return Status::not_found("tag '" + escape_control(key) + "'", "run " + std::string(run_id) + " has no such tag");
    return s;
  };
  return im.finish(run());
}

Status Store::restore_run(std::string_view run_id) {
  Impl& im = *impl_;
  auto run = [&]() -> Status {
    MLRUNS_RETURN_IF_ERROR(im.open_status);
    auto ref = im.load_run(run_id);
    if (!ref) return ref.error();
    ref->info.lifecycle_stage = LifecycleStage::kActive;
    ref->info.deleted_time.reset();
    return im.write_run_meta(ref->dir, ref->info);
  };
  return im.finish(run());
}

namespace {
Status log_artifact_by_id(Store::Impl& im, std::string_view run_id, const std::string& local_path,
                          std::string_view artifact_path, CopyWhat what, Overwrite overwrite) {
  MLRUNS_RETURN_IF_ERROR(im.open_status);
  auto ref = im.load_active_run(run_id);
  if (!ref) return ref.error();
  auto t = im.artifact_target(ref->dir, ref->info.artifact_uri, ref->info.run_id);
  if (!t) return t.error();
  return copy_artifact(*im.env, *t, local_path, artifact_path, what, overwrite == Overwrite::kReplace);
}
}  // namespace

Status Store::log_artifact(std::string_view run_id, const std::string& local_path, std::string_view artifact_path,
                           Overwrite overwrite) {
  return impl_->finish(log_artifact_by_id(*impl_, run_id, local_path, artifact_path, CopyWhat::kItself, overwrite));
}

Status Store::log_artifacts(std::string_view run_id, const std::string& local_dir, std::string_view artifact_path,
                            Overwrite overwrite) {
  return impl_->finish(log_artifact_by_id(*impl_, run_id, local_dir, artifact_path, CopyWhat::kContents, overwrite));
}

Result<detail::ArtifactTarget> Store::Impl::artifact_target(const std::string& run_dir,
                                                            const std::string& artifact_uri,
                                                            const std::string& run_id) {
  auto dir = run_artifact_dir(*env, layout.root, run_dir, artifact_uri, run_id, /*create=*/true);
  if (!dir) return fail(dir.error());
  // Temp copies go next to artifacts/ (the run folder, or <location>/<run_id>
  // outside the tree): same file system, never inside artifacts/.
  return ArtifactTarget{dir->path, parent_dir(dir->path), options.durability != Durability::kNone};
}

}  // namespace mlruns

namespace mlruns {

Result<LoggedModel> Store::log_model(std::string_view run_id, const std::string& local_path,
                                     const ModelOptions& options) {
  Impl& im = *impl_;
  auto run = [&]() -> Result<LoggedModel> {
    if (!im.open_status) return fail(im.open_status);
    auto ref = im.load_active_run(run_id);
    if (!ref) return fail(ref.error());
    return detail::log_model_to_run(im, ref->dir, ref->info, local_path, options);
  };
  return im.finish(run());
}

}  // namespace mlruns
