// The checker behind fsck (fsck.h): one walk over the tree, one finding per
// problem, each with the repair --repair may make. Its checks live per level
// of the tree: fsck_root.cpp (the root, temp leftovers, locations outside the
// tree), fsck_experiments.cpp, fsck_runs.cpp, fsck_keys.cpp (key folders and
// metric lines), fsck_models.cpp (MLmodel files, the registry); fsck_repair.cpp records findings and builds the repairs.
//
// Policy: fix in place when the fix cannot lose or invent user data;
// otherwise, when the item makes MLflow fail for more than itself (a whole
// run, experiment or store), move it to the quarantine; else report only.
//
// Thread safety: one thread per checker. Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>


#include "format/layout.h"
#include "format/meta_edit.h"
#include "format/meta_parse.h"
#include "maint/maint_common.h"
#include "mlruns/env.h"
#include "mlruns/fsck.h"
#include "mlruns/types.h"
#include "util/printable.h"

namespace mlruns::detail {

class FsckChecker {
 public:
  FsckChecker(Env& env, const FsckOptions& opt, FsckReport& report)
      : env_(env), opt_(opt), r_(report), root_(report.root), q_(env, report.root, env.now_ms()) {}

  // Checks the whole tree (and repairs, with FsckOptions::repair) into the report.
  void run();

 private:
  using Repair = std::function<Result<std::string>()>;

  // What --repair does about a finding: a repair (in place or by quarantine),
  // or nothing, with a hint saying why and what the user can do.
  struct Fix {
    Repair repair;
    bool quarantines = false;
    std::string hint;

    Fix(std::nullptr_t) {}
    template <typename F>
      requires std::is_constructible_v<Repair, F>
    Fix(F&& f) : repair(std::forward<F>(f)) {}
    static Fix left_alone(std::string why) {
      Fix f(nullptr);
      f.hint = std::move(why);
      return f;
    }
  };

  static constexpr const char* kBreaksRunSearch =
      "every MLflow version: the run, and search_runs over its experiment, fail";

  // meta.yaml as a YAML mapping; nullopt for anything else.
  static std::optional<YamlMap> load_map(const std::string& text);
  // The string under `key`; nullopt if missing, null or a collection.
  static std::optional<std::string> string_of(const YamlMap& map, const char* key);
  // A value from the tree as a finding quotes it: 200 characters at most.
  static std::string shown(std::string_view value) { return printable_prefix(value, 200); }
  // True if map[key] is a plain scalar that PyYAML reads back as a non-string.
  static bool plain_ambiguous(const YamlMap& map, const char* key);
  // map[key] is a field MLflow writes as an integer (status, start_time,
  // creation_time ...) given as a quoted string of decimal digits ('3'):
  // PyYAML reads a str, which MLflow cannot use (`breaks` says how it
  // fails). The finding <item>.quoted_integer, repaired to the integer as
  // MLflow writes it (the text spells exactly one integer, so the meaning is
  // unambiguous). Returns true if it was such a field.
  bool check_quoted_integer(const std::string& meta, const YamlMap& map, const char* item, const char* key,
                            const std::string& breaks, FsckSeverity sev);

  // ---- findings and repairs (fsck_repair.cpp) ----
  void add(std::string path, std::string check, std::string problem, std::string breaks, FsckSeverity sev, Fix fix);
  Fix quarantine(const std::string& path, std::string reason);
  Repair edit(const std::string& path, std::map<std::string, MetaValue> edits, std::string what);
  std::optional<std::string> retarget(std::string_view uri, const std::string& from_tail, const std::string& to_tail);
  Result<std::string> write_recovered_meta(const ExperimentDir& e, const std::string& meta);

  // ---- the root, temp leftovers, locations outside the tree (fsck_root.cpp) ----
  void check_root();
  std::optional<std::int64_t> idle_ms(const std::string& path, FileType type);
  void check_name_claims();
  void check_temp_leftover(const std::string& path, FileType type, const std::string& what);
  void check_temp_files(const std::string& dir);
  void check_other_locations();

  // ---- experiments (fsck_experiments.cpp) ----
  void check_experiment(const ExperimentDir& e);
  void check_delete_cut_short(const ExperimentDir& e, const std::string& meta);
  void check_experiment_file(const ExperimentDir& e, const std::string& meta);
  void check_experiment_meta(const ExperimentDir& e, const std::string& meta, const YamlMap& map,
                             const Experiment& x);

  // ---- runs (fsck_runs.cpp) ----
  void check_run(const ExperimentDir& e, const std::string& dir, const std::string& id);
  void check_run_without_meta(const ExperimentDir& e, const std::string& dir, const std::string& id);
  bool has_files(const std::string& dir, int depth);
  std::optional<std::int64_t> earliest_point(const std::string& metrics);
  void check_run_identity(const ExperimentDir& e, const std::string& id, const std::string& meta,
                          const std::string& rid, bool ids_differ, const std::optional<std::string>& exp_in_file,
                          const std::optional<std::string>& uri);

  // ---- logged models and the Model Registry (fsck_models.cpp) ----
  void check_run_outputs(const std::string& dir, const std::string& id);
  void check_run_models(const std::string& dir, const std::string& id);
  void check_registry();
  void check_version_folders(const std::string& mdir, const std::string& name);
  void check_replaced_record(const std::string& meta, const std::string& id, const std::string& folder);
  void check_logged_models(const ExperimentDir& e);

  // ---- key folders and metric lines (fsck_keys.cpp) ----
  void check_keys(const std::string& base, const std::string& kind_in, const std::string* run_dir);
  void walk(const std::string& base, const std::string& dir, int depth,
            const std::function<void(const std::string&, const std::string&, FileType)>& fn);
  void check_metric_lines(const std::string& path, const std::string& key, const std::string& run_dir, bool running);
  Repair rewrite_metric_file(const std::string& path, const std::string& run_dir);
  bool dead_writers_tail(const std::string& path);

  Env& env_;
  const FsckOptions& opt_;
  FsckReport& r_;
  std::string root_;
  Quarantine q_;
  std::map<std::string, std::vector<std::string>> run_ids_;
};

}  // namespace mlruns::detail
