// The mlruns CLI's read verbs as a new user meets them (issue 10 items 4-8):
// which runs they select however asked, tables that keep what was asked
// for, times with their zone, gc that removes nothing by default, progress
// on a terminal and never on a pipe.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"

#ifdef MLRUNS_CLI_PATH

using namespace mlruns::testing;
namespace fs = std::filesystem;

namespace {

using Env = std::map<std::string, std::string>;

std::string start_run(const Env& env, const std::string& experiment, const std::string& name) {
  const CliResult r = run_cli({"run", "start", "-e", experiment, "-n", name}, env);
  REQUIRE(r.code == 0);
  return trim(r.out);
}

// The run ids of `mlruns runs ARGS --csv --columns run_id`, in order.
std::vector<std::string> run_ids(std::vector<std::string> args, const Env& env) {
  args.insert(args.begin(), "runs");
  for (const char* a : {"--csv", "--columns", "run_id"}) args.push_back(a);
  const CliResult r = run_cli(args, env);
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::vector<std::string> ids = lines(r.out);
  REQUIRE_FALSE(ids.empty());
  ids.erase(ids.begin());  // header
  return ids;
}

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

// Experiments a, b, c: active, deleted and finished runs with distinct
// losses; c is deleted (which marks its runs deleted, as MLflow does).
struct SweepTree {
  TempDir dir;
  std::string root = (dir.path() / "mlruns").string();
  Env env = {{"MLFLOW_TRACKING_URI", root}};
  SweepTree() {
    int loss = 1;
    for (const char* e : {"a", "b", "c"}) {
      REQUIRE(run_cli({"experiments", "create", e}, env).code == 0);
      for (int i = 0; i < 3; ++i) {
        const std::string run = start_run(env, e, std::string(e) + std::to_string(i));
        REQUIRE(run_cli({"log", run, "--metric", "loss=" + std::to_string(loss++)}, env).code == 0);
        REQUIRE(run_cli({"run", "end", run}, env).code == 0);
        if (i == 2) REQUIRE(run_cli({"run", "delete", run}, env).code == 0);
      }
    }
    REQUIRE(run_cli({"experiments", "delete", "c"}, env).code == 0);
  }
};

}  // namespace

// ---- item 5: the same runs however asked ---------------------------------------

TEST_CASE("cli: runs, report and get-top-run select the same runs with -e, several -e or none", "[cli][select]") {
  SweepTree t;
  for (const char* view : {"active", "deleted", "all"}) {
    for (const char* filter : {"", "metrics.loss < 6"}) {
      std::vector<std::string> common = {"--view", view, "--order-by", "metrics.loss ASC"};
      if (*filter) common.insert(common.end(), {"--filter", filter});
      INFO("--view " << view << " --filter '" << filter << "'");
      const std::vector<std::string> none = run_ids(common, t.env);
      std::vector<std::string> several_args = {"-e", "a", "-e", "b", "-e", "c"};
      several_args.insert(several_args.end(), common.begin(), common.end());
      const std::vector<std::string> several = run_ids(several_args, t.env);
      std::set<std::string> each;
      for (const char* e : {"a", "b", "c"}) {
        std::vector<std::string> one = {"-e", e};
        one.insert(one.end(), common.begin(), common.end());
        for (const std::string& id : run_ids(one, t.env)) each.insert(id);
      }
      CHECK(none == several);
      CHECK(as_set(none) == each);
      // --max cuts the same list at the same place.
      std::vector<std::string> capped = common;
      capped.insert(capped.end(), {"--max", "2"});
      const std::vector<std::string> none_max = run_ids(capped, t.env);
      several_args.insert(several_args.end(), {"--max", "2"});
      CHECK(none_max == std::vector<std::string>(none.begin(), none.begin() + std::min<std::size_t>(2, none.size())));
      CHECK(run_ids(several_args, t.env) == none_max);
    }
  }
  // What the views hold: 4 active runs (a0 a1 b0 b1), 5 deleted (a2, b2, and c's three).
  CHECK(run_ids({"--view", "active"}, t.env).size() == 4);
  CHECK(run_ids({"--view", "deleted"}, t.env).size() == 5);
  CHECK(run_ids({"--view", "all"}, t.env).size() == 9);

  // report counts the same runs with and without -e.
  for (const char* view : {"active", "deleted", "all"}) {
    const fs::path out = t.dir.path() / "r.html";
    const CliResult all = run_cli({"report", "--view", view, "-o", out.string(), "--json"}, t.env);
    const CliResult named =
        run_cli({"report", "--view", view, "-e", "a", "-e", "b", "-e", "c", "-o", out.string(), "--json"}, t.env);
    INFO(all.err << named.err);
    REQUIRE(all.code == 0);
    REQUIRE(named.code == 0);
    CHECK(nlohmann::json::parse(all.out)["runs"] == nlohmann::json::parse(named.out)["runs"]);
  }
  // get-top-run: the best deleted run is c's lowest loss wherever it is looked for.
  const CliResult top = run_cli({"get-top-run", "-e", "a", "-e", "c", "-m", "loss", "--ascending", "--view",
                                 "deleted", "--no-download"}, t.env);
  const CliResult top_c = run_cli({"get-top-run", "-e", "c", "-m", "loss", "--ascending", "--view", "deleted",
                                   "--no-download"}, t.env);
  REQUIRE(top.code == 0);
  CHECK(top.out == trim(run_ids({"-e", "a", "--view", "deleted"}, t.env).front()) + "\n");
  CHECK(top_c.out == run_ids({"-e", "c", "--view", "deleted", "--order-by", "metrics.loss ASC"}, t.env).front() + "\n");
  // get-top-run without -e ranks every experiment, as runs and report do (F5).
  for (const char* view : {"active", "deleted", "all"}) {
    INFO("--view " << view);
    const std::vector<std::string> rank = {"-m", "loss", "--ascending", "--include-unfinished", "--view", view,
                                           "--no-download"};
    std::vector<std::string> none = {"get-top-run"}, named = {"get-top-run", "-e", "a", "-e", "b", "-e", "c"};
    none.insert(none.end(), rank.begin(), rank.end());
    named.insert(named.end(), rank.begin(), rank.end());
    const CliResult any = run_cli(none, t.env);
    INFO(any.err);
    REQUIRE(any.code == 0);
    CHECK(any.out == run_cli(named, t.env).out);
    CHECK(any.out == run_ids({"--view", view, "--order-by", "metrics.loss ASC"}, t.env).front() + "\n");
  }
}

// ---- item 4: tables ----------------------------------------------------------------

TEST_CASE("cli: the table keeps the metric asked for after the run name, never cuts a header", "[cli][table]") {
  TempDir dir;
  const Env env = {{"MLFLOW_TRACKING_URI", (dir.path() / "mlruns").string()}};
  REQUIRE(run_cli({"experiments", "create", "rl"}, env).code == 0);
  for (int i = 0; i < 3; ++i) {
    const std::string run = start_run(env, "rl", "ppo_lr1e-" + std::to_string(i) + "_g0.99_long_name");
    REQUIRE(run_cli({"log", run, "-m", "episode_reward_mean=" + std::to_string(100 + i), "-m",
                     "episode_len_mean=" + std::to_string(200 + i), "-m", "lr=0.1", "-p", "lr=0.00" + std::to_string(i)},
                    env)
                .code == 0);
  }
  // Asked for in --order-by or --filter: right after the run name, kept however narrow.
  for (const std::vector<std::string>& asked : std::vector<std::vector<std::string>>{
           {"-o", "metrics.episode_reward_mean DESC"}, {"-f", "metrics.episode_reward_mean > 0"}}) {
    for (int cols = 56; cols <= 200; cols += 12) {
      std::vector<std::string> args = {"runs", "-e", "rl"};
      args.insert(args.end(), asked.begin(), asked.end());
      const CliResult r = run_cli(args, {{"MLFLOW_TRACKING_URI", env.at("MLFLOW_TRACKING_URI")},
                                          {"COLUMNS", std::to_string(cols)}});
      INFO(cols << "\n" << r.out);
      REQUIRE(r.code == 0);
      const std::string header = lines(r.out).at(0);
      CHECK(header.find("episode_reward_mean") != std::string::npos);
      CHECK(header.find("…") == std::string::npos);  // no header is ever cut
      // Every header is a whole column name.
      std::istringstream words(header);
      for (std::string w; words >> w;) {
        static const std::set<std::string> kNames = {"run_id", "run_name", "status", "start_time", "episode_reward_mean",
                                                     "episode_len_mean", "metrics.lr", "params.lr"};
        CHECK(kNames.count(w) == 1);
      }
      if (cols >= 80) CHECK(header.rfind("run_id", 0) == 0);
      if (cols >= 120) {
        CHECK(header.find("run_name") < header.find("episode_reward_mean"));
        CHECK(header.find("episode_reward_mean") < header.find("status"));
        CHECK(header.find("status") < header.find("start_time"));
      }
    }
  }
  // `metrics.lr` and `params.lr` keep their prefixes: both are shown.
  const CliResult wide = run_cli({"runs", "-e", "rl"}, env);
  CHECK(lines(wide.out).at(0).find("metrics.lr") != std::string::npos);
  CHECK(lines(wide.out).at(0).find("params.lr") != std::string::npos);
  // --columns with spaces after the commas.
  const CliResult picked = run_cli({"runs", "-e", "rl", "--columns", "run_id, run_name ,metrics.lr"}, env);
  REQUIRE(picked.code == 0);
  CHECK(lines(picked.out).at(0).rfind("run_id", 0) == 0);
  CHECK(lines(picked.out).at(0).find("run_name") != std::string::npos);
  const CliResult csv = run_cli({"runs", "-e", "rl", "--csv", "--columns", "run_id, run_name"}, env);
  CHECK(lines(csv.out).at(0) == "run_id,run_name");
  // An empty --columns is refused, not silently the default (F13), with one
  // wording whether CLI11 finds no value (",": it drops empty items) or the
  // verb finds only empty names ("", " , ").
  for (const char* empty : {"", ",", " , ", ",,"}) {
    const CliResult none = run_cli({"runs", "-e", "rl", "--columns", empty}, env);
    INFO("'" << empty << "'");
    CHECK(none.code == 2);
    CHECK(none.out.empty());
    CHECK(none.err == "mlruns: runs: --columns '' names no column; give e.g. run_id,run_name, or leave it out for "
                      "the default columns\n");
  }
  const CliResult eq = run_cli({"runs", "-e", "rl", "--columns=,"}, env);
  CHECK(eq.code == 2);
  CHECK(eq.err.find("--columns '' names no column") != std::string::npos);
}

TEST_CASE("cli: times say their zone: Z for UTC, the offset with --local-time", "[cli][table]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const Env env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string run = start_run(env, "0", "r");
  REQUIRE(run_cli({"log", run, "-m", "x=1", "--timestamp", "1704067200000"}, env).code == 0);  // 2024-01-01 00:00Z
  REQUIRE(run_cli({"run", "end", run, "--end-time", "1719792000000"}, env).code == 0);         // 2024-07-01 00:00Z
  const CliResult show = run_cli({"show", run}, env);
  CHECK(show.out.find("2024-07-01 00:00:00Z (1719792000000)") != std::string::npos);
  // The metric's timestamp too (F10); --json keeps ms.
  CHECK(show.out.find("2024-01-01 00:00:00Z") != std::string::npos);
  CHECK(show.out.find("1704067200000") == std::string::npos);
  CHECK(run_cli({"show", run, "--json"}, env).out.find("1704067200000") != std::string::npos);
  const CliResult history = run_cli({"history", run, "x"}, env);
  CHECK(history.out.find("2024-01-01 00:00:00Z") != std::string::npos);
  const CliResult runs = run_cli({"runs", "--columns", "run_id,end_time"}, env);
  CHECK(runs.out.find("2024-07-01 00:00:00Z") != std::string::npos);
  // Local time: Paris is UTC+1 in January, UTC+2 in July.
  const Env paris = {{"MLFLOW_TRACKING_URI", root}, {"TZ", "Europe/Paris"}};
  CHECK(run_cli({"--local-time", "show", run}, paris).out.find("2024-07-01 02:00:00+02:00") != std::string::npos);
  CHECK(run_cli({"history", run, "x", "--local-time"}, paris).out.find("2024-01-01 01:00:00+01:00") !=
        std::string::npos);
}

// ---- item 6: gc removes nothing by default ------------------------------------------

TEST_CASE("cli: gc needs --older-than, --all or ids, and --dry-run shows what would go", "[cli][gc]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const Env env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string run = start_run(env, "0", "doomed");
  REQUIRE(run_cli({"run", "delete", run}, env).code == 0);
  const fs::path run_dir = fs::path(root) / "0" / run;

  const CliResult bare = run_cli({"gc"}, env);
  CHECK(bare.code == 2);
  CHECK_THAT(bare.err, Catch::Contains("--older-than") && Catch::Contains("--all") && Catch::Contains("--dry-run"));
  CHECK(fs::exists(run_dir));

  const CliResult dry = run_cli({"gc", "--dry-run"}, env);
  CHECK(dry.code == 0);
  CHECK(dry.out.find("would remove run " + run) != std::string::npos);
  CHECK(fs::exists(run_dir));

  CHECK(run_cli({"gc", "--all", "--older-than", "1d"}, env).code == 2);  // one or the other
  CHECK(run_cli({"gc", "--older-than", "30d"}, env).code == 0);           // deleted just now: kept
  CHECK(fs::exists(run_dir));
  const CliResult all = run_cli({"gc", "--all"}, env);
  CHECK(all.code == 0);
  CHECK(all.out.find("removed run " + run) != std::string::npos);
  CHECK_FALSE(fs::exists(run_dir));

  const CliResult help = run_cli({"gc", "--help"});
  CHECK_THAT(help.out, Catch::Contains("--all") && Catch::Contains("--older-than") && Catch::Contains("--dry-run"));
}

TEST_CASE("cli: gc of a trashed experiment: its runs' stale artifact URIs are no note, and nothing to remove says why",
          "[cli][gc]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const Env env = {{"MLFLOW_TRACKING_URI", root}};
  REQUIRE(run_cli({"experiments", "create", "x"}, env).code == 0);
  std::vector<std::string> runs;
  for (int i = 0; i < 5; ++i) runs.push_back(start_run(env, "x", "r" + std::to_string(i)));
  const std::string kept = start_run(env, "0", "kept");
  REQUIRE(run_cli({"run", "delete", kept}, env).code == 0);
  REQUIRE(run_cli({"experiments", "delete", "x"}, env).code == 0);

  // Deleted a moment ago: nothing is 30 days old, and gc says what it saw.
  const CliResult young = run_cli({"gc", "--older-than", "30d"}, env);
  INFO(young.err);
  CHECK(young.code == 0);
  CHECK(young.out == "nothing to remove: 6 deleted run(s), 1 trashed experiment(s), none deleted 30d ago or longer\n");
  const nlohmann::json j = nlohmann::json::parse(run_cli({"gc", "--older-than", "30d", "--json"}, env).out);
  CHECK(j["deleted_runs"] == 6);
  CHECK(j["items"].empty());

  // The runs' artifact_uri still names <root>/<exp>/<run>/artifacts, which
  // moved into .trash/ with them: removed with the run, never a note.
  const CliResult all = run_cli({"gc", "--all"}, env);
  INFO(all.err);
  CHECK(all.code == 0);
  CHECK(all.err.find("left in place") == std::string::npos);
  CHECK(all.err.empty());
  for (const std::string& r : runs) CHECK(all.out.find("removed run " + r) != std::string::npos);
  CHECK_FALSE(fs::exists(fs::path(root) / "0" / kept));
}

TEST_CASE("cli: gc removes a run's own artifact folder outside the tree, nothing else outside it", "[cli][gc]") {
  TempDir dir;
  const fs::path root = dir.path() / "mlruns";
  const fs::path store = dir.path() / "store";  // the experiment's artifact location, outside the tree
  const Env env = {{"MLFLOW_TRACKING_URI", root.string()}};
  REQUIRE(run_cli({"experiments", "create", "ext", "--artifact-location", store.string()}, env).code == 0);
  write_file(dir.path() / "model.bin", "weights");
  std::map<std::string, std::string> runs;  // name -> id
  for (const char* name : {"doomed", "kept", "moved", "foreign"}) {
    runs[name] = start_run(env, "ext", name);
    REQUIRE(run_cli({"log-artifact", runs[name], (dir.path() / "model.bin").string()}, env).code == 0);
    REQUIRE(fs::exists(store / runs[name] / "artifacts" / "model.bin"));
  }
  // "moved": its artifact_uri names a folder of another shape (not <location>/<run_id>/artifacts).
  const fs::path elsewhere = dir.path() / "elsewhere";
  write_file(elsewhere / "precious", "x");
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename() != "meta.yaml" || e.path().parent_path().filename() != runs["moved"]) continue;
    std::string meta = read_file(e.path());
    const std::size_t at = meta.find("artifact_uri: ");
    REQUIRE(at != std::string::npos);
    meta.replace(at, meta.find('\n', at) - at, "artifact_uri: file://" + elsewhere.string());
    write_file(e.path(), meta);
  }
  // "foreign": <location>/<run_id> also holds a run of another tree (a meta.yaml).
  write_file(store / runs["foreign"] / "meta.yaml", "run_id: x\n");
  for (const char* name : {"doomed", "moved", "foreign"}) REQUIRE(run_cli({"run", "delete", runs[name]}, env).code == 0);

  // By default nothing outside the tree is removed: the run's own folder is named, left in place
  // (docs/cli.md "Maintenance verbs").
  const CliResult plain = run_cli({"gc", "--dry-run"}, env);
  INFO(plain.out << plain.err);
  CHECK(plain.out.find("would remove run " + runs["doomed"]) != std::string::npos);
  CHECK(plain.out.find("and its artifacts") == std::string::npos);
  CHECK(plain.err.find("run " + runs["doomed"] + ": its artifact folder outside the tree '" +
                       (store / runs["doomed"] / "artifacts").string() + "' left in place") != std::string::npos);

  // --include-outside-artifacts removes it with the run, as mlflow gc does.
  const CliResult dry = run_cli({"gc", "--dry-run", "--include-outside-artifacts"}, env);
  INFO(dry.out << dry.err);
  CHECK(dry.out.find("would remove run " + runs["doomed"]) != std::string::npos);
  CHECK(dry.out.find("and its artifacts " + (store / runs["doomed"] / "artifacts").string()) != std::string::npos);
  CHECK(fs::exists(store / runs["doomed"] / "artifacts" / "model.bin"));

  const CliResult gc = run_cli({"gc", "--all", "--include-outside-artifacts"}, env);
  INFO(gc.out << gc.err);
  CHECK(gc.code == 0);
  CHECK_FALSE(fs::exists(store / runs["doomed"]));                           // its own folder: gone
  CHECK(read_file(store / runs["kept"] / "artifacts" / "model.bin") == "weights");  // not deleted: kept
  CHECK(read_file(elsewhere / "precious") == "x");                             // another shape: never touched
  CHECK(read_file(store / runs["foreign"] / "meta.yaml") == "run_id: x\n");   // another tree's run: untouched
  CHECK(fs::exists(store / runs["foreign"] / "artifacts" / "model.bin"));
  CHECK(gc.err.find("run " + runs["moved"] + ": artifacts at") != std::string::npos);
  CHECK(gc.err.find("run " + runs["foreign"] + ": artifacts at") != std::string::npos);
}

// ---- item 7: relocate says once that --from matched nothing --------------------------

TEST_CASE("cli: relocate --from that matches nothing says so once, with counts", "[cli][relocate]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const Env env = {{"MLFLOW_TRACKING_URI", root}};
  for (int i = 0; i < 6; ++i) start_run(env, "0", "r" + std::to_string(i));
  const CliResult r = run_cli({"relocate", "--from", "/no/such/old/place"}, env);
  CHECK(r.code == 0);
  INFO(r.err);
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err == "mlruns: no artifact URI is under --from '/no/such/old/place': 7 file(s) checked, nothing to change\n");
  CHECK(r.out == "0 file(s) changed of 7 checked\n");
  // --json: the same fact as a field, the per-file skips it replaces not listed.
  const CliResult j = run_cli({"relocate", "--from", "/no/such/old/place", "--json"}, env);
  CHECK(j.code == 0);
  CHECK(j.err.empty());
  const nlohmann::json doc = nlohmann::json::parse(j.out);
  CHECK(doc["nothing_under_from"] == true);
  CHECK(doc["files_checked"] == 7);
  CHECK(doc["skipped"].empty());
  CHECK(doc["changes"].empty());
  // A --from the URIs are under: false.
  const CliResult under = run_cli({"relocate", "--from", fs::canonical(root).string(), "--json"}, env);
  CHECK(nlohmann::json::parse(under.out)["nothing_under_from"] == false);
}

// ---- item 8: get-top-run's "exists" -----------------------------------------------------

TEST_CASE("cli: get-top-run says in one sentence that the download target exists", "[cli][usage]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const Env env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string run = start_run(env, "0", "r");
  write_file(dir.path() / "weights.bin", "w");
  REQUIRE(run_cli({"log-artifact", run, (dir.path() / "weights.bin").string()}, env).code == 0);
  REQUIRE(run_cli({"log", run, "-m", "score=1"}, env).code == 0);
  REQUIRE(run_cli({"run", "end", run}, env).code == 0);
  const std::string dest = (dir.path() / "best").string();
  const std::vector<std::string> args = {"get-top-run", "-e", "0", "-m", "score", "-a", "weights.bin", "-d", dest};
  const CliResult first = run_cli(args, env);
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK(first.out == dest + "/weights.bin\n");
  const CliResult again = run_cli(args, env);
  CHECK(again.code == 5);
  CHECK(lines(again.err).back() ==
        "mlruns: already exists: " + dest + "/weights.bin is already there (an earlier download?); add --overwrite to replace it");
}

// ---- item 7: progress on a terminal, never on a pipe or with --json -----------------------

namespace {

// A TCP port that accepts connections and never answers.
struct SilentServer {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  SilentServer() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd); }
};

// Runs mlruns with its stdout and stderr on a pseudo-terminal for `seconds`,
// then kills it; returns what the terminal showed.
std::string on_terminal(const std::vector<std::string>& args, const std::string& uri, int seconds) {
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    ::setenv("MLFLOW_TRACKING_URI", uri.c_str(), 1);
    exec_cli(args);
  }
  std::string shown;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[4096];
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;
      shown.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::kill(pid, SIGKILL);
  wait_exit_code(pid);
  ::close(master);
  return shown;
}

}  // namespace

TEST_CASE("cli: a verb that takes long shows it is working on a terminal, never on a pipe or with --json",
          "[cli][progress]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  start_run({{"MLFLOW_TRACKING_URI", root}}, "0", "r");
  SilentServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port);
  // sync waits for a server that never answers: the generic line, redrawn in place.
  const std::string tty = on_terminal({"sync", "--to", url}, root, 3);
  INFO(tty);
  CHECK(tty.find("\r\033[Kmlruns: sync: working (1 s)") != std::string::npos);
  CHECK(tty.find("\r\033[Kmlruns: sync: working (2 s)") != std::string::npos);
  CHECK(on_terminal({"sync", "--to", url, "--json"}, root, 2).find("working") == std::string::npos);
  CHECK(on_terminal({"--quiet", "sync", "--to", url}, root, 2).find("working") == std::string::npos);
  // stderr a pipe (a file here): nothing.
  const CliResult piped = run_cli({"sync", "--to", url}, {{"MLFLOW_TRACKING_URI", root}}, std::nullopt, 2);
  CHECK(piped.code == 128 + SIGALRM);
  CHECK(piped.err.find("working") == std::string::npos);
}

#endif  // MLRUNS_CLI_PATH
