#include "write/process_hooks.h"

#include <atomic>
#include <cstdlib>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
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

bool run_stop_hooks_bounded(const StopRequest& request, std::chrono::milliseconds timeout) {
  try {
    auto task = std::make_shared<std::packaged_task<void()>>([request] { run_stop_hooks(request); });
    std::future<void> done = task->get_future();
    std::thread([task] { (*task)(); }).detach();  // left behind on timeout: the process is dying
    return done.wait_for(timeout) == std::future_status::ready;
  } catch (...) {  // no thread could be made: do it here, unbounded
    run_stop_hooks(request);
    return true;
  }
}

namespace {
std::terminate_handler g_previous_terminate = nullptr;

[[noreturn]] void on_terminate() {
  static std::atomic<bool> busy{false};
  if (!busy.exchange(true)) {
    using namespace std::chrono;
    auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    run_stop_hooks_bounded({StopAction::kEndFailed, 0, now}, std::chrono::seconds(10));
  }
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}
}  // namespace

void install_terminate_hook() {
  static std::once_flag once;
  std::call_once(once, [] { g_previous_terminate = std::set_terminate(on_terminate); });
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
