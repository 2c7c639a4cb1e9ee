// Hostile trees: symbolic links out of the tree, a linked .trash or
// artifacts folder, FIFOs, huge files. The reader never reads outside the
// tree, never hangs, and skips what it refuses with a warning.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>

#include <sys/stat.h>

#include "damaged_tree.h"
#include "mlruns/env.h"

using namespace mlruns;
using namespace mlruns::testing;

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

TEST_CASE("files above max_file_bytes are skipped with a warning, metric files streamed instead", "[reader][hostile]") {
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
  // Metric files are streamed at any size (bounded memory, issue 15 item 3):
  // its one line is read, and its 5000-digit timestamp refused.
  CHECK(t.warnings.has("metrics/huge", "line 1"));
  CHECK(t.warnings.has("params/huge", "exceeds"));
}

namespace {

// Counts stat and list_dir calls per path over the Reader's own confined Env.
class CallCountingEnv : public EnvWrapper {
 public:
  explicit CallCountingEnv(std::unique_ptr<Env> confined) : EnvWrapper(confined.get()), owned_(std::move(confined)) {}
  Result<FileInfo> stat(const std::string& path, bool follow) override {
    ++stats[path];
    return EnvWrapper::stat(path, follow);
  }
  Result<std::vector<DirEntry>> list_dir(const std::string& path) override {
    ++lists[path];
    return EnvWrapper::list_dir(path);
  }
  std::map<std::string, int> stats, lists;

 private:
  std::unique_ptr<Env> owned_;
};

}  // namespace

TEST_CASE("a run's key folders cost one open each, and links are still refused", "[reader][hostile]") {
  Tree t;
  CallCountingEnv env(Env::posix_beneath(t.root.string()));
  ReaderOptions o = t.warnings.options();
  o.env = &env;
  o.threads = 1;  // the counts are plain maps
  auto reader = Reader::open(t.root.string(), o);
  REQUIRE(reader);
  auto runs = reader->runs({kExp}, ViewType::kAll);
  REQUIRE(runs);
  REQUIRE(runs->size() == 2);
  CHECK((*runs)[0].metrics.count("loss") == 1);
  for (const char* folder : {"metrics", "params", "tags"}) {
    const std::string dir = (t.run(kRunA) / folder).string();
    INFO(dir);
    CHECK(env.stats[dir] == 0);  // main: an lstat before the open
    CHECK(env.lists[dir] == 1);
  }
  // The confined Env refuses a linked key folder in the open: nothing is read through it.
  const fs::path outside = t.tmp.path() / "outside";
  write_file(outside / "stolen", "1700000000000 42.0 0\n");
  fs::remove_all(t.run(kRunA) / "metrics");
  fs::create_directory_symlink(outside, t.run(kRunA) / "metrics");
  auto again = reader->run(kRunA);
  REQUIRE(again);
  CHECK(again->metrics.empty());
  CHECK(t.warnings.has(kRunA + "/metrics", "symbolic link"));
  // A file in place of metrics/: said once, as before.
  fs::remove(t.run(kRunA) / "metrics");
  write_file(t.run(kRunA) / "metrics", "x");
  REQUIRE(reader->run(kRunA));
  CHECK(t.warnings.has(kRunA + "/metrics", "not a folder"));
}
