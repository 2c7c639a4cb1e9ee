// Damaged and legacy trees: one test per trap of spec §14 that concerns
// reading, then what runs() promises on any tree (only the requested parts,
// any thread count, errors rather than crashes). The reader loses only the
// damaged part and says so through on_warning. Hostile trees are in
// reader_hostile_test.cpp, damaged run inputs in reader_inputs_test.cpp.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>

#include <chrono>
#include <cmath>

#include "damaged_tree.h"
#include "mlruns/env.h"

using namespace mlruns;
using namespace mlruns::testing;

TEST_CASE("a run without run_uuid (MLflow 3.x) or with only run_uuid (1.x) is read (spec §14.1, §4.3)",
          "[reader][damaged]") {
  Tree t;
  std::string meta = run_meta(kExp, kRunA);
  meta.erase(meta.find("run_uuid:"), meta.find('\n', meta.find("run_uuid:")) - meta.find("run_uuid:") + 1);
  write_file(t.run(kRunA) / "meta.yaml", meta);
  std::string legacy = run_meta(kExp, kRunB);
  legacy.erase(legacy.find("run_id:"), legacy.find('\n', legacy.find("run_id:")) - legacy.find("run_id:") + 1);
  write_file(t.run(kRunB) / "meta.yaml", legacy);
  auto runs = t.runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].info.run_id == kRunA);
  CHECK(runs[1].info.run_id == kRunB);
  CHECK(t.warnings.list.empty());
}

TEST_CASE("5-field metric lines are read with their step (spec §14.2)", "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "acc", "1700000000000 0.9 2 iris abc123\n");
  auto runs = t.runs();
  CHECK(runs[0].metrics.at("acc").step == 2);
  CHECK(runs[0].metrics.at("acc").value == 0.9);
}

TEST_CASE("blank, partial and float-timestamp metric lines lose only themselves (spec §14.3, §10.6)",
          "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "loss",
             "1700000000000 0.5 0\n\n1700000000001.5 0.1 5\n17000\n1700000000002 0.2 1\n1700000000003 0.1 1\n\n");
  auto runs = t.runs();
  REQUIRE(runs.size() == 2);  // MLflow fails the whole experiment's search here
  const Metric& m = runs[0].metrics.at("loss");
  CHECK(m.step == 1);
  CHECK(m.value == 0.1);
  CHECK(t.warnings.has(kRunA + "/metrics/loss", "line 2: blank line"));
  auto hist = t.open().metric_history(kRunA, "loss");
  REQUIRE(hist);
  CHECK(hist->size() == 3);
}

TEST_CASE("an unterminated last metric line is ignored: a write in progress (spec §11)", "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "loss", "1700000000000 0.5 0\n1700000000001 0.9 7");
  auto runs = t.runs();
  CHECK(runs[0].metrics.at("loss").value == 0.5);
  CHECK(t.warnings.has("metrics/loss", "no newline"));
}

TEST_CASE("YAML 1.1 forms: int experiment_id, quoted names (spec §14.4, §3.2)", "[reader][damaged]") {
  Tree t;
  write_file(t.root / kExp / "meta.yaml",
             "artifact_location: /x/100\ncreation_time: 2\nexperiment_id: 100\nlast_update_time: 2\n"
             "lifecycle_stage: active\nname: 'yes'\n");
  std::string meta = run_meta(kExp, kRunA);
  meta.replace(meta.find("experiment_id: '100'"), 20, "experiment_id: 100");
  write_file(t.run(kRunA) / "meta.yaml", meta);
  auto e = t.open().experiment(kExp);
  REQUIRE(e);
  CHECK(e->name == "yes");
  CHECK(t.runs().size() == 2);
  auto by_name = t.open().experiment_by_name("yes");
  REQUIRE(by_name);
  CHECK(by_name->experiment_id == kExp);
}

TEST_CASE("keys are paths, stray files are not keys (spec §14.5, §2.4)", "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "val" / "acc", "1 0.8 0\n");
  write_file(t.run(kRunA) / "metrics" / ".DS_Store", "\x00\x01binary");
  write_file(t.run(kRunA) / "params" / "._lr", "apple double");
  write_file(t.run(kRunA) / "tags" / ".mlflow.runName.swp", "vim");
  write_file(t.run(kRunA) / "params" / "model" / "layers", "3");
  auto runs = t.runs();
  CHECK(runs[0].metrics.count("val/acc") == 1);
  CHECK(runs[0].metrics.size() == 2);
  CHECK(runs[0].params == std::map<std::string, std::string>{{"lr", "0.01"}, {"model/layers", "3"}});
  CHECK(runs[0].tags.size() == 1);
  CHECK(t.warnings.has("metrics/.DS_Store", "stray"));
  CHECK(t.warnings.has("params/._lr", "stray"));
  CHECK(t.warnings.has(".swp", "stray"));
}

TEST_CASE("invalid key names are skipped, ':' keys of MLflow >= 2.16 read (spec §14.6, §6.1)",
          "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "params" / "a:b", "colon");
  write_file(t.run(kRunA) / "params" / "bad\x01name", "control");
  write_file(t.run(kRunA) / "params" / "bad\nline", "newline");
  write_file(t.run(kRunA) / "params" / "ok", "fine");
  write_file(t.run(kRunA) / "metrics" / "tab\tkey", "1 1 0\n");
  auto runs = t.runs();
  CHECK(runs[0].params == std::map<std::string, std::string>{{"a:b", "colon"}, {"lr", "0.01"}, {"ok", "fine"}});
  CHECK(runs[0].metrics.size() == 1);
  // Control bytes in names are escaped in warnings (a terminal prints them).
  CHECK(t.warnings.has("bad\\x01name", "allowed"));
  CHECK(t.warnings.has("bad\\x0aline"));
  CHECK(t.warnings.has("tab\\x09key"));
  for (const Warning& w : t.warnings.list)
    for (char c : w.path + w.message) CHECK(static_cast<unsigned char>(c) >= 0x20);
}

TEST_CASE("odd folders in the root are ignored, not fatal (spec §14.7, §1.2)", "[reader][damaged]") {
  Tree t;
  fs::create_directories(t.root / ".ipynb_checkpoints");
  fs::create_directories(t.root / "my experiment");
  fs::create_directories(t.root / "models" / "registered");
  fs::create_directories(t.root / ".trash");
  write_file(t.root / ".DS_Store", "x");
  write_file(t.root / "notes.txt", "x");
  fs::create_directories(t.root / "200");  // valid name, no meta.yaml
  auto exps = t.open().experiments(ViewType::kAll);
  REQUIRE(exps);
  REQUIRE(exps->size() == 2);
  CHECK((*exps)[0].experiment_id == kExp);  // creation_time DESC
  CHECK((*exps)[1].experiment_id == "0");
  CHECK(t.warnings.has(".ipynb_checkpoints", "not an experiment"));
  CHECK(t.warnings.has("my experiment", "not an experiment"));
  CHECK(t.warnings.has("200/meta.yaml", "no meta.yaml"));
  CHECK_FALSE(t.warnings.has("models"));
}

TEST_CASE("a tree without experiment 0 is read (spec §14.8)", "[reader][damaged]") {
  Tree t;
  fs::remove_all(t.root / "0");
  auto exps = t.open().experiments();
  REQUIRE(exps);
  REQUIRE(exps->size() == 1);
  CHECK(t.runs().size() == 2);
}

TEST_CASE("empty or garbage meta.yaml costs only that run or experiment (spec §14.9, §10.6)",
          "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "meta.yaml", "");
  write_file(t.root / "0" / "meta.yaml", "{[: not yaml");
  auto runs = t.runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].info.run_id == kRunB);
  CHECK(t.warnings.has(kRunA, "empty"));
  auto exps = t.open().experiments();
  REQUIRE(exps);
  CHECK(exps->size() == 1);
  CHECK(t.warnings.has("0/meta.yaml", "invalid YAML"));
  auto run = t.open().run(kRunA);
  REQUIRE_FALSE(run);
  CHECK(run.error().code() == Code::kCorruption);
}

TEST_CASE("an empty meta.yaml caught mid-write is read again (spec §14.9, §11)", "[reader][damaged]") {
  Tree t;
  // The first read of the run's meta.yaml comes back empty, as when MLflow
  // has truncated it and not yet written it; the retry gets the content.
  struct TornEnv : EnvWrapper {
    std::string torn;
    int reads = 0;
    TornEnv() : EnvWrapper(Env::posix()) {}
    Result<std::string> read_file(const std::string& p, std::uint64_t max, bool nf) override {
      if (p == torn && reads++ == 0) return std::string();
      return EnvWrapper::read_file(p, max, nf);
    }
  } env;
  env.torn = (fs::canonical(t.root) / kExp / kRunA / "meta.yaml").string();
  ReaderOptions opts;
  opts.env = &env;
  auto reader = Reader::open(t.root.string(), opts);
  REQUIRE(reader);
  auto run = reader->run(kRunA);
  REQUIRE(run);
  CHECK(env.reads == 2);
  CHECK(run->info.run_name == "name-" + kRunA);

  // An old empty file (a job killed mid-write) is not waited for.
  write_file(t.run(kRunB) / "meta.yaml", "");
  fs::last_write_time(t.run(kRunB) / "meta.yaml", fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto b = t.open().run(kRunB);
  REQUIRE_FALSE(b);
  CHECK(b.error().message().find("empty") != std::string::npos);
}

TEST_CASE("empty meta.yaml files cost a bounded wait: never for a future mtime, few per listing (issue 15 item 3)",
          "[reader][damaged][resources]") {
  Tree t;
  // Counts the reads of run meta.yaml files: each wait is a re-read.
  struct CountingEnv : EnvWrapper {
    std::atomic<int> meta_reads{0};
    CountingEnv() : EnvWrapper(Env::posix()) {}
    Result<std::string> read_file(const std::string& p, std::uint64_t max, bool nf) override {
      if (p.size() > 9 && p.compare(p.size() - 9, 9, "meta.yaml") == 0) ++meta_reads;
      return EnvWrapper::read_file(p, max, nf);
    }
  } env;
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "%032x", 0xe000 + i);
    ids.push_back(id);
    write_file(t.root / kExp / id / "meta.yaml", "");
  }
  ReaderOptions opts;
  opts.env = &env;
  auto reader = Reader::open(t.root.string(), opts);
  REQUIRE(reader);
  for (bool future : {true, false}) {
    INFO((future ? "mtime an hour ahead" : "mtime now"));
    for (const std::string& id : ids)
      fs::last_write_time(t.root / kExp / id / "meta.yaml",
                          fs::file_time_type::clock::now() + (future ? std::chrono::hours(1) : std::chrono::hours(0)));
    env.meta_reads = 0;
    auto runs = reader->runs({kExp}, ViewType::kAll);
    REQUIRE(runs);
    const int good_runs = static_cast<int>(runs->size());
    // One read per run, plus two re-reads for at most 4 recent empty files (main: every one of them).
    CHECK(env.meta_reads <= good_runs + 100 + (future ? 0 : 4 * 2));
  }
}

TEST_CASE("deleted experiments: stage from the file, else from .trash/ (spec §14.10, §7)", "[reader][damaged]") {
  Tree t;
  // MLflow <= 2.2 moved the folder but left "active" in the file; newer
  // readers report the file's stage.
  write_file(t.root / ".trash" / "300" / "meta.yaml", exp_meta("300", "old", 3));
  // No lifecycle_stage at all: the location decides.
  write_file(t.root / ".trash" / "400" / "meta.yaml", "artifact_location: /x\nexperiment_id: '400'\nname: older\n");
  write_file(t.root / ".trash" / "400" / (kRunA.substr(0, 31) + "c") / "meta.yaml", "");
  Reader reader = t.open();
  auto deleted = reader.experiments(ViewType::kDeletedOnly);
  REQUIRE(deleted);
  REQUIRE(deleted->size() == 2);
  CHECK((*deleted)[0].experiment_id == "300");
  CHECK((*deleted)[0].lifecycle_stage == LifecycleStage::kActive);
  CHECK((*deleted)[1].experiment_id == "400");  // no creation_time: last
  CHECK((*deleted)[1].lifecycle_stage == LifecycleStage::kDeleted);
  auto active = reader.experiments(ViewType::kActiveOnly);
  CHECK(active->size() == 2);
  auto e = reader.experiment("400");
  REQUIRE(e);
  CHECK(e->name == "older");
}

TEST_CASE("the latest metric through the reader is max (step, timestamp, value) (spec §14.14)",
          "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "loss", "10 5.0 3\n20 1.0 1\n10 4.0 3\n5 9.0 2\n");
  write_file(t.run(kRunB) / "metrics" / "loss", "10 5.0 3\n15 nan 3\n");
  auto runs = t.runs();
  CHECK(runs[0].metrics.at("loss").value == 5.0);  // not the last line, not the newest timestamp
  CHECK(runs[0].metrics.at("loss").timestamp == 10);
  CHECK(std::isnan(runs[1].metrics.at("loss").value));  // a newer timestamp at the same step wins
  CHECK(runs[1].metrics.at("loss").timestamp == 15);
}

TEST_CASE("experiment names with a quote are found by name (spec §14.16)", "[reader][damaged]") {
  Tree t;
  write_file(t.root / "500" / "meta.yaml",
             "artifact_location: /x\ncreation_time: 9\nexperiment_id: '500'\nlast_update_time: 9\n"
             "lifecycle_stage: active\nname: 'it''s mine'\n");
  auto e = t.open().find_experiment("it's mine");
  REQUIRE(e);
  CHECK(e->experiment_id == "500");
  auto by_id = t.open().find_experiment("500");
  REQUIRE(by_id);
  CHECK(by_id->name == "it's mine");
  CHECK_FALSE(t.open().find_experiment("nope"));
}

TEST_CASE("non-integer experiment ids are read (spec §14.17)", "[reader][damaged]") {
  Tree t;
  write_file(t.root / "my-exp_1" / "meta.yaml", exp_meta("my-exp_1", "named", 5));
  write_file(t.root / "my-exp_1" / kRunA / "meta.yaml", run_meta("my-exp_1", kRunA));
  fs::remove_all(t.run(kRunA));
  auto runs = t.open().runs({"my-exp_1"});
  REQUIRE(runs);
  CHECK(runs->size() == 1);
  auto run = t.open().run(kRunA);
  REQUIRE(run);
  CHECK(run->info.experiment_id == "my-exp_1");
}

TEST_CASE("missing user_id, start_time or end_time: read with a warning, not fatal (spec §14.18)",
          "[reader][damaged]") {
  Tree t;
  write_file(t.run(kRunA) / "meta.yaml", "run_id: " + kRunA + "\nexperiment_id: '100'\nstatus: 4\n");
  auto runs = t.runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].info.status == RunStatus::kFailed);
  CHECK(runs[0].info.run_name == "name-" + kRunA);  // from the tag (spec §4.4)
  CHECK(t.warnings.has(kRunA + "/meta.yaml", "no user_id"));
  CHECK(t.warnings.has(kRunA + "/meta.yaml", "start_time"));
}

TEST_CASE("a resumed run keeps its old end_time with status RUNNING (spec §14.19)", "[reader][damaged]") {
  Tree t;
  std::string meta = run_meta(kExp, kRunA);
  meta.replace(meta.find("status: 3"), 9, "status: 1");
  write_file(t.run(kRunA) / "meta.yaml", meta);
  auto r = t.open().run(kRunA);
  REQUIRE(r);
  CHECK(r->info.status == RunStatus::kRunning);
  CHECK(r->info.end_time == 1700000001000);
}

TEST_CASE("runs without metrics/params/artifacts folders, under an 'artifacts' path (spec §14.21)",
          "[reader][damaged]") {
  TempDir tmp;
  fs::path root = tmp.path() / "artifacts" / "mlruns";
  write_file(root / kExp / "meta.yaml", exp_meta(kExp, "e"));
  write_file(root / kExp / kRunA / "meta.yaml", run_meta(kExp, kRunA));
  auto reader = Reader::open(root.string());
  REQUIRE(reader);
  auto run = reader->run(kRunA);
  REQUIRE(run);
  CHECK(run->metrics.empty());
  auto arts = reader->list_artifacts(kRunA);
  REQUIRE(arts);
  CHECK(arts->empty());
}

TEST_CASE("CRLF metric files and meta.yaml are read (spec §14.22)", "[reader][damaged]") {
  Tree t;
  std::string meta = run_meta(kExp, kRunA), crlf;
  for (char c : meta) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write_file(t.run(kRunA) / "meta.yaml", crlf);
  write_file(t.run(kRunA) / "metrics" / "loss", "1 0.5 0\r\n2 0.75 1\r\n");
  auto runs = t.runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].info.run_name == "name-" + kRunA);
  CHECK(runs[0].metrics.at("loss").value == 0.75);
  CHECK(t.warnings.list.empty());
}

TEST_CASE("experiment_id or run_id that does not match its folder: skipped with a warning (spec §10.2)",
          "[reader][damaged]") {
  Tree t;
  std::string meta = run_meta("999", kRunA);
  write_file(t.run(kRunA) / "meta.yaml", meta);
  write_file(t.run(kRunB) / "meta.yaml", run_meta(kExp, "cccccccccccccccccccccccccccccccc"));
  write_file(t.root / "0" / "meta.yaml", exp_meta("7", "Default"));
  CHECK(t.runs().empty());
  CHECK(t.warnings.has(kRunA, "does not match"));
  CHECK(t.warnings.has(kRunB, "does not match"));
  CHECK(t.open().experiments()->size() == 1);
  CHECK(t.warnings.has("0/meta.yaml", "does not match"));
  auto r = t.open().run(kRunA);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Code::kCorruption);
}

TEST_CASE("stray folders in an experiment are not runs", "[reader][damaged]") {
  Tree t;
  fs::create_directories(t.root / kExp / ".ipynb_checkpoints");
  fs::create_directories(t.root / kExp / "dddddddddddddddddddddddddddddddd" / "metrics");  // no meta.yaml
  fs::create_directories(t.root / kExp / "datasets" / "x");
  fs::create_directories(t.root / kExp / "tags");
  write_file(t.root / kExp / ".DS_Store", "x");
  CHECK(t.runs().size() == 2);
  CHECK(t.warnings.has(".ipynb_checkpoints"));
  CHECK(t.warnings.has("dddddddddddddddddddddddddddddddd", "no meta.yaml"));
  CHECK_FALSE(t.warnings.has("datasets"));
}

TEST_CASE("runs() reads only the requested parts", "[reader]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "acc", "1 0.9 0\n");
  write_file(t.run(kRunA) / "metrics" / "broken", "garbage\n");
  std::string meta = run_meta(kExp, kRunA);
  meta.replace(meta.find("run_name: name-"), 15 + 32, "run_name: ''");
  write_file(t.run(kRunA) / "meta.yaml", meta);
  RunFields f;
  f.params = f.tags = f.all_metrics = false;
  write_file(t.run(kRunA) / "metrics" / "val" / "acc", "1 0.7 0\n");
  f.metrics = {"acc", "missing", "../escape", "val"};
  auto runs = t.runs(ViewType::kActiveOnly, f);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].params.empty());
  CHECK(runs[0].tags.empty());
  CHECK(runs[0].metrics.size() == 1);
  CHECK(runs[0].metrics.at("acc").value == 0.9);
  CHECK(runs[0].info.run_name == "name-" + kRunA);  // the tag fallback still works
  CHECK(runs[1].metrics.empty());
  CHECK_FALSE(t.warnings.has("broken"));  // never opened
  CHECK(t.warnings.list.empty());          // "val" is a folder: not a metric, no warning
  auto info = t.runs(ViewType::kActiveOnly, RunFields::info_only());
  CHECK(info[0].metrics.empty());
}

TEST_CASE("runs() gives the same result with 1 and many threads", "[reader]") {
  Tree t;
  for (int i = 0; i < 50; ++i) {
    char id[33];
    std::snprintf(id, sizeof id, "%032x", i + 1000);
    write_file(t.root / kExp / id / "meta.yaml", run_meta(kExp, id));
    write_file(t.root / kExp / id / "metrics" / "m", "1 " + std::to_string(i) + " 0\n");
  }
  ReaderOptions one, many;
  one.threads = 1;
  many.threads = 4;
  auto a = t.open(one).runs({kExp});
  auto b = t.open(many).runs({kExp});
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->size() == 52);
  REQUIRE(b->size() == 52);
  std::map<std::string, double> va, vb;
  for (const Run& r : *a) va[r.info.run_id] = r.metrics.at(r.metrics.count("m") ? "m" : "loss").value;
  for (const Run& r : *b) vb[r.info.run_id] = r.metrics.at(r.metrics.count("m") ? "m" : "loss").value;
  CHECK(va == vb);
}

TEST_CASE("unknown experiments and runs, bad ids and bad URIs are errors, not crashes", "[reader]") {
  Tree t;
  Reader reader = t.open();
  CHECK(reader.runs({"12345"}).error().code() == Code::kNotFound);
  CHECK(reader.runs({"../x"}).error().code() == Code::kInvalidArgument);
  CHECK(reader.run("ffffffffffffffffffffffffffffffff").error().code() == Code::kNotFound);
  CHECK(reader.run("../../etc").error().code() == Code::kInvalidArgument);
  CHECK(reader.metric_history(kRunA, "../meta.yaml").error().code() == Code::kInvalidArgument);
  CHECK(reader.metric_history(kRunA, "nope")->empty());
  CHECK(reader.list_artifacts(kRunA, "../..").error().code() == Code::kInvalidArgument);
  CHECK(reader.list_artifacts(kRunA, "nope").error().code() == Code::kNotFound);
  CHECK(Reader::open("http://localhost:5000").error().code() == Code::kNotSupported);
  CHECK(Reader::open("sqlite:///mlflow.db").error().code() == Code::kNotSupported);
  CHECK(Reader::open((t.tmp.path() / "nope").string()).error().code() == Code::kNotFound);
  auto via_uri = Reader::open("file://" + t.root.string());
  REQUIRE(via_uri);
  CHECK(via_uri->experiments()->size() == 2);
}
