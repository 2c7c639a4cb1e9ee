// `mlruns run start|end|delete|restore`: a run's life cycle from a shell
// script. `run start` leaves the run RUNNING when the process exits, so that
// later `mlruns log` calls (from any process) and `mlruns run end` finish it.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "exit_codes.h"
#include "mlruns/liveness.h"

namespace mlruns::cli {


// ---- run start ------------------------------------------------------------
struct RunStartOptions {
  std::string experiment;
  std::string name;
  std::string parent;
  std::vector<std::string> tags;
  std::string description;
  std::optional<std::string> owner_pid;
};

// The process that owns a run started from the shell: not this short-lived
// CLI process, but its caller (the job script, the Slurm step's shell) and,
// because that caller may itself be short-lived (bash runs `$(cmd 2>err)`
// from a forked subshell; `timeout`, `env`, `nice` wrap commands), the
// caller's ancestors up to the session leader (RunOptions::owner_chain,
// liveness.h). --owner-pid names exactly one owner. A caller that is init
// (pid 1: the CLI was orphaned, or runs under a container's init) says
// nothing about the run, which is then judged by its silence alone (-1).
int run_owner(const RunStartOptions& opt) {
  if (opt.owner_pid) {
    std::int64_t pid = parse_int64(*opt.owner_pid, "--owner-pid");
    if (pid < 1 || pid > 4194304) check(Status::invalid_argument("--owner-pid " + *opt.owner_pid, "not a process id"));
    if (process_start_token(static_cast<int>(pid)).empty())
      check(Status::not_found("--owner-pid " + *opt.owner_pid, "no such process on this host"));
    return static_cast<int>(pid);
  }
  pid_t parent = ::getppid();
  return parent > 1 ? static_cast<int>(parent) : -1;
}

int run_run_start(const RunStartOptions& opt) {
  RunOptions ro;
  for (const std::string& t : opt.tags) {
    auto [k, v] = split_key_value(t, "--tag");
    ro.tags[k] = v;
  }
  Store store = open_store();
  std::string experiment = opt.experiment;
  // As MLflow's fluent API: MLFLOW_EXPERIMENT_ID, then MLFLOW_EXPERIMENT_NAME, then Default.
  if (experiment.empty()) {
    if (const char* id = std::getenv("MLFLOW_EXPERIMENT_ID"); id != nullptr && *id != '\0') {
      experiment = id;
    } else if (const char* name = std::getenv("MLFLOW_EXPERIMENT_NAME"); name != nullptr && *name != '\0') {
      experiment = name;
    } else {
      experiment = "0";
    }
  }
  ro.experiment_id = resolve_experiment_id(store, experiment);
  ro.run_name = opt.name;
  ro.parent_run_id = opt.parent;
  ro.description = opt.description;
  ro.owner_pid = run_owner(opt);
  ro.owner_chain = !opt.owner_pid;  // the caller may be a subshell or `timeout`: its ancestors too
  // mlflow.source.git.commit: the repository of the folder the job runs in,
  // not of wherever the mlruns binary lives.
  ro.source_dir = ".";
  ActiveRun run = store.start_run(ro);
  if (!run.ok()) check(store.last_error().is_ok() ? Status::io_error("run start", "the run could not be created")
                                                  : store.last_error());
  machine_out() << run.id() << '\n';
  // Not ended when this process exits: `mlruns run end` (or a later process) ends it.
  check(run.detach());
  return kExitOk;
}

// ---- run end --------------------------------------------------------------
struct RunEndOptions {
  std::string run_id;
  std::string status = "FINISHED";
  std::optional<std::string> end_time;
};

int run_run_end(const RunEndOptions& opt) {
  std::string name = opt.status;
  for (char& c : name) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);  // --status failed
  const std::optional<RunStatus> status = parse_run_status(name);
  if (!status || *status == RunStatus::kRunning || *status == RunStatus::kScheduled) {
    check(Status::invalid_argument("--status '" + opt.status + "'", "must be FINISHED, FAILED or KILLED"));
  }
  check(validate_run_id(opt.run_id));
  std::optional<std::int64_t> end_time;
  if (opt.end_time) end_time = parse_epoch_ms(*opt.end_time, "--end-time");
  Store store = open_existing_store();
  check(store.set_terminated(opt.run_id, *status, end_time));
  return kExitOk;
}

// ---- run delete / restore ---------------------------------------------------
struct RunIdOptions {
  std::string run_id;
};

int run_run_delete(const RunIdOptions& opt) {
  check(validate_run_id(opt.run_id));
  Store store = open_existing_store();
  check(store.delete_run(opt.run_id));
  return kExitOk;
}

int run_run_restore(const RunIdOptions& opt) {
  check(validate_run_id(opt.run_id));
  Store store = open_existing_store();
  check(store.restore_run(opt.run_id));
  return kExitOk;
}

void setup_run(CLI::App& app, Commands& commands) {
  auto* group = app.add_subcommand("run", "Start, end, delete or restore a run");
  group->require_subcommand(1);
  add_tracking_uri(*group);

  auto start_opt = std::make_shared<RunStartOptions>();
  auto* start = group->add_subcommand("start", "Start a run, print its id; it stays RUNNING until `run end`");
  start->add_option("--experiment,-e", start_opt->experiment,
                    "Experiment name or id (default: MLFLOW_EXPERIMENT_ID, MLFLOW_EXPERIMENT_NAME, then 0)");
  start->add_option("--name,-n", start_opt->name, "Run name (default: a generated adjective-noun-N)");
  start->add_option("--parent", start_opt->parent, "Parent run id (nested run: sets mlflow.parentRunId)");
  start->add_option("--tag", start_opt->tags, "Run tag KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  start->add_option("--description", start_opt->description, "Run description (mlflow.note.content)");
  start->add_option("--owner-pid", start_opt->owner_pid,
                    "The one process whose life the run follows for `mlruns reap` (default: the caller of "
                    "this command and its ancestors up to the session leader, docs/hpc.md)");
  add_tracking_uri(*start);
  commands.add(start, [start_opt] { return run_run_start(*start_opt); });

  auto end_opt = std::make_shared<RunEndOptions>();
  auto* end = group->add_subcommand("end", "End a run: set its status and end_time");
  end->add_option("RUN_ID", end_opt->run_id, "Run id")->required();
  end->add_option("--status", end_opt->status, "FINISHED (default), FAILED or KILLED")
      ->check(CLI::IsMember({"FINISHED", "FAILED", "KILLED"}, CLI::ignore_case));
  end->add_option("--end-time", end_opt->end_time, "End time in ms since the epoch, 13 digits (default: now)");
  add_tracking_uri(*end);
  add_run_experiment(*end);
  commands.add(end, [end_opt] { return run_run_end(*end_opt); });

  auto del_opt = std::make_shared<RunIdOptions>();
  auto* del = group->add_subcommand("delete", "Mark a run deleted (restorable until `mlruns gc` removes it for good)");
  del->add_option("RUN_ID", del_opt->run_id, "Run id")->required();
  add_tracking_uri(*del);
  add_run_experiment(*del);
  commands.add(del, [del_opt] { return run_run_delete(*del_opt); });

  auto restore_opt = std::make_shared<RunIdOptions>();
  auto* restore = group->add_subcommand("restore", "Restore a deleted run");
  restore->add_option("RUN_ID", restore_opt->run_id, "Run id")->required();
  add_tracking_uri(*restore);
  add_run_experiment(*restore);
  commands.add(restore, [restore_opt] { return run_run_restore(*restore_opt); });
}

}  // namespace mlruns::cli
