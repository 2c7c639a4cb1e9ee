// relocate (relocate.h): rewrites artifact_location / artifact_uri after a move.
#include "mlruns/relocate.h"

#include <optional>

#include <yaml-cpp/yaml.h>

#include "file_uri.h"
#include "layout.h"
#include "maint_common.h"
#include "meta_parse.h"
#include "relocate_uri.h"
#include "mlruns/env.h"
#include "mlruns/key.h"

namespace mlruns {
namespace {

using detail::join;
using detail::RelocateTarget;
using detail::relocated_uri;
using detail::strip_trailing_slashes;

class Relocator {
 public:
  Relocator(Env& env, const RelocateOptions& opt, RelocateTarget t, RelocateReport& r)
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
    auto next = relocated_uri(current, tail, t_, why);
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
  RelocateTarget t_;
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
  RelocateTarget t;
  t.new_root = *root;
  if (!options.to_root.empty()) {
    auto p = options.to_root.rfind("file:", 0) == 0 ? detail::file_uri_to_path(options.to_root)
                                                   : std::optional<std::string>(options.to_root);
    if (!p || p->empty() || p->front() != '/')
      return fail(Status::invalid_argument("target '" + options.to_root + "'", "must be an absolute path or file: URI"));
    t.new_root = strip_trailing_slashes(*p);
  }
  if (!options.from_prefix.empty()) {
    auto p = options.from_prefix.rfind("file:", 0) == 0 ? detail::file_uri_to_path(options.from_prefix)
                                                       : std::optional<std::string>(options.from_prefix);
    if (!p || p->empty() || p->front() != '/')
      return fail(Status::invalid_argument("--from '" + options.from_prefix + "'", "must be an absolute path or file: URI"));
    t.from_prefix = strip_trailing_slashes(*p);
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
