// The tags MLflow's fluent API puts on a new run (spec §4.5) plus mlruns'
// own tags saying where the run lives, so that dead runs can be found later:
//   mlflow.user, mlflow.source.name, mlflow.source.type (LOCAL),
//   mlflow.source.git.commit (read from .git, no process spawned: the
//   repository holding the executable's folder, MLflow's rule for the entry
//   point, sys.argv[0]; or RunOptions::source_dir's),
//   mlruns.host, mlruns.pid, mlruns.slurm.job_id / array_job_id /
//   array_task_id, mlruns.mpi.rank.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "mlruns/env.h"

namespace mlruns::detail {

// MLFLOW_TRACKING_USERNAME, else the OS user (LOGNAME, USER, LNAME,
// USERNAME, then the password database, like Python's getpass.getuser()),
// else "unknown".
std::string current_user();

// argv[0] of this process as given (from /proc/self/cmdline, read directly:
// not tree data), else "<console>": MLflow's mlflow.source.name
// (tracking/context/default_context.py, sys.argv[0]).
std::string program_path();

// The HEAD commit of the git work tree containing `start_dir`, read from
// .git (a folder, or a file "gitdir: ..." for worktrees and submodules):
// HEAD, loose refs, packed-refs, commondir. nullopt outside a repository.
std::optional<std::string> git_head_commit(Env& env, const std::string& start_dir);

// All system tags for a new run (RunOptions::source_dir and owner_pid say
// where the git commit comes from and whose process the run is). Program,
// host and the executable's git commit are computed once per process; user,
// pid, Slurm and MPI variables on every call.
std::map<std::string, std::string> system_tags(Env& env, const std::string& source_dir, int owner_pid,
                                               bool chain = false);

}  // namespace mlruns::detail
