// mlruns_stress: the child process of the resilience tests (concurrency,
// SIGKILL, signals, exit paths). Each mode is one way a real job behaves.
//
//   mlruns_stress signal-hook OUT_FILE [--warning SIG] [--chain] [--hang] [--timeout-ms N]
//   mlruns_stress concurrent ROOT EXPERIMENT RANK POINTS BARRIER_FD
//       waits until BARRIER_FD reaches end of file (all ranks start at once),
//       get-or-creates EXPERIMENT, logs run "rank-RANK", prints "EXP_ID RUN_ID"
//   mlruns_stress crash ROOT ACK_FILE SEED
//       writes runs, metrics, tags, meta.yaml updates and artifacts in a loop
//       until killed; appends to ACK_FILE what is durable (see crash_test.cpp)
//   mlruns_stress signal-store ROOT [--warning SIG] [--end-on-warning]
//       a training loop with signal handlers installed; prints the run id
//   mlruns_stress log-model ROOT RUN_ID INDEX FILE BARRIER_FD [overwrite]
//       waits for the barrier, logs FILE as model "model-INDEX" of RUN_ID
//       (Store::log_model), prints its model_uuid
//   mlruns_stress register ROOT NAME SOURCE BARRIER_FD
//       waits for the barrier, registers a version of model NAME from SOURCE
//       (creating the model if needed), prints "VERSION NAME", or "error
//       MESSAGE" and exits 1
//   mlruns_stress rename-model ROOT NAME NEW_NAME BARRIER_FD
//       waits for the barrier, renames registered model NAME, prints "renamed"
//   mlruns_stress append ROOT RUN_ID WRITER ACK_FILE SEED KEY
//       resumes RUN_ID and appends batches of 1 to 20 pages of lines to
//       metrics/KEY until killed; after each flush appends "A WRITER N" to
//       ACK_FILE: points 0..N of this writer are acknowledged (torn-line test)
//   mlruns_stress terminate ROOT       the README's "C++ in ten lines" with its
//       checkpoint folder missing: an mlruns::Error leaves main (std::terminate)
//   mlruns_stress abort ROOT           logs with signal handlers installed, then abort()
//   mlruns_stress exit-normally ROOT   returns from main with its run open
//   mlruns_stress throw ROOT           leaves a run's scope by an exception
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

#include <fcntl.h>
#include <sys/stat.h>

#include <random>

#include "mlruns/registry.h"
#include "mlruns/signals.h"
#include "mlruns/store.h"
#include "write/process_hooks.h"

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
  if (has_flag(a, "--ignore-int")) ::signal(SIGINT, SIG_IGN);
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

// A point's value, known to the parent: rank r, step i of key k.
double value_of(int rank, int i, int k) { return rank * 1000.0 + i + k * 0.25; }

int concurrent(const Args& a) {
  std::string root = a.at(0), name = a.at(1);
  int rank = std::stoi(a.at(2)), points = std::stoi(a.at(3)), barrier = std::stoi(a.at(4));
  char c;
  while (::read(barrier, &c, 1) != 0) {
  }  // EOF: the parent closed its end, everybody goes
  ::close(barrier);
  auto store = mlruns::Store::open({.tracking_uri = root});
  std::string exp = *store.get_or_create_experiment(name);
  std::string r = std::to_string(rank);
  mlruns::ActiveRun run = store.start_run({.experiment_id = exp, .run_name = "rank-" + r});
  run.log_param("rank", r);
  run.log_params({{"points", std::to_string(points)}, {"lr", "0.001"}});
  for (int i = 0; i < points; ++i) {
    run.log_metric("loss", value_of(rank, i, 0), i, 1700000000000 + i);
    run.log_metric("train/acc", value_of(rank, i, 1), i, 1700000000000 + i);
  }
  run.set_tag("rank", r);
  run.log_text("rank " + r + "\n", "out/rank.txt");
  run.end();
  std::printf("%s %s\n", exp.c_str(), run.id().c_str());
  return 0;
}

void wait_barrier(int fd) {
  char c;
  while (::read(fd, &c, 1) != 0) {
  }  // EOF: the parent closed its end, everybody goes
  ::close(fd);
}

int log_model(const Args& a) {
  wait_barrier(std::stoi(a.at(4)));
  const bool overwrite = a.size() > 5 && a.at(5) == "overwrite";  // all to artifacts/same, replacing
  auto store = mlruns::Store::open({.tracking_uri = a.at(0), .errors = mlruns::ErrorMode::kCount});
  mlruns::ModelOptions options;
  options.artifact_path = overwrite ? "same" : "model-" + a.at(2);
  options.flavor = "onnx";
  options.overwrite = overwrite;
  auto m = store.log_model(a.at(1), a.at(3), options);
  if (!m) {
    std::printf("error %s\n", m.error().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", m->model_uuid.c_str());
  return 0;
}

int register_version(const Args& a) {
  wait_barrier(std::stoi(a.at(3)));
  auto store = mlruns::Store::open({.tracking_uri = a.at(0), .errors = mlruns::ErrorMode::kCount});
  auto v = store.registry().create_model_version(a.at(1), a.at(2));
  if (!v) {
    std::printf("error %s\n", v.error().to_string().c_str());
    return 1;
  }
  std::printf("%lld %s\n", static_cast<long long>(v->version), v->name.c_str());
  return 0;
}

int rename_model(const Args& a) {
  wait_barrier(std::stoi(a.at(3)));
  auto store = mlruns::Store::open({.tracking_uri = a.at(0)});
  store.registry().rename_registered_model(a.at(1), a.at(2));
  std::printf("renamed\n");
  return 0;
}

// Appends one whole line with one write(2): after a kill it is there or not.
void ack(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!::write(fd, l.data(), l.size());
}

// Content of artifact file `name`: big enough that copying takes a while.
std::string artifact_content(const std::string& name, std::size_t size) {
  std::string out;
  out.reserve(size);
  while (out.size() < size) out += name + " ";
  out.resize(size);
  return out;
}

int crash(const Args& a) {
  std::string root = a.at(0), ack_path = a.at(1);
  unsigned seed = static_cast<unsigned>(std::stoul(a.at(2)));
  int fd = ::open(ack_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return 2;
  // Artifact sources, made before anything is logged.
  std::string parent = root.substr(0, root.find_last_of('/') == std::string::npos ? 0 : root.find_last_of('/'));
  std::string src = (parent.empty() ? std::string(".") : parent) + "/src-" + std::to_string(::getpid());
  ::mkdir(src.c_str(), 0755);
  for (int f = 0; f < 3; ++f) {
    std::string name = "part" + std::to_string(f);
    FILE* out = std::fopen((src + "/" + name).c_str(), "wb");
    if (!out) return 2;
    std::string data = artifact_content(name, 256 * 1024);
    std::fwrite(data.data(), 1, data.size(), out);
    std::fclose(out);
  }
  // fsync does not matter to a process kill; most children skip it to go faster.
  auto durability = seed % 3 == 0 ? mlruns::Durability::kOnClose : mlruns::Durability::kNone;
  auto store = mlruns::Store::open({.tracking_uri = root,
                                    .durability = durability,
                                    .flush = {.max_points = 64, .max_age = std::chrono::milliseconds(5)}});
  std::string exp = *store.get_or_create_experiment("crash");
  ack(fd, "X " + exp);
  std::mt19937 rng(seed);
  for (int round = 0;; ++round) {
    mlruns::ActiveRun run = store.start_run({.experiment_id = exp});
    ack(fd, "R " + run.id());
    run.log_param("seed", std::to_string(seed));
    int steps = 20 + static_cast<int>(rng() % 60);
    for (int i = 0; i < steps; ++i) {
      run.log_metric("loss", value_of(0, i, 0), i, 1700000000000 + i);
      run.log_metric("deep/acc", value_of(0, i, 1), i, 1700000000000 + i);
      if (i % 7 == 6) {
        run.flush();
        ack(fd, "P " + run.id() + " " + std::to_string(i));  // steps 0..i of both keys are in the files
      }
      if (i % 11 == 10) run.set_tag("mlflow.runName", "step-" + std::to_string(i));  // rewrites meta.yaml
      if (i % 13 == 12) run.set_tag("progress", std::to_string(i));
      if (i % 17 == 16) run.log_artifacts(src, "ckpt-" + std::to_string(i));
    }
    run.end();
    ack(fd, "E " + run.id() + " " + std::to_string(steps));
  }
}

// Point n of writer w: distinct timestamps and steps per writer, so every
// line of the shared file is unique and the parent can tell whose it is.
std::int64_t append_ts(int w, std::int64_t n) { return 1700000000000 + w * 100000000LL + n; }
double append_value(int w, std::int64_t n) { return w + n * 1e-7; }

int append_pages(const Args& a) {
  std::string root = a.at(0), run_id = a.at(1);
  int writer = std::stoi(a.at(2));
  int fd = ::open(a.at(3).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return 2;
  std::mt19937 rng(static_cast<unsigned>(std::stoul(a.at(4))));
  auto store = mlruns::Store::open(
      {.tracking_uri = root,
       .durability = mlruns::Durability::kNone,
       .flush = {.max_points = 1u << 30, .max_age = std::chrono::hours(1), .background_thread = false}});
  mlruns::ActiveRun run = store.resume_run(run_id);
  std::string key = a.at(5);
  std::int64_t n = 0;
  for (int flushes = 0;; ++flushes) {
    // At most 16 appends, then wait for the kill: hundreds of kills, not gigabytes.
    if (flushes == 16) std::this_thread::sleep_for(std::chrono::hours(1));
    // A line is ~33 bytes: 1 to 20 pages of them in one append.
    int pages = 1 + static_cast<int>(rng() % 20);
    int lines = pages * 4096 / 33;
    for (int i = 0; i < lines; ++i, ++n) run.log_metric(key, append_value(writer, n), n, append_ts(writer, n));
    if (!run.flush().is_ok()) return 3;
    ack(fd, "A " + std::to_string(writer) + " " + std::to_string(n - 1));
  }
}

int signal_store(const Args& a) {
  std::string root = a.at(0);
  mlruns::SignalOptions opt;
  opt.warning_signal = std::atoi(flag_value(a, "--warning", "0").c_str());
  if (has_flag(a, "--end-on-warning")) opt.warning_action = mlruns::WarningAction::kEndRunsKilled;
  if (auto s = mlruns::install_signal_handlers(opt); !s.is_ok()) return 2;
  // Buffer everything: only the signal's flush writes the points.
  auto store = mlruns::Store::open(
      {.tracking_uri = root,
       .flush = {.max_points = 1u << 30, .max_age = std::chrono::hours(1), .background_thread = false}});
  std::string exp = *store.get_or_create_experiment("signals");
  mlruns::ActiveRun run = store.start_run({.experiment_id = exp});
  std::printf("%s\n", run.id().c_str());
  for (int i = 0; i < 100; ++i) run.log_metric("loss", value_of(0, i, 0), i, 1700000000000 + i);
  ready();
  // Keep logging, as a training loop does, until the warning says stop.
  for (int i = 100; i < 1000000; ++i) {
    if (opt.warning_signal != 0 && mlruns::signal_received() == opt.warning_signal) break;
    run.log_metric("busy", 1.0, i);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return 0;  // the run is ended at exit (FINISHED) unless a signal ended it
}

// The README's "C++ in ten lines", verbatim but for the tree, run where
// checkpoint_000010 does not exist: log_artifact throws, nothing catches it.
int readme_terminate(const Args& a) {
  auto store = mlruns::Store::open({.tracking_uri = a.at(0)});
  std::string exp = *store.get_or_create_experiment("ppo-cartpole");
  mlruns::ActiveRun run = store.start_run({.experiment_id = exp, .run_name = "lr-3e-4"});
  std::printf("%s\n", run.id().c_str());
  std::fflush(stdout);
  run.log_param("lr", 3e-4);
  for (int it = 1; it <= 10; ++it) run.log_metric("episode_reward_mean", 50.0 * it, it);  // buffered
  run.log_artifact("checkpoint_000010");  // throws: no such folder here
  return 0;
}

int abort_run(const Args& a) {
  if (!mlruns::install_signal_handlers().is_ok()) return 2;
  auto store = mlruns::Store::open(
      {.tracking_uri = a.at(0), .flush = {.max_age = std::chrono::hours(1), .background_thread = false}});
  std::string exp = *store.get_or_create_experiment("exits");
  mlruns::ActiveRun run = store.start_run({.experiment_id = exp});
  std::printf("%s\n", run.id().c_str());
  std::fflush(stdout);
  for (int i = 0; i < 50; ++i) run.log_metric("loss", value_of(0, i, 0), i, 1700000000000 + i);
  std::abort();  // as a failed assert() does
}

int exit_normally(const Args& a) {
  auto store = mlruns::Store::open(
      {.tracking_uri = a.at(0), .flush = {.max_age = std::chrono::hours(1), .background_thread = false}});
  std::string exp = *store.get_or_create_experiment("exits");
  static mlruns::ActiveRun run;  // outlives main: only the exit registry ends it
  run = store.start_run({.experiment_id = exp});
  for (int i = 0; i < 50; ++i) run.log_metric("loss", value_of(0, i, 0), i, 1700000000000 + i);
  std::printf("%s\n", run.id().c_str());
  std::fflush(stdout);
  return 0;
}

int throw_in_scope(const Args& a) {
  auto store = mlruns::Store::open({.tracking_uri = a.at(0)});
  std::string exp = *store.get_or_create_experiment("exits");
  try {
    mlruns::ActiveRun run = store.start_run({.experiment_id = exp});
    std::printf("%s\n", run.id().c_str());
    std::fflush(stdout);
    run.log_metric("loss", 1.0, 0);
    throw std::runtime_error("diverged");
  } catch (const std::runtime_error&) {
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mlruns_stress MODE ARGS...\n");
    return 2;
  }
  std::string mode = argv[1];
  Args args(argv + 2, argv + argc);
  if (mode == "terminate") return readme_terminate(args);  // outside any try: the exception leaves main
  try {
    if (mode == "signal-hook") return signal_hook(args);
    if (mode == "concurrent") return concurrent(args);
    if (mode == "crash") return crash(args);
    if (mode == "log-model") return log_model(args);
    if (mode == "register") return register_version(args);
    if (mode == "rename-model") return rename_model(args);
    if (mode == "append") return append_pages(args);
    if (mode == "signal-store") return signal_store(args);
    if (mode == "exit-normally") return exit_normally(args);
    if (mode == "throw") return throw_in_scope(args);
    if (mode == "abort") return abort_run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlruns_stress %s: %s\n", mode.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
