// The process-wide registry of live runs: the background flusher (flush
// policy max_age, heartbeat), flush-and-end at normal exit, and the stop hook
// through which signals.cpp flushes, tags or ends every live run.
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <thread>

#include "write/process_hooks.h"
#include "write/store_impl.h"

namespace mlruns {
namespace detail {

// From the C library's own table (sigabbrev_np, glibc >= 2.32), never from
// numbers: SIGUSR1 is 10 on x86 and arm, 16 on mips, 30 on alpha and sparc.
std::string signal_name(int sig) {
  if (const char* abbrev = ::sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

namespace {

// Live runs of the whole process. A function-local static: its destructor
// runs at normal process exit (return from main, exit()), stops the
// background flusher, then flushes and ends every run still open FINISHED.
class Registry {
 public:
  ~Registry() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& s : live()) {
      std::lock_guard<std::mutex> lock(s->mu);
      if (!s->valid || s->ended || s->released) continue;
      Status st = s->end_locked(RunStatus::kFinished, std::nullopt);
      s->store->note(st, /*call_on_error=*/false);  // the callback's captures may be gone by now
    }
    dead().store(true);
  }

  void add(const std::shared_ptr<ActiveRun::State>& state, bool background) {
    std::lock_guard<std::mutex> lock(mu_);
    if (hook_id_ == 0) {  // signals.cpp and std::terminate reach the runs through this hook
      hook_id_ = add_stop_hook([this](const StopRequest& r) {
        if (!dead().load()) stop(r);
      });
      install_terminate_hook();
    }
    runs_.erase(std::remove_if(runs_.begin(), runs_.end(), [](const auto& w) { return w.expired(); }), runs_.end());
    runs_.push_back(state);
    if (background) {
      auto age = state->store->options.flush.max_age.count();
      interval_ms_ = std::clamp<std::int64_t>(std::min<std::int64_t>(interval_ms_, age / 2), 5, 1000);
      auto beat = state->store->options.heartbeat.count();
      if (beat > 0) interval_ms_ = std::clamp<std::int64_t>(std::min<std::int64_t>(interval_ms_, beat), 5, 1000);
      state->last_beat_ms = steady_ms();
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
  }

  // A signal (signals.h): flush every run; tag it (warning) or end it KILLED.
  // Runs ended here ignore further calls quietly: the program keeps running
  // for a moment until the signal kills it, and must not die of a throw.
  void stop(const StopRequest& r) {
    for (auto& s : live()) {
      std::lock_guard<std::mutex> lock(s->mu);
      if (!s->valid || s->ended || s->released) continue;
      Store::Impl& im = *s->store;
      Status st;
      if (r.action == StopAction::kEndKilled || r.action == StopAction::kEndFailed) {
        st = s->end_locked(r.action == StopAction::kEndKilled ? RunStatus::kKilled : RunStatus::kFailed, r.time_ms);
        s->stopped_by_signal = s->ended;
      } else {
        st = s->flush_locked();
        if (r.action == StopAction::kWarn) {
          std::string value = signal_name(r.signal) + " at " + std::to_string(r.time_ms);
          Status t = im.write_tag(s->dir, &s->info, "mlruns.signal.warning", value);
          if (st.is_ok()) st = t;
        }
      }
      im.note(st);
    }
  }

  static std::atomic<bool>& dead() {
    static std::atomic<bool> d{false};
    return d;
  }

 private:
  std::vector<std::shared_ptr<ActiveRun::State>> live() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<ActiveRun::State>> out;
    for (auto& w : runs_)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_));
      if (stop_) break;
      lock.unlock();
      {
        auto runs = live();
        std::int64_t now = steady_ms();
        for (auto& s : runs) {
          std::lock_guard<std::mutex> run_lock(s->mu);
          if (!s->valid || s->ended || s->released) continue;
          // Sign of life (liveness.h): meta.yaml's mtime, every `heartbeat`.
          auto beat = s->store->options.heartbeat.count();
          if (beat > 0 && now - s->last_beat_ms >= beat) {
            (void)s->store->env->touch(join(s->dir, kMetaFile));  // best effort, never counted
            s->last_beat_ms = now;
          }
          if (s->metrics.pending_points() == 0) continue;
          const FlushPolicy& p = s->store->options.flush;
          if (!p.background_thread || now - s->oldest_pending_ms < p.max_age.count()) continue;
          s->store->note(s->auto_flush_locked());  // never throws here; kThrow callers see it counted
        }
      }  // the last reference to a run may go here: its destructor takes no registry lock
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<ActiveRun::State>> runs_;
  std::thread thread_;
  std::int64_t interval_ms_ = 1000;
  bool stop_ = false;
  int hook_id_ = 0;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void registry_add(const std::shared_ptr<ActiveRun::State>& state, bool background) {
  if (Registry::dead().load()) return;
  registry().add(state, background);
}

}  // namespace detail
}  // namespace mlruns
