// `mlruns sync` as a program against the stand-in server: killed (SIGKILL)
// at many points and run again, --follow ended by SIGTERM, output, exit
// codes, credentials never printed.
#ifdef MLRUNS_CLI_PATH

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cli/cli_test_util.h"
#include "sync/sync_test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

const std::map<std::string, std::string> kFastRetries = {
    {"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.01"}, {"MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0"},
    {"MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5"}};

// Starts `mlruns ARGS` (stdout, stderr to files in `io`) without waiting.
pid_t spawn_cli(const std::vector<std::string>& args, const fs::path& io,
                const std::map<std::string, std::string>& env = kFastRetries) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::unsetenv("MLFLOW_TRACKING_URI");
    const int o = ::open((io / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open((io / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<std::string> copy = args;
    std::string prog = MLRUNS_CLI_PATH;
    std::vector<char*> argv{prog.data()};
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(prog.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

template <typename WaitFor>
std::string tree_id_of_when_ready(const std::string& root, WaitFor wait_for) {
  wait_for([&] { return tree_id_of(root).size() == 36; });
  return tree_id_of(root);
}

int wait_child(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("sync cli: killed at any write and run again, the server ends with exactly the tree", "[sync][cli]") {
  // One tree; for each k, a fresh server and record: the sync is SIGKILLed
  // while the server handles its k-th write request (so that request is
  // applied and its answer lost), then run again to the end.
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 1200);
  std::vector<int> kill_at = {1, 2, 3, 4, 5, 7, 9, 12, 15, 18};
  for (int k : kill_at) {
    DYNAMIC_SECTION("killed at write " << k) {
      fs::remove_all(fs::path(t.root) / ".mlruns-sync.trash");
      FakeMlflowServer server;
      std::atomic<pid_t> child{-1};
      server.on_write([&](int n) {
        if (n == k && child.load() > 0) ::kill(child.load(), SIGKILL);
      });
      TempDir io;
      child = spawn_cli({"sync", "--to", server.url(), "--tracking-uri", t.root, "--jobs", "2"}, io.path());
      const int code = wait_child(child);
      server.on_write(nullptr);
      INFO("first exit " << code << ": " << read_file(io.path() / "err"));
      CHECK((code == 128 + SIGKILL || code == 0));
      CliResult again = run_cli({"sync", "--to", server.url(), "--tracking-uri", t.root}, kFastRetries);
      INFO(again.err);
      CHECK(again.code == 0);
      check_server_matches_tree(server, t.root, false);
    }
  }
}

TEST_CASE("sync cli: two sync processes at once make one copy", "[sync][cli]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 2000);
  FakeMlflowServer server;
  TempDir io1, io2;
  pid_t a = spawn_cli({"sync", "--to", server.url(), "--tracking-uri", t.root}, io1.path());
  pid_t b = spawn_cli({"sync", "--to", server.url(), "--tracking-uri", t.root, "-j", "1"}, io2.path());
  CHECK(wait_child(a) == 0);
  CHECK(wait_child(b) == 0);
  check_server_matches_tree(server, t.root, false);
}

TEST_CASE("sync cli: summary, --json, --dry-run and the exit code of partial success", "[sync][cli]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server;
  CliResult dry = run_cli({"sync", "--to", server.url(), "--tracking-uri", t.root, "--dry-run"});
  CHECK(dry.code == 0);
  CHECK(dry.out.find("would create run " + t.plain + " (sweep-b)") != std::string::npos);
  CHECK(server.requests() == 0);

  CliResult first = run_cli({"sync", "--to", server.url(), "--tracking-uri", t.root});
  CHECK(first.code == 0);
  CHECK(first.out.find("4 created, 0 updated, 0 unchanged, 1 skipped, 0 failed, 0 conflicts") != std::string::npos);
  CHECK(first.out.find("\r") == std::string::npos);  // no progress on a pipe
  CHECK(first.err.find("\r") == std::string::npos);

  auto srv = server.run_by_source(tree_id_of(t.root) + "/" + t.plain);
  REQUIRE(srv);
  server.set_param(srv->run_id, "batch", "64");
  change_run(t.root, t.plain, [&](ActiveRun& run) {
    run.log_param("batch", "3\x1b[2J2");  // a value that would clear the terminal
    run.end();
  });
  CliResult text = run_cli({"sync", "--to", server.url(), "--tracking-uri", t.root});
  CHECK(text.code == 10);
  CHECK(text.err.find("conflict: param 'batch' is '3\\e[2J2' here and '64' on the server") != std::string::npos);
  CHECK(text.err.find('\x1b') == std::string::npos);
  CliResult conflict = run_cli({"sync", "--to", server.url(), "--tracking-uri", t.root, "--json"});
  CHECK(conflict.code == 10);
  auto j = nlohmann::json::parse(conflict.out);
  CHECK(j["conflicts"] == 1);
  CHECK(j["complete"] == false);
  bool listed = false;
  for (const auto& r : j["runs"])
    if (r["run_id"] == t.plain)
      listed = r["conflicts"].size() == 1 && r["conflicts"][0]["server_value"] == "64";
  CHECK(listed);

  CliResult help = run_cli({"sync", "--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("--follow") != std::string::npos);
  CHECK(help.out.find("MLFLOW_TRACKING_TOKEN") != std::string::npos);
  CliResult no_to = run_cli({"sync", "--tracking-uri", t.root});
  CHECK(no_to.code == 2);
  CliResult bad_url = run_cli({"sync", "--to", "ftp://x", "--tracking-uri", t.root});
  CHECK(bad_url.code == 3);
  CHECK(bad_url.err.find("must be http://") != std::string::npos);
}

TEST_CASE("sync cli: credentials never appear in output, errors or --json", "[sync][cli]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server;
  server.delete_experiment("sweep-a");
  std::map<std::string, std::string> env = kFastRetries;
  env["MLFLOW_TRACKING_TOKEN"] = "tok-SECRET-1";
  env["MLFLOW_TRACKING_PASSWORD"] = "pw-SECRET-2";
  const std::string url = "http://user:url-SECRET-3@127.0.0.1:" + std::to_string(server.port());
  // An experiment deleted on the server: an error, with the server named.
  {
    for (bool json : {false, true}) {
      std::vector<std::string> args = {"sync", "--to", url, "--tracking-uri", t.root};
      if (json) args.push_back("--json");
      CliResult r = run_cli(args, env);
      CHECK(r.code == 10);
      const std::string all = r.out + r.err;
      CHECK(all.find("SECRET") == std::string::npos);
      CHECK(all.find("127.0.0.1") != std::string::npos);
    }
  }
  // A server that is not there: the transport error names the URL, redacted.
  CliResult down = run_cli({"sync", "--to", "http://user:url-SECRET-3@127.0.0.1:1", "--tracking-uri", t.root},
                           {{"MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0"}});
  CHECK(down.code == 8);
  CHECK(down.err.find("http://127.0.0.1:1") != std::string::npos);
  CHECK(down.err.find("cannot be reached") != std::string::npos);
  CHECK((down.out + down.err).find("SECRET") == std::string::npos);
}

TEST_CASE("sync cli: --follow mirrors new points until SIGTERM, then exits 0", "[sync][cli]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server;
  TempDir io;
  pid_t pid = spawn_cli({"sync", "--to", server.url(), "--tracking-uri", t.root, "--follow", "--interval", "1s"}, io.path());
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 400 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return pred();
  };
  const std::string source = tree_id_of_when_ready(t.root, wait_for);
  CHECK(wait_for([&] { return server.run_by_source(source + "/" + t.plain).has_value(); }));
  change_run(t.root, t.plain, [&](ActiveRun& run) {
    run.log_metric("acc", 7.0, 777, kT0);
    run.end(RunStatus::kFailed);
  });
  CHECK(wait_for([&] {
    auto r = server.run_by_source(source + "/" + t.plain);
    return r && r->status == "FAILED";
  }));
  ::kill(pid, SIGTERM);
  CHECK(wait_child(pid) == 0);
  check_server_matches_tree(server, t.root, false);
}

#endif  // MLRUNS_CLI_PATH
