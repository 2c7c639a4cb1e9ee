// `mlruns experiments`: lists experiments; its sub-verbs create, delete,
// restore and rename them. CLI11 runs the deepest subcommand given, so the
// bare group is the listing (`experiments list` is the same).
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "rest_json.h"

namespace mlruns::cli {

// ---- experiments [list] ----------------------------------------------------
struct ExperimentsListOptions {
  std::string view = "active";
  bool json = false;
  bool csv = false;
};

int run_experiments_list(const ExperimentsListOptions& opt) {
  Reader reader = open_reader();
  const std::vector<Experiment> experiments = check(reader.experiments(parse_view(opt.view)));
  if (opt.json) {
    machine_out() << dump(experiments_search_json(experiments));
    return kExitOk;
  }
  Table table;
  table.header = {"experiment_id", "name", "lifecycle_stage", "creation_time", "artifact_location"};
  for (const Experiment& e : experiments) {
    table.rows.push_back({e.experiment_id, e.name, std::string(to_string(e.lifecycle_stage)),
                          e.creation_time ? (opt.csv ? std::to_string(*e.creation_time)
                                                     : format_time_ms(*e.creation_time))
                                          : std::string(),
                          e.artifact_location});
  }
  if (opt.csv) {
    print_csv(machine_out(), table);
  } else {
    print_table(std::cout, table, terminal_width());
  }
  return kExitOk;
}

void add_list_options(CLI::App& sub, ExperimentsListOptions& opt) {
  sub.add_option("--view", opt.view, "Which experiments: active, deleted or all")
      ->check(CLI::IsMember({"active", "deleted", "all"}));
  auto* json = sub.add_flag("--json", opt.json, "MLflow REST experiments/search JSON");
  auto* csv = sub.add_flag("--csv", opt.csv, "CSV with a header line");
  json->excludes(csv);
  add_tracking_uri(sub);
}

// ---- experiments create ----------------------------------------------------
struct ExperimentsCreateOptions {
  std::string name;
  bool get_or_create = false;
  std::vector<std::string> tags;
  std::string artifact_location;
};

int run_experiments_create(const ExperimentsCreateOptions& opt) {
  StringMap tags;
  for (const std::string& t : opt.tags) {
    auto [k, v] = split_key_value(t, "--tag");
    tags[k] = v;
  }
  Store store = open_store();
  std::string id;
  if (opt.get_or_create && tags.empty() && opt.artifact_location.empty()) {
    id = check(store.get_or_create_experiment(opt.name));
  } else {
    Result<std::string> created = store.create_experiment(opt.name, tags, opt.artifact_location);
    if (!created && created.error().code() == Code::kAlreadyExists && opt.get_or_create) {
      // Taken (perhaps by a concurrent job): get-or-create returns the existing one.
      id = check(store.get_experiment_by_name(opt.name)).experiment_id;
    } else {
      id = check(std::move(created));
    }
  }
  machine_out() << id << '\n';
  return kExitOk;
}

// ---- experiments delete / restore / rename -----------------------------------
struct ExperimentsChangeOptions {
  std::string experiment;
  std::string new_name;
};

int run_experiments_delete(const ExperimentsChangeOptions& opt) {
  Store store = open_existing_store();
  check(store.delete_experiment(resolve_experiment_id(store, opt.experiment)));
  return kExitOk;
}

int run_experiments_restore(const ExperimentsChangeOptions& opt) {
  Store store = open_existing_store();
  check(store.restore_experiment(resolve_experiment_id(store, opt.experiment)));
  return kExitOk;
}

int run_experiments_rename(const ExperimentsChangeOptions& opt) {
  Store store = open_existing_store();
  check(store.rename_experiment(resolve_experiment_id(store, opt.experiment), opt.new_name));
  return kExitOk;
}

void setup_experiments(CLI::App& app, Commands& commands) {
  auto* group = app.add_subcommand("experiments", "List experiments, or create/delete/restore/rename one");
  group->require_subcommand(0, 1);
  auto list_opt = std::make_shared<ExperimentsListOptions>();
  add_list_options(*group, *list_opt);
  commands.add(group, [list_opt] { return run_experiments_list(*list_opt); });

  auto* list = group->add_subcommand("list", "List experiments (the same as bare `experiments`)");
  auto list2_opt = std::make_shared<ExperimentsListOptions>();
  add_list_options(*list, *list2_opt);
  commands.add(list, [list2_opt] { return run_experiments_list(*list2_opt); });

  auto create_opt = std::make_shared<ExperimentsCreateOptions>();
  auto* create = group->add_subcommand("create", "Create an experiment and print its id");
  create->add_option("NAME", create_opt->name, "Experiment name")->required();
  create->add_flag("--get-or-create", create_opt->get_or_create,
                   "If the name exists, print its id instead of failing (safe when many jobs race)");
  create->add_option("--tag", create_opt->tags, "Experiment tag KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  create->add_option("--artifact-location", create_opt->artifact_location,
                     "Where runs store artifacts (default: <tree>/<experiment id>)");
  add_tracking_uri(*create);
  commands.add(create, [create_opt] { return run_experiments_create(*create_opt); });

  auto del_opt = std::make_shared<ExperimentsChangeOptions>();
  auto* del = group->add_subcommand("delete", "Delete an experiment and its runs (moved to .trash/, restorable)");
  del->add_option("EXPERIMENT", del_opt->experiment, "Experiment name or id")->required();
  add_tracking_uri(*del);
  commands.add(del, [del_opt] { return run_experiments_delete(*del_opt); });

  auto restore_opt = std::make_shared<ExperimentsChangeOptions>();
  auto* restore = group->add_subcommand("restore", "Restore a deleted experiment and its runs");
  restore->add_option("EXPERIMENT", restore_opt->experiment, "Experiment name or id")->required();
  add_tracking_uri(*restore);
  commands.add(restore, [restore_opt] { return run_experiments_restore(*restore_opt); });

  auto rename_opt = std::make_shared<ExperimentsChangeOptions>();
  auto* rename = group->add_subcommand("rename", "Rename an experiment");
  rename->add_option("EXPERIMENT", rename_opt->experiment, "Experiment name or id")->required();
  rename->add_option("NEW_NAME", rename_opt->new_name, "New name")->required();
  add_tracking_uri(*rename);
  commands.add(rename, [rename_opt] { return run_experiments_rename(*rename_opt); });
}

}  // namespace mlruns::cli
