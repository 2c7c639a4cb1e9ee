// Liveness: is the process that writes a RUNNING run still there?
//
// Every run a Store starts records where it lives, as tags (spec §4.5):
//   mlruns.host          the node's host name
//   mlruns.pid           the writer's process id
//   mlruns.pid.start     "<boot id>:<start time in clock ticks>" of that
//                        process, so a pid recycled by another process (or a
//                        reboot) is not mistaken for the writer
//   mlruns.owner.chain   for a run started from a shell (`mlruns run start`):
//                        the caller and its ancestors up to the session
//                        leader, each with its start time (owner_chain)
//   mlruns.slurm.*       Slurm job / array ids, when set
// and while it runs, the Store's background thread gives a sign of life: it
// sets the modification time of the run's meta.yaml to now every
// StoreOptions::heartbeat (MLflow never looks at mtimes, and no extra file
// appears in the run folder). `mlruns reap` uses both: a run whose process
// is gone, or that has been silent too long, is ended KILLED with end_time =
// its last sign of life. See docs/crash-semantics.md.
//
// Thread safety: free functions, safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "mlruns/status.h"

namespace mlruns {

class Env;

inline constexpr const char* kTagHost = "mlruns.host";
inline constexpr const char* kTagPid = "mlruns.pid";
inline constexpr const char* kTagPidStart = "mlruns.pid.start";
// The owners of a run started from a shell (`mlruns run start`): the CLI's
// ancestors, nearest first, "<boot id> <role><pid>@<start ticks> ...", role
// 'o' (a job process: the run is owned while one lives) or 'w' (the session
// leader with a controlling terminal, i.e. an interactive login shell: while
// only it lives the run is judged by its silence). See owner_chain.
inline constexpr const char* kTagOwnerChain = "mlruns.owner.chain";

// This host's name (gethostname), empty if unknown.
std::string current_host();

// "<boot id>:<start ticks>" of a process on this host (0: this process),
// read from /proc; empty where /proc is missing or the process is gone.
std::string process_start_token(int pid = 0);

// The owner chain of a run started by a short-lived process whose caller is
// `pid` (the value of kTagOwnerChain): `pid` and its ancestors up to and
// including the session leader, never pid 1, at most 16. Why a chain: the
// caller of `mlruns run start` is often itself short-lived - bash runs
// `$(cmd 2>/dev/null)` from a forked subshell, `timeout`, `nice` or `env`
// wrap the command - so no single ancestor is surely the job. Every ancestor
// below the session leader is a job process ('o'); the session leader is one
// too unless it has a controlling terminal and is not `pid` itself (an
// interactive shell outlives the jobs it starts: 'w'). Empty where /proc
// cannot be read or `pid` is 1.
std::string owner_chain(int pid);

enum class ProcessState {
  kAlive,    // on this host, the pid exists and (if recorded) its start token matches
  kGone,     // on this host, and no such process, or the pid was reused
  kUnknown,  // another host, or the tags say too little to tell
};

// Judges the writer of a run from its tags (mlruns.host, mlruns.pid,
// mlruns.pid.start, mlruns.owner.chain). With an owner chain: kAlive while
// any 'o' process of it lives (same pid and start time), kUnknown while only
// a 'w' one lives (reap then goes by silence), kGone when none lives or the
// node rebooted. Without one: mlruns.pid and mlruns.pid.start.
ProcessState process_state(const std::map<std::string, std::string>& run_tags);

// The run's last sign of life, in ms since the epoch: the newest
// modification time of its meta.yaml (the heartbeat) and of its metric,
// param and tag files. `run_dir` is the run's folder. kNotFound if it has
// none of these. Symlinks are not followed.
Result<std::int64_t> last_sign_of_life(Env& env, const std::string& run_dir);

}  // namespace mlruns
