// Liveness: is the process that writes a RUNNING run still there?
//
// Every run a Store starts records where it lives, as tags (spec §4.5):
//   mlruns.host          the node's host name
//   mlruns.pid           the writer's process id
//   mlruns.pid.start     "<boot id>:<start time in clock ticks>" of that
//                        process, so a pid recycled by another process (or a
//                        reboot) is not mistaken for the writer
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

// This host's name (gethostname), empty if unknown.
std::string current_host();

// "<boot id>:<start ticks>" of a process on this host (0: this process),
// read from /proc; empty where /proc is missing or the process is gone.
std::string process_start_token(int pid = 0);

enum class ProcessState {
  kAlive,    // on this host, the pid exists and (if recorded) its start token matches
  kGone,     // on this host, and no such process, or the pid was reused
  kUnknown,  // another host, or the tags say too little to tell
};

// Judges the writer of a run from its tags (mlruns.host, mlruns.pid,
// mlruns.pid.start).
ProcessState process_state(const std::map<std::string, std::string>& run_tags);

// The run's last sign of life, in ms since the epoch: the newest
// modification time of its meta.yaml (the heartbeat) and of its metric,
// param and tag files. `run_dir` is the run's folder. kNotFound if it has
// none of these. Symlinks are not followed.
Result<std::int64_t> last_sign_of_life(Env& env, const std::string& run_dir);

}  // namespace mlruns
