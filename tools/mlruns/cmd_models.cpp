// `mlruns models list|show|versions|register|set-alias|delete-alias|transition`:
// the tree's Model Registry (<root>/models/, spec §9.4). --json answers in
// the shapes of MLflow's REST API (registered-models/search and /get,
// model-versions/search and /get; rest_json.h).
#include <charconv>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/registry.h"
#include "models_cli.h"
#include "rest_json.h"

namespace mlruns::cli {

namespace {

struct ModelsOptions {
  std::string name;
  std::string alias;
  std::string source;
  std::string stage;
  std::int64_t version = 0;
  std::vector<std::string> aliases;
  std::vector<std::string> tags;
  std::string description;
  bool has_description = false;
  bool archive_existing = false;
  bool json = false;
};

// VERSION checked whole before CLI11 converts it: a number too large for 64
// bits is refused as typed (CLI11 alone would clamp it to 2^63-1).
const CLI::Validator kVersionNumber(
    [](std::string& text) -> std::string {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc::result_out_of_range)
        return "'" + text + "' is not an integer from 1 to 9223372036854775807";
      (void)end;
      return {};  // anything else: CLI11's conversion and its message
    },
    "INT");

std::string aliases_text(const std::map<std::string, std::int64_t>& aliases) {
  std::string out;
  for (const auto& [alias, v] : aliases) out += (out.empty() ? "" : ",") + alias + "=" + std::to_string(v);
  return out;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

Table versions_table(const std::vector<ModelVersion>& versions) {
  Table t;
  t.header = {"version", "stage", "aliases", "run_id", "created", "source"};
  for (const ModelVersion& v : versions)
    t.rows.push_back({std::to_string(v.version), std::string(to_string(v.current_stage)), joined(v.aliases),
                      v.run_id.value_or(""), format_time_ms(v.creation_timestamp), v.source});
  return t;
}

int run_list(const ModelsOptions& opt) {
  Reader reader = open_reader();
  const std::vector<RegisteredModel> models = check(reader.registered_models());
  if (opt.json) {
    machine_out() << dump(registered_models_search_json(models));
    return kExitOk;
  }
  Table t;
  t.header = {"name", "latest", "aliases", "updated", "description"};
  for (const RegisteredModel& m : models) {
    std::int64_t latest = 0;
    for (const ModelVersion& v : m.latest_versions) latest = std::max(latest, v.version);
    t.rows.push_back({m.name, latest ? std::to_string(latest) : "-", aliases_text(m.aliases),
                      format_time_ms(m.last_updated_timestamp), m.description.value_or("")});
  }
  print_table(std::cout, t, terminal_width());
  return kExitOk;
}

int run_show(const ModelsOptions& opt) {
  Reader reader = open_reader();
  const RegisteredModel m = check(reader.registered_model(opt.name));
  if (opt.json) {
    machine_out() << dump(registered_models_get_json(m));
    return kExitOk;
  }
  const std::vector<ModelVersion> versions = check(reader.model_versions(opt.name));
  // "label: value", the values aligned; an empty value leaves no trailing space.
  auto field = [](std::string_view label, const std::string& value) {
    std::cout << label;
    if (!value.empty()) std::cout << std::string(13 - label.size(), ' ') << value;
    std::cout << '\n';
  };
  field("name:", m.name);
  field("description:", m.description.value_or(""));
  field("created:", format_time_ms(m.creation_timestamp));
  field("updated:", format_time_ms(m.last_updated_timestamp));
  field("aliases:", aliases_text(m.aliases));
  for (const auto& [k, v] : m.tags) field("tag:", k + "=" + v);
  field("versions:", std::to_string(versions.size()));
  if (!versions.empty()) print_table(std::cout, versions_table(versions), terminal_width());
  return kExitOk;
}

int run_versions(const ModelsOptions& opt) {
  Reader reader = open_reader();
  const std::vector<ModelVersion> versions = check(reader.model_versions(opt.name));
  if (opt.json) {
    machine_out() << dump(model_versions_search_json(versions));
    return kExitOk;
  }
  print_table(std::cout, versions_table(versions), terminal_width());
  return kExitOk;
}

void print_version(const ModelVersion& v, bool json) {
  if (json) {
    machine_out() << dump(model_version_get_json(v));
  } else {
    machine_out() << v.version << '\n';
  }
}

int run_register(const ModelsOptions& opt) {
  Store store = open_existing_store();
  Reader reader = open_reader();
  Registration r;
  r.name = opt.name;
  r.source = opt.source;
  r.aliases = opt.aliases;
  r.tags = opt.tags;
  if (opt.has_description) r.description = opt.description;
  const ModelVersion v = register_version(store, reader, r);
  std::cerr << "registered " << v.name << " version " << v.version << " from " << v.source << '\n';
  print_version(v, opt.json);
  return kExitOk;
}

int run_set_alias(const ModelsOptions& opt) {
  Store store = open_existing_store();
  check(store.registry().set_registered_model_alias(opt.name, opt.alias, opt.version));
  return kExitOk;
}

int run_delete_alias(const ModelsOptions& opt) {
  Store store = open_existing_store();
  check(store.registry().delete_registered_model_alias(opt.name, opt.alias));
  return kExitOk;
}

int run_transition(const ModelsOptions& opt) {
  const std::optional<ModelStage> stage = parse_model_stage(opt.stage);
  if (!stage) check(Status::invalid_argument("stage '" + opt.stage + "'", "must be None, Staging, Production or Archived"));
  const std::int64_t version = opt.version;
  Store store = open_existing_store();
  check(store.registry().transition_model_version_stage(opt.name, version, *stage, opt.archive_existing));
  Reader reader = open_reader();
  print_version(check(reader.model_version(opt.name, version)), opt.json);
  return kExitOk;
}

}  // namespace

void setup_models(CLI::App& app, Commands& commands) {
  auto* models = app.add_subcommand("models", "The Model Registry of the tree: list, show, register, aliases");
  models->require_subcommand(1);
  auto opt = std::make_shared<ModelsOptions>();
  auto verb = [&](const char* name, const char* help, int (*fn)(const ModelsOptions&)) {
    auto* sub = models->add_subcommand(name, help);
    add_tracking_uri(*sub);
    commands.add(sub, [opt, fn] { return fn(*opt); });
    return sub;
  };

  auto* list = verb("list", "Registered models: name, newest version, aliases (--json: registered-models/search)", run_list);
  list->add_flag("--json", opt->json, "MLflow REST registered-models/search JSON");

  auto* show = verb("show", "One registered model with its versions (--json: registered-models/get)", run_show);
  show->add_option("NAME", opt->name, "Registered model name")->required();
  show->add_flag("--json", opt->json, "MLflow REST registered-models/get JSON");

  auto* versions = verb("versions", "A model's versions, newest change first (--json: model-versions/search)", run_versions);
  versions->add_option("NAME", opt->name, "Registered model name")->required();
  versions->add_flag("--json", opt->json, "MLflow REST model-versions/search JSON");

  auto* reg = verb("register", "Register a model as a new version (the model is created if needed); prints the version",
                   run_register);
  reg->add_option("NAME", opt->name, "Registered model name")->required();
  reg->add_option("SOURCE", opt->source,
                  "runs:/RUN_ID/PATH, models:/m-<id> (a logged model), or an absolute path to a run's artifacts "
                  "(<exp>/<run>/artifacts/...) or a logged model's folder in the tree")
      ->required();
  reg->add_option("--alias", opt->aliases, "Point this alias at the new version once it is complete (repeatable)")
      ->allow_extra_args(false);
  reg->add_option("--tag", opt->tags, "Version tag K=V (repeatable)")
      ->allow_extra_args(false);
  reg->add_option("--description", opt->description, "Version description")
      ->each([opt](const std::string&) { opt->has_description = true; });
  reg->add_flag("--json", opt->json, "MLflow REST model-versions/get JSON");
  add_run_experiment(*reg);  // runs:/RUN_ID/...: the run by id

  auto* set_alias = verb("set-alias", "Point an alias at a version (replaced atomically)", run_set_alias);
  set_alias->add_option("NAME", opt->name, "Registered model name")->required();
  set_alias->add_option("ALIAS", opt->alias, "Alias, e.g. champion")->required();
  set_alias->add_option("VERSION", opt->version, "Version number")->required()->check(kVersionNumber);

  auto* delete_alias = verb("delete-alias", "Remove an alias", run_delete_alias);
  delete_alias->add_option("NAME", opt->name, "Registered model name")->required();
  delete_alias->add_option("ALIAS", opt->alias, "Alias")->required();

  auto* transition = verb("transition", "Move a version to an MLflow 2.x stage", run_transition);
  transition->add_option("NAME", opt->name, "Registered model name")->required();
  transition->add_option("VERSION", opt->version, "Version number")->required()->check(kVersionNumber);
  transition->add_option("STAGE", opt->stage, "None, Staging, Production or Archived (any case)")->required();
  transition->add_flag("--archive-existing", opt->archive_existing,
                       "Archive the other versions in that stage (Staging and Production only)");
  transition->add_flag("--json", opt->json, "MLflow REST model-versions/get JSON");
}

}  // namespace mlruns::cli
