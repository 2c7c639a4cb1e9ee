// The CLI where users meet MLflow's behaviour (issue 9): numbers as Python
// parses them (item 8), log-artifact / log-artifacts (item 5), experiments
// with their own artifact location (item 3), reap and CLI-started runs (item
// 4), the git commit of the working folder (item 7), refusals that write
// nothing (item 10).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <chrono>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "mlruns/reader.h"
#include "test_util.h"

#ifdef MLRUNS_CLI_PATH

#include "cli_test_util.h"

using namespace mlruns::testing;

namespace {

struct Tree {
  TempDir t;
  std::string root = t.root();
  std::string exp;
  std::string run;
  explicit Tree(const std::string& location = {}) {
    std::vector<std::string> args = {"experiments", "create", "e", "--tracking-uri", root};
    if (!location.empty()) {
      args.push_back("--artifact-location");
      args.push_back(location);
    }
    auto c = run_cli(args);
    REQUIRE(c.code == 0);
    exp = trim(c.out);
    auto r = run_cli({"run", "start", "-e", "e", "--tracking-uri", root});
    REQUIRE(r.code == 0);
    run = trim(r.out);
  }
  CliResult cli(std::vector<std::string> args) {
    args.push_back("--tracking-uri");
    args.push_back(root);
    return run_cli(args, {}, t.path());
  }
};

}  // namespace

TEST_CASE("mlruns log --metric acc=1e400 logs inf, as Python's float('1e400') - one parser for every number",
          "[cli][values]") {
  Tree tr;
  auto c = tr.cli({"log", tr.run, "--metric", "acc=1e400@1", "--metric", "tiny=1e-400", "--metric", "big=1_000.5",
                   "--timestamp", "1_700_000_000_000"});
  INFO(c.err);
  REQUIRE(c.code == 0);
  fs::path m = fs::path(tr.root) / tr.exp / tr.run / "metrics";
  CHECK(read_file(m / "acc") == "1700000000000 inf 1\n");
  CHECK(read_file(m / "tiny") == "1700000000000 0.0 0\n");
  CHECK(read_file(m / "big") == "1700000000000 1000.5 0\n");
  auto bad = tr.cli({"log", tr.run, "--metric", "acc=1e"});
  CHECK(bad.code == 3);
  CHECK_THAT(bad.err, Catch::Contains("not a number"));
  CHECK(tr.cli({"runs", "--max", "0"}).code == 3);
  CHECK(tr.cli({"runs", "--max", "1_000"}).code == 0);
}

TEST_CASE("log-artifact keeps a directory's name, log-artifacts copies its contents, an existing file is refused "
          "with exit 5 (issue 9 item 5)",
          "[cli][artifacts]") {
  Tree tr;
  write_file(tr.t.path() / "checkpoint_000010/policy.bin", "ten");
  write_file(tr.t.path() / "checkpoint_000020/policy.bin", "twenty");
  REQUIRE(tr.cli({"log-artifact", tr.run, "./checkpoint_000010"}).code == 0);
  REQUIRE(tr.cli({"log-artifact", tr.run, "./checkpoint_000020"}).code == 0);
  fs::path art = fs::path(tr.root) / tr.exp / tr.run / "artifacts";
  CHECK(read_file(art / "checkpoint_000010/policy.bin") == "ten");
  CHECK(read_file(art / "checkpoint_000020/policy.bin") == "twenty");
  REQUIRE(tr.cli({"log-artifacts", tr.run, "./checkpoint_000020", "--artifact-path", "latest"}).code == 0);
  CHECK(read_file(art / "latest/policy.bin") == "twenty");
  auto before = tree_snapshot(tr.root);
  write_file(tr.t.path() / "checkpoint_000010/policy.bin", "ten again");
  auto again = tr.cli({"log-artifact", tr.run, "./checkpoint_000010"});
  CHECK(again.code == 5);
  CHECK_THAT(again.err, Catch::Contains("checkpoint_000010/policy.bin"));
  CHECK(tree_snapshot(tr.root) == before);
  REQUIRE(tr.cli({"log-artifact", tr.run, "./checkpoint_000010", "--overwrite"}).code == 0);
  CHECK(read_file(art / "checkpoint_000010/policy.bin") == "ten again");
  // docs/cli.md's first example: get-top-run finds checkpoint_000010.
  REQUIRE(tr.cli({"log", tr.run, "--metric", "episode_reward_mean=100@1"}).code == 0);
  REQUIRE(tr.cli({"run", "end", tr.run}).code == 0);
  auto top = tr.cli({"get-top-run", "-e", "e", "--rank-metric", "metrics.episode_reward_mean", "--artifact-path",
                     "checkpoint_000010", "--local-path", "./best"});
  INFO(top.err);
  REQUIRE(top.code == 0);
  CHECK(read_file(tr.t.path() / "best/checkpoint_000010/policy.bin") == "ten again");
}

TEST_CASE("an experiment with its own artifact location takes artifacts - show, artifacts, get-top-run, fsck, "
          "relocate and gc follow it (issue 9 item 3)",
          "[cli][artifacts][location]") {
  TempDir share;
  for (const std::string& form : {std::string("abs"), std::string("file"), std::string("rel")}) {
    INFO(form);
    std::string dir = share.str() + "/" + form;
    Tree tr;
    // A relative location is taken from the working folder and stored absolute, as MLflow does.
    std::string location = form == "abs" ? dir : form == "file" ? "file://" + dir : fs::relative(dir, tr.t.path()).string();
    auto made = tr.cli({"experiments", "create", "shared", "--artifact-location", location});
    REQUIRE(made.code == 0);
    auto started = tr.cli({"run", "start", "-e", "shared"});
    REQUIRE(started.code == 0);
    std::string run = trim(started.out);
    write_file(tr.t.path() / "file.txt", "hello");
    auto logged = tr.cli({"log-artifact", run, "file.txt"});
    INFO(logged.err);
    REQUIRE(logged.code == 0);
    std::string real_dir = dir;
    CHECK(read_file(real_dir + "/" + run + "/artifacts/file.txt") == "hello");
    auto listed = tr.cli({"artifacts", run});
    CHECK(listed.code == 0);
    CHECK_THAT(listed.out, Catch::Contains("file.txt"));
    REQUIRE(tr.cli({"log", run, "--metric", "m=1"}).code == 0);
    REQUIRE(tr.cli({"run", "end", run}).code == 0);
    auto top = tr.cli({"get-top-run", "-e", "shared", "-m", "m", "-d", "./dl"});
    INFO(top.err);
    CHECK(top.code == 0);
    CHECK(read_file(tr.t.path() / "dl/artifacts/file.txt") == "hello");
    auto fsck = tr.cli({"fsck", "--json"});
    CHECK_THAT(fsck.out, !Catch::Contains("artifact_uri_elsewhere"));
    auto reloc = tr.cli({"relocate", "--dry-run"});
    CHECK(reloc.code == 0);
    CHECK_THAT(reloc.out, !Catch::Contains(run));
    // gc removes the run's own folder there with the run, as mlflow gc does, when asked to
    // (--include-outside-artifacts, docs/cli.md "gc").
    REQUIRE(tr.cli({"run", "delete", run}).code == 0);
    auto gc = tr.cli({"gc", "--all", "--include-outside-artifacts"});
    INFO(gc.out << gc.err);
    CHECK(gc.code == 0);
    CHECK_FALSE(fs::exists(real_dir + "/" + run));
    CHECK(fs::exists(real_dir));
  }
}

TEST_CASE("relocate --from OLD --to NEW maps a prefix: a copied project folder with the tree and custom artifact "
          "locations, --from without --to that points into missing tree folders is refused and changes nothing, "
          "fsck and artifacts report a missing outside location",
          "[cli][relocate][location]") {
  TempDir t;
  const fs::path art = t.path() / "art", art2 = t.path() / "art2";
  const std::string root = (art / "mlruns").string(), root2 = (art2 / "mlruns").string();
  auto cli = [](std::vector<std::string> args, const std::string& tree) {
    args.push_back("--tracking-uri");
    args.push_back(tree);
    return run_cli(args);
  };
  REQUIRE(cli({"experiments", "create", "shared", "--artifact-location", (art / "share" / "uri").string()}, root).code == 0);
  auto started = cli({"run", "start", "-e", "shared"}, root);
  REQUIRE(started.code == 0);
  const std::string shared_run = trim(started.out);
  auto started0 = cli({"run", "start", "-e", "0"}, root);
  REQUIRE(started0.code == 0);
  const std::string run0 = trim(started0.out);
  write_file(t.path() / "file.txt", "hello");
  REQUIRE(cli({"log-artifact", shared_run, (t.path() / "file.txt").string()}, root).code == 0);
  REQUIRE(cli({"log-artifact", run0, (t.path() / "file.txt").string()}, root).code == 0);
  fs::copy(art, art2, fs::copy_options::recursive);
  fs::remove_all(art);

  // Before relocating: fsck names the missing outside location, artifacts warns (and lists nothing, as MLflow).
  auto fsck = cli({"fsck", "--json"}, root2);
  INFO(fsck.out << fsck.err);
  CHECK_THAT(fsck.out + fsck.err, Catch::Contains("artifact_location_missing"));
  auto listed = cli({"artifacts", shared_run}, root2);
  CHECK(listed.code == 0);
  CHECK_THAT(listed.err, Catch::Contains("does not exist"));

  // --from the project folder without --to would map into <tree>/mlruns/0 and <tree>/share: refused, nothing changed.
  auto before = tree_snapshot(root2);
  auto wrong = cli({"relocate", "--from", art.string()}, root2);
  INFO(wrong.out << wrong.err);
  CHECK(wrong.code == 6);
  CHECK_THAT(wrong.err, Catch::Contains("--to"));
  CHECK(tree_snapshot(root2) == before);

  auto right = cli({"relocate", "--from", art.string(), "--to", art2.string()}, root2);
  INFO(right.out << right.err);
  REQUIRE(right.code == 0);
  auto reader = mlruns::Reader::open(root2);
  REQUIRE(reader.has_value());
  CHECK_THAT(reader->run(shared_run)->info.artifact_uri, Catch::Contains((art2 / "share" / "uri" / shared_run).string()));
  CHECK_THAT(reader->run(run0)->info.artifact_uri, Catch::Contains(root2 + "/0/" + run0 + "/artifacts"));
  auto now = cli({"artifacts", shared_run}, root2);
  CHECK(now.code == 0);
  CHECK_THAT(now.out, Catch::Contains("file.txt"));
  CHECK_THAT(cli({"fsck", "--json"}, root2).out, !Catch::Contains("artifact_location_missing"));
  // A prefix no URI is under: a note, nothing changed.
  auto none = cli({"relocate", "--from", "/no/such/prefix"}, root2);
  CHECK(none.code == 0);
  CHECK_THAT(none.err, Catch::Contains("no artifact URI"));
}

TEST_CASE("a run name that is too long is refused for its length (spec §6.2), never as bad UTF-8, and the message "
          "shows it shortened",
          "[cli][limits]") {
  TempDir t;
  std::string root = t.root();
  auto start = [&](const std::string& name) { return run_cli({"run", "start", "--name", name, "--tracking-uri", root}); };
  for (const std::string& name : {std::string(2000, 'L'), std::string(251, 'L'), [] {
         std::string s;
         for (int i = 0; i < 251; ++i) s += "\xc3\xa9";  // 251 x U+00E9: 502 bytes
         return s;
       }()}) {
    auto r = start(name);
    INFO(r.err);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("characters, longer than 250"));
    CHECK_THAT(r.err, !Catch::Contains("UTF-8"));
    CHECK(r.err.size() < 400);  // shortened, not the whole name
  }
  std::string cjk;
  for (int i = 0; i < 250; ++i) cjk += "\xe5\xad\x97";  // 250 x U+5B57: 750 bytes, within the limit
  CHECK(start(cjk).code == 0);
  auto bad = start("ab\xff");
  CHECK(bad.code == 3);
  CHECK_THAT(bad.err, Catch::Contains("valid UTF-8"));
}

TEST_CASE("log-artifact of a folder that holds the tree says so - it would copy the tree into itself - and writes "
          "nothing",
          "[cli][artifacts]") {
  TempDir t;
  const fs::path proj = t.path() / "proj";
  const std::string root = (proj / "mlruns").string();
  auto started = run_cli({"run", "start", "--tracking-uri", root});
  REQUIRE(started.code == 0);
  const std::string run = trim(started.out);
  write_file(proj / "data" / "x.txt", "x");
  const auto before = tree_snapshot(root);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"log-artifact", run, ".", "--artifact-path", "dot"},
        std::vector<std::string>{"log-artifacts", run, "."}, std::vector<std::string>{"log-artifact", run, proj.string()},
        std::vector<std::string>{"log-artifact", run, "mlruns"}}) {
    std::vector<std::string> a = args;
    a.push_back("--tracking-uri");
    a.push_back(root);
    auto r = run_cli(a, {}, proj);
    INFO(args[0] << " " << args[2] << ": " << r.err);
    CHECK(r.code == 3);
    CHECK_THAT(r.err, Catch::Contains("would copy the tree into itself"));
    CHECK_THAT(r.err, !Catch::Contains("outside the tree"));
    CHECK(tree_snapshot(root) == before);
  }
  auto sub = run_cli({"log-artifact", run, "data", "--tracking-uri", root}, {}, proj);
  INFO(sub.err);
  CHECK(sub.code == 0);
}

TEST_CASE("the CLI takes a 251-character tag key as MLflow 3.8 and 2.10 set_tag do (FileStore.set_tag validates "
          "no length), and refuses a 251-character param or metric key as they do (validation.py, 250)",
          "[cli][limits]") {
  Tree tr;
  const std::string key(251, 't');
  auto tag = tr.cli({"log", tr.run, "--tag", key + "=v"});
  INFO(tag.err);
  CHECK(tag.code == 0);
  CHECK(read_file(fs::path(tr.root) / tr.exp / tr.run / "tags" / key) == "v");
  auto exp_tag = tr.cli({"run", "start", "-e", "e", "--tag", key + "=w"});
  CHECK(exp_tag.code == 0);
  CHECK(tr.cli({"log", tr.run, "--param", std::string(251, 'p') + "=1"}).code == 3);
  CHECK(tr.cli({"log", tr.run, "--metric", std::string(251, 'm') + "=1"}).code == 3);
}

TEST_CASE("reap never ends a CLI-started run while the shell job that started it lives (issue 9 item 4)",
          "[cli][reap]") {
  TempDir t;
  std::string root = t.root();
  REQUIRE(run_cli({"experiments", "create", "jobs", "--tracking-uri", root}).code == 0);
  // A job script: start a run, log, sleep (the job works), end it.
  std::string script = "r=$(\"" + std::string(MLRUNS_CLI_PATH) + "\" run start -e jobs --tracking-uri " + root +
                       ") && echo $r > " + t.str() + "/run-id && \"" + MLRUNS_CLI_PATH + "\" log $r --metric m=1" +
                       " --tracking-uri " + root + " && sleep 3 && \"" + MLRUNS_CLI_PATH + "\" run end $r --tracking-uri " +
                       root;
  pid_t job = ::fork();
  if (job == 0) {
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string id;
  for (int i = 0; i < 200 && id.size() != 32; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    id = trim(read_file(t.path() / "run-id"));
  }
  REQUIRE(id.size() == 32);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto reap = run_cli({"reap", "--older-than", "0s", "--tracking-uri", root});
  INFO(reap.out << reap.err);
  CHECK(reap.code == 0);
  CHECK_THAT(reap.out, !Catch::Contains("ended " + id));
  auto reader = mlruns::Reader::open(root);
  REQUIRE(reader.has_value());
  auto r = reader->run(id);
  REQUIRE(r.has_value());
  CHECK(r->tags.at("mlruns.pid") == std::to_string(job));  // the job's shell, not the CLI
  int status = 0;
  ::waitpid(job, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(reader->run(id)->info.status == mlruns::RunStatus::kFinished);  // ended by the job, not by reap
}

TEST_CASE("reap never ends a run whose shell job lives, however bash or a wrapper ran run start: redirections, "
          "timeout, a pipe with --owner-pid $$ - and ends them all once the job is gone",
          "[cli][reap]") {
  TempDir t;
  std::string root = t.root();
  REQUIRE(run_cli({"experiments", "create", "rp", "--tracking-uri", root}).code == 0);
  // Each pattern runs run start from a short-lived intermediate process (a
  // forked subshell for the redirection, timeout) that dies at once.
  const std::string m = "\"" + std::string(MLRUNS_CLI_PATH) + "\"";
  write_file(t.path() / "job.sh",
             "export MLFLOW_TRACKING_URI='" + root + "'\n"
             "a=$(" + m + " run start -e rp 2>/dev/null)\n"
             "b=$(" + m + " run start -e rp 2>>err.log)\n"
             "c=$(" + m + " run start -e rp 2>&1)\n"
             "d=$(timeout 60 " + m + " run start -e rp)\n"
             "e=$(" + m + " run start -e rp)\n"
             + m + " run start -e rp --owner-pid $$ | cat > f.id\n"
             "echo $a $b $c $d $e $(cat f.id) > ids.tmp && mv ids.tmp ids\n"
             "sleep 60\n");
  pid_t job = ::fork();
  if (job == 0) {  // as `setsid ./job.sh &`
    ::setsid();
    if (::chdir(t.str().c_str()) != 0) ::_exit(126);
    ::execl("/bin/bash", "bash", "./job.sh", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 400 && ids.size() != 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::istringstream words(fs::exists(t.path() / "ids") ? read_file(t.path() / "ids") : "");
    ids.assign(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>());
  }
  REQUIRE(ids.size() == 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the intermediates are gone by now
  auto reap = run_cli({"reap", "--older-than", "0s", "--tracking-uri", root});
  INFO(reap.out << reap.err);
  CHECK(reap.code == 0);
  for (const std::string& id : ids) CHECK_THAT(reap.out, !Catch::Contains("ended " + id));
  ::kill(-job, SIGKILL);  // the whole job (its session's process group)
  ::waitpid(job, nullptr, 0);
  auto after = run_cli({"reap", "--tracking-uri", root});
  INFO(after.out << after.err);
  for (const std::string& id : ids) CHECK_THAT(after.out, Catch::Contains("ended " + id));
}

TEST_CASE("run start --owner-pid names the owner - a dead owner's run is reaped", "[cli][reap]") {
  TempDir t;
  std::string root = t.root();
  pid_t sleeper = ::fork();
  if (sleeper == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto started = run_cli({"run", "start", "--owner-pid", std::to_string(sleeper), "--tracking-uri", root});
  REQUIRE(started.code == 0);
  std::string id = trim(started.out);
  CHECK(run_cli({"reap", "--older-than", "0s", "--tracking-uri", root}).out.find("ended " + id) == std::string::npos);
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);
  // --json for scripts (cron): what --dry-run would end, as data, and nothing changed.
  auto dry = run_cli({"reap", "--dry-run", "--json", "--tracking-uri", root});
  REQUIRE(dry.code == 0);
  auto j = nlohmann::json::parse(dry.out);
  CHECK(j.at("dry_run") == true);
  CHECK(j.at("running") == 1);
  REQUIRE(j.at("changes").size() == 1);
  CHECK(j["changes"][0].at("run_id") == id);
  CHECK(j["changes"][0].at("applied") == false);
  CHECK_THAT(j["changes"][0].at("reason").get<std::string>(), Catch::Contains(std::to_string(sleeper)));
  auto reap = run_cli({"reap", "--tracking-uri", root});
  CHECK_THAT(reap.out, Catch::Contains("ended " + id));
  CHECK(run_cli({"run", "start", "--owner-pid", "999999999", "--tracking-uri", root}).code == 3);
}

TEST_CASE("the CLI records the working folder's git commit, not the mlruns checkout's (issue 9 item 7)",
          "[cli][git]") {
  TempDir t;
  std::string commit(40, 'c');
  write_file(t.path() / "work/.git/HEAD", commit + "\n");  // a detached HEAD
  fs::create_directories(t.path() / "work/src");
  auto started = run_cli({"run", "start", "--tracking-uri", t.root()}, {}, t.path() / "work/src");
  REQUIRE(started.code == 0);
  auto reader = mlruns::Reader::open(t.root());
  REQUIRE(reader.has_value());
  CHECK(reader->run(trim(started.out))->tags.at("mlflow.source.git.commit") == commit);
  // Outside any repository: no commit tag (the binary's own checkout does not count).
  auto outside = run_cli({"run", "start", "--tracking-uri", t.root()}, {}, t.path());
  REQUIRE(outside.code == 0);
  CHECK(reader->run(trim(outside.out))->tags.count("mlflow.source.git.commit") == 0);
}

TEST_CASE("mlruns log refused for a conflict on disk writes nothing: exit 5 or 6, never 8 (issue 9 item 10)",
          "[cli][refuse]") {
  Tree tr;
  REQUIRE(tr.cli({"log", tr.run, "--param", "lr=0.1", "--param", "a/b=1", "--metric", "m/n=1", "--tag", "x=1"}).code == 0);
  auto before = tree_snapshot(tr.root);
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  for (const Case& c : {Case{{"--param", "aa=1", "--param", "lr=0.2"}, 5},
                        Case{{"--param", "a=1", "--metric", "ok=1"}, 5},
                        Case{{"--metric", "m=1", "--param", "p=1"}, 5},
                        Case{{"--tag", "x/y=1", "--param", "p=1"}, 5},
                        Case{{"--metric", "k=1", "--metric", "k/l=2"}, 3}}) {
    std::vector<std::string> args = {"log", tr.run};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = tr.cli(args);
    INFO(c.args[1] << ": " << r.err);
    CHECK(r.code == c.code);
    CHECK(tree_snapshot(tr.root) == before);
  }
  REQUIRE(tr.cli({"run", "delete", tr.run}).code == 0);
  before = tree_snapshot(tr.root);
  CHECK(tr.cli({"log", tr.run, "--param", "late=1"}).code == 6);
  write_file(tr.t.path() / "f.txt", "x");
  CHECK(tr.cli({"log-artifact", tr.run, "f.txt"}).code == 6);
  CHECK(tree_snapshot(tr.root) == before);
}

TEST_CASE("fsck --json on a key MLflow refuses whose name is long and non-ASCII: valid JSON and exit 7 (issue 9 item 2)",
          "[cli][keys]") {
  Tree tr;
  std::string key;
  // 93 bytes: a message that cut it at 80 bytes (as before) ended inside a character.
  for (int i = 0; i < 10; ++i) key += "\xe6\x8d\x9f";
  key += "\xe2\x82\xac";  // a euro sign: not a word character for MLflow
  for (int i = 0; i < 20; ++i) key += "\xe5\xa4\xb1";
  write_file(fs::path(tr.root) / tr.exp / tr.run / "metrics" / key, "1 1.0 0\n");
  auto c = tr.cli({"fsck", "--json"});
  INFO(c.err);
  CHECK(c.code == 7);  // problems remain; not 1 (a JSON dump that threw)
  nlohmann::json j = nlohmann::json::parse(c.out);
  bool found = false;
  for (const auto& f : j["findings"]) found |= f["check"] == "metric.invalid_name";
  CHECK(found);
}

#endif
