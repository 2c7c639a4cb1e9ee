// relocate (relocate.h): rewrites artifact_location / artifact_uri after a move.
#include "mlruns/relocate.h"

#include <algorithm>
#include <map>
#include <optional>


#include "env/atomic_file.h"
#include "format/artifact_dir.h"
#include "format/file_uri.h"
#include "format/layout.h"
#include "format/meta_parse.h"
#include "maint/maint_common.h"
#include "maint/relocate_uri.h"
#include "mlruns/env.h"
#include "mlruns/key.h"

namespace mlruns {
namespace {

using detail::in_tree_tail;
using detail::join;
using detail::RelocateTarget;
using detail::relocated_uri;

class Relocator {
 public:
  Relocator(Env& env, const RelocateOptions& opt, RelocateTarget t, RelocateReport& r)
      : env_(env), opt_(opt), t_(std::move(t)), report_(r) {}

  // A registered model version (spec §9.4): `source` and `storage_location`
  // name the run or logged model artifacts they were registered from, with
  // any sub-path ("<run>/artifacts/model"); both change in one edit.
  void registry_version(const std::string& meta) {
    auto text = detail::read_small(env_, meta);
    if (!text) return;
    ++report_.files_checked;
    auto doc = detail::MetaDoc::parse(*text);
    if (!doc) { report_.skipped.push_back(meta + ": unreadable (" + doc.error().message() + ")"); return; }
    std::map<std::string, detail::MetaValue> edits;
    std::vector<RelocateChange> changes;
    for (const char* key : {"source", "storage_location"}) {
      auto current = read_scalar(*text, key);
      if (!current || current->empty()) continue;
      // runs:/ and models:/ are references the tracking store resolves, not locations.
      if (current->rfind("runs:/", 0) == 0 || current->rfind("models:/", 0) == 0) continue;
      std::string why, tail;
      if (t_.from_prefix.empty()) {
        auto found = in_tree_tail(env_, report_.root, *current, why);
        if (!found) {
          report_.skipped.push_back(meta + ": " + key + " '" + *current + "' left as is: " + why);
          continue;
        }
        tail = std::move(*found);
      }
      auto next = map_uri(meta + ": " + key, *current, tail, why);
      if (!next) {
        if (!why.empty()) left_as_is(meta + ": " + key + " '" + *current + "' left as is: " + why);
        continue;
      }
      edits[key] = detail::MetaValue::str(*next);
      changes.push_back({meta, key, *current, *next, false});
    }
    if (edits.empty()) return;
    auto done = detail::apply_meta_edit(env_, meta, *text, edits, opt_.dry_run);
    if (!done) {
      report_.errors.push_back(done.error());
      return;
    }
    for (RelocateChange& c : changes) {
      c.applied = !opt_.dry_run;
      report_.changes.push_back(std::move(c));
    }
  }

  // A trace's tag file mlflow.artifactLocation (spec §9.3): its whole content
  // is <experiment artifact_location>/traces/<trace_id>/artifacts.
  void trace_tag(const detail::ExperimentDir& e, const std::string& trace_id) {
    std::string dir = join(join(e.dir, "traces"), trace_id);
    std::string path = join(join(dir, "tags"), "mlflow.artifactLocation");
    auto tags = env_.stat(join(dir, "tags"), false);
    if (!tags || tags->type != FileType::kDirectory) return;  // a symlink would lead out of the tree
    auto text = detail::read_small(env_, path);
    if (!text) return;
    ++report_.files_checked;
    std::string why;
    auto next = map_uri(path, *text, e.id + "/traces/" + trace_id + "/artifacts", why);
    if (!next) {
      if (!why.empty()) left_as_is(path + ": '" + *text + "' left as is: " + why);
      return;
    }
    RelocateChange change{path, "mlflow.artifactLocation", *text, *next, false};
    if (!opt_.dry_run) {
      auto now = detail::read_small(env_, path);
      if (!now || *now != *text) {
        report_.errors.push_back(Status::failed_precondition(path, "changed while being edited; left alone"));
        return;
      }
      // The temp file goes to the trace folder: inside tags/ MLflow would read it as a tag (spec §11).
      Status s = detail::write_file_atomic(env_, path, *next, {.sync = true, .temp_dir = dir});
      if (!s) {
        report_.errors.push_back(s);
        return;
      }
      change.applied = true;
    }
    report_.changes.push_back(std::move(change));
  }

  void file(const std::string& meta, const std::string& key, const std::string& tail) {
    auto text = detail::read_small(env_, meta);
    if (!text) return;  // no meta.yaml: not an item MLflow lists
    ++report_.files_checked;
    auto doc = detail::MetaDoc::parse(*text);
    if (!doc) { report_.skipped.push_back(meta + ": unreadable (" + doc.error().message() + "); run mlruns fsck"); return; }
    // The current value as a YAML parser reads it (quoting, folding).
    std::string current;
    {
      std::vector<std::string> problems;
      if (key == "artifact_uri") {
        auto info = detail::parse_run_meta(*text, &problems);
        if (!info) { report_.skipped.push_back(meta + ": " + info.error().message()); return; }
        current = info->artifact_uri;
      } else {
        auto value = read_scalar(*text, key);
        if (!value) { report_.skipped.push_back(meta + ": no " + key); return; }
        current = *value;
      }
    }
    if (current.empty()) { report_.skipped.push_back(meta + ": no " + key); return; }
    std::string why;
    auto next = map_uri(meta + ": " + key, current, tail, why);
    if (!next) {
      if (why != "") left_as_is(meta + ": " + key + " '" + current + "' left as is: " + why);
      return;
    }
    RelocateChange change{meta, key, current, *next, false};
    auto done = detail::apply_meta_edit(env_, meta, *text, {{key, detail::MetaValue::str(*next)}}, opt_.dry_run);
    if (!done) {
      report_.errors.push_back(done.error());
      return;
    }
    change.applied = !opt_.dry_run;
    report_.changes.push_back(std::move(change));
  }

  // An MLflow 3.x LoggedModel record (spec §9.2): MLflow's own put the files
  // in <exp>/models/<id>/artifacts; mlruns' (log_model) name the model folder
  // under the source run's artifacts, <exp>/<run>/artifacts/<path>, which is
  // mapped like the run's artifact_uri.
  void model_record(const std::string& meta, const std::string& own_tail) {
    std::string tail = own_tail;
    if (t_.from_prefix.empty())
      if (auto text = detail::read_small(env_, meta))
        if (auto current = read_scalar(*text, "artifact_location")) {
          std::string why;
          if (auto found = in_tree_tail(env_, report_.root, *current, why)) tail = std::move(*found);
        }
    file(meta, "artifact_location", tail);
  }

  // Whether --from matched any URI (changed, or already right).
  bool matched() const { return matched_; }

  // With --from matching no URI, that one fact (RelocateReport::nothing_under_from)
  // replaces the skips of URIs not under it: drops them from `skipped`.
  void drop_outside_from_skips() {
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < report_.skipped.size(); ++i)
      if (!std::binary_search(outside_from_skips_.begin(), outside_from_skips_.end(), i))
        kept.push_back(std::move(report_.skipped[i]));
    report_.skipped = std::move(kept);
    outside_from_skips_.clear();
  }

 private:
  // relocated_uri, and with --from a check of the mapping: a new path inside
  // the tree must lead into one of its folders (an experiment, .trash,
  // models): `--from` a folder above the tree without `--to` maps
  // <old>/mlruns/0 to <tree>/mlruns/0 and <old>/share/x to <tree>/share/x,
  // places that do not exist. Such a mapping is an error, never applied.
  std::optional<std::string> map_uri(const std::string& where, std::string_view value, const std::string& tail,
                                     std::string& why) {
    auto next = relocated_uri(value, tail, t_, why, &last_outside_from_);
    if (next || why.empty()) matched_ = true;
    if (!next || t_.from_prefix.empty()) return next;
    auto path = detail::local_path_of(*next);
    const std::string& root = report_.root;
    if (!path || path->size() <= root.size() || path->compare(0, root.size() + 1, root + "/") != 0) return next;
    std::string first = path->substr(root.size() + 1, path->find('/', root.size() + 1) - root.size() - 1);
    auto info = env_.stat(join(root, first), false);
    if (info && info->type == FileType::kDirectory) return next;
    // A name MLflow puts at a tree's root (a numeric experiment id, models,
    // .trash) is a plausible mapping even where that folder is absent.
    if (first == "models" || first == ".trash" ||
        (!first.empty() && first.find_first_not_of("0123456789") == std::string::npos))
      return next;
    report_.errors.push_back(Status::failed_precondition(
        where + " '" + std::string(value) + "'",
        "--from " + t_.from_prefix + " maps it to '" + *path + "' inside the tree, where '" + first +
            "' does not exist: --from must be the tree's old location, or give --to NEW for the folder that "
            "replaced " + t_.from_prefix + "; nothing was changed"));
    why.clear();
    return std::nullopt;
  }

  // A skip after map_uri, remembered if its URI was not under --from.
  void left_as_is(std::string entry) {
    if (last_outside_from_) outside_from_skips_.push_back(report_.skipped.size());
    report_.skipped.push_back(std::move(entry));
  }

  static std::optional<std::string> read_scalar(const std::string& text, const std::string& key);
  bool matched_ = false;
  bool last_outside_from_ = false;               // of the last map_uri
  std::vector<std::size_t> outside_from_skips_;  // indices in report_.skipped, ascending
  Env& env_;
  const RelocateOptions& opt_;
  RelocateTarget t_;
  RelocateReport& report_;
};

// As PyYAML's CSafeLoader reads it (libyaml, meta_parse.h), as MLflow reads
// the URI: escapes, folding, and the last of a repeated key.
std::optional<std::string> Relocator::read_scalar(const std::string& text, const std::string& key) {
  auto map = detail::load_yaml_map(text, 4u << 20);
  if (!map) return std::nullopt;
  const detail::YamlValue* v = detail::yaml_find(*map, key);
  if (!v || v->kind != detail::YamlValue::Kind::kString) return std::nullopt;
  return v->text;
}

// The entries of `dir`, sorted by name, if it is a real directory: a
// symlinked models/ or traces/ folder would lead out of the tree.
std::vector<DirEntry> list_real_dir(Env& env, const std::string& dir) {
  auto info = env.stat(dir, false);
  if (!info || info->type != FileType::kDirectory) return {};
  auto entries = env.list_dir(dir);
  if (!entries) return {};
  std::sort(entries->begin(), entries->end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return std::move(*entries);
}

}  // namespace

Result<RelocateReport> relocate(std::string_view tracking_uri, const RelocateOptions& options) {
  auto tree = detail::open_tree(options.env, tracking_uri);
  if (!tree) return fail(tree.error());
  Env& env = *tree->env;
  const std::string* root = &tree->root;
  RelocateTarget t;
  t.new_root = *root;
  if (!options.to_root.empty()) {
    auto p = detail::local_path_of(options.to_root);  // folded as every verb folds a path
    if (!p || p->empty() || p->front() != '/')
      return fail(Status::invalid_argument("target '" + options.to_root + "'", "must be an absolute path or file: URI"));
    t.new_root = *p;
  }
  if (!options.from_prefix.empty()) {
    auto p = detail::local_path_of(options.from_prefix);  // folded as every verb folds a path
    if (!p || p->empty() || p->front() != '/')
      return fail(Status::invalid_argument("--from '" + options.from_prefix + "'", "must be an absolute path or file: URI"));
    t.from_prefix = *p;
  }
  if (!options.dry_run && !t.from_prefix.empty()) {
    // A wrong mapping changes nothing: look first.
    RelocateOptions look = options;
    look.dry_run = true;
    auto seen = relocate(tracking_uri, look);
    if (!seen) return seen;
    if (!seen->errors.empty()) return seen;
  }
  RelocateReport report;
  report.root = *root;
  Relocator r(env, options, t, report);
  for (const detail::ExperimentDir& e : detail::experiment_dirs(env, *root)) {
    // An experiment in .trash keeps the location it had (and gets back on
    // restore): <root>/<exp>, not <root>/.trash/<exp> (spec §8.2).
    r.file(join(e.dir, "meta.yaml"), "artifact_location", e.id);
    for (const std::string& run : detail::run_dir_names(env, e.dir))
      r.file(join(join(e.dir, run), "meta.yaml"), "artifact_uri", e.id + "/" + run + "/artifacts");
    for (const DirEntry& m : list_real_dir(env, join(e.dir, "models"))) {
      if (m.type != FileType::kDirectory || !validate_run_id(m.name).is_ok()) continue;
      r.model_record(join(join(join(e.dir, "models"), m.name), "meta.yaml"), e.id + "/models/" + m.name + "/artifacts");
    }
    for (const DirEntry& tr : list_real_dir(env, join(e.dir, "traces")))
      if (tr.type == FileType::kDirectory && validate_run_id(tr.name).is_ok()) r.trace_tag(e, tr.name);
  }
  // The Model Registry (spec §9.4): <root>/models/<name>/version-<n>/meta.yaml.
  // Names come from the listing (one path component each); symlinks are skipped.
  std::string registry = join(*root, "models");
  for (const DirEntry& n : list_real_dir(env, registry)) {
    if (n.type != FileType::kDirectory) continue;
    std::string model_dir = join(registry, n.name);
    for (const DirEntry& v : list_real_dir(env, model_dir)) {
      if (v.type != FileType::kDirectory || v.name.rfind("version-", 0) != 0) continue;
      r.registry_version(join(join(model_dir, v.name), "meta.yaml"));
    }
  }
  if (!t.from_prefix.empty() && !r.matched() && report.files_checked > 0) {
    report.nothing_under_from = true;
    r.drop_outside_from_skips();
  }
  return report;
}

}  // namespace mlruns
