// The Reader's logged models and Model Registry (reader.h; spec §8.3, §9.4):
// a run's mlflow.log-model.history, <root>/models/ as any MLflow 2.x or 3.x
// wrote it, and the resolution of runs:/ and models:/ URIs to folders in the
// tree, never outside it.
#include <algorithm>
#include <set>

#include "format/file_uri.h"
#include "format/layout.h"
#include "format/logged_model_meta.h"
#include "format/mlmodel.h"
#include "format/registry_meta.h"
#include "format/yaml_load.h"
#include "mlruns/key.h"
#include "mlruns/reader.h"
#include "read/reader_impl.h"

namespace mlruns {
namespace detail {
namespace {

constexpr int kMaxUriDepth = 4;  // models:/ -> runs:/ -> ...: a loop in a hostile registry ends here

// A folder name that a registered model can have, as read (MLflow 2.x
// allowed '%' and leading dots; only names that cannot be folders are out).
bool readable_model_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (end > start) out.emplace_back(p.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

struct Registry {
  const ReaderContext& ctx;

  std::string dir() const { return join(ctx.layout.root, kRegistryDir); }

  // The registered models' folders: real folders only, sorted by name.
  std::vector<std::string> model_folders() const {
    std::vector<std::string> out;
    FileType t = ctx.lstat_type(dir());
    if (t == FileType::kMissing) return out;
    if (t != FileType::kDirectory) {
      ctx.warn(dir(), std::string("is ") + type_name(t) + ", not a folder; no registered models read");
      return out;
    }
    auto entries = ctx.env->list_dir(dir());
    if (!entries) {
      ctx.warn(dir(), "cannot list: " + entries.error().to_string());
      return out;
    }
    for (const DirEntry& e : *entries) {
      if (is_litter_name(e.name)) continue;
      std::string path = join(dir(), e.name);
      if (e.type == FileType::kSymlink) {
        ctx.warn(path, "symbolic link; not followed, not read as a registered model");
        continue;
      }
      if (e.type != FileType::kDirectory) continue;
      if (!readable_model_name(e.name)) continue;
      out.push_back(e.name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::map<std::string, std::int64_t> aliases(const std::string& model_dir) const {
    std::map<std::string, std::int64_t> out;
    std::string adir = join(model_dir, kRegistryAliasesDir);
    FileType t = ctx.lstat_type(adir);
    if (t == FileType::kMissing) return out;
    if (t != FileType::kDirectory) {
      ctx.warn(adir, std::string("is ") + type_name(t) + ", not a folder; aliases ignored");
      return out;
    }
    auto entries = ctx.env->list_dir(adir);
    if (!entries) return out;
    for (const DirEntry& e : *entries) {
      if (is_litter_name(e.name)) continue;
      std::string path = join(adir, e.name);
      if (e.type != FileType::kRegular) {
        ctx.warn(path, std::string("is ") + type_name(e.type) + ", not an alias file; ignored");
        continue;
      }
      auto text = ctx.read_file(path);
      std::optional<std::int64_t> v = text ? parse_alias_file(*text) : std::nullopt;
      if (!v) {
        ctx.warn(path, "does not hold a version number; alias ignored");
        continue;
      }
      out[e.name] = *v;
    }
    return out;
  }

  // Every version folder of a model; deleted ones only if `with_deleted`.
  std::vector<ModelVersion> versions(const std::string& model_dir, const std::string& name,
                                     const std::map<std::string, std::int64_t>& aliases, bool with_deleted) const {
    std::vector<ModelVersion> out;
    auto entries = ctx.env->list_dir(model_dir);
    if (!entries) return out;
    for (const DirEntry& e : *entries) {
      auto number = parse_version_folder(e.name);
      if (!number) continue;
      std::string vdir = join(model_dir, e.name);
      if (e.type == FileType::kSymlink) {
        ctx.warn(vdir, "symbolic link; not followed, version skipped");
        continue;
      }
      if (e.type != FileType::kDirectory) continue;
      std::string meta_path = join(vdir, kMetaFile);
      auto text = ctx.read_meta(meta_path);
      if (!text) {
        ctx.warn(meta_path, "cannot read: " + ReaderContext::detail_of(text.error(), meta_path) + "; version skipped");
        continue;
      }
      std::vector<std::string> problems;
      auto meta = parse_model_version_meta(*text, &problems);
      if (!meta) {
        ctx.warn(meta_path, meta.error().message() + "; version skipped");
        continue;
      }
      for (const std::string& p : problems) ctx.warn(meta_path, p);
      if (meta->version.version != *number) {
        ctx.warn(meta_path, "says version " + std::to_string(meta->version.version) + " in folder " + e.name +
                                "; version skipped");
        continue;
      }
      if (meta->deleted && !with_deleted) continue;
      ModelVersion v = std::move(meta->version);
      v.name = name;  // the registered model's name, as MLflow's listing gives it
      read_value_dir(ctx, join(vdir, kRegistryTagsDir), "model version tag", v.tags);
      for (const auto& [alias, target] : aliases)
        if (target == v.version) v.aliases.push_back(alias);
      out.push_back(std::move(v));
    }
    return out;
  }

  std::optional<RegisteredModel> model(const std::string& folder, std::vector<ModelVersion>* live_versions) const {
    std::string mdir = join(dir(), folder);
    std::string meta_path = join(mdir, kMetaFile);
    auto text = ctx.read_meta(meta_path);
    if (!text) {
      ctx.warn(meta_path, text.error().code() == Code::kNotFound
                              ? "no meta.yaml; registered model skipped"
                              : "cannot read: " + ReaderContext::detail_of(text.error(), meta_path) +
                                    "; registered model skipped");
      return std::nullopt;
    }
    std::vector<std::string> problems;
    auto m = parse_registered_model_meta(*text, &problems);
    if (!m) {
      ctx.warn(meta_path, m.error().message() + "; registered model skipped");
      return std::nullopt;
    }
    for (const std::string& p : problems) ctx.warn(meta_path, p);
    if (m->name != folder) {
      ctx.warn(meta_path, "name " + detail::quoted(m->name) + " differs from the folder name; read as " +
                              detail::quoted(folder));
      m->name = folder;
    }
    read_value_dir(ctx, join(mdir, kRegistryTagsDir), "registered model tag", m->tags);
    m->aliases = aliases(mdir);
    std::vector<ModelVersion> all = versions(mdir, folder, m->aliases, false);
    // MLflow's latest_versions: the newest version in each stage.
    std::map<ModelStage, const ModelVersion*> latest;
    for (const ModelVersion& v : all) {
      auto& slot = latest[v.current_stage];
      if (!slot || slot->version < v.version) slot = &v;
    }
    for (const auto& [stage, v] : latest) m->latest_versions.push_back(*v);
    std::sort(m->latest_versions.begin(), m->latest_versions.end(),
              [](const ModelVersion& a, const ModelVersion& b) { return a.version > b.version; });
    if (live_versions) *live_versions = std::move(all);
    return std::move(*m);
  }

  Result<std::string> folder_of(std::string_view name) const {
    if (!readable_model_name(name))
      return fail(Status::invalid_argument("registered model name '" + std::string(name) + "'", "cannot be a folder name"));
    std::string path = join(dir(), name);
    FileType t = ctx.lstat_type(path);
    if (t == FileType::kDirectory && ctx.lstat_type(dir()) == FileType::kDirectory) return std::string(name);
    if (t == FileType::kSymlink)
      return fail(Status::invalid_argument(path, "is a symbolic link; not followed (it could leave the tree)"));
    return fail(Status::not_found("registered model '" + std::string(name) + "'", "no such model in " + dir()));
  }
};

}  // namespace
}  // namespace detail

using detail::join;

Result<std::vector<LoggedModel>> Reader::logged_models(std::string_view run_id) const {
  impl_->new_listing();
  auto dir = impl_->find_run_dir(run_id, nullptr);
  if (!dir) return fail(dir.error());
  std::string tag_path = join(join(*dir, "tags"), detail::kLogModelHistoryTag);
  FileType t = impl_->lstat_type(tag_path);
  if (t == FileType::kMissing) return std::vector<LoggedModel>{};
  auto text = impl_->read_file(tag_path);
  if (!text) return fail(text.error());
  auto all = detail::parse_history(*text);
  if (!all) return fail(all.error().with_context(tag_path));
  // The UI's rule: newest first, one per artifact_path.
  std::stable_sort(all->begin(), all->end(),
                   [](const LoggedModel& a, const LoggedModel& b) { return a.utc_time_created > b.utc_time_created; });
  auto root = impl_->artifact_root_of(*dir, run_id);
  std::vector<LoggedModel> out;
  std::set<std::string> seen;
  for (LoggedModel& m : *all) {
    if (!seen.insert(m.artifact_path).second) continue;
    if (Status valid = validate_artifact_path(m.artifact_path); !valid) {
      impl_->warn(tag_path, "lists model " + detail::quoted(m.artifact_path) + " at an invalid artifact path (" +
                                valid.message() + "); left out");
      continue;
    }
    // Why a model is left out, in the words of the rule it breaks (a link is refused, not "missing").
    const std::string mlmodel_rel = m.artifact_path + "/" + std::string(detail::kMlModelFile);
    const FileType folder = root ? impl_->path_below(*root, mlmodel_rel) : FileType::kMissing;
    const FileType file =
        folder == FileType::kDirectory ? impl_->lstat_type(join(*root, mlmodel_rel)) : FileType::kMissing;
    if (file != FileType::kRegular) {
      const std::string why = folder == FileType::kSymlink ? "whose folder (or one above it) is a symbolic link; not followed"
                              : file == FileType::kSymlink ? "whose MLmodel is a symbolic link; not followed"
                              : file == FileType::kOther   ? "whose MLmodel is not a regular file"
                                                           : "whose MLmodel is missing";
      impl_->warn(tag_path, "lists model " + detail::quoted(m.artifact_path) + ", " + why + "; left out");
      continue;
    }
    // The MLflow 3.x record of the same files (spec §9.2), when MLmodel is
    // this entry's model and names a well-formed id.
    if (auto mlmodel = impl_->read_file(join(join(*root, m.artifact_path), detail::kMlModelFile)))
      if (auto parsed = detail::parse_mlmodel(*mlmodel))
        if (parsed->model_uuid == m.model_uuid && detail::is_logged_model_id(parsed->model_id))
          m.model_id = parsed->model_id;
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<RegisteredModel>> Reader::registered_models() const {
  impl_->new_listing();
  detail::Registry reg{*impl_};
  std::vector<RegisteredModel> out;
  for (const std::string& folder : reg.model_folders())
    if (auto m = reg.model(folder, nullptr)) out.push_back(std::move(*m));
  return out;
}

Result<RegisteredModel> Reader::registered_model(std::string_view name) const {
  impl_->new_listing();
  detail::Registry reg{*impl_};
  auto folder = reg.folder_of(name);
  if (!folder) return fail(folder.error());
  auto m = reg.model(*folder, nullptr);
  if (!m) return fail(Status::corruption("registered model '" + std::string(name) + "'", "its meta.yaml is unreadable (see warnings)"));
  return std::move(*m);
}

Result<std::vector<ModelVersion>> Reader::model_versions(std::string_view name) const {
  impl_->new_listing();
  detail::Registry reg{*impl_};
  auto folder = reg.folder_of(name);
  if (!folder) return fail(folder.error());
  std::vector<ModelVersion> versions;
  if (!reg.model(*folder, &versions))
    return fail(Status::corruption("registered model '" + std::string(name) + "'", "its meta.yaml is unreadable (see warnings)"));
  std::sort(versions.begin(), versions.end(), [](const ModelVersion& a, const ModelVersion& b) {
    if (a.last_updated_timestamp != b.last_updated_timestamp) return a.last_updated_timestamp > b.last_updated_timestamp;
    return a.version > b.version;
  });
  return versions;
}

Result<ModelVersion> Reader::model_version(std::string_view name, std::int64_t version) const {
  auto all = model_versions(name);
  if (!all) return fail(all.error());
  for (ModelVersion& v : *all)
    if (v.version == version) return std::move(v);
  return fail(Status::not_found("model version " + std::string(name) + "/" + std::to_string(version),
                                "no such version (or it was deleted)"));
}

// ---- model URIs ---------------------------------------------------------------

namespace {

struct Resolver {
  const Reader& reader;
  const detail::ReaderContext& ctx;

  Status bad_uri(std::string_view uri, std::string_view rule) const {
    return Status::invalid_argument("model URI '" + std::string(uri) + "'", rule);
  }

  // A path below `base` reached through real folders; the last part may be a
  // file or a folder.
  Result<std::string> below(const std::string& base, std::string_view rel, std::string_view shown) const {
    if (Status s = validate_artifact_path(rel); !s) return fail(s);
    std::string r(rel);
    while (!r.empty() && r.back() == '/') r.pop_back();
    if (r.empty()) {
      if (ctx.lstat_type(base) != FileType::kDirectory) return fail(Status::not_found(shown, "no such folder"));
      return base;
    }
    FileType on_way = ctx.path_below(base, r);
    if (on_way == FileType::kSymlink) return fail(Status::invalid_argument(shown, "passes a symbolic link; not followed"));
    if (on_way != FileType::kDirectory) return fail(Status::not_found(shown, "no such file or folder"));
    std::string path = join(base, r);
    FileType t = ctx.lstat_type(path);
    if (t == FileType::kSymlink) return fail(Status::invalid_argument(shown, "is a symbolic link; not followed"));
    if (t != FileType::kDirectory && t != FileType::kRegular) return fail(Status::not_found(shown, "no such file or folder"));
    return path;
  }

  Result<Reader::ModelLocation> run_artifact(std::string_view uri, const std::string& run_id, const std::string& path) const {
    if (Status s = validate_run_id(run_id); !s) return fail(s);
    auto root = reader.artifact_root(run_id);
    if (!root) return fail(root.error());
    auto found = below(*root, path, uri);
    if (!found) return fail(found.error());
    Reader::ModelLocation loc;
    loc.uri = uri;
    loc.path = *found;
    loc.run_id = run_id;
    loc.artifact_path = path;
    while (!loc.artifact_path.empty() && loc.artifact_path.back() == '/') loc.artifact_path.pop_back();
    return loc;
  }

  // A local path a version (or a 3.x logged model) names: inside the tree, or
  // a run's or logged model's artifacts by MLflow's shape, found in this tree.
  Result<Reader::ModelLocation> local(std::string_view uri, const std::string& path, const std::string& run_hint) const {
    const std::string& root = ctx.layout.root;
    std::vector<std::string> parts = detail::split_path(path);
    for (const std::string& p : parts)
      if (p == "." || p == "..") return fail(bad_uri(uri, "a '.' or '..' component is not allowed"));
    // <...>/<run_id>/artifacts[/<rest>]: the run's artifacts wherever they are (moved trees).
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (parts[i + 1] != "artifacts" || !validate_run_id(parts[i])) continue;
      if (!run_hint.empty() && parts[i] != run_hint) continue;
      if (!ctx.find_run_dir(parts[i], nullptr)) continue;
      std::string rest;
      for (std::size_t k = i + 2; k < parts.size(); ++k) rest += (rest.empty() ? "" : "/") + parts[k];
      auto loc = run_artifact(uri, parts[i], rest);
      if (loc) return loc;
      if (loc.error().code() != Code::kNotFound) return loc;
    }
    // <...>/<exp>/models/<m-id>/artifacts[/<rest>]: an MLflow 3.x logged model of this tree.
    for (std::size_t i = 1; i + 2 < parts.size(); ++i) {
      if (parts[i] != "models" || parts[i + 2] != "artifacts" || parts[i + 1].rfind("m-", 0) != 0) continue;
      if (!validate_experiment_id(parts[i - 1]) || !validate_run_id(parts[i + 1])) continue;
      auto exp = ctx.experiment_location(parts[i - 1]);
      if (!exp) continue;
      std::string base = join(join(join(join(exp->first, parts[i - 1]), "models"), parts[i + 1]), "artifacts");
      std::string rest;
      for (std::size_t k = i + 3; k < parts.size(); ++k) rest += (rest.empty() ? "" : "/") + parts[k];
      auto found = below(base, rest, uri);
      if (!found) return fail(found.error());
      Reader::ModelLocation loc;
      loc.uri = uri;
      loc.path = *found;
      return loc;
    }
    // Any other folder inside the tree, through real folders only.
    if (path.rfind(root + "/", 0) == 0) {
      auto found = below(root, path.substr(root.size() + 1), uri);
      if (!found) return fail(found.error());
      Reader::ModelLocation loc;
      loc.uri = uri;
      loc.path = *found;
      return loc;
    }
    return fail(Status::failed_precondition(
        "model location '" + path + "'",
        "is outside the tree " + root + " and not a run's artifacts in it; mlruns reads models from the tree only"));
  }

  Result<Reader::ModelLocation> location_of(std::string_view uri, const std::string& where, const std::string& run_hint,
                                            int depth) const {
    if (where.rfind("runs:/", 0) == 0 || where.rfind("models:/", 0) == 0) return resolve(where, depth + 1);
    auto path = detail::file_uri_to_path(where);
    if (!path) {
      if (where.find(':') != std::string::npos)
        return fail(Status::not_supported("model location '" + where + "'", "not a local path (mlruns reads local trees)"));
      return fail(Status::failed_precondition("model location '" + where + "'", "is a relative path"));
    }
    auto loc = local(uri, *path, run_hint);
    if (!loc) return loc;
    loc->uri = uri;
    return loc;
  }

  Result<Reader::ModelLocation> from_version(std::string_view uri, const ModelVersion& v, int depth) const {
    const std::string& where = v.storage_location && !v.storage_location->empty() ? *v.storage_location : v.source;
    if (where.empty())
      return fail(Status::corruption("model version " + v.name + "/" + std::to_string(v.version), "has no source"));
    auto loc = location_of(uri, where, v.run_id.value_or(""), depth);
    if (!loc) return loc;
    loc->version = v;
    return loc;
  }

  // models:/m-<hex>: <exp>/models/<id>/meta.yaml's artifact_location (spec §9.2).
  Result<Reader::ModelLocation> logged_model(std::string_view uri, const std::string& id) const {
    for (bool deleted : {false, true}) {
      std::string base = deleted ? ctx.layout.trash() : ctx.layout.root;
      for (const std::string& exp : ctx.experiment_dirs_quiet(base)) {
        std::string mdir = join(join(join(base, exp), "models"), id);
        if (ctx.lstat_type(mdir) != FileType::kDirectory) continue;
        std::string where;
        if (auto text = ctx.read_file(join(mdir, detail::kMetaFile))) {
          if (auto node = detail::load_yaml_guarded(*text, "meta.yaml"); node && node->IsMap()) {
            try {
              if ((*node)["artifact_location"] && (*node)["artifact_location"].IsScalar())
                where = (*node)["artifact_location"].Scalar();
            } catch (...) {
            }
          }
        }
        if (!where.empty()) {
          auto loc = location_of(uri, where, "", detail::kMaxUriDepth);
          if (loc || loc.error().code() != Code::kFailedPrecondition) return loc;
        }
        auto found = below(join(mdir, "artifacts"), "", uri);  // a moved tree
        if (!found) return fail(found.error());
        Reader::ModelLocation loc;
        loc.uri = uri;
        loc.path = *found;
        return loc;
      }
    }
    return fail(Status::not_found("logged model '" + id + "'", "no such model in any experiment's models/ folder"));
  }

  Result<Reader::ModelLocation> resolve(std::string_view uri, int depth) const {
    if (depth > detail::kMaxUriDepth)
      return fail(bad_uri(uri, "models:/ and runs:/ references nest more than 4 deep (a loop?)"));
    constexpr std::string_view kModels = "models:/";
    if (auto runs = detail::parse_runs_uri(uri)) {
      if (runs->run_id.empty()) return fail(bad_uri(uri, "runs:/ URIs are runs:/<run_id>/<path>"));
      return run_artifact(uri, runs->run_id, runs->path);
    }
    if (uri.substr(0, kModels.size()) != kModels)
      return fail(bad_uri(uri, "must start with runs:/ or models:/"));
    // mlflow/store/artifact/utils/models.py _parse_model_uri.
    std::string_view rest = uri.substr(kModels.size());
    std::vector<std::string> parts;
    std::size_t slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash != std::string_view::npos) parts.emplace_back(rest.substr(slash + 1));
    const char* form = "must be models:/<name>/<version|stage|latest>, models:/<name>@<alias> or models:/<model_id>";
    if (parts[0].empty() || (parts.size() == 2 && (parts[1].empty() || parts[1].find('/') != std::string::npos)))
      return fail(bad_uri(uri, form));
    if (parts.size() == 1 && parts[0].find('@') == std::string::npos) return logged_model(uri, parts[0]);
    std::string name;
    std::optional<ModelVersion> version;
    if (parts.size() == 1) {
      std::size_t at = parts[0].rfind('@');
      name = parts[0].substr(0, at);
      std::string alias = parts[0].substr(at + 1);
      if (name.empty() || alias.empty()) return fail(bad_uri(uri, form));
      auto model = reader.registered_model(name);
      if (!model) return fail(model.error());
      auto it = model->aliases.find(alias);
      if (it == model->aliases.end())
        return fail(Status::not_found("alias '" + alias + "' of registered model '" + name + "'", "no such alias"));
      auto v = reader.model_version(name, it->second);
      if (!v) return fail(v.error().with_context("alias '" + alias + "'"));
      version = std::move(*v);
    } else {
      name = parts[0];
      const std::string& suffix = parts[1];
      if (suffix.find_first_not_of("0123456789") == std::string::npos) {
        std::int64_t n = 0;
        try {
          n = std::stoll(suffix);
        } catch (...) {
          return fail(bad_uri(uri, "version number out of range"));
        }
        auto v = reader.model_version(name, n);
        if (!v) return fail(v.error());
        version = std::move(*v);
      } else {
        std::string lower = suffix;
        for (char& c : lower)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        std::optional<ModelStage> stage;
        if (lower != "latest") {
          stage = parse_model_stage(suffix);
          if (!stage) return fail(bad_uri(uri, "'" + suffix + "' is not a version, 'latest' or a stage (None, Staging, Production, Archived)"));
        }
        auto all = reader.model_versions(name);
        if (!all) return fail(all.error());
        for (ModelVersion& v : *all)
          if ((!stage || v.current_stage == *stage) && (!version || v.version > version->version)) version = v;
        if (!version)
          return fail(Status::not_found("registered model '" + name + "'",
                                        stage ? "has no version in stage " + std::string(to_string(*stage)) : "has no versions"));
      }
    }
    return from_version(uri, *version, depth);
  }
};

}  // namespace

Result<Reader::ModelLocation> Reader::resolve_model_uri(std::string_view uri) const {
  impl_->new_listing();
  return Resolver{*this, *impl_}.resolve(uri, 0);
}

}  // namespace mlruns
