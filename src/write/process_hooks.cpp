#include "write/process_hooks.h"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace mlruns::detail {
namespace {

struct Registry {
  std::mutex mu;
  int next_id = 1;
  std::map<int, std::shared_ptr<StopHook>> hooks;
};

// Never destroyed: hooks may run from atexit handlers and signal watchers
// while static destructors run.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

int add_stop_hook(StopHook hook) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  int id = r.next_id++;
  r.hooks.emplace(id, std::make_shared<StopHook>(std::move(hook)));
  return id;
}

void remove_stop_hook(int id) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.hooks.erase(id);
}

int run_stop_hooks(const StopRequest& request) {
  std::vector<std::shared_ptr<StopHook>> hooks;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    for (auto& [id, h] : r.hooks) hooks.push_back(h);
  }
  for (auto& h : hooks) (*h)(request);
  return static_cast<int>(hooks.size());
}

}  // namespace mlruns::detail
