// The mlruns CLI as a new user meets it (issue 10): the first screen, the
// version, errors with suggestions, exit codes, tables, which runs a read
// verb selects, gc's safety, progress on a terminal.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "cli_test_util.h"
#include "mlruns/c.h"

#ifdef MLRUNS_CLI_PATH

using namespace mlruns::testing;
namespace fs = std::filesystem;

namespace {

// The verbs `mlruns --help` lists.
std::vector<std::string> listed_verbs() {
  const CliResult help = run_cli({"--help"});
  std::vector<std::string> verbs;
  bool in = false;
  for (const std::string& l : lines(help.out)) {
    if (l.rfind("Subcommands:", 0) == 0) {
      in = true;
      continue;
    }
    if (!in) continue;
    if (l.empty() || l[0] != ' ') break;
    verbs.push_back(l.substr(2, l.find(' ', 2) - 2));
  }
  return verbs;
}

// One line on stderr, nothing on stdout, exit 2.
void check_one_line_usage_error(const CliResult& r) {
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err.rfind("mlruns: ", 0) == 0);
}

}  // namespace

// ---- item 1: the first screen and the version ----------------------------------

TEST_CASE("cli: mlruns alone prints the help with every verb, exit 2", "[cli][usage]") {
  const CliResult r = run_cli({});
  CHECK(r.code == 2);
  CHECK(r.out.find("Subcommands:") != std::string::npos);
  CHECK(r.out.find("Exit codes:") != std::string::npos);
  CHECK(r.err.empty());
  CHECK(listed_verbs().size() >= 17);
}

TEST_CASE("cli: --version and the version verb print the C API's version", "[cli][usage]") {
  const std::string expected = std::string("mlruns ") + mlruns_version() + "\n";
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--version"}, {"version"}}) {
    const CliResult r = run_cli(args);
    CHECK(r.code == 0);
    CHECK(r.out == expected);
    CHECK(r.err.empty());
  }
}

// ---- item 2: unknown verbs and options ------------------------------------------

TEST_CASE("cli: a misspelled verb or option: one line naming it, a suggestion, exit 2", "[cli][usage]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"rn", "start"}, "mlruns: unknown verb 'rn'; did you mean 'run'?\n"},
      {{"run", "strat"}, "mlruns: unknown verb 'strat' for 'mlruns run'; did you mean 'start'?\n"},
      {{"experiments", "craete", "x"}, "mlruns: unknown verb 'craete' for 'mlruns experiments'; did you mean 'create'?\n"},
      {{"log", "abc", "--metirc", "loss=1"}, "mlruns: unknown option '--metirc' for 'mlruns log'; did you mean '--metric'?\n"},
      {{"runs", "--ordr-by=metrics.x"}, "mlruns: unknown option '--ordr-by' for 'mlruns runs'; did you mean '--order-by'?\n"},
      {{"get-top-run", "-e", "x", "-m", "y", "--overwirte"},
       "mlruns: unknown option '--overwirte' for 'mlruns get-top-run'; did you mean '--overwrite'?\n"},
      {{"--qiuet", "runs"}, "mlruns: unknown option '--qiuet'; did you mean '--quiet'?\n"},
      {{"frobnicate"}, "mlruns: unknown verb 'frobnicate'; see 'mlruns --help'\n"},
      {{"show", "abc", "extra"}, "mlruns: unexpected argument 'extra' for 'mlruns show'; see 'mlruns show --help'\n"},
      {{"run"}, "mlruns: 'mlruns run' needs a verb: start, end, delete, restore; see 'mlruns run --help'\n"},
  };
  for (const auto& [args, message] : cases) {
    const CliResult r = run_cli(args);
    check_one_line_usage_error(r);
    CHECK(r.err == message);
  }
  // Other command-line errors: the same one-line form, naming the verb.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"log"}, {"runs", "--json", "--csv"}}) {
    const CliResult r = run_cli(args);
    check_one_line_usage_error(r);
    CHECK(r.err.find("see 'mlruns " + args[0]) != std::string::npos);
  }
}

TEST_CASE("cli: option values: plain words instead of CLI11's, suggestions only when near", "[cli][usage]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"runs", "--max"}, "mlruns: runs: --max needs a value\n"},
      {{"run", "end", "abc", "--status"}, "mlruns: run end: --status needs one of FINISHED, FAILED, KILLED\n"},
      {{"runs", "--max=5", "--max=6"}, "mlruns: runs: --max given twice; give it once\n"},
      {{"runs", "--view", "delted"},
       "mlruns: runs: 'delted' is not a --view value (active, deleted, all); did you mean 'deleted'?\n"},
      {{"run", "end", "abc", "--status", "DONE"},
       "mlruns: run end: 'DONE' is not a --status value (FINISHED, FAILED, KILLED)\n"},
      // One letter away from -h is as far as the word is long: no suggestion.
      {{"-V"}, "mlruns: unknown option '-V'; see 'mlruns --help'\n"},
      {{"runs", "-x"}, "mlruns: unknown option '-x' for 'mlruns runs'; see 'mlruns runs --help'\n"},
  };
  for (const auto& [args, message] : cases) {
    const CliResult r = run_cli(args);
    check_one_line_usage_error(r);
    CHECK(r.err == message);
  }
  // `mlruns help [VERB...]`, as git and cargo take it.
  const CliResult help = run_cli({"help"});
  CHECK(help.code == 0);
  CHECK(help.out == run_cli({"--help"}).out);
  const CliResult verb = run_cli({"help", "run", "start"});
  CHECK(verb.code == 0);
  CHECK(verb.out == run_cli({"run", "start", "--help"}).out);
}

TEST_CASE("cli: a bad value of any number or enum option or positional: one line in mlruns' words, exit 2",
          "[cli][usage]") {
  // Every number/enum option and positional CLI11 checks, verb by verb, with
  // what the message must say; none of CLI11's own phrasing may come through.
  const std::string id = "0123456789abcdef0123456789abcdef";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"models", "set-alias", "m", "a", "b"}, "mlruns: models set-alias: VERSION: 'b' is not an integer\n"},
      {{"models", "transition", "m", "1.5", "Staging"},
       "mlruns: models transition: VERSION: '1.5' is not an integer\n"},
      {{"plot", id, "-m", "loss", "--width", "abc"}, "mlruns: plot: --width: 'abc' is not an integer from 30 to 10000\n"},
      {{"plot", id, "-m", "loss", "--width", "5"}, "mlruns: plot: --width: '5' is not an integer from 30 to 10000\n"},
      {{"plot", id, "-m", "loss", "--height", "x"}, "mlruns: plot: --height: 'x' is not an integer from 4 to 10000\n"},
      {{"plot", id, "-m", "loss", "--x", "epoch"}, "mlruns: plot: 'epoch' is not a --x value (step, time)\n"},
      {{"report", "--max", "ten"}, "mlruns: report: --max: 'ten' is not an integer from 1 to 50000\n"},
      {{"report", "--points-per-line", "many"}, "--points-per-line: 'many' is not an integer from "},
      {{"report", "--points-per-page", "many"}, "--points-per-page: 'many' is not an integer from "},
      {{"report", "--x", "epoch"}, "mlruns: report: 'epoch' is not a --x value (step, time)\n"},
      {{"report", "--view", "gone"}, "mlruns: report: 'gone' is not a --view value (active, deleted, all)\n"},
      {{"sync", "--to", "http://127.0.0.1:9", "--jobs", "four"}, "mlruns: sync: --jobs: 'four' is not an integer from 1 to 64\n"},
      {{"sync", "--to", "http://127.0.0.1:9", "--jobs", "100"}, "mlruns: sync: --jobs: '100' is not an integer from 1 to 64\n"},
      {{"log-model", id, "model.onnx", "--step", "one"}, "mlruns: log-model: --step: 'one' is not an integer\n"},
      {{"log-model", id, "model.onnx", "--format", "3"}, "mlruns: log-model: '3' is not a --format value (both, 2)\n"},
      {{"history", id, "loss", "--x", "epoch"}, "mlruns: history: 'epoch' is not a --x value (step, time)\n"},
      {{"get-top-run", "-m", "loss", "--view", "gone"}, "'gone' is not a --view value (active, deleted, all)\n"},
      {{"experiments", "list", "--view", "gone"}, "'gone' is not a --view value (active, deleted, all)\n"},
      {{"run", "end", id, "--status", "DONE"}, "'DONE' is not a --status value (FINISHED, FAILED, KILLED)\n"},
      // A required positional, options that exclude or need another.
      {{"show"}, "mlruns: show: needs RUN_ID; see 'mlruns show --help'\n"},
      {{"models", "set-alias", "m", "a"}, "mlruns: models set-alias: needs VERSION; see 'mlruns models set-alias --help'\n"},
      {{"runs", "--json", "--csv"}, "mlruns: runs: --json and --csv cannot be given together; see 'mlruns runs --help'\n"},
      {{"runs", "--json=abc"}, "mlruns: runs: --json: 'abc' is not true or false (a flag needs no value)\n"},
      {{"relocate", "--to", "/x"}, "mlruns: relocate: --to needs --from as well; see 'mlruns relocate --help'\n"},
  };
  for (const auto& [args, message] : cases) {
    const CliResult r = run_cli(args);
    INFO(args.front() << " ... " << args.back() << ": " << r.err);
    check_one_line_usage_error(r);
    CHECK_THAT(r.err, Catch::Contains(message));
    for (const char* cli11 : {"Could not convert", "--help for more", "is required", " excludes ", " requires ",
                              "not in range", "Value ", "Run with", "Expected exactly", "At least", "Should be"})
      CHECK_THAT(r.err, !Catch::Contains(cli11));
  }
}

TEST_CASE("cli: help at every level of verbs, and an unknown verb after it is an error with a suggestion", "[cli][usage]") {
  const std::string models_register = run_cli({"models", "register", "--help"}).out;
  REQUIRE(models_register.find("register") != std::string::npos);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"help", "models", "register"}, {"models", "help", "register"}}) {
    const CliResult r = run_cli(args);
    INFO(args[0] << " " << args[1]);
    CHECK(r.code == 0);
    CHECK(r.out == models_register);
    CHECK(r.err.empty());
  }
  CHECK(run_cli({"models", "help"}).out == run_cli({"models", "--help"}).out);
  CHECK(run_cli({"run", "help", "start"}).out == run_cli({"run", "start", "--help"}).out);
  // Options after 'help' ask for nothing more.
  CHECK(run_cli({"help", "-h"}).out == run_cli({"--help"}).out);
  CHECK(run_cli({"help", "--help"}).code == 0);
  CHECK(run_cli({"help", "models", "register", "--json"}).out == models_register);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"runs", "--", "--json"}, "mlruns: option '--json' is not taken here for 'mlruns runs'; see 'mlruns runs --help'\n"},
      {{"help", "nosuch"}, "mlruns: unknown verb 'nosuch'; see 'mlruns --help'\n"},
      {{"help", "shwo"}, "mlruns: unknown verb 'shwo'; did you mean 'show'?\n"},
      {{"help", "models", "regster"}, "mlruns: unknown verb 'regster' for 'mlruns models'; did you mean 'register'?\n"},
      {{"models", "help", "regster"}, "mlruns: unknown verb 'regster' for 'mlruns models'; did you mean 'register'?\n"},
      {{"help", "show", "extra"}, "mlruns: unexpected argument 'extra' for 'mlruns show'; see 'mlruns show --help'\n"},
  };
  for (const auto& [args, message] : cases) {
    const CliResult r = run_cli(args);
    check_one_line_usage_error(r);
    CHECK(r.err == message);
  }
}

TEST_CASE("cli: every verb, including those added later, reports an unknown option in one line", "[cli][usage]") {
  for (const std::string& verb : listed_verbs()) {
    const CliResult r = run_cli({verb, "--no-such-flagg"});
    INFO(verb);
    check_one_line_usage_error(r);
    CHECK(r.err.find("unknown option '--no-such-flagg' for 'mlruns " + verb + "'") != std::string::npos);
  }
}

// ---- item 3: exit codes ---------------------------------------------------------

TEST_CASE("cli: a malformed run id is exit 3 (invalid) in every verb that takes one, a missing one 4",
          "[cli][usage]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  REQUIRE(run_cli({"experiments", "create", "e", "--tracking-uri", root}).code == 0);
  write_file(dir.path() / "f.txt", "x");
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  for (const std::string id : {"bad/id", "..", "a b", "_x"}) {
    const std::vector<std::vector<std::string>> verbs = {
        {"show", id},
        {"history", id, "loss"},
        {"artifacts", id},
        {"log", id, "--param", "a=1"},
        {"log-artifact", id, (dir.path() / "f.txt").string()},
        {"run", "end", id},
        {"run", "delete", id},
        {"run", "restore", id},
        {"run", "start", "--parent", id},
        {"plot", id, "-m", "loss", "-o", (dir.path() / "p.svg").string()},
        {"gc", "--run-ids", id},
    };
    for (const auto& args : verbs) {
      const CliResult r = run_cli(args, env);
      INFO(args[0] << " " << args[1] << ": " << r.err);
      CHECK(r.code == 3);
      CHECK(r.err.find("run id") != std::string::npos);
    }
  }
  // Well-formed but absent: not found.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"show", "0123456789abcdef0123456789abcdef"}, {"log", "0123456789abcdef0123456789abcdef", "-p", "a=1"}}) {
    CHECK(run_cli(args, env).code == 4);
  }
}

// ---- item 10: seconds for milliseconds, help text ---------------------------------

TEST_CASE("cli: a 10-digit --timestamp or --end-time (seconds) is refused with the value in ms", "[cli][usage]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  const std::string run = trim(run_cli({"run", "start"}, env).out);
  REQUIRE(run.size() == 32);
  const CliResult r = run_cli({"log", run, "--metric", "loss=1", "--timestamp", "1700000000"}, env);
  CHECK(r.code == 3);
  CHECK_THAT(r.err, Catch::Contains("looks like seconds") && Catch::Contains("1700000000000"));
  CHECK(run_cli({"run", "end", run, "--end-time", "1700000000"}, env).code == 3);
  // Nothing was written by the refused call; milliseconds pass.
  CHECK_FALSE(fs::exists(fs::path(root) / "0" / run / "metrics" / "loss"));
  CHECK(run_cli({"log", run, "--metric", "loss=1", "--timestamp", "1700000000000"}, env).code == 0);
  CHECK(run_cli({"run", "end", run, "--end-time", "1700000000001"}, env).code == 0);
  // Microseconds and nanoseconds (F6), judged by value; the message shows what was typed.
  for (const auto& [typed, unit, hint] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"1700000000000000", "microseconds", "1700000000000"},
           {"1700000000000000000", "nanoseconds", "1700000000000"},
           {"0001700000000", "seconds", "1700000000000"}}) {
    INFO(typed);
    const CliResult bad = run_cli({"log", run, "--metric", "loss=2", "--timestamp", typed}, env);
    CHECK(bad.code == 3);
    CHECK_THAT(bad.err, Catch::Contains("'" + typed + "'") && Catch::Contains("looks like " + unit) &&
                            Catch::Contains("e.g. " + hint));
    CHECK(run_cli({"run", "end", run, "--end-time", typed}, env).code == 3);
  }
  CHECK(run_cli({"log", run, "--metric", "loss=1", "--timestamp", "0001700000000001"}, env).code == 0);  // ms, padded
  // Milliseconds past 2286 (1e13 up to the µs range at 1e14, the years 2286 to 5138): a digit too many.
  for (const std::string typed : {"10000000000000", "99999999999999", "17000000000000"}) {
    INFO(typed);
    const CliResult bad = run_cli({"log", run, "--metric", "loss=3", "--timestamp", typed}, env);
    CHECK(bad.code == 3);
    CHECK_THAT(bad.err, Catch::Contains("'" + typed + "'") && Catch::Contains("after the year 2286"));
    CHECK(run_cli({"run", "end", run, "--end-time", typed}, env).code == 3);
  }
  CHECK(run_cli({"log", run, "--metric", "loss=1", "--timestamp", "9999999999999"}, env).code == 0);  // 2286-11-20
  const CliResult help = run_cli({"run", "delete", "--help"});
  CHECK(help.out.find("mlruns gc") != std::string::npos);
  CHECK(help.out.find("mlflow gc") == std::string::npos);
}

// ---- item 18: completion and the man page, from the same help text -------------------

namespace {

// COMPREPLY of the generated bash completion for the words of `line`, the
// last one being completed ("mlruns run st").
std::string bash_complete(const std::string& line) {
  const fs::path script = fs::path(MLRUNS_CLI_PATH).parent_path() / "mlruns.bash";
  REQUIRE(fs::exists(script));
  TempDir dir;
  const fs::path out = dir.path() / "out";
  const std::string cmd = "bash -c 'source \"" + script.string() + "\"; COMP_WORDS=(" + line +
                          "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _mlruns; echo \"${COMPREPLY[*]}\"' > " +
                          out.string() + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return trim(read_file(out));
}

}  // namespace

TEST_CASE("cli: bash completion suggests verbs and options of each level", "[cli][completion]") {
  CHECK(bash_complete("mlruns ru") == "run runs");
  CHECK(bash_complete("mlruns run st") == "start");
  CHECK(bash_complete("mlruns experiments cr") == "create");
  CHECK(bash_complete("mlruns log abc --me") == "--metric");
  CHECK(bash_complete("mlruns runs --order") == "--order-by");
  CHECK(bash_complete("mlruns --tra") == "--tracking-uri");
  CHECK(bash_complete("mlruns gc --al") == "--all");
  // The values of an option with a fixed set (F13).
  CHECK(bash_complete("mlruns runs --view \"\"") == "active deleted all");
  CHECK(bash_complete("mlruns runs --view d") == "deleted");
  CHECK(bash_complete("mlruns run end abc --status F") == "FINISHED FAILED");
  // The hidden generator verb is not offered.
  CHECK(bash_complete("mlruns __") == "");
  // Every verb --help lists is offered.
  const std::string all = " " + bash_complete("mlruns \"\"") + " ";
  for (const std::string& verb : listed_verbs()) CHECK(all.find(" " + verb + " ") != std::string::npos);
}

TEST_CASE("cli: zsh completion and the man page list every verb, and the man page renders cleanly", "[cli][completion]") {
  const fs::path dir = fs::path(MLRUNS_CLI_PATH).parent_path();
  const std::string zsh = read_file(dir / "_mlruns");
  const std::string man = read_file(dir / "mlruns.1");
  CHECK(zsh.rfind("#compdef mlruns", 0) == 0);
  CHECK(man.find(".SH EXIT STATUS") != std::string::npos);
  CHECK(man.find("\\-\\-metric") != std::string::npos);
  for (const std::string& verb : listed_verbs()) {
    INFO(verb);
    CHECK(zsh.find("'" + verb + "')") != std::string::npos);
    std::string in_roff;  // '-' is written \- in troff
    for (char c : verb) in_roff += c == '-' ? std::string("\\-") : std::string(1, c);
    CHECK(man.find(".SS \"mlruns " + in_roff) != std::string::npos);
  }
  CHECK(man.find(".SS \"mlruns run start\"") != std::string::npos);
  // groff renders it without a warning (when installed).
  if (std::system("command -v groff >/dev/null 2>&1") == 0) {
    TempDir t;
    const std::string cmd = "groff -man -Tutf8 -ww \"" + (dir / "mlruns.1").string() + "\" > /dev/null 2> " +
                            (t.path() / "err").string();
    CHECK(std::system(cmd.c_str()) == 0);
    CHECK(read_file(t.path() / "err").empty());
  }
}


// ---- item 8: artifact paths as tab completion types them (F3) ------------------------

TEST_CASE("cli: an artifact path with a trailing '/' or './' names the same folder in every verb", "[cli][artifacts]") {
  TempDir dir;
  const std::string root = (dir.path() / "mlruns").string();
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", root}};
  REQUIRE(run_cli({"experiments", "create", "e"}, env).code == 0);
  const std::string run = trim(run_cli({"run", "start", "-e", "e"}, env).out);
  REQUIRE(run.size() == 32);
  write_file(dir.path() / "ckpt" / "best" / "w.bin", "b\n");
  REQUIRE(run_cli({"log-artifact", run, (dir.path() / "ckpt" / "best").string(), "--artifact-path", "./ckpts/"}, env)
              .code == 0);
  REQUIRE(run_cli({"log", run, "--metric", "m=1"}, env).code == 0);
  REQUIRE(run_cli({"run", "end", run}, env).code == 0);
  const std::string out = (dir.path() / "out").string();
  for (const char* spelling : {"ckpts/best/", "./ckpts//best", "ckpts/best"}) {
    INFO(spelling);
    const CliResult top = run_cli({"get-top-run", "-e", "e", "-m", "m", "-a", spelling, "-d", out, "--overwrite"}, env);
    INFO(top.err);
    CHECK(top.code == 0);
    CHECK(read_file(fs::path(out) / "best" / "w.bin") == "b\n");  // in out/best, never out itself
  }
  const CliResult dl = run_cli({"download", "runs:/" + run + "/ckpts/best/", "-d", (dir.path() / "dl").string()}, env);
  INFO(dl.err);
  CHECK(dl.code == 0);
  CHECK(read_file(dir.path() / "dl" / "best" / "w.bin") == "b\n");
  const CliResult ls = run_cli({"artifacts", run, "./ckpts/best/"}, env);
  CHECK(ls.code == 0);
  CHECK(ls.out.find("w.bin") != std::string::npos);
  // runs:/ URIs fold the same way wherever they are taken: register, download (issue 10 re-test item 4).
  int version = 0;
  for (const char* spelling : {"./ckpts/best", "ckpts/./best/", "ckpts//best"}) {
    INFO(spelling);
    const CliResult reg = run_cli({"models", "register", "m", "runs:/" + run + "/" + spelling}, env);
    INFO(reg.err);
    CHECK(reg.code == 0);
    const fs::path meta = fs::path(root) / "models" / "m" / ("version-" + std::to_string(++version)) / "meta.yaml";
    CHECK_THAT(read_file(meta), Catch::Contains("/artifacts/ckpts/best\n"));
    const fs::path to = dir.path() / ("dl" + std::to_string(version));
    CHECK(run_cli({"download", "runs:/" + run + "/" + spelling, "-d", to.string()}, env).code == 0);
    CHECK(read_file(to / "best" / "w.bin") == "b\n");
  }
  CHECK(run_cli({"models", "register", "m", "runs:/" + run + "/./ckpts/../x"}, env).code == 3);  // '..' stays refused
}

#endif  // MLRUNS_CLI_PATH
