// Process-wide hooks: how a signal reaches every live run of the process.
// signals.cpp runs them from its watcher thread; the writer's registry of
// live runs (run_registry.cpp) registers its hook when the first run starts.
#pragma once

#include <cstdint>
#include <functional>

namespace mlruns::detail {

enum class StopAction {
  kFlush,      // write buffered points; runs go on
  kWarn,       // flush and tag active runs mlruns.signal.warning
  kEndKilled,  // flush and end active runs KILLED with end_time
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

}  // namespace mlruns::detail
