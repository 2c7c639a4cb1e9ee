// Running the mlruns CLI from the tests (cli_test.cpp, cli_read_test.cpp):
// the binary at MLRUNS_CLI_PATH in a child process, its exit code and output.
// Include only where MLRUNS_CLI_PATH is defined (builds with the CLI).
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace mlruns::testing {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// In a forked child: becomes the mlruns binary with `args` (never returns).
[[noreturn]] inline void exec_cli(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string prog = MLRUNS_CLI_PATH;
  argv.push_back(prog.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(prog.c_str(), argv.data());
  ::_exit(127);
}

// In a forked child: stdout and stderr to /dev/null, MLFLOW_TRACKING_URI set,
// killed by SIGALRM after `timeout_s` seconds, then exec_cli.
[[noreturn]] inline void exec_cli_quiet(const std::vector<std::string>& args, const std::string& uri,
                                        unsigned timeout_s) {
  ::setenv("MLFLOW_TRACKING_URI", uri.c_str(), 1);
  const int devnull = ::open("/dev/null", O_WRONLY);
  ::dup2(devnull, 1);
  ::dup2(devnull, 2);
  ::alarm(timeout_s);
  exec_cli(args);
}

// The exit code of child `pid` (128 + the signal if one killed it); the
// child's resource use goes to `usage` if given (wait4).
inline int wait_exit_code(pid_t pid, struct rusage* usage = nullptr) {
  int status = 0;
  ::wait4(pid, &status, 0, usage);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs the mlruns binary with `args`. `env` sets variables for the child
// (an empty value unsets); MLFLOW_TRACKING_URI is unset unless given. With
// `timeout_s`, a child still running after that many seconds is killed by
// SIGALRM (code 128 + SIGALRM): a hang fails the test instead of blocking it.
inline CliResult run_cli(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                         const std::optional<fs::path>& cwd = std::nullopt, unsigned timeout_s = 0) {
  TempDir io;
  const fs::path out_path = io.path() / "out";
  const fs::path err_path = io.path() / "err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::unsetenv("MLFLOW_TRACKING_URI");
    ::unsetenv("MLFLOW_EXPERIMENT_ID");
    ::unsetenv("MLFLOW_EXPERIMENT_NAME");
    ::unsetenv("COLUMNS");
    for (const auto& [k, v] : env) {
      if (v.empty()) {
        ::unsetenv(k.c_str());
      } else {
        ::setenv(k.c_str(), v.c_str(), 1);
      }
    }
    if (cwd && ::chdir(cwd->c_str()) != 0) ::_exit(126);
    if (timeout_s) ::alarm(timeout_s);  // survives execv
    const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) ::_exit(126);
    ::dup2(o, 1);
    ::dup2(e, 2);
    exec_cli(args);
  }
  CliResult r;
  r.code = wait_exit_code(pid);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace mlruns::testing
