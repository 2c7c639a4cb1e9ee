// Signals and exits (issue 4 item 3): real child processes receive SIGTERM,
// SIGINT and the Slurm-style early-warning SIGUSR1.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "mlruns/env.h"
#include "mlruns/liveness.h"
#include "mlruns/reader.h"
#include "mlruns/signals.h"
#include "resil_util.h"
#include "write/store_impl.h"

using namespace mlruns::test;

#ifdef MLRUNS_STRESS_PATH

namespace {

// Action numbers as in process_hooks.h (kFlush 0, kWarn 1, kEndKilled 2).
std::string hook_line(int action, int sig) {
  return "hook " + std::to_string(action) + " " + std::to_string(sig);
}

struct HookChild {
  TempDir dir;
  std::string out = dir.str() + "/out";
  Child child;
  explicit HookChild(std::vector<std::string> extra) {
    std::vector<std::string> args = {MLRUNS_STRESS_PATH, "signal-hook", out};
    args.insert(args.end(), extra.begin(), extra.end());
    child = spawn_piped(args);
    REQUIRE(child.pid > 0);
    REQUIRE(child.read_line() == "ready");
  }
  std::vector<std::string> lines() { return split_lines(read_file(out)); }
};

}  // namespace

TEST_CASE("SIGTERM ends runs KILLED, then the process dies of SIGTERM", "[signals]") {
  HookChild c({});
  REQUIRE(::kill(c.child.pid, SIGTERM) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(c.lines() == std::vector<std::string>{hook_line(2, SIGTERM), "on_signal 15"});
}

TEST_CASE("SIGINT ends runs KILLED, then the process dies of SIGINT", "[signals]") {
  HookChild c({});
  REQUIRE(::kill(c.child.pid, SIGINT) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK(c.lines() == std::vector<std::string>{hook_line(2, SIGINT), "on_signal 2"});
}

TEST_CASE("The early-warning signal flushes and lets the program go on", "[signals]") {
  HookChild c({"--warning", std::to_string(SIGUSR1)});
  REQUIRE(::kill(c.child.pid, SIGUSR1) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The flush ran, then on_signal told the program, which left by itself.
  CHECK(c.lines() ==
        std::vector<std::string>{hook_line(1, SIGUSR1), "on_signal " + std::to_string(SIGUSR1),
                                 "exiting"});
}

TEST_CASE("A handler installed before ours still runs after the flush", "[signals]") {
  HookChild c({"--chain"});
  REQUIRE(::kill(c.child.pid, SIGTERM) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 42);
  CHECK(c.lines() ==
        std::vector<std::string>{hook_line(2, SIGTERM), "on_signal 15", "own-handler 15"});
}

TEST_CASE("A stop signal that was ignored before install stays ignored", "[signals]") {
  HookChild c({"--ignore-int"});
  REQUIRE(::kill(c.child.pid, SIGINT) == 0);  // e.g. a job started with `cmd &` from a script
  REQUIRE(::kill(c.child.pid, SIGTERM) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(c.lines() == std::vector<std::string>{hook_line(2, SIGTERM), "on_signal 15"});
}

TEST_CASE("A flush that hangs does not keep a stopped process alive", "[signals]") {
  HookChild c({"--hang", "--timeout-ms", "200"});
  REQUIRE(::kill(c.child.pid, SIGTERM) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK(c.lines().at(0) == hook_line(2, SIGTERM));
}

TEST_CASE("A second stop signal during a hung flush stops the process at once", "[signals]") {
  HookChild c({"--hang"});  // default timeout: 10 s
  REQUIRE(::kill(c.child.pid, SIGINT) == 0);
  // Wait until the hook runs, so the second signal finds the flush under way.
  for (int i = 0; i < 3000 && c.lines().empty(); ++i) ::usleep(1000);
  REQUIRE(c.lines().size() == 1);
  REQUIRE(::kill(c.child.pid, SIGINT) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK(c.lines() == std::vector<std::string>{hook_line(2, SIGINT)});
}

namespace {

// A child running a Store with our handlers; its run id is on stdout.
struct StoreChild {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  Child child;
  std::string run_id;
  explicit StoreChild(const std::string& mode, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {MLRUNS_STRESS_PATH, mode, root};
    args.insert(args.end(), extra.begin(), extra.end());
    child = spawn_piped(args);
    REQUIRE(child.pid > 0);
    run_id = child.read_line();
    REQUIRE(run_id.size() == 32);
  }
  mlruns::Run run() {
    auto reader = mlruns::Reader::open(root);
    REQUIRE(reader.has_value());
    auto r = reader->run(run_id);
    REQUIRE(r.has_value());
    return *r;
  }
  std::size_t points(const std::string& key) {
    auto reader = mlruns::Reader::open(root);
    REQUIRE(reader.has_value());
    auto h = reader->metric_history(run_id, key);
    REQUIRE(h.has_value());
    return h->size();
  }
};

}  // namespace

TEST_CASE("SIGTERM and SIGINT: buffered points flushed, run KILLED with end_time, death by the signal",
          "[signals][store]") {
  for (int sig : {SIGTERM, SIGINT}) {
    StoreChild c("signal-store");
    REQUIRE(c.child.read_line() == "ready");
    std::int64_t before = mlruns::Env::posix()->now_ms();
    REQUIRE(::kill(c.child.pid, sig) == 0);
    int status = c.child.wait();
    INFO("signal " << sig << ": " << describe_status(status));
    REQUIRE(WIFSIGNALED(status));  // not an abort from a throw in the busy loop
    CHECK(WTERMSIG(status) == sig);
    mlruns::Run r = c.run();
    CHECK(r.info.status == mlruns::RunStatus::kKilled);
    REQUIRE(r.info.end_time.has_value());
    CHECK(*r.info.end_time >= before);
    CHECK(c.points("loss") == 100);  // only the signal's flush wrote them
  }
}

TEST_CASE("Early warning (Slurm --signal=USR1@60): flushed and tagged, the job finishes normally",
          "[signals][store]") {
  StoreChild c("signal-store", {"--warning", std::to_string(SIGUSR1)});
  REQUIRE(c.child.read_line() == "ready");
  REQUIRE(::kill(c.child.pid, SIGUSR1) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  mlruns::Run r = c.run();
  CHECK(r.info.status == mlruns::RunStatus::kFinished);  // ended at exit, after the warning
  REQUIRE(r.tags.count("mlruns.signal.warning") == 1);
  CHECK(r.tags.at("mlruns.signal.warning").rfind("SIGUSR1 at ", 0) == 0);
  CHECK(c.points("loss") == 100);
}

TEST_CASE("Early warning with kEndRunsKilled ends the run KILLED, later calls are quiet no-ops",
          "[signals][store]") {
  StoreChild c("signal-store", {"--warning", std::to_string(SIGUSR1), "--end-on-warning"});
  REQUIRE(c.child.read_line() == "ready");
  REQUIRE(::kill(c.child.pid, SIGUSR1) == 0);
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFEXITED(status));  // the loop kept logging to the ended run without a throw
  CHECK(WEXITSTATUS(status) == 0);
  mlruns::Run r = c.run();
  CHECK(r.info.status == mlruns::RunStatus::kKilled);  // exit did not turn it FINISHED
  CHECK(r.info.end_time.has_value());
  CHECK(c.points("loss") == 100);
}

TEST_CASE("Returning from main with a run open ends it FINISHED with its points", "[signals][exit]") {
  StoreChild c("exit-normally");
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  mlruns::Run r = c.run();
  CHECK(r.info.status == mlruns::RunStatus::kFinished);
  CHECK(r.info.end_time.has_value());
  CHECK(c.points("loss") == 50);
}

TEST_CASE("Leaving a run's scope by an exception ends it FAILED", "[signals][exit]") {
  StoreChild c("throw");
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  mlruns::Run r = c.run();
  CHECK(r.info.status == mlruns::RunStatus::kFailed);
  CHECK(r.info.end_time.has_value());
  CHECK(c.points("loss") == 1);
}

TEST_CASE("An exception leaving main (std::terminate): buffered points written, the run ends FAILED, the process "
          "dies of SIGABRT as before (issue 9 item 6)",
          "[signals][exit]") {
  // The README's "C++ in ten lines" where checkpoint_000010 does not exist.
  StoreChild c("terminate");
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);  // exit 134 in a shell, as without mlruns
  mlruns::Run r = c.run();
  CHECK(r.info.status == mlruns::RunStatus::kFailed);
  CHECK(r.info.end_time.has_value());
  CHECK(c.points("episode_reward_mean") == 10);
  CHECK(r.params.at("lr") == "0.0003");
}

TEST_CASE("abort() with signal handlers installed: buffered points written, the run ends FAILED, death by SIGABRT",
          "[signals][exit]") {
  StoreChild c("abort");
  int status = c.child.wait();
  INFO(describe_status(status));
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  mlruns::Run r = c.run();
  CHECK(r.info.status == mlruns::RunStatus::kFailed);
  CHECK(c.points("loss") == 50);
}

TEST_CASE("SIGKILL: flushed points survive, buffered ones are lost, the run stays RUNNING",
          "[signals][store]") {
  StoreChild c("signal-store");
  REQUIRE(c.child.read_line() == "ready");
  REQUIRE(::kill(c.child.pid, SIGKILL) == 0);
  int status = c.child.wait();
  REQUIRE(WIFSIGNALED(status));
  mlruns::Run r = c.run();
  CHECK(r.info.status == mlruns::RunStatus::kRunning);  // for `mlruns reap`
  CHECK_FALSE(r.info.end_time.has_value());
  CHECK(c.points("loss") == 0);  // all were buffered
  CHECK(r.tags.count(mlruns::kTagPid) == 1);
  CHECK(r.tags.count(mlruns::kTagPidStart) == 1);
  CHECK(mlruns::process_state(r.tags) == mlruns::ProcessState::kGone);
}

#endif  // MLRUNS_STRESS_PATH

TEST_CASE("install_signal_handlers refuses SIGKILL, SIGSTOP and bad numbers", "[signals]") {
  CHECK(mlruns::install_signal_handlers({.stop_signals = {SIGKILL}}).code() ==
        mlruns::Code::kInvalidArgument);
  CHECK(mlruns::install_signal_handlers({.stop_signals = {SIGSTOP}}).code() ==
        mlruns::Code::kInvalidArgument);
  CHECK(mlruns::install_signal_handlers({.stop_signals = {0}}).code() ==
        mlruns::Code::kInvalidArgument);
  CHECK(mlruns::install_signal_handlers({.stop_signals = {SIGTERM}, .warning_signal = SIGTERM})
            .code() == mlruns::Code::kInvalidArgument);
}

TEST_CASE("uninstall_signal_handlers restores the previous dispositions", "[signals]") {
  struct sigaction before;
  REQUIRE(::sigaction(SIGUSR2, nullptr, &before) == 0);
  REQUIRE(mlruns::install_signal_handlers({.stop_signals = {SIGUSR2}}).is_ok());
  struct sigaction during;
  REQUIRE(::sigaction(SIGUSR2, nullptr, &during) == 0);
  CHECK((during.sa_flags & SA_SIGINFO) != 0);
  mlruns::uninstall_signal_handlers();
  struct sigaction after;
  REQUIRE(::sigaction(SIGUSR2, nullptr, &after) == 0);
  CHECK(after.sa_handler == before.sa_handler);
}

TEST_CASE("signal names come from the macros, not from x86 numbers (issue 15 item 6)", "[signals]") {
  // The numbers differ by architecture (SIGUSR1: 10 on x86, 16 on mips, 30 on alpha).
  const std::pair<int, const char*> table[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGUSR1, "SIGUSR1"},
                                               {SIGUSR2, "SIGUSR2"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
                                               {SIGQUIT, "SIGQUIT"}, {SIGALRM, "SIGALRM"}};
  for (const auto& [sig, name] : table) CHECK(mlruns::detail::signal_name(sig) == name);  // main: "signal 24" for SIGXCPU
  CHECK(mlruns::detail::signal_name(1000) == "signal 1000");
}
