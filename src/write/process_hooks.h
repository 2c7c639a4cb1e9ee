// Process-wide hooks: how a signal reaches every live run of the process.
// signals.cpp runs them from its watcher thread; the writer's registry of
// live runs (run_registry.cpp) registers its hook when the first run starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace mlruns::detail {

enum class StopAction {
  kFlush,      // write buffered points; runs go on
  kWarn,       // flush and tag active runs mlruns.signal.warning
  kEndKilled,  // flush and end active runs KILLED with end_time
  kEndFailed,  // flush and end active runs FAILED with end_time (std::terminate, abort)
};

struct StopRequest {
  StopAction action = StopAction::kFlush;
  int signal = 0;            // the signal that asked for it (0: none)
  std::int64_t time_ms = 0;  // when it arrived (ms since the epoch)
};

using StopHook = std::function<void(const StopRequest&)>;

// Returns an id for remove_stop_hook(). Thread-safe.
int add_stop_hook(StopHook hook);
void remove_stop_hook(int id);
// Calls every hook (outside the registry lock, so a hook may remove itself);
// returns how many ran.
int run_stop_hooks(const StopRequest& request);
// The same in a helper thread, waiting at most `timeout` (a hung NFS server
// or a lock held by a stuck thread must not keep a dying process alive);
// false on timeout.
bool run_stop_hooks_bounded(const StopRequest& request, std::chrono::milliseconds timeout);

// Ends every live run FAILED (after writing its buffered points) when
// std::terminate is called (an exception left main, a noexcept function
// threw ...), then calls the handler that was there before (by default
// abort()). Installed when the first run starts; once per process.
void install_terminate_hook();

}  // namespace mlruns::detail
