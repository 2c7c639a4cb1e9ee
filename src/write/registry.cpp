// ModelRegistry (registry.h): the Model Registry's files (spec §9.4) written
// as MLflow 2.x's file store writes them, safe for many writers: versions
// and models are built in the staging folder and renamed into place, a
// model's files change under its lock (Env::lock_file), and every file is replaced
// atomically.
#include "mlruns/registry.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <optional>

#include "env/atomic_file.h"
#include "format/artifact_dir.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "format/logged_model_meta.h"
#include "format/py_json.h"
#include "format/registry_meta.h"
#include "mlruns/key.h"
#include "write/store_impl.h"

namespace mlruns {

using namespace detail;

// Returns a failed Status from a function that returns a Result.
#define MLRUNS_RETURN_IF_ERROR_RESULT(expr)          \
  do {                                               \
    ::mlruns::Status mlruns_status_ = (expr);        \
    if (!mlruns_status_.is_ok()) return ::mlruns::fail(std::move(mlruns_status_)); \
  } while (0)

namespace {

// The model's lock (Env::lock_file), kept (empty) in its folder; MLflow
// reads only the version-* folders there.
constexpr const char* kLockName = ".mlruns-lock-registry";
constexpr int kMaxClaimAttempts = 1000;
constexpr std::uint64_t kMaxSmallFile = 1 << 20;

std::string quoted_name(std::string_view name) { return "registered model '" + std::string(name) + "'"; }
std::string version_text(std::string_view name, std::int64_t v) {
  return "model version " + std::string(name) + "/" + std::to_string(v);
}

bool collided(const Status& s) {
  return s.code() == Code::kAlreadyExists || s.os_error() == ENOTEMPTY || s.os_error() == EEXIST;
}

// The registry's files, for one Store.
struct Files {
  Store::Impl& im;
  Env& env;

  explicit Files(Store::Impl& store) : im(store), env(*store.env) {}

  std::string registry() const { return join(im.layout.root, kRegistryDir); }
  std::string model_dir(std::string_view name) const { return join(registry(), name); }
  std::string version_dir(std::string_view name, std::int64_t v) const { return join(model_dir(name), version_folder(v)); }

  // A real folder (never a symlink, which could lead out of the tree).
  Status real_dir(const std::string& path, const std::string& what) const {
    auto info = env.stat(path, false);
    if (!info) return info.error();
    if (info->type == FileType::kMissing) return Status::not_found(what, "does not exist");
    if (info->type != FileType::kDirectory) return Status::corruption(path, "is not a folder (a symlink or a file)");
    return Status::ok();
  }

  Status existing_model(std::string_view name) const {
    MLRUNS_RETURN_IF_ERROR(validate_registered_model_name(name));
    Status r = real_dir(registry(), quoted_name(name));
    if (!r) return r;
    return real_dir(model_dir(name), quoted_name(name));
  }

  AtomicWriteOptions atomic(std::string temp_dir = {}) const {
    AtomicWriteOptions o;
    o.sync = im.sync_meta();
    o.temp_dir = std::move(temp_dir);
    return o;
  }

  Result<std::string> read_small(const std::string& path) const { return env.read_file(path, kMaxSmallFile, true); }

  Result<RegisteredModel> model_meta(std::string_view name) const {
    std::string path = join(model_dir(name), kMetaFile);
    auto text = read_small(path);
    if (!text) return fail(text.error());
    auto m = parse_registered_model_meta(*text);
    if (!m) return fail(m.error().with_context(path));
    return m;
  }

  // alias -> version, from the aliases/ folder (the truth; spec §9.4).
  std::map<std::string, std::int64_t> aliases(std::string_view name) const {
    std::map<std::string, std::int64_t> out;
    std::string dir = join(model_dir(name), kRegistryAliasesDir);
    auto entries = env.list_dir(dir);
    if (!entries) return out;
    for (const DirEntry& e : *entries) {
      if (e.type != FileType::kRegular || !validate_model_alias(e.name)) continue;
      auto text = read_small(join(dir, e.name));
      if (!text) continue;
      if (auto v = parse_alias_file(*text)) out[e.name] = *v;
    }
    return out;
  }

  // The numbers of the version folders (deleted versions included).
  Result<std::vector<std::int64_t>> version_numbers(std::string_view name) const {
    auto entries = env.list_dir(model_dir(name));
    if (!entries) return fail(entries.error());
    std::vector<std::int64_t> out;
    for (const DirEntry& e : *entries)
      if (e.type == FileType::kDirectory)
        if (auto v = parse_version_folder(e.name)) out.push_back(*v);
    std::sort(out.begin(), out.end());
    return out;
  }

  // The number to try first for a new version: above every number MLflow
  // could show for a folder whose name starts with "version-" (such as
  // version-2.bak, version-01 or version-3.0): its name's number and its
  // meta.yaml's `version` as PyYAML loads it, 2.0, 0x2 and '2' included
  // (highest_version_seen; model_registry/file_store.py create_model_version's
  // next_version is 1 + the largest `version`, search lists each). A
  // meta.yaml that cannot be read adds nothing (MLflow fails on such a model
  // anyway). kFailedPrecondition if a number is infinite or beyond 2^53: no
  // version could be numbered above it.
  Result<std::int64_t> next_version(std::string_view name) const {
    const std::string dir = model_dir(name);
    auto entries = env.list_dir(dir);
    if (!entries) return fail(entries.error());
    std::int64_t top = 0;
    for (const DirEntry& e : *entries) {
      if (e.type != FileType::kDirectory || e.name.rfind(kVersionFolderPrefix, 0) != 0) continue;
      auto text = read_small(join(join(dir, e.name), kMetaFile));
      auto seen = highest_version_seen(e.name, text ? &*text : nullptr);
      if (!seen) continue;
      if (*seen >= 9007199254740992.0)
        return fail(Status::failed_precondition(
            join(join(dir, e.name), kMetaFile),
            "version folder " + e.name + " reads as version " + (std::isinf(*seen) ? std::string("inf") : std::to_string(*seen)) +
                " in MLflow, and a new version must be numbered above every version MLflow lists; "
                "run mlruns fsck on the tree"));
      top = std::max(top, static_cast<std::int64_t>(std::floor(*seen)));
    }
    return top + 1;
  }

  Result<VersionMeta> version(std::string_view name, std::int64_t v) const {
    std::string dir = version_dir(name, v);
    auto info = env.stat(dir, false);
    if (!info) return fail(info.error());
    if (info->type != FileType::kDirectory)
      return fail(Status::not_found(version_text(name, v), "no such version"));
    std::string path = join(dir, kMetaFile);
    auto text = read_small(path);
    if (!text) return fail(text.error());
    auto meta = parse_model_version_meta(*text);
    if (!meta) return fail(meta.error().with_context(path));
    if (meta->version.version != v)
      return fail(Status::corruption(path, "says version " + std::to_string(meta->version.version)));
    return meta;
  }

  // A version that exists and is not deleted (MLflow: "not found" otherwise).
  Result<VersionMeta> live_version(std::string_view name, std::int64_t v) const {
    if (v <= 0) return fail(Status::invalid_argument(version_text(name, v), "versions are numbered from 1"));
    auto meta = version(name, v);
    if (!meta) return meta;
    if (meta->deleted) return fail(Status::not_found(version_text(name, v), "was deleted"));
    return meta;
  }

  Status write_model_meta(RegisteredModel m) const {
    m.aliases = aliases(m.name);  // the snapshot MLflow keeps in meta.yaml
    return write_file_atomic(env, join(model_dir(m.name), kMetaFile), render_registered_model_meta(m), atomic());
  }

  Status write_version_meta(std::string_view name, ModelVersion v, bool deleted) const {
    v.aliases.clear();
    for (const auto& [alias, version] : aliases(name))
      if (version == v.version) v.aliases.push_back(alias);
    return write_file_atomic(env, join(version_dir(name, v.version), kMetaFile), render_model_version_meta(v, deleted),
                             atomic());
  }

  // last_updated_timestamp of the model, as MLflow sets it after each change.
  Status touch(std::string_view name, std::int64_t now) const {
    auto m = model_meta(name);
    if (!m) return m.error();
    m->last_updated_timestamp = std::max(now, m->last_updated_timestamp);
    return write_model_meta(std::move(*m));
  }

  // A value file (tag, alias) replaced atomically; its temp file is made in
  // `temp_dir`, never inside tags/ or aliases/ (MLflow would read it).
  Status write_value(const std::string& path, std::string_view value, const std::string& temp_dir) const {
    MLRUNS_RETURN_IF_ERROR(env.create_dirs(parent_dir(path)));
    return write_file_atomic(env, path, value, atomic(temp_dir));
  }

  // Null where the file system has no locks (kNotSupported): changes then go
  // unlocked, last writer wins, as in MLflow's own file store; version
  // numbers stay unique either way (they are claimed by rename).
  Result<std::unique_ptr<FileLock>> lock(std::string_view name) const {
    auto l = env.lock_file(join(model_dir(name), kLockName), /*wait=*/true);
    if (!l && l.error().code() == Code::kNotSupported) return std::unique_ptr<FileLock>();
    return l;
  }

  // The model's lock, held only while `name` still names the model whose lock
  // file was locked: rename and delete move the whole folder (lock file and
  // all) out of sight under the lock, so a process that waited wakes holding
  // the lock of a folder that is gone. The model's creation_timestamp read
  // before and after tells (a model made anew under the name has a later one;
  // limit: two renames during one wait that bring back a model of the same
  // millisecond). kNotFound, naming the model, when it is gone.
  Result<std::unique_ptr<FileLock>> lock_model(std::string_view name) const {
    auto gone = [&] { return Status::not_found(quoted_name(name), "does not exist (renamed or deleted meanwhile?)"); };
    auto before = model_meta(name);
    if (!before) return fail(before.error().code() == Code::kNotFound ? gone() : before.error());
    auto l = lock(name);
    if (!l) return fail(l.error().code() == Code::kNotFound ? gone() : l.error());
    auto after = model_meta(name);
    if (!after && after.error().code() != Code::kNotFound) return fail(after.error());
    if (!after || after->creation_timestamp != before->creation_timestamp) return fail(gone());
    return l;
  }

  // Tag files of a folder written into a new (staging) folder.
  Status write_new_tags(const std::string& dir, const std::map<std::string, std::string>& tags) const {
    for (const auto& [k, v] : tags) {
      std::string path = join(join(dir, kRegistryTagsDir), k);
      MLRUNS_RETURN_IF_ERROR(env.create_dirs(parent_dir(path)));
      MLRUNS_RETURN_IF_ERROR(write_new_file(env, path, v, im.sync_meta()));
    }
    return Status::ok();
  }

  // Copies the files below `from` (tags/, aliases/) into `to`, as they are.
  Status copy_files(const std::string& from, const std::string& to) const {
    return copy_small_files(env, from, to, im.sync_meta(), kMaxSmallFile);
  }

  // Moves `dir` out of sight at once, then deletes it; `lock` (the lock of a
  // file inside `dir`), if given, is released in between: NFS keeps an
  // unlinked file that is still open as .nfsXXXX, which would keep its
  // folder from being removed.
  Status remove_folder(const std::string& dir, std::unique_ptr<FileLock>* lock = nullptr) const {
    auto staged = im.new_staging_folder();
    if (!staged) return staged.error();
    std::string gone = join(*staged, "removed");
    MLRUNS_RETURN_IF_ERROR(env.rename(dir, gone));
    if (lock) lock->reset();
    return env.remove_tree(*staged);
  }

  Status check_tag(std::string_view what, std::string_view key, std::string& value) const {
    MLRUNS_RETURN_IF_ERROR(validate_key(std::string(what) + " tag key", key, im.options.names));
    if (!is_valid_utf8(value))
      return Status::invalid_argument(std::string(what) + " tag '" + std::string(key) + "'", "value is not valid UTF-8");
    return im.check_value(std::string(what) + " tag", key, value, kMaxRegistryTagValueLength);
  }
};

Status check_description(const std::optional<std::string>& d) {
  if (d && !is_valid_utf8(*d)) return Status::invalid_argument("description", "is not valid UTF-8");
  return Status::ok();
}

// The model's name and a fresh RegisteredModel, built in staging and renamed
// to models/<name>: one name, one model, even when many processes race.
Result<RegisteredModel> create_model(const Files& f, std::string_view name, const StringMap& tags,
                                     const std::optional<std::string>& description) {
  MLRUNS_RETURN_IF_ERROR_RESULT(validate_registered_model_name(name));
  StringMap checked = tags;
  for (auto& [k, v] : checked) MLRUNS_RETURN_IF_ERROR_RESULT(f.check_tag("registered model", k, v));
  MLRUNS_RETURN_IF_ERROR_RESULT(check_description(description));
  MLRUNS_RETURN_IF_ERROR_RESULT(f.env.create_dirs(f.registry()));
  MLRUNS_RETURN_IF_ERROR_RESULT(f.real_dir(f.registry(), "the registry folder " + f.registry()));
  RegisteredModel m;
  m.name = name;
  m.creation_timestamp = m.last_updated_timestamp = f.env.now_ms();
  m.description = description;
  m.tags = checked;
  auto staged = f.im.new_staging_folder();
  if (!staged) return fail(staged.error());
  Status s = write_new_file(f.env, join(*staged, kMetaFile), render_registered_model_meta(m), f.im.sync_meta());
  if (s) s = f.write_new_tags(*staged, checked);
  if (!s) {
    (void)f.env.remove_tree(*staged);
    return fail(s);
  }
  s = f.im.publish(*staged, f.model_dir(name));
  if (s.code() == Code::kAlreadyExists) return fail(Status::already_exists(quoted_name(name), "already exists"));
  if (!s) return fail(s);
  return m;
}

// A "models:/m-<hex>" source: an MLflow 3.x LoggedModel of the tree (spec
// §9.2). As MLflow 3.x's FileStore.create_model_version: the source is kept,
// storage_location is the model's artifact_location, run_id its
// source_run_id, model_id its id.
struct LoggedSource {
  std::string record_dir;
  std::string artifact_location;
  std::string run_id;
  std::string model_id;
};

Result<LoggedSource> resolve_logged_model(const Files& f, std::string_view source, const std::string& run_id) {
  const std::string id(source.substr(std::string_view("models:/").size()));
  const std::string shown = "model source '" + std::string(source) + "'";
  if (!is_logged_model_id(id))  // validated before it becomes a path
    return fail(Status::invalid_argument(shown, "models:/ sources must name a logged model, models:/m-<32 hex digits>"));
  for (bool trash : {false, true}) {
    const std::string base = trash ? f.im.layout.trash() : f.im.layout.root;
    auto exps = list_experiment_dirs(f.env, base);
    if (!exps) continue;
    for (const std::string& exp : *exps) {
      const std::string dir = join(join(join(base, exp), kLoggedModelsDir), id);
      auto text = f.env.read_file(join(dir, kMetaFile), 1u << 20, /*no_follow=*/true);
      if (!text) continue;
      auto rec = parse_logged_model_meta(*text);
      if (!rec) return fail(rec.error().with_context(join(dir, kMetaFile)));
      if (rec->lifecycle_stage == std::string("deleted"))
        return fail(Status::not_found(shown, "the logged model is deleted"));
      if (!run_id.empty() && !rec->source_run_id.empty() && run_id != rec->source_run_id)
        return fail(Status::invalid_argument("run_id '" + run_id + "'", "differs from the logged model's source run " +
                                                                          rec->source_run_id));
      return LoggedSource{dir, rec->artifact_location, run_id.empty() ? rec->source_run_id : run_id, id};
    }
  }
  return fail(Status::not_found(shown, "no such logged model in any experiment's models/ folder"));
}

// The record's mlflow.modelVersions tag after registering `version` of
// `name` (json.dumps(json.loads(old) + [{"name": ..., "version": ...}]), as
// mlflow/tracking/_model_registry/fluent.py _register_model). Read, appended
// and replaced atomically; like MLflow, two registrations of one logged
// model at the same instant may keep only one entry.
Status tag_logged_model(const Files& f, const std::string& record_dir, std::string_view name, std::int64_t version) {
  const std::string path = join(join(record_dir, "tags"), "mlflow.modelVersions");
  OrderedJson list = OrderedJson::array();
  if (auto old = f.env.read_file(path, 16u << 20, /*no_follow=*/true)) {
    try {
      list = OrderedJson::parse(*old);
    } catch (const std::exception&) {
      list = OrderedJson::array();
    }
    if (!list.is_array()) list = OrderedJson::array();
  }
  OrderedJson entry = OrderedJson::object();
  entry["name"] = std::string(name);
  entry["version"] = version;
  list.push_back(std::move(entry));
  MLRUNS_RETURN_IF_ERROR(f.env.create_dirs(parent_dir(path)));
  return write_file_atomic(f.env, path, py_json_dumps(list), f.atomic(record_dir));  // never a temp file in tags/
}

// "runs:/<run>/<path>" or a path or file: URI inside the tree -> (stored
// source, run id).
Result<std::pair<std::string, std::string>> resolve_source(const Files& f, std::string_view source,
                                                           std::string run_id) {
  if (auto runs = parse_runs_uri(source)) {
    const std::string& id = runs->run_id;
    const std::string& path = runs->path;  // "./model/" is model, as in every verb
    MLRUNS_RETURN_IF_ERROR_RESULT(validate_run_id(id));
    MLRUNS_RETURN_IF_ERROR_RESULT(validate_artifact_path(path));
    if (!run_id.empty() && run_id != id)
      return fail(Status::invalid_argument("run_id '" + run_id + "'", "differs from the source's run " + id));
    auto run = f.im.load_run(id);
    if (!run) return fail(run.error());
    // The run's artifacts by the shape rule of docs/hpc.md; in a moved tree
    // (artifact_uri still naming the old place) the folder inside the run.
    std::string root = join(run->dir, "artifacts");
    if (auto dir = run_artifact_dir(f.env, f.im.layout.root, run->dir, run->info.artifact_uri, id, /*create=*/false))
      root = dir->path;
    std::string local = path.empty() ? root : join(root, path);
    auto found = f.env.stat(local, false);
    if (!found) return fail(found.error().with_context("model source '" + std::string(source) + "'"));
    if (found->type == FileType::kMissing)
      return fail(Status::not_found(std::string(source), "the run has no such artifact"));
    if (found->type == FileType::kSymlink)  // MLflow would follow it, maybe out of the tree
      return fail(Status::invalid_argument("model source '" + std::string(source) + "'", local + " is a symbolic link; not followed"));
    if (found->type != FileType::kDirectory && found->type != FileType::kRegular)
      return fail(Status::invalid_argument("model source '" + std::string(source) + "'", local + " is not a folder or a regular file"));
    std::string stored = run->info.artifact_uri + (path.empty() ? "" : "/" + path);
    return std::make_pair(stored, id);
  }
  auto path = file_uri_to_path(source);
  std::string shown = "model source '" + std::string(source) + "'";
  if (!path || path->empty() || path->front() != '/')
    return fail(Status::invalid_argument(shown, "must be runs:/<run_id>/<path>, or a file: URI or absolute path in the tree"));
  if (!run_id.empty()) MLRUNS_RETURN_IF_ERROR_RESULT(validate_run_id(run_id));
  // One rule, the Reader's and fsck's too: the tree root is resolved
  // canonically once; the source must lie beneath it, and no component inside
  // the tree may be a link (links above the root are the user's and fine).
  std::vector<std::string> parts;
  for (std::size_t at = 1; at <= path->size();) {
    std::size_t next = std::min(path->find('/', at), path->size());
    std::string part = path->substr(at, next - at);
    if (part == "." || part == "..")
      return fail(Status::invalid_argument(shown, "a '.' or '..' component is not allowed"));
    if (!part.empty()) parts.push_back(std::move(part));
    at = next + 1;
  }
  Env& user = *f.env.unconfined();
  auto real_tree = user.real_path(f.im.layout.root);
  if (!real_tree) return fail(real_tree.error().with_context("the tree " + f.im.layout.root));
  // The first prefix of the path that is the tree root: lexically (the root
  // as the Store names it, or canonically), else once the user's links are
  // resolved. The components after it are inside the tree.
  std::optional<std::size_t> inside;
  std::string prefix;
  for (std::size_t k = 0; k < parts.size() && !inside; ++k) {
    prefix += "/" + parts[k];
    if (prefix == f.im.layout.root || prefix == *real_tree) inside = k + 1;
  }
  prefix.clear();
  for (std::size_t k = 0; k < parts.size() && !inside; ++k) {
    prefix += "/" + parts[k];
    auto real = user.real_path(prefix);
    if (!real) break;
    if (*real == *real_tree) inside = k + 1;
  }
  if (!inside || *inside == parts.size())
    return fail(Status::invalid_argument(shown, "is outside the tree " + *real_tree + "; mlruns registers models stored in it"));
  std::vector<std::string> rel(parts.begin() + static_cast<std::ptrdiff_t>(*inside), parts.end());
  if (!is_model_source_shape(rel))
    return fail(Status::invalid_argument(shown, std::string("is not a model folder of the tree: a path source must be ") +
                                                    kModelSourceShapes));
  std::string local = f.im.layout.root, canonical = *real_tree;
  for (std::size_t k = 0; k < rel.size(); ++k) {
    local = join(local, rel[k]);
    canonical += "/" + rel[k];
    auto found = f.env.stat(local, false);
    if (!found) return fail(found.error().with_context(shown));
    if (found->type == FileType::kMissing) return fail(Status::not_found(shown, "no such file or folder"));
    if (found->type == FileType::kSymlink)
      return fail(Status::invalid_argument(shown, local + " is a symbolic link; not followed"));
    const bool last = k + 1 == rel.size();
    if (!(found->type == FileType::kDirectory || (last && found->type == FileType::kRegular)))
      return fail(Status::invalid_argument(shown, local + " is not a folder or a regular file"));
  }
  // Stored canonically (as a runs:/ source is stored, by its run's
  // artifact_uri): the form fsck, relocate and MLflow resolve the same.
  const bool uri = source.rfind("file:", 0) == 0;
  return std::make_pair(uri ? path_to_file_uri(canonical) : canonical, run_id);
}

}  // namespace

ModelRegistry Store::registry() const { return ModelRegistry(impl_); }

Result<RegisteredModel> ModelRegistry::create_registered_model(std::string_view name, const StringMap& tags,
                                                               std::optional<std::string> description) {
  Store::Impl& im = *impl_;
  auto run = [&]() -> Result<RegisteredModel> {
    if (!im.open_status) return fail(im.open_status);
    return create_model(Files(im), name, tags, description);
  };
  return im.finish(run());
}

namespace {

// Runs `body` (returning Status or Result<T>) under the lock of an existing model.
template <typename R, typename Body>
R locked(Store::Impl& im, std::string_view name, Body body) {
  if (!im.open_status) return R(fail(im.open_status));
  Files f(im);
  if (Status s = f.existing_model(name); !s) return R(fail(s));
  auto lock = f.lock_model(name);
  if (!lock) return R(fail(lock.error()));
  return body(f);
}

template <typename Body>
Status locked_status(Store::Impl& im, std::string_view name, Body body) {
  auto r = locked<Result<bool>>(im, name, [&](Files& f) -> Result<bool> {
    Status s = body(f);
    if (!s) return fail(s);
    return true;
  });
  return r ? Status::ok() : r.error();
}

}  // namespace

Status ModelRegistry::update_registered_model(std::string_view name, std::optional<std::string> description) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    MLRUNS_RETURN_IF_ERROR(check_description(description));
    auto m = f.model_meta(name);
    if (!m) return m.error();
    m->description = description;
    m->last_updated_timestamp = std::max(f.env.now_ms(), m->last_updated_timestamp);
    return f.write_model_meta(std::move(*m));
  }));
}

Status ModelRegistry::set_registered_model_tag(std::string_view name, std::string_view key, std::string_view value) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    std::string v(value);
    MLRUNS_RETURN_IF_ERROR(f.check_tag("registered model", key, v));
    std::string dir = f.model_dir(name);
    MLRUNS_RETURN_IF_ERROR(f.write_value(join(join(dir, kRegistryTagsDir), key), v, dir));
    return f.touch(name, f.env.now_ms());
  }));
}

Status ModelRegistry::delete_registered_model_tag(std::string_view name, std::string_view key) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    MLRUNS_RETURN_IF_ERROR(validate_key("registered model tag key", key, NameRules::kMlflow));
    Status s = f.env.remove_file(join(join(f.model_dir(name), kRegistryTagsDir), key));
    if (s.code() == Code::kNotFound) return Status::ok();  // as MLflow: nothing to delete
    MLRUNS_RETURN_IF_ERROR(s);
    return f.touch(name, f.env.now_ms());
  }));
}

Status ModelRegistry::delete_registered_model(std::string_view name) {
  Store::Impl& im = *impl_;
  auto run = [&]() -> Status {
    if (!im.open_status) return im.open_status;
    Files f(im);
    MLRUNS_RETURN_IF_ERROR(f.existing_model(name));
    // Under the lock, so no version is being added meanwhile; out of sight
    // at once, the lock file with the folder.
    auto lock = f.lock_model(name);
    if (!lock) return lock.error();
    return f.remove_folder(f.model_dir(name), &*lock);
  };
  return im.finish(run());
}

Status ModelRegistry::rename_registered_model(std::string_view name, std::string_view new_name) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    MLRUNS_RETURN_IF_ERROR(validate_registered_model_name(new_name));
    if (new_name == name) return Status::ok();
    std::int64_t now = f.env.now_ms();
    auto m = f.model_meta(name);
    if (!m) return m.error();
    auto versions = f.version_numbers(name);
    if (!versions) return versions.error();
    auto staged = im.new_staging_folder();
    if (!staged) return staged.error();
    // The whole model under its new name: meta, tags, aliases, every version.
    // (MLflow's own rename leaves the model's tags and aliases behind.)
    const std::string from = f.model_dir(name);
    Status s = f.copy_files(join(from, kRegistryTagsDir), join(*staged, kRegistryTagsDir));
    if (s) s = f.copy_files(join(from, kRegistryAliasesDir), join(*staged, kRegistryAliasesDir));
    std::map<std::string, std::int64_t> aliases = f.aliases(name);
    RegisteredModel renamed = *m;
    renamed.name = new_name;
    renamed.last_updated_timestamp = std::max(now, m->last_updated_timestamp);
    renamed.aliases = aliases;
    if (s) s = write_new_file(f.env, join(*staged, kMetaFile), render_registered_model_meta(renamed), im.sync_meta());
    for (std::int64_t v : *versions) {
      if (!s) break;
      auto meta = f.version(name, v);
      if (!meta) {
        s = meta.error();
        break;
      }
      ModelVersion mv = meta->version;
      mv.name = new_name;
      mv.last_updated_timestamp = std::max(now, mv.last_updated_timestamp);
      for (const auto& [alias, target] : aliases)
        if (target == v) mv.aliases.push_back(alias);
      std::string vdir = join(*staged, version_folder(v));
      s = f.env.create_dir(vdir);
      if (s) s = write_new_file(f.env, join(vdir, kMetaFile), render_model_version_meta(mv, meta->deleted), im.sync_meta());
      if (s) s = f.copy_files(join(f.version_dir(name, v), kRegistryTagsDir), join(vdir, kRegistryTagsDir));
    }
    if (!s) {
      (void)f.env.remove_tree(*staged);
      return s;
    }
    s = im.publish(*staged, f.model_dir(new_name));
    if (s.code() == Code::kAlreadyExists) return Status::already_exists(quoted_name(new_name), "already exists");
    MLRUNS_RETURN_IF_ERROR(s);
    return f.remove_folder(from);
  }));
}

// ---- versions --------------------------------------------------------------

namespace {

// Gives `v` (complete but for its number) the next free number of model
// v.name: the complete folder is renamed into place; rename(2) onto an
// existing folder fails atomically, and the loser tries the next number, so
// every number is given once however many processes race (also where the
// file system has no locks, or against MLflow's own writers). The model's
// last_updated_timestamp is set first: an error leaves no version behind.
Result<ModelVersion> claim_version(const Files& f, ModelVersion v) {
  Store::Impl& im = f.im;
  const std::string& name = v.name;
  auto first = f.next_version(name);
  if (!first) return fail(first.error());
  std::int64_t n = *first;
  for (int attempt = 0;; ++attempt) {
    if (attempt == kMaxClaimAttempts)
      return fail(Status::io_error(quoted_name(name), "could not claim a version number after 1000 attempts"));
    v.version = n;
    v.creation_timestamp = v.last_updated_timestamp = f.env.now_ms();
    MLRUNS_RETURN_IF_ERROR_RESULT(f.touch(name, v.last_updated_timestamp));
    auto staged = im.new_staging_folder();
    if (!staged) return fail(staged.error());
    Status s = write_new_file(f.env, join(*staged, kMetaFile), render_model_version_meta(v, false), im.sync_meta());
    if (s) s = f.write_new_tags(*staged, v.tags);
    if (s && im.sync_meta()) s = f.env.sync_dir(*staged);
    if (!s) {
      (void)f.env.remove_tree(*staged);
      return fail(s);
    }
    s = im.publish(*staged, f.version_dir(name, n));
    if (s) break;
    if (!collided(s)) return fail(s);
    auto now_free = f.next_version(name);
    if (!now_free) return fail(now_free.error());
    n = std::max(n + 1, *now_free);
  }
  if (im.sync_meta()) (void)f.env.sync_dir(f.model_dir(name));
  return v;
}

}  // namespace

Result<ModelVersion> ModelRegistry::create_model_version(std::string_view name, std::string_view source,
                                                         const ModelVersionOptions& options) {
  Store::Impl& im = *impl_;
  auto run = [&]() -> Result<ModelVersion> {
    if (!im.open_status) return fail(im.open_status);
    Files f(im);
    MLRUNS_RETURN_IF_ERROR_RESULT(validate_registered_model_name(name));
    StringMap tags = options.tags;
    for (auto& [k, v] : tags) MLRUNS_RETURN_IF_ERROR_RESULT(f.check_tag("model version", k, v));
    MLRUNS_RETURN_IF_ERROR_RESULT(check_description(options.description));
    for (const std::string& alias : options.aliases) MLRUNS_RETURN_IF_ERROR_RESULT(validate_model_alias(alias));
    std::optional<LoggedSource> logged;
    Result<std::pair<std::string, std::string>> resolved = std::make_pair(std::string(source), std::string());
    if (source.rfind("models:/", 0) == 0) {
      auto l = resolve_logged_model(f, source, options.run_id);
      if (!l) return fail(l.error());
      logged = std::move(*l);
    } else {
      resolved = resolve_source(f, source, options.run_id);
      if (!resolved) return fail(resolved.error());
    }
    ModelVersion v;
    v.name = name;
    v.source = resolved->first;
    v.storage_location = logged ? logged->artifact_location : resolved->first;
    if (logged) {
      v.model_id = logged->model_id;
      if (!logged->run_id.empty()) v.run_id = logged->run_id;
    } else if (!resolved->second.empty()) {
      v.run_id = resolved->second;
    }
    v.run_link = options.run_link;
    v.description = options.description;
    v.current_stage = ModelStage::kNone;
    v.tags = tags;
    // Under the model's lock, which rename and delete also take: the version
    // is made in the folder of the model it returns, or not at all. The model
    // is made (create_registered_model) only if it is absent when the call
    // starts, as mlflow.register_model creates it before create_model_version;
    // once seen, a model renamed or deleted before the lock is taken is
    // kNotFound, as MLflow's file store fails when get_registered_model finds
    // none (file_store.py create_model_version): the rename moved the model
    // away on purpose, and a model made anew under the old name would hold
    // only this version.
    bool seen = false;
    for (int round = 0;; ++round) {
      if (round == kMaxClaimAttempts)
        return fail(Status::io_error(quoted_name(name), "kept being renamed or deleted; no version created"));
      if (Status e = f.existing_model(name); !e) {
        if (e.code() != Code::kNotFound || !options.create_registered_model || seen)
          return fail(seen ? Status::not_found(quoted_name(name), "was renamed or deleted during the call; no version "
                                                                  "created")
                           : e);
        auto made = create_model(f, name, {}, std::nullopt);
        if (!made && made.error().code() != Code::kAlreadyExists) return fail(made.error());  // another process made it
      }
      seen = true;
      auto lock = f.lock_model(name);
      if (!lock && lock.error().code() == Code::kNotFound) continue;
      if (!lock) return fail(lock.error());
      auto claimed = claim_version(f, v);
      if (!claimed && claimed.error().code() == Code::kNotFound && !f.existing_model(name)) continue;
      if (claimed && !options.aliases.empty()) {
        const std::string dir = f.model_dir(name);
        for (const std::string& alias : options.aliases)
          if (Status a = f.write_value(join(join(dir, kRegistryAliasesDir), alias), std::to_string(claimed->version), dir);
              !a)
            return fail(a.with_context("version " + std::to_string(claimed->version) + " is registered, but alias '" +
                                       alias + "' was not set"));
        if (Status w = f.write_version_meta(name, *claimed, false); !w) return fail(w);
        if (Status t = f.touch(name, f.env.now_ms()); !t) return fail(t);
        claimed->aliases = options.aliases;
      }
      if (claimed && logged)
        if (Status t = tag_logged_model(f, logged->record_dir, name, claimed->version); !t)
          return fail(t.with_context("version " + std::to_string(claimed->version) + " is registered, but logged model " +
                                     logged->model_id + "'s mlflow.modelVersions tag was not updated"));
      return claimed;
    }
  };
  return im.finish(run());
}

Status ModelRegistry::update_model_version(std::string_view name, std::int64_t version,
                                           std::optional<std::string> description) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    MLRUNS_RETURN_IF_ERROR(check_description(description));
    auto meta = f.live_version(name, version);
    if (!meta) return meta.error();
    meta->version.description = description;
    meta->version.last_updated_timestamp = std::max(f.env.now_ms(), meta->version.last_updated_timestamp);
    return f.write_version_meta(name, meta->version, false);
  }));
}

Result<ModelVersion> ModelRegistry::transition_model_version_stage(std::string_view name, std::int64_t version,
                                                                   ModelStage stage, bool archive_existing_versions) {
  Store::Impl& im = *impl_;
  return im.finish(locked<Result<ModelVersion>>(im, name, [&](Files& f) -> Result<ModelVersion> {
    if (archive_existing_versions && stage != ModelStage::kStaging && stage != ModelStage::kProduction)
      return fail(Status::invalid_argument(
          "archive_existing_versions with stage " + std::string(to_string(stage)),
          "only transitions to Staging or Production can archive the versions there (MLflow's rule)"));
    auto meta = f.live_version(name, version);
    if (!meta) return fail(meta.error());
    std::int64_t now = f.env.now_ms();
    if (archive_existing_versions) {
      auto numbers = f.version_numbers(name);
      if (!numbers) return fail(numbers.error());
      for (std::int64_t other : *numbers) {
        if (other == version) continue;
        auto om = f.version(name, other);
        if (!om || om->deleted || om->version.current_stage != stage) continue;
        om->version.current_stage = ModelStage::kArchived;
        om->version.last_updated_timestamp = now;
        MLRUNS_RETURN_IF_ERROR_RESULT(f.write_version_meta(name, om->version, false));
      }
    }
    meta->version.current_stage = stage;
    meta->version.last_updated_timestamp = now;
    MLRUNS_RETURN_IF_ERROR_RESULT(f.write_version_meta(name, meta->version, false));
    MLRUNS_RETURN_IF_ERROR_RESULT(f.touch(name, now));
    return meta->version;
  }));
}

Status ModelRegistry::delete_model_version(std::string_view name, std::int64_t version) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    auto meta = f.live_version(name, version);
    if (!meta) return meta.error();
    std::int64_t now = f.env.now_ms();
    // Its aliases go first, so no alias ever points at a deleted version.
    std::string aliases_dir = join(f.model_dir(name), kRegistryAliasesDir);
    for (const auto& [alias, target] : f.aliases(name))
      if (target == version) MLRUNS_RETURN_IF_ERROR(f.env.remove_file(join(aliases_dir, alias)));
    meta->version.last_updated_timestamp = now;
    MLRUNS_RETURN_IF_ERROR(f.write_version_meta(name, meta->version, /*deleted=*/true));
    return f.touch(name, now);
  }));
}

Status ModelRegistry::set_model_version_tag(std::string_view name, std::int64_t version, std::string_view key,
                                            std::string_view value) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    std::string v(value);
    MLRUNS_RETURN_IF_ERROR(f.check_tag("model version", key, v));
    auto meta = f.live_version(name, version);
    if (!meta) return meta.error();
    std::string dir = f.version_dir(name, version);
    MLRUNS_RETURN_IF_ERROR(f.write_value(join(join(dir, kRegistryTagsDir), key), v, dir));
    return f.touch(name, f.env.now_ms());
  }));
}

Status ModelRegistry::delete_model_version_tag(std::string_view name, std::int64_t version, std::string_view key) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    MLRUNS_RETURN_IF_ERROR(validate_key("model version tag key", key, NameRules::kMlflow));
    auto meta = f.live_version(name, version);
    if (!meta) return meta.error();
    Status s = f.env.remove_file(join(join(f.version_dir(name, version), kRegistryTagsDir), key));
    if (s.code() == Code::kNotFound) return Status::ok();
    MLRUNS_RETURN_IF_ERROR(s);
    return f.touch(name, f.env.now_ms());
  }));
}

// ---- aliases ---------------------------------------------------------------

Status ModelRegistry::set_registered_model_alias(std::string_view name, std::string_view alias, std::int64_t version) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    MLRUNS_RETURN_IF_ERROR(validate_model_alias(alias));
    auto meta = f.live_version(name, version);
    if (!meta) return meta.error();
    // The version folder is complete (it appeared whole); the alias file is
    // replaced in one rename, so a reader finds the old version or this one.
    std::string dir = f.model_dir(name);
    MLRUNS_RETURN_IF_ERROR(f.write_value(join(join(dir, kRegistryAliasesDir), alias), std::to_string(version), dir));
    return f.touch(name, f.env.now_ms());
  }));
}

Status ModelRegistry::delete_registered_model_alias(std::string_view name, std::string_view alias) {
  Store::Impl& im = *impl_;
  return im.finish(locked_status(im, name, [&](Files& f) -> Status {
    MLRUNS_RETURN_IF_ERROR(validate_model_alias(alias));
    Status s = f.env.remove_file(join(join(f.model_dir(name), kRegistryAliasesDir), alias));
    if (s.code() == Code::kNotFound) return Status::ok();  // as MLflow
    MLRUNS_RETURN_IF_ERROR(s);
    return f.touch(name, f.env.now_ms());
  }));
}

}  // namespace mlruns
