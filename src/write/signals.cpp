// Signal handling (signals.h). The handler only does async-signal-safe
// things: store the signal number, write one byte to a pipe, and for a
// second stop signal pass it on at once. Everything that takes a lock or
// touches a file runs in the watcher thread. (Signals and pipes are not
// file-system access, so this file calls POSIX directly.)
#include "mlruns/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "write/process_hooks.h"

namespace mlruns {
namespace {

constexpr int kMaxSignal = 65;  // NSIG on Linux

// Read by the handler: plain data written before the handler is installed.
struct sigaction g_previous[kMaxSignal];
std::atomic<int> g_warning_signal{0};
std::atomic<int> g_pipe_write{-1};
std::atomic<pid_t> g_owner_pid{0};
std::atomic<bool> g_stopping{false};
std::atomic<int> g_last_signal{0};
// SIGABRT: the aborting thread waits (in its handler) until the watcher has
// ended the runs FAILED, because abort() kills the process as soon as the
// handler returns. The watcher writes one byte here when done.
std::atomic<int> g_abort_done_read{-1};
std::atomic<int> g_abort_done_write{-1};
std::atomic<long> g_abort_timeout_ms{10000};

// Used by install/uninstall and the watcher only.
std::mutex g_mu;
std::vector<int> g_installed;
int g_pipe_read = -1;
// A pointer, never destroyed: a joinable std::thread destroyed at exit would
// call std::terminate.
std::thread* g_watcher = nullptr;

bool is_function(const struct sigaction& sa) {
  if (sa.sa_flags & SA_SIGINFO) return sa.sa_sigaction != nullptr;
  return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

// Hands a signal to whatever was there before us. Async-signal-safe.
void pass_on_now(int sig, siginfo_t* info, void* context) {
  const struct sigaction& prev = g_previous[sig];
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) prev.sa_sigaction(sig, info, context);
    return;
  }
  if (prev.sa_handler == SIG_IGN) return;
  if (prev.sa_handler == SIG_DFL) {
    // Dies when the handler returns and the signal is unblocked.
    ::sigaction(sig, &prev, nullptr);
    ::raise(sig);
    return;
  }
  prev.sa_handler(sig);
}

// Writes the signal number to the watcher's pipe. Async-signal-safe. False
// when there is no pipe (not installed).
bool tell_watcher(int sig) {
  unsigned char byte = static_cast<unsigned char>(sig);
  int fd = g_pipe_write.load();
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::write(fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  return true;
}

extern "C" void mlruns_signal_handler(int sig, siginfo_t* info, void* context) {
  int saved_errno = errno;
  if (sig <= 0 || sig >= kMaxSignal) return;
  // A child made by fork() shares our pipe but not our watcher thread.
  if (::getpid() != g_owner_pid.load()) {
    pass_on_now(sig, info, context);
    errno = saved_errno;
    return;
  }
  bool warning = sig == g_warning_signal.load();
  if (sig == SIGABRT) {
    // abort() or a failed assert: hand the work to the watcher and wait for
    // it (bounded), then return; abort() then dies of SIGABRT as before.
    static std::atomic<bool> once{false};
    if (!once.exchange(true)) {
      if (tell_watcher(sig)) {
        struct pollfd p = {g_abort_done_read.load(), POLLIN, 0};
        int left = static_cast<int>(g_abort_timeout_ms.load());
        while (p.fd >= 0 && ::poll(&p, 1, left) < 0 && errno == EINTR) {
        }
      }
    }
    pass_on_now(sig, info, context);
    errno = saved_errno;
    return;
  }
  if (!warning && g_stopping.exchange(true)) {
    // A second stop signal while we flush: the user insists, stop now.
    pass_on_now(sig, info, context);
    errno = saved_errno;
    return;
  }
  tell_watcher(sig);
  // The warning does not stop us, so an earlier handler of it runs now.
  if (warning && is_function(g_previous[sig])) pass_on_now(sig, info, context);
  errno = saved_errno;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool run_hooks_bounded(detail::StopRequest request, std::chrono::milliseconds timeout) {
  return detail::run_stop_hooks_bounded(request, timeout);
}

void stop_and_pass_on(int sig, const SignalOptions& options) {
  run_hooks_bounded({detail::StopAction::kEndKilled, sig, now_ms()}, options.timeout);
  g_last_signal.store(sig);
  if (options.on_signal) options.on_signal(sig);
  // Put the previous disposition back and deliver the signal again: the
  // default action kills the process as if we had never been there.
  struct sigaction prev = g_previous[sig];
  ::sigaction(sig, &prev, nullptr);  // (uninstall may restore it again: harmless)
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);
  // Still alive: the earlier handler chose to go on (or ignores the signal).
  g_stopping.store(false);
}

void watch(int read_fd, SignalOptions options) {
  for (;;) {
    unsigned char byte = 0;
    ssize_t n = ::read(read_fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == 0) return;  // uninstall
    int sig = byte;
    if (sig == SIGABRT) {
      run_hooks_bounded({detail::StopAction::kEndFailed, sig, now_ms()}, options.timeout);
      unsigned char done = 1;
      int fd = g_abort_done_write.load();
      if (fd >= 0) (void)!::write(fd, &done, 1);
      continue;
    }
    if (sig == options.warning_signal) {
      auto action = options.warning_action == WarningAction::kEndRunsKilled
                        ? detail::StopAction::kEndKilled
                        : detail::StopAction::kWarn;
      run_hooks_bounded({action, sig, now_ms()}, options.timeout);
      g_last_signal.store(sig);  // only now: a loop that stops on it finds the flush done
      if (options.on_signal) options.on_signal(sig);
    } else {
      stop_and_pass_on(sig, options);
    }
  }
}

void uninstall_locked() {
  for (int sig : g_installed) ::sigaction(sig, &g_previous[sig], nullptr);
  g_installed.clear();
  g_warning_signal.store(0);
  int w = g_pipe_write.exchange(-1);
  if (g_watcher) {
    unsigned char stop = 0;
    if (w >= 0) (void)!::write(w, &stop, 1);
    if (g_watcher->get_id() == std::this_thread::get_id()) {
      g_watcher->detach();
    } else {
      g_watcher->join();
    }
    delete g_watcher;
    g_watcher = nullptr;
  }
  if (w >= 0) ::close(w);
  if (g_pipe_read >= 0) ::close(g_pipe_read);
  g_pipe_read = -1;
  for (auto* fd : {&g_abort_done_read, &g_abort_done_write}) {
    int f = fd->exchange(-1);
    if (f >= 0) ::close(f);
  }
  g_stopping.store(false);
}

}  // namespace

Status install_signal_handlers(const SignalOptions& options) {
  std::vector<int> all = options.stop_signals;
  if (options.warning_signal != 0) all.push_back(options.warning_signal);
  if (options.end_runs_on_abort) all.push_back(SIGABRT);
  for (int sig : all) {
    if (sig <= 0 || sig >= kMaxSignal)
      return Status::invalid_argument("signal " + std::to_string(sig), "not a signal number");
    if (sig == SIGKILL || sig == SIGSTOP)
      return Status::invalid_argument("signal " + std::to_string(sig),
                                      "SIGKILL and SIGSTOP cannot be caught");
  }
  for (int sig : options.stop_signals)
    if (sig == options.warning_signal)
      return Status::invalid_argument("signal " + std::to_string(sig),
                                      "cannot be both a stop and the warning signal");

  std::lock_guard lock(g_mu);
  uninstall_locked();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return Status::from_errno("signal pipe", errno);
  ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  g_pipe_read = fds[0];
  g_pipe_write.store(fds[1]);
  int done[2];
  if (::pipe2(done, O_CLOEXEC) < 0) {
    int err = errno;
    uninstall_locked();
    return Status::from_errno("signal pipe", err);
  }
  g_abort_done_read.store(done[0]);
  g_abort_done_write.store(done[1]);
  g_abort_timeout_ms.store(static_cast<long>(options.timeout.count()));
  g_owner_pid.store(::getpid());
  g_warning_signal.store(options.warning_signal);
  try {
    g_watcher = new std::thread(watch, fds[0], options);
  } catch (const std::system_error& e) {
    uninstall_locked();
    return Status::io_error("signal watcher thread", e.what());
  }

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = mlruns_signal_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;  // don't disturb the program's own system calls
  sigemptyset(&sa.sa_mask);
  for (int sig : all) {
    struct sigaction prev;
    // Record the previous disposition before ours can run.
    if (::sigaction(sig, nullptr, &prev) < 0) {
      int err = errno;
      uninstall_locked();
      return Status::from_errno("sigaction " + std::to_string(sig), err);
    }
    g_previous[sig] = prev;
    // A stop signal ignored when we came (nohup, `cmd &` in a script for
    // SIGINT) stays ignored: catching it would end runs nobody meant to stop.
    if (sig != options.warning_signal && !(prev.sa_flags & SA_SIGINFO) && prev.sa_handler == SIG_IGN) continue;
    if (::sigaction(sig, &sa, nullptr) < 0) {
      int err = errno;
      uninstall_locked();
      return Status::from_errno("sigaction " + std::to_string(sig), err);
    }
    g_installed.push_back(sig);
  }
  return Status::ok();
}

void uninstall_signal_handlers() {
  std::lock_guard lock(g_mu);
  uninstall_locked();
}

int signal_received() { return g_last_signal.load(); }

}  // namespace mlruns
