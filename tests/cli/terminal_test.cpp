// Issue 15 item 5: nothing from a tree reaches a terminal raw. Runs named
// with OSC (title, clipboard), CSI, C1, a bidi override and CJK, a metric
// file and an artifact_uri with escapes; every verb's human output (stdout
// and stderr) is checked for raw control sequences, and --json for raw ESC.
#include <catch2/catch.hpp>

#include <algorithm>

#include "cli_test_util.h"
#include "mlruns/store.h"
#include "mlruns/text.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

// Bytes that act on a terminal: ESC, BEL, other C0 (but '\n'), DEL, C1 as
// UTF-8 (C2 80-9F), bidi overrides and isolates (E2 80 AA-AE, E2 81 A6-A9).
std::string raw_control(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return "byte " + std::to_string(c) + " at " + std::to_string(i);
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9f)
      return "C1 at " + std::to_string(i);
    if (c == 0xe2 && i + 2 < s.size()) {
      auto b1 = static_cast<unsigned char>(s[i + 1]), b2 = static_cast<unsigned char>(s[i + 2]);
      if ((b1 == 0x80 && b2 >= 0xaa && b2 <= 0xae) || (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9))
        return "bidi control at " + std::to_string(i);
    }
  }
  return {};
}

const std::string kNames[] = {"\x1b]0;pwned\x07", "\x1b]52;c;cm0gLXJmIH4=\x07", "\x1b[2J\x1b[H", "\xc2\x9b" "31m",
                              "\xe2\x80\xae" "txt.exe", "実験-ラン"};

}  // namespace

TEST_CASE("every verb escapes what a tree holds before a terminal sees it", "[cli][terminal]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  std::vector<std::string> ids;
  std::string exp;
  {
    Store store = Store::open({.tracking_uri = uri});
    exp = *store.create_experiment("escapes");
    int i = 0;
    for (const std::string& name : kNames) {
      ActiveRun r = store.start_run({.experiment_id = exp, .run_name = name});
      r.log_metric("loss", 1.0 + i, 1);
      r.set_tag("note", name);
      r.log_param("p", name);
      r.log_text("x", "a.txt");
      ids.push_back(r.id());
      if (i % 2) r.detach();  // RUNNING: reap's output names them
      ++i;
    }
  }
  // A metric file and an artifact URI with escapes: fsck and relocate print paths and URIs.
  write_file(fs::path(uri) / exp / ids[0] / "metrics" / "\x1b[2Jbad", "1 1 1\n");
  write_file(fs::path(uri) / exp / ids[0] / "metrics" / "loss", "1 1 1\n2 2\n");
  {
    fs::path meta = fs::path(uri) / exp / ids[2] / "meta.yaml";
    std::string m = read_file(meta);
    auto at = m.find("artifact_uri: ");
    m.replace(at, m.find('\n', at) - at, "artifact_uri: \"file:///old/\\e]0;x\\a/" + exp + "/" + ids[2] + "/artifacts\"");
    write_file(meta, m);
  }
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", uri}, {"COLUMNS", "200"}};
  const std::string dl = (tmp.path() / "dl").string();
  std::vector<std::vector<std::string>> human = {
      {"experiments"},
      {"runs", "-e", "escapes", "--columns", "tags.note,params.p,metrics.loss"},
      {"show", ids[0]},
      {"show", ids[4]},
      {"history", ids[1], "loss"},
      {"artifacts", ids[3]},
      {"get-top-run", "-e", "escapes", "-m", "loss", "--include-unfinished", "-d", dl},
      {"get-top-run", "-e", "escapes", "-m", "loss", "--ascending", "--include-unfinished", "--no-download"},
      {"fsck"},
      {"relocate", "--dry-run"},
      {"reap", "--older-than", "0s", "--dry-run"},
      {"gc", "--dry-run"},
      {"log", ids[1], "--tag", "x=\x1b]0;t\x07"},
      {"experiments", "rename", exp, "\x1b[2J"},
  };
  for (const auto& args : human) {
    auto r = run_cli(args, env, std::nullopt, 60);
    INFO("mlruns " << args[0] << (args.size() > 1 ? " " + args[1] : "") << " -> " << r.code);
    CHECK(raw_control(r.out).empty());
    CHECK(raw_control(r.err).empty());
  }
  // The table shows the CJK name whole, and escapes the others visibly.
  auto runs = run_cli({"runs", "-e", "escapes", "--columns", "tags.note"}, env);
  CHECK(runs.out.find("実験-ラン") != std::string::npos);
  CHECK(runs.out.find("\\e]0;pwned\\x07") != std::string::npos);
  CHECK(runs.out.find("\\u202etxt.exe") != std::string::npos);
  // get-top-run's explanation names the winner escaped (main: raw OSC on stderr).
  auto top = run_cli({"get-top-run", "-e", "escapes", "-m", "loss", "--include-unfinished", "--no-download"}, env);
  CHECK(top.code == 0);
  CHECK(top.err.find("\\u202etxt.exe") != std::string::npos);  // run 4 has the highest loss (5.0)
  // JSON escapes per JSON: no raw ESC or BEL.
  for (const auto& args : std::vector<std::vector<std::string>>{{"runs", "-e", "escapes", "--json"},
                                                                {"show", ids[0], "--json"},
                                                                {"fsck", "--json"}}) {
    auto r = run_cli(args, env);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
  }
}

TEST_CASE("tables align columns by terminal cells: CJK takes two, combining marks none", "[cli][terminal]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  {
    Store store = Store::open({.tracking_uri = uri});
    std::string exp = *store.create_experiment("cells");
    for (const std::string& name : {std::string("実験データ"), std::string("cafe\xcc\x81"), std::string("plain")}) {
      ActiveRun r = store.start_run({.experiment_id = exp, .run_name = name, .start_time = 1000});
      r.log_metric("m", 1.0);
    }
  }
  auto r = run_cli({"runs", "-e", "cells", "--columns", "run_name,metrics.m"}, {{"MLFLOW_TRACKING_URI", uri}, {"COLUMNS", "200"}});
  REQUIRE(r.code == 0);
  // Every line puts the metric column at the same cell.
  std::vector<std::size_t> where;
  for (const std::string& line : lines(r.out)) {
    auto at = line.find("1.0");
    if (at == std::string::npos) continue;
    where.push_back(mlruns::display_width(line.substr(0, at)));
  }
  REQUIRE(where.size() == 3);
  CHECK(where[0] == where[1]);  // main: code points, so the CJK row was 5 cells off
  CHECK(where[1] == where[2]);
}

TEST_CASE("human output cuts a tree's long strings with the byte count, --json keeps them whole (issue 15)",
          "[cli][terminal]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  std::string exp, id;
  {
    Store store = Store::open({.tracking_uri = uri});
    exp = *store.create_experiment("long");
    ActiveRun r = store.start_run({.experiment_id = exp, .run_name = "short"});
    r.log_metric("loss", 0.25, 3);
    r.set_tag("note", "n");
    id = r.id();
  }
  // A hostile tree's run name: 100 kB, far above MLflow's limit, below ReaderOptions::max_value_bytes.
  const std::string name = std::string(100'000, 'n') + "END";
  write_file(fs::path(uri) / exp / id / "tags" / "mlflow.runName", name);
  {
    const fs::path meta = fs::path(uri) / exp / id / "meta.yaml";
    std::string m = read_file(meta);
    const auto at = m.find("run_name: short");
    REQUIRE(at != std::string::npos);
    m.replace(at, 15, "run_name: " + name);
    write_file(meta, m);
  }
  const std::map<std::string, std::string> env = {{"MLFLOW_TRACKING_URI", uri}};
  auto longest = [](const std::string& text) {
    std::size_t n = 0;
    for (const std::string& line : lines(text)) n = std::max(n, mlruns::display_width(line));
    return n;
  };
  auto top = run_cli({"get-top-run", "-e", "long", "-m", "loss", "--no-download"}, env);
  REQUIRE(top.code == 0);
  INFO(top.err.substr(0, 2000));
  CHECK(top.err.size() < 4000);  // main: the whole 100 kB name
  CHECK(longest(top.err) <= 1000);
  // The line keeps its head (the run id) and its tail (the name's end), with what was cut counted.
  CHECK(top.err.find("top run: " + id + " (nnn") != std::string::npos);
  CHECK(top.err.find(" bytes not shown]\xe2\x80\xa6") != std::string::npos);
  CHECK(top.err.find("nnnEND)\n") != std::string::npos);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"show", id}, {"runs", "-e", "long"}, {"runs", "-e", "long", "--columns", "run_name,tags.mlflow.runName"}}) {
    auto r = run_cli(args, env);
    INFO("mlruns " << args[0] << " -> " << r.code);
    CHECK(r.code == 0);
    CHECK(r.out.size() + r.err.size() < 4000);
    CHECK(longest(r.out) <= 1000);
  }
  // Machine output is whole.
  auto json = run_cli({"show", id, "--json"}, env);
  REQUIRE(json.code == 0);
  CHECK(json.out.find(name) != std::string::npos);
  auto csv = run_cli({"runs", "-e", "long", "--csv", "--columns", "run_name"}, env);
  CHECK(csv.out.find(name) != std::string::npos);
}
