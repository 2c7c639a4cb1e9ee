// relocate (relocate.h): rewrites artifact_location / artifact_uri after a move.
#include "mlruns/relocate.h"

#include <optional>

#include <yaml-cpp/yaml.h>

#include "file_uri.h"
#include "layout.h"
#include "maint_common.h"
#include "meta_parse.h"
#include "mlruns/env.h"
#include "mlruns/key.h"

namespace mlruns {
namespace {

using detail::join;

std::string strip_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

struct Target {
  std::string new_root;     // absolute path, no trailing '/'
  std::string from_prefix;  // absolute path or empty
};

// The relocated form of `old_value` for an item whose MLflow-built path ends
// in `tail`, or nullopt if it must stay as it is; `why` says why.
std::optional<std::string> relocated(std::string_view old_value, const std::string& tail, const Target& t,
                                     std::string& why) {
  enum class Form { kUri, kPlain, kRelative } form;
  std::string path;
  if (old_value.rfind("file:", 0) == 0) {
    auto p = detail::file_uri_to_path(old_value);
    if (!p) { why = "not a usable file: URI"; return std::nullopt; }
    path = *p;
    form = Form::kUri;
  } else if (old_value.empty()) {
    why = "empty";
    return std::nullopt;
  } else if (old_value.front() == '/') {
    path = std::string(old_value);
    form = Form::kPlain;
  } else {
    std::size_t colon = old_value.find(':'), slash = old_value.find('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
      why = "remote URI";
      return std::nullopt;
    }
    path = std::string(old_value);
    form = Form::kRelative;  // 1.x: relative to the reader's cwd (spec §8.1)
  }
  path = strip_slashes(path);
  std::string new_path;
  if (!t.from_prefix.empty()) {
    if (form == Form::kRelative) { why = "relative path, not under --from"; return std::nullopt; }
    if (path != t.from_prefix && path.rfind(t.from_prefix + "/", 0) != 0) {
      why = "not under " + t.from_prefix;
      return std::nullopt;
    }
    new_path = t.new_root + path.substr(t.from_prefix.size());
  } else {
    bool matches = path == tail || (path.size() > tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0 &&
                                    path[path.size() - tail.size() - 1] == '/');
    if (!matches) { why = "custom location (give --from to move it)"; return std::nullopt; }
    new_path = join(t.new_root, tail);
  }
  std::string out = form == Form::kPlain ? new_path : detail::path_to_file_uri(new_path);
  if (out == old_value) return std::nullopt;
  return out;
}

class Relocator {
 public:
  Relocator(Env& env, const RelocateOptions& opt, Target t, RelocateReport& r)
      : env_(env), opt_(opt), t_(std::move(t)), report_(r) {}

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
    auto next = relocated(current, tail, t_, why);
    if (!next) {
      if (why != "") report_.skipped.push_back(meta + ": " + key + " '" + current + "' left as is: " + why);
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

 private:
  static std::optional<std::string> read_scalar(const std::string& text, const std::string& key);
  Env& env_;
  const RelocateOptions& opt_;
  Target t_;
  RelocateReport& report_;
};

std::optional<std::string> Relocator::read_scalar(const std::string& text, const std::string& key) {
  try {
    YAML::Node n = YAML::Load(text);
    if (!n.IsMap() || !n[key] || !n[key].IsScalar()) return std::nullopt;
    return n[key].Scalar();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

Result<RelocateReport> relocate(std::string_view tracking_uri, const RelocateOptions& options) {
  Env& env = options.env ? *options.env : *Env::posix();
  auto root = detail::resolve_tree_root(env, tracking_uri);
  if (!root) return fail(root.error());
  Target t;
  t.new_root = *root;
  if (!options.to_root.empty()) {
    auto p = options.to_root.rfind("file:", 0) == 0 ? detail::file_uri_to_path(options.to_root)
                                                   : std::optional<std::string>(options.to_root);
    if (!p || p->empty() || p->front() != '/')
      return fail(Status::invalid_argument("target '" + options.to_root + "'", "must be an absolute path or file: URI"));
    t.new_root = strip_slashes(*p);
  }
  if (!options.from_prefix.empty()) {
    auto p = options.from_prefix.rfind("file:", 0) == 0 ? detail::file_uri_to_path(options.from_prefix)
                                                       : std::optional<std::string>(options.from_prefix);
    if (!p || p->empty() || p->front() != '/')
      return fail(Status::invalid_argument("--from '" + options.from_prefix + "'", "must be an absolute path or file: URI"));
    t.from_prefix = strip_slashes(*p);
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
    auto models = env.list_dir(join(e.dir, "models"));
    if (models) {
      for (const DirEntry& m : *models) {
        if (m.type != FileType::kDirectory || !validate_run_id(m.name).is_ok()) continue;
        r.file(join(join(join(e.dir, "models"), m.name), "meta.yaml"), "artifact_location",
               e.id + "/models/" + m.name + "/artifacts");
      }
    }
  }
  return report;
}

}  // namespace mlruns
