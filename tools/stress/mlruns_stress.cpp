// mlruns_stress: the child process of the resilience tests (concurrency,
// SIGKILL, signals, exit paths). Each mode is one way a real job behaves.
//
//   mlruns_stress signal-hook OUT_FILE [--warning SIG] [--chain] [--hang] [--timeout-ms N]
//
// Modes print "ready" on stdout once set up, so the parent knows when to act.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mlruns/signals.h"
#include "process_hooks.h"

namespace {

using Args = std::vector<std::string>;

bool has_flag(const Args& a, const std::string& f) {
  for (const auto& x : a)
    if (x == f) return true;
  return false;
}
std::string flag_value(const Args& a, const std::string& f, const std::string& dflt = {}) {
  for (std::size_t i = 0; i + 1 < a.size(); ++i)
    if (a[i] == f) return a[i + 1];
  return dflt;
}

void append_line(const std::string& path, const std::string& line) {
  FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return;
  std::fputs((line + "\n").c_str(), f);
  std::fclose(f);
}

void ready() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
}

std::string g_chain_file;
extern "C" void own_handler(int sig) {
  // What a program's own SIGTERM handler may do: note it and leave.
  append_line(g_chain_file, "own-handler " + std::to_string(sig));
  ::_exit(42);
}

// Signal plumbing without a Store: a hook records what it was asked to do.
int signal_hook(const Args& a) {
  std::string out = a.at(0);
  bool hang = has_flag(a, "--hang");
  mlruns::detail::add_stop_hook([out, hang](const mlruns::detail::StopRequest& r) {
    append_line(out, "hook " + std::to_string(static_cast<int>(r.action)) + " " +
                         std::to_string(r.signal));
    if (hang) std::this_thread::sleep_for(std::chrono::hours(1));  // a hung NFS server
  });
  if (has_flag(a, "--chain")) {
    g_chain_file = out;
    ::signal(SIGTERM, own_handler);
  }
  mlruns::SignalOptions opt;
  opt.warning_signal = std::atoi(flag_value(a, "--warning", "0").c_str());
  opt.timeout = std::chrono::milliseconds(std::atoi(flag_value(a, "--timeout-ms", "10000").c_str()));
  static std::atomic<int> handled{0};
  opt.on_signal = [out](int sig) {
    append_line(out, "on_signal " + std::to_string(sig));
    handled = sig;
  };
  if (auto s = mlruns::install_signal_handlers(opt); !s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 2;
  }
  ready();
  // Work until told to stop by the warning signal, then leave normally.
  for (int i = 0; i < 60000; ++i) {
    if (opt.warning_signal != 0 && handled == opt.warning_signal &&
        mlruns::signal_received() == opt.warning_signal) {
      append_line(out, "exiting");
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mlruns_stress MODE ARGS...\n");
    return 2;
  }
  std::string mode = argv[1];
  Args args(argv + 2, argv + argc);
  try {
    if (mode == "signal-hook") return signal_hook(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlruns_stress %s: %s\n", mode.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
