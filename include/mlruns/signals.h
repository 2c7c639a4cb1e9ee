// Signals: what happens to active runs when the scheduler stops the job.
//
//   int main() {
//     mlruns::install_signal_handlers({.warning_signal = SIGUSR1});  // sbatch --signal=USR1@60
//     auto store = mlruns::Store::open();
//     ...
//   }
//
// On SIGTERM or SIGINT (scancel, a time limit, Ctrl-C) every Store of the
// process flushes its buffered points and ends its active runs KILLED with
// end_time = now; then the signal is handed on: to the handler that was
// installed before, or, if there was none, the default action runs and the
// process dies of the signal as it would have without mlruns (a parent or
// Slurm still sees "killed by SIGTERM").
//
// The early-warning signal (Slurm `--signal=USR1@60`, sent some seconds
// before SIGTERM) is a warning, not a stop: by default buffered points are
// flushed and each active run gets the tag `mlruns.signal.warning` (the
// signal name and time), and the program keeps running so that it can write
// a checkpoint; WarningAction::kEndRunsKilled ends the runs as SIGTERM does
// (use it when the program will not finish in time anyway).
// signal_received() and SignalOptions::on_signal tell the program.
//
// How (async-signal-safety): the handler itself takes no lock and allocates
// nothing. It writes the signal number to a pipe and returns. A watcher
// thread, started by install_signal_handlers(), reads the pipe and does the
// work in ordinary thread context, so a signal that interrupts a thread
// holding a Store's lock cannot deadlock. For a stop signal the watcher
// gives the work at most `timeout` (a hung NFS server must not keep a job
// alive past its time limit), then restores the previous disposition and
// re-raises the signal. We did not use sigwait() in a dedicated thread: that
// requires every thread of the process to block the signals, which a library
// cannot guarantee for threads created before it (MPI, OpenMP, CUDA).
//
// After SIGKILL (or a node failure) nothing can run: points flushed before it
// are in the files, buffered ones are lost, runs stay RUNNING. `mlruns reap`
// finds such runs by their host/pid tags and their sign of life (see
// docs/crash-semantics.md and last_sign_of_life() in liveness.h).
//
// Thread safety: install/uninstall are not meant to race each other; call
// them from main(). The handlers work whatever thread receives the signal.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "mlruns/status.h"

namespace mlruns {

enum class WarningAction {
  kFlush,          // flush, tag runs mlruns.signal.warning, keep running (default)
  kEndRunsKilled,  // flush and end runs KILLED, keep running
};

struct SignalOptions {
  // Signals that stop the process. Runs end KILLED, then the signal goes on.
  // One that is ignored (SIG_IGN) at install time, as SIGINT is for a job
  // started with `cmd &` from a script, is left ignored.
  std::vector<int> stop_signals = {15 /*SIGTERM*/, 2 /*SIGINT*/};
  // Early-warning signal, e.g. SIGUSR1 for `sbatch --signal=USR1@60`; 0: none.
  int warning_signal = 0;
  WarningAction warning_action = WarningAction::kFlush;
  // Longest time the flush after a stop signal may take before the signal
  // goes on anyway. Slurm waits KillWait (30 s by default) before SIGKILL.
  std::chrono::milliseconds timeout{10000};
  // Called by the watcher thread (not in signal context) after the runs were
  // flushed or ended, with the signal number. Must not block for long.
  std::function<void(int)> on_signal{};
  // SIGABRT (abort(), a failed assert): buffered points are written and the
  // runs end FAILED, at most `timeout`, then the process dies of SIGABRT as
  // before (the handler waits for the watcher, since abort() does not return).
  // std::terminate needs no handler: the first run installs that hook.
  bool end_runs_on_abort = true;
};

// Installs the handlers (replacing an earlier install of ours) and starts
// the watcher thread. Fails with kInvalidArgument for SIGKILL/SIGSTOP or an
// unknown signal number, with kIOError if the pipe or thread cannot be made.
Status install_signal_handlers(const SignalOptions& options = {});

// Restores the dispositions that were in place before and stops the watcher.
void uninstall_signal_handlers();

// The last signal our handlers have dealt with (0: none yet). It becomes
// non-zero once the flush (and tagging or ending) that the signal triggered
// is done, so a training loop can stop cleanly after the early warning:
// `if (mlruns::signal_received()) break;`.
int signal_received();

}  // namespace mlruns
