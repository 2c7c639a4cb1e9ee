// fsck (fsck.h): checks a tree against the traps of spec §10.6 and §14 and
// repairs what is safe. Here: the names of severities and actions, the
// report's counts, the entry point and the order of the walk; the checks
// themselves are FsckChecker's (fsck_checker.h), one file per level of the tree.
#include "mlruns/fsck.h"

#include <exception>
#include <optional>
#include <string>


#include "format/metric_file.h"
#include "format/yaml_emit.h"
#include "maint/fsck_checker.h"
#include "maint/maint_common.h"
#include "mlruns/env.h"

namespace mlruns {

std::string_view to_string(FsckSeverity s) {
  switch (s) {
    case FsckSeverity::kError: return "error";
    case FsckSeverity::kWarning: return "warning";
    case FsckSeverity::kNotice: return "notice";
  }
  return "error";
}
std::string_view to_string(FsckAction a) {
  switch (a) {
    case FsckAction::kNone: return "none";
    case FsckAction::kRepaired: return "repaired";
    case FsckAction::kQuarantined: return "quarantined";
    case FsckAction::kFailed: return "failed";
  }
  return "none";
}

std::size_t FsckReport::remaining() const {
  std::size_t n = 0;
  for (const FsckFinding& f : findings)
    if (f.severity != FsckSeverity::kNotice && (f.outcome == FsckAction::kNone || f.outcome == FsckAction::kFailed)) ++n;
  return n;
}
std::size_t FsckReport::repaired() const {
  std::size_t n = 0;
  for (const FsckFinding& f : findings)
    if (f.outcome == FsckAction::kRepaired || f.outcome == FsckAction::kQuarantined) ++n;
  return n;
}

namespace detail {

// Read as PyYAML's CSafeLoader reads it (libyaml, meta_parse.h), as the
// Reader reads it: fsck judges the values MLflow will see (issue 15 item 4).
std::optional<YamlMap> FsckChecker::load_map(const std::string& text) {
  auto m = load_yaml_map(text);
  if (!m) return std::nullopt;
  return std::move(*m);
}

std::optional<std::string> FsckChecker::string_of(const YamlMap& map, const char* key) {
  const YamlValue* v = yaml_find(map, key);
  if (!v || v->kind != YamlValue::Kind::kString) return std::nullopt;
  return v->text;
}

bool FsckChecker::plain_ambiguous(const YamlMap& map, const char* key) {
  const YamlValue* v = yaml_find(map, key);
  return v && v->kind == YamlValue::Kind::kString && v->plain && !v->raw.empty() && yaml_plain_is_ambiguous(v->raw);
}

bool FsckChecker::check_quoted_integer(const std::string& meta, const YamlMap& map, const char* item, const char* key,
                                       const std::string& breaks, FsckSeverity sev) {
  const YamlValue* v = yaml_find(map, key);
  std::int64_t n = 0;
  if (!v || v->kind != YamlValue::Kind::kString || v->plain || !parse_int_field(v->text, n)) return false;
  add(meta, std::string(item) + ".quoted_integer",
      std::string(key) + " '" + shown(v->text) + "' is a quoted string, not an integer", breaks, sev,
      edit(meta, {{key, MetaValue::integer(n)}}, std::string("set ") + key + ": " + std::to_string(n) +
                                                   " (unquoted, as MLflow writes it)"));
  return true;
}

void FsckChecker::run() {
  check_root();
  for (const ExperimentDir& e : experiment_dirs(env_, root_)) check_experiment(e);
  check_other_locations();
  check_registry();
  for (const auto& [id, dirs] : run_ids_)
    if (dirs.size() > 1)
      add(dirs[1], "run.duplicate_id", "run id " + id + " also exists at " + dirs[0],
          "every version: get_run returns the first match only (spec §10.4)", FsckSeverity::kWarning,
          Fix::left_alone("mlruns cannot tell the original from the copy: remove one, or give the copy a new id "
                          "by renaming its folder to a fresh 32-hex-digit id and running fsck --repair again"));
  if (q_.used()) r_.quarantine = q_.dir();
}

}  // namespace detail

Result<FsckReport> fsck(std::string_view tracking_uri, const FsckOptions& options) {
  auto tree = detail::open_tree(options.env, tracking_uri);
  if (!tree) return fail(tree.error());
  Env& env = *tree->env;
  const std::string* root = &tree->root;
  FsckReport report;
  report.root = *root;
  detail::FsckChecker(env, options, report).run();
  return report;
}

}  // namespace mlruns
