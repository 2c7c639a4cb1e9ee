// Damaged, legacy and hostile trees: one test per trap of spec §14 that
// concerns reading, plus hostile trees (symlinks out of the tree, huge files,
// control bytes in names). The reader loses only the damaged part, says so
// through on_warning, and never reads outside the tree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include <sys/stat.h>

#include "mlruns/env.h"
#include "reader_test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

const std::string kExp = "100";
const std::string kRunA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kRunB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

// <tmp>/mlruns with experiment 100 holding runs A and B, each with one
// metric, param and tag.
struct Tree {
  TempDir tmp;
  fs::path root = tmp.path() / "mlruns";
  Warnings warnings;

  Tree() {
    write_file(root / "0" / "meta.yaml", exp_meta("0", "Default", 1));
    write_file(root / kExp / "meta.yaml", exp_meta(kExp, "exp", 2));
    for (const std::string& r : {kRunA, kRunB}) {
      write_file(run(r) / "meta.yaml", run_meta(kExp, r));
      write_file(run(r) / "metrics" / "loss", "1700000000000 0.5 0\n1700000000001 0.25 1\n");
      write_file(run(r) / "params" / "lr", "0.01");
      write_file(run(r) / "tags" / "mlflow.runName", "name-" + r);
      fs::create_directories(run(r) / "artifacts");
    }
  }
  fs::path run(const std::string& r) const { return root / kExp / r; }

  Reader open(ReaderOptions opts = {}) {
    ReaderOptions w = warnings.options();
    w.max_file_bytes = opts.max_file_bytes;
    w.threads = opts.threads;
    auto reader = Reader::open(root.string(), w);
    REQUIRE(reader);
    return *reader;
  }
  std::vector<Run> runs(ViewType view = ViewType::kActiveOnly, const RunFields& f = RunFields::everything()) {
    auto r = open().runs({kExp}, view, f);
    REQUIRE(r);
    std::sort(r->begin(), r->end(), [](const Run& a, const Run& b) { return a.info.run_id < b.info.run_id; });
    return *r;
  }
};

}  // namespace

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

TEST_CASE("symlinks that leave the tree are never followed", "[reader][hostile]") {
  Tree t;
  fs::path outside = t.tmp.path() / "outside";
  write_file(outside / "secret", "1 42.0 0\n");
  write_file(outside / "exp" / "meta.yaml", exp_meta("600", "evil"));
  write_file(outside / "run" / "meta.yaml", run_meta(kExp, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"));
  write_file(outside / "params" / "p", "secret");
  fs::create_directory_symlink(outside / "exp", t.root / "600");
  fs::create_directory_symlink(outside / "run", t.root / kExp / "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
  fs::create_symlink(outside / "secret", t.run(kRunA) / "metrics" / "stolen");
  fs::remove_all(t.run(kRunA) / "params");
  fs::create_directory_symlink(outside / "params", t.run(kRunA) / "params");
  fs::create_directory_symlink(outside, t.run(kRunA) / "metrics" / "dir");
  fs::remove(t.run(kRunB) / "meta.yaml");
  fs::create_symlink(outside / "run" / "meta.yaml", t.run(kRunB) / "meta.yaml");

  Reader reader = t.open();
  auto exps = reader.experiments(ViewType::kAll);
  REQUIRE(exps);
  CHECK(exps->size() == 2);
  CHECK_FALSE(reader.experiment("600"));
  auto runs = reader.runs({kExp}, ViewType::kAll);
  REQUIRE(runs);
  REQUIRE(runs->size() == 1);
  const Run& a = (*runs)[0];
  CHECK(a.info.run_id == kRunA);
  CHECK(a.metrics.count("stolen") == 0);
  CHECK(a.metrics.size() == 1);
  CHECK(a.params.empty());
  CHECK(t.warnings.has("600", "symbolic link"));
  CHECK(t.warnings.has("metrics/stolen", "symbolic link"));
  CHECK(t.warnings.has(kRunA + "/params", "symbolic link"));
  CHECK(t.warnings.has(kRunB + "/meta.yaml", "symbolic link"));
  CHECK_FALSE(reader.run("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"));

  // Requested metrics and histories do not go through links either.
  RunFields only;
  only.params = only.tags = only.all_metrics = false;
  only.metrics = {"stolen", "dir/secret", "loss"};
  auto some = reader.runs({kExp}, ViewType::kAll, only);
  REQUIRE(some);
  REQUIRE(some->size() == 1);
  CHECK((*some)[0].metrics.size() == 1);
  CHECK(reader.metric_history(kRunA, "stolen").error().message().find("symbolic link") != std::string::npos);
  CHECK(reader.metric_history(kRunA, "dir/secret").error().code() == Code::kInvalidArgument);

  // Artifacts: a linked folder is neither listed nor entered.
  fs::create_directory_symlink(outside, t.run(kRunA) / "artifacts" / "linked");
  write_file(t.run(kRunA) / "artifacts" / "real.txt", "r");
  auto arts = reader.list_artifacts(kRunA, "", true);
  REQUIRE(arts);
  REQUIRE(arts->size() == 1);
  CHECK((*arts)[0].path == "real.txt");
  CHECK_FALSE(reader.list_artifacts(kRunA, "linked"));
  fs::remove_all(t.run(kRunB) / "artifacts");
}

TEST_CASE("a .trash that is a symlink is not entered", "[reader][hostile]") {
  Tree t;
  fs::path outside = t.tmp.path() / "elsewhere";
  write_file(outside / "700" / "meta.yaml", exp_meta("700", "foreign"));
  write_file(outside / "700" / (kRunB.substr(0, 31) + "f") / "meta.yaml", run_meta("700", kRunB.substr(0, 31) + "f"));
  fs::create_directory_symlink(outside, t.root / ".trash");
  Reader reader = t.open();
  auto deleted = reader.experiments(ViewType::kDeletedOnly);
  REQUIRE(deleted);
  CHECK(deleted->empty());
  CHECK(t.warnings.has(".trash", "symbolic link"));
  CHECK_FALSE(reader.experiment("700"));
  CHECK_FALSE(reader.run(kRunB.substr(0, 31) + "f"));
}

TEST_CASE("an artifacts folder that is a symlink is refused", "[reader][hostile]") {
  Tree t;
  fs::remove_all(t.run(kRunA) / "artifacts");
  fs::create_directory_symlink(t.tmp.path(), t.run(kRunA) / "artifacts");
  auto r = t.open().list_artifacts(kRunA);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("symbolic link") != std::string::npos);
}

TEST_CASE("a FIFO in place of meta.yaml or a metric file does not hang the reader", "[reader][hostile]") {
  Tree t;
  fs::remove(t.run(kRunA) / "meta.yaml");
  REQUIRE(::mkfifo((t.run(kRunA) / "meta.yaml").c_str(), 0600) == 0);
  REQUIRE(::mkfifo((t.run(kRunB) / "metrics" / "fifo").c_str(), 0600) == 0);
  RunFields f;
  f.metrics = {"fifo", "loss"};
  f.all_metrics = false;
  auto runs = t.runs(ViewType::kActiveOnly, f);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].metrics.size() == 1);
  CHECK(t.warnings.has(kRunA + "/meta.yaml", "not a regular file"));
  CHECK(t.warnings.has("metrics/fifo", "not a regular file"));
  auto all = t.runs();
  CHECK(all.size() == 1);
}

TEST_CASE("files above max_file_bytes are skipped with a warning", "[reader][hostile]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "huge", std::string(5000, '1') + " 1 0\n");
  write_file(t.run(kRunA) / "params" / "huge", std::string(5000, 'x'));
  ReaderOptions opts;
  opts.max_file_bytes = 4096;
  auto runs = t.open(opts).runs({kExp});
  REQUIRE(runs);
  std::sort(runs->begin(), runs->end(), [](const Run& a, const Run& b) { return a.info.run_id < b.info.run_id; });
  CHECK((*runs)[0].metrics.count("huge") == 0);
  CHECK((*runs)[0].params.count("huge") == 0);
  CHECK((*runs)[0].metrics.count("loss") == 1);
  CHECK(t.warnings.has("metrics/huge", "exceeds"));
  CHECK(t.warnings.has("params/huge", "exceeds"));
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

// ---- run inputs and datasets (spec §9.1) -------------------------------------

namespace {

std::string dataset_meta(const std::string& name, const std::string& digest) {
  return "digest: " + digest + "\nname: " + name + "\nprofile: null\nschema: null\n"
         "source: '{\"uri\": \"/data/" + name + ".csv\"}'\nsource_type: local\n";
}

std::string input_meta(const std::string& source_id, const std::string& source_type = "DATASET",
                       const std::string& tags = "tags:\n  mlflow.data.context: training\n") {
  return "destination_id: " + source_id + "\ndestination_type: RUN\nsource_id: " + source_id +
         "\nsource_type: " + source_type + "\n" + tags;
}

}  // namespace

TEST_CASE("dataset inputs are read with their dataset and input tags, model inputs are skipped (spec §9.1)",
          "[reader][inputs]") {
  Tree t;
  const std::string ds = "0123456789abcdef0123456789abcdef";
  write_file(t.root / kExp / "datasets" / ds / "meta.yaml", dataset_meta("iris", "abc123"));
  write_file(t.run(kRunA) / "inputs" / "i2" / "meta.yaml", input_meta(ds));
  // A 3.x model input: not a dataset, no warning.
  write_file(t.run(kRunA) / "inputs" / "i1" / "meta.yaml",
             input_meta("m-44271154e70a46ba98b37b5af53c134f", "MODEL", "tags: {}\n"));
  auto runs = t.runs();
  INFO(t.warnings.dump());
  CHECK(t.warnings.list.empty());
  REQUIRE(runs.size() == 2);
  REQUIRE(runs[0].dataset_inputs.size() == 1);
  const DatasetInput& in = runs[0].dataset_inputs[0];
  CHECK(in.dataset.name == "iris");
  CHECK(in.dataset.digest == "abc123");
  CHECK(in.dataset.source_type == "local");
  CHECK(in.dataset.source == "{\"uri\": \"/data/iris.csv\"}");
  CHECK_FALSE(in.dataset.schema);
  CHECK_FALSE(in.dataset.profile);
  CHECK(in.tags == std::map<std::string, std::string>{{"mlflow.data.context", "training"}});
  CHECK(runs[1].dataset_inputs.empty());
  // Off in the fast paths: nothing under inputs/ is read.
  RunFields f = RunFields::everything();
  f.inputs = false;
  CHECK(t.runs(ViewType::kActiveOnly, f)[0].dataset_inputs.empty());
  CHECK(t.runs(ViewType::kActiveOnly, RunFields::info_only())[0].dataset_inputs.empty());
}

TEST_CASE("a damaged input or dataset costs only that input, with a warning naming the path", "[reader][damaged]") {
  Tree t;
  const std::string good = "0123456789abcdef0123456789abcdef";
  const fs::path datasets = t.root / kExp / "datasets";
  write_file(datasets / good / "meta.yaml", dataset_meta("iris", "abc123"));
  write_file(datasets / "broken" / "meta.yaml", "name: [unclosed\n");
  write_file(datasets / "noname" / "meta.yaml", "digest: x\nsource: s\nsource_type: local\n");
  fs::create_directories(datasets / "nometa");
  const fs::path inputs = t.run(kRunA) / "inputs";
  write_file(inputs / "a-good" / "meta.yaml", input_meta(good));
  write_file(inputs / "b-empty" / "meta.yaml", "");
  write_file(inputs / "c-yaml" / "meta.yaml", "source_id: {{{\n");
  write_file(inputs / "d-missing" / "meta.yaml", input_meta("ffffffffffffffffffffffffffffffff"));
  write_file(inputs / "e-broken" / "meta.yaml", input_meta("broken"));
  write_file(inputs / "f-noname" / "meta.yaml", input_meta("noname"));
  write_file(inputs / "g-nometa" / "meta.yaml", input_meta("nometa"));
  write_file(inputs / "h-type" / "meta.yaml", input_meta(good, "TABLE"));
  write_file(inputs / "i-nosource" / "meta.yaml", "source_type: DATASET\ntags: {}\n");
  fs::create_directories(inputs / "j-nofile");
  write_file(inputs / "k-file", "not a folder");
  write_file(inputs / "l-deep" / "meta.yaml", "source_id: " + std::string(5000, '[') + "\n");
  write_file(inputs / "m-badtags" / "meta.yaml", input_meta(good, "DATASET", "tags:\n  ok: yes\n  bad: [1, 2]\n"));
  // The inputs folder of run B is a file; a third run shares the datasets.
  write_file(t.run(kRunB) / "inputs", "x");
  const std::string run_c = "cccccccccccccccccccccccccccccccc";
  write_file(t.run(run_c) / "meta.yaml", run_meta(kExp, run_c));
  write_file(t.run(run_c) / "inputs" / "x" / "meta.yaml", input_meta("broken"));
  write_file(t.run(run_c) / "inputs" / "y" / "meta.yaml", input_meta(good, "DATASET", "tags: {}\n"));

  auto runs = t.runs();
  INFO(t.warnings.dump());
  REQUIRE(runs.size() == 3);
  REQUIRE(runs[0].dataset_inputs.size() == 2);  // a-good, and m-badtags without its bad tag
  CHECK(runs[0].dataset_inputs[0].dataset.name == "iris");
  CHECK(runs[0].dataset_inputs[1].tags == std::map<std::string, std::string>{{"ok", "yes"}});
  CHECK(runs[1].dataset_inputs.empty());
  REQUIRE(runs[2].dataset_inputs.size() == 1);
  CHECK(runs[2].dataset_inputs[0].dataset.digest == "abc123");
  CHECK(runs[2].dataset_inputs[0].tags.empty());
  // A dataset is read once per listing: its damage is reported once.
  CHECK(std::count_if(t.warnings.list.begin(), t.warnings.list.end(), [](const Warning& w) {
          return w.path.find("datasets/broken/meta.yaml") != std::string::npos;
        }) == 1);
  // Both runs' other data is intact.
  CHECK(runs[0].params.at("lr") == "0.01");
  CHECK(runs[0].metrics.at("loss").value == 0.25);

  CHECK(t.warnings.has("b-empty/meta.yaml", "empty"));
  CHECK(t.warnings.has("c-yaml/meta.yaml", "input ignored"));
  CHECK(t.warnings.has("d-missing/meta.yaml", "not found"));
  CHECK(t.warnings.has("datasets/broken/meta.yaml", "invalid YAML"));
  CHECK(t.warnings.has("datasets/noname/meta.yaml", "no name"));
  CHECK(t.warnings.has("datasets/nometa/meta.yaml", "no meta.yaml"));
  CHECK(t.warnings.has("h-type/meta.yaml", "'TABLE'"));
  CHECK(t.warnings.has("i-nosource/meta.yaml", "no source_id"));
  CHECK(t.warnings.has("j-nofile/meta.yaml", "no meta.yaml"));
  CHECK(t.warnings.has("inputs/k-file", "not an input folder"));
  CHECK(t.warnings.has("l-deep/meta.yaml", "too deeply nested"));
  CHECK(t.warnings.has("m-badtags/meta.yaml", "tag"));
  CHECK(t.warnings.has(kRunB + "/inputs", "not a folder"));
  // One search-relevant fact: the damaged inputs are simply not there.
  auto reader = t.open();
  auto one = reader.run(kRunA);
  REQUIRE(one);
  CHECK(one->dataset_inputs.size() == 2);
}

TEST_CASE("input source ids that would leave datasets/ and symlinked inputs or datasets are refused",
          "[reader][hostile]") {
  Tree t;
  TempDir outside_dir;
  const fs::path outside = outside_dir.path();
  write_file(outside / "ds" / "meta.yaml", dataset_meta("stolen", "secret"));
  write_file(outside / "input" / "meta.yaml", input_meta("0123456789abcdef0123456789abcdef"));
  const fs::path datasets = t.root / kExp / "datasets";
  write_file(datasets / "0123456789abcdef0123456789abcdef" / "meta.yaml", dataset_meta("iris", "abc123"));
  fs::create_directory_symlink(outside / "ds", datasets / "linked");
  const fs::path inputs = t.run(kRunA) / "inputs";
  // A relative id climbing out of datasets/, an absolute one, one with a '/'.
  write_file(inputs / "a" / "meta.yaml", input_meta("'../../../../" + outside.filename().string() + "/ds'"));
  write_file(inputs / "b" / "meta.yaml", input_meta(outside.string() + "/ds"));
  write_file(inputs / "c" / "meta.yaml", input_meta("'..'"));
  write_file(inputs / "d" / "meta.yaml", input_meta("linked"));
  fs::create_directory_symlink(outside / "input", inputs / "e");
  // The whole inputs/ of run B and the datasets/ of another experiment are symlinks.
  fs::create_directory_symlink(outside, t.run(kRunB) / "inputs");
  write_file(t.root / "200" / "meta.yaml", exp_meta("200", "other", 3));
  const std::string run_c = kRunA.substr(0, 31) + "c";
  write_file(t.root / "200" / run_c / "meta.yaml", run_meta("200", run_c));
  write_file(t.root / "200" / run_c / "inputs" / "x" / "meta.yaml", input_meta("0123456789abcdef0123456789abcdef"));
  fs::create_directory_symlink(datasets, t.root / "200" / "datasets");

  auto runs = t.runs();
  INFO(t.warnings.dump());
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].dataset_inputs.empty());
  CHECK(runs[1].dataset_inputs.empty());
  CHECK(t.warnings.has("inputs/a/meta.yaml", "not a valid dataset folder name"));
  CHECK(t.warnings.has("inputs/b/meta.yaml", "not a valid dataset folder name"));
  CHECK(t.warnings.has("inputs/c/meta.yaml", "not a valid dataset folder name"));
  CHECK(t.warnings.has("datasets/linked", "symbolic link"));
  CHECK(t.warnings.has("inputs/e", "symbolic link"));
  CHECK(t.warnings.has(kRunB + "/inputs", "symbolic link"));
  auto other = t.open().runs({"200"});
  REQUIRE(other);
  REQUIRE(other->size() == 1);
  CHECK((*other)[0].dataset_inputs.empty());
  CHECK(t.warnings.has("200/datasets", "symbolic link"));
  for (const Warning& w : t.warnings.list) CHECK(w.message.find("stolen") == std::string::npos);
}
