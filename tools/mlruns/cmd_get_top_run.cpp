// `mlruns get-top-run`: picks the best run of an experiment by a metric,
// explains the choice on stderr, downloads its artifacts (all, or one
// sub-path such as checkpoint_000010) and prints the local path on stdout.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/download.h"
#include "mlruns/key.h"
#include "mlruns/rank.h"
#include "models_cli.h"
#include "rest_json.h"

namespace mlruns::cli {

struct GetTopRunOptions {
  std::vector<std::string> experiments;
  std::string rank_metric;
  bool ascending = false;
  std::string filter;
  std::string rank_by = "latest";
  bool include_unfinished = false;
  std::string view = "active";
  std::string local_path = ".";
  std::string artifact_path;
  bool overwrite = false;
  bool no_download = false;
  bool json = false;
  std::string register_name;
  std::vector<std::string> aliases;
};

int run_get_top_run(const GetTopRunOptions& opt) {
  RankQuery q;
  q.metric = opt.rank_metric;
  q.ascending = opt.ascending;
  q.filter = opt.filter;
  q.finished_only = !opt.include_unfinished;
  if (opt.rank_by == "latest") {
    q.by = RankBy::kLatest;
  } else if (opt.rank_by == "best") {
    q.by = RankBy::kBest;
  } else if (opt.rank_by.rfind("step:", 0) == 0) {
    q.by = RankBy::kAtStep;
    q.step = parse_int64(std::string_view(opt.rank_by).substr(5), "--rank-by step");
  } else {
    check(Status::invalid_argument("--rank-by '" + opt.rank_by + "'", "must be latest, best or step:N"));
  }
  if (!opt.artifact_path.empty()) check(validate_artifact_path(opt.artifact_path));

  Reader reader = open_reader();
  RunScope scope = run_scope(reader, opt.experiments, opt.view);
  q.experiment_ids = std::move(scope.experiment_ids);
  q.view = scope.view;
  const std::string& experiment_names = scope.names;
  const Ranking ranking = check(rank_runs(reader, q));
  const std::string metric_name =
      opt.rank_metric.rfind("metrics.", 0) == 0 ? opt.rank_metric : "metrics." + opt.rank_metric;
  const std::string which_runs = opt.include_unfinished ? "runs" : "FINISHED runs";
  if (ranking.runs.empty()) {
    check(Status::not_found("get-top-run", "no candidate: " + std::to_string(ranking.considered) + " " + which_runs +
                                               " of " + experiment_names + " considered, none has a value for " +
                                               metric_name + " (" + rank_rule_text(q) + ")"));
  }
  const RankedRun& top = ranking.runs.front();
  const RunInfo& info = top.run.info;

  // Why this run: on stderr, so that stdout stays the path for scripts.
  for (const std::string& line : explain_ranking(q, ranking, experiment_names)) std::cerr << line << '\n';

  // Registration first: its model (the --artifact-path, or the run's only
  // logged model) is checked before anything is written or downloaded. The
  // version folder is complete before the aliases move (registry.h), so a
  // concurrent `download models:/NAME@ALIAS` sees the old version or the new.
  std::optional<ModelVersion> registered;
  if (!opt.register_name.empty()) {
    const std::string path = model_path_of_run(reader, info.run_id, opt.artifact_path, "--artifact-path");
    Store store = open_existing_store();
    Registration r;
    r.name = opt.register_name;
    r.source = "runs:/" + info.run_id + "/" + path;
    r.aliases = opt.aliases;
    registered = register_version(store, reader, r);
    std::cerr << "  registered " << r.source << " as " << registered->name << " version " << registered->version;
    for (const std::string& a : opt.aliases) std::cerr << ", @" << a;
    std::cerr << '\n';
  }

  DownloadResult downloaded;
  if (!opt.no_download) {
    downloaded = download_with_progress(
        [&](const DownloadOptions& o) {
          return download_artifacts(reader, info.run_id, opt.artifact_path, opt.local_path, o);
        },
        opt.overwrite);
  }

  if (opt.json) {
    Json j;
    j["run"] = run_json(check(reader.run(info.run_id)));
    Json rank;
    rank["metric"] = metric_name;
    rank["value"] = metric_value_json(top.value);
    rank["step"] = top.step;
    rank["rank_by"] = opt.rank_by;
    rank["ascending"] = opt.ascending;
    rank["considered"] = ranking.considered;
    rank["without_value"] = ranking.without_value;
    j["rank"] = std::move(rank);
    if (!opt.no_download) {
      j["download"] = Json{{"local_path", downloaded.local_path},
                           {"files", downloaded.files},
                           {"bytes", downloaded.bytes}};
    }
    if (registered) j["registered_model_version"] = model_version_json(*registered);
    machine_out() << dump(j);
  } else {
    machine_out() << (opt.no_download ? info.run_id : downloaded.local_path) << '\n';
  }
  return kExitOk;
}

void setup_get_top_run(CLI::App& app, Commands& commands) {
  auto opt = std::make_shared<GetTopRunOptions>();
  auto* sub = app.add_subcommand("get-top-run",
                                 "Pick the best run by a metric, say why, download its artifacts, print the path");
  sub->add_option("--experiment,-e", opt->experiments,
                  "Experiment name or id (repeatable; default: every experiment, as runs and report)")
      ->allow_extra_args(false);
  sub->add_option("--rank-metric,-m", opt->rank_metric, "Metric to rank on, e.g. metrics.episode_reward_mean")
      ->required();
  sub->add_flag("--ascending", opt->ascending, "Lower is better (default: higher is better)");
  sub->add_option("--filter,-f", opt->filter, "MLflow filter the candidates must match");
  sub->add_option("--rank-by", opt->rank_by,
                  "latest (MLflow's latest value, default), best (best over the history) or step:N");
  sub->add_flag("--include-unfinished", opt->include_unfinished,
                "Let RUNNING, FAILED and KILLED runs compete (default: FINISHED only)");
  sub->add_option("--view", opt->view, "Which runs: active (default), deleted or all")
      ->check(CLI::IsMember({"active", "deleted", "all"}));
  sub->add_option("--local-path,-d", opt->local_path, "Directory to download into (default: .)");
  artifact_path_option(sub->add_option("--artifact-path,-a", opt->artifact_path,
                                       "Only this artifact sub-path, e.g. checkpoint_000010 (default: all artifacts)"));
  sub->add_flag("--overwrite", opt->overwrite, "Replace an existing download (atomically)");
  sub->add_flag("--no-download", opt->no_download, "Only pick and explain; print the run id");
  auto* reg = sub->add_option("--register", opt->register_name,
                  "Register the best run's model (--artifact-path, or its only logged model) as a new version of NAME");
  sub->add_option("--alias", opt->aliases, "With --register: point this alias (e.g. champion) at the new version (repeatable)")
      ->allow_extra_args(false)
      ->needs(reg);
  sub->add_flag("--json", opt->json,
                "JSON: {\"run\": runs/get shape, \"rank\": {...}, \"download\": {...}, "
                "\"registered_model_version\": model-versions/get shape}");
  add_tracking_uri(*sub);
  commands.add(sub, [opt] {
    // The registration's names are checked before the ranking: a refusal
    // comes first and nothing is written.
    if (!opt->register_name.empty()) {
      check(validate_registered_model_name(opt->register_name));
      for (const std::string& alias : opt->aliases) check(validate_model_alias(alias));
    }
    return run_get_top_run(*opt);
  });
}

}  // namespace mlruns::cli
