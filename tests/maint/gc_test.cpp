// gc (gc.h): permanent removal of deleted runs and trashed experiments, like mlflow gc (spec §7).
#include <catch2/catch.hpp>

#include <algorithm>

#include "maint_test_util.h"
#include "test_util.h"
#include "mlruns/fsck.h"
#include "mlruns/gc.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"

using namespace maint_test;

namespace {
// Marks a run deleted at `when` (ms).
void mark_deleted(const fs::path& run, long long when) {
  std::string m = slurp(run / "meta.yaml");
  auto p = m.find("lifecycle_stage: active");
  REQUIRE(p != std::string::npos);
  m.replace(p, 23, "lifecycle_stage: deleted");
  m.insert(0, "deleted_time: " + std::to_string(when) + "\n");  // key order does not matter to readers
  spit(run / "meta.yaml", m);
}
}  // namespace

TEST_CASE("gc removes deleted runs by deleted_time and trashed experiments, never active ones", "[gc]") {
  TempTree t;
  auto exp = t.root / "692696469721977523";
  auto run = first_run(exp);
  mark_deleted(run, 1000);  // deleted long ago
  auto dry = mlruns::gc(t.root.string(), {.older_than_ms = 86400000LL, .dry_run = true});
  REQUIRE(dry);
  CHECK(fs::exists(run));
  auto r = mlruns::gc(t.root.string(), {.older_than_ms = 86400000LL});
  REQUIRE(r);
  CHECK(r->errors.empty());
  CHECK(!fs::exists(run));
  CHECK(!fs::exists(t.root / ".trash" / "702085803536168059"));  // trashed experiment went too
  CHECK(fs::exists(exp / "meta.yaml"));                           // the active experiment stays
  CHECK(fs::exists(t.root / "0"));
  bool saw_run = false, saw_exp = false;
  for (auto& i : r->items) {
    saw_run |= i.kind == mlruns::GcItem::Kind::kRun && i.id == run.filename().string() && i.removed;
    saw_exp |= i.kind == mlruns::GcItem::Kind::kExperiment && i.id == "702085803536168059" && i.removed;
  }
  CHECK(saw_run);
  CHECK(saw_exp);
}

TEST_CASE("gc refuses an explicit run that is not deleted and removes nothing (spec §7)", "[gc]") {
  TempTree t;
  auto run = first_run(t.root / "692696469721977523");
  auto r = mlruns::gc(t.root.string(), {.run_ids = {run.filename().string()}});
  REQUIRE(!r);
  CHECK(r.error().code() == mlruns::Code::kFailedPrecondition);
  CHECK(fs::exists(run));
  CHECK(fs::exists(t.root / ".trash" / "702085803536168059"));
}

TEST_CASE("gc removes a symlinked run folder's link target never", "[gc]") {
  TempTree t;
  auto outside = t.dir / "keep";
  fs::create_directories(outside / "artifacts");
  spit(outside / "artifacts" / "precious", "x");
  auto exp = t.root / ".trash" / "702085803536168059";
  fs::create_directory_symlink(outside, exp / "linkedrun");
  auto r = mlruns::gc(t.root.string());
  REQUIRE(r);
  CHECK(!fs::exists(exp));
  CHECK(slurp(outside / "artifacts" / "precious") == "x");
}

#ifdef MLRUNS_CLI_PATH
TEST_CASE("mlruns gc --dry-run lists and keeps, then gc removes", "[gc][cli]") {
  TempTree t;
  std::string base = std::string(MLRUNS_CLI_PATH) + " gc --tracking-uri " + t.root.string();
  REQUIRE(std::system((base + " --dry-run > " + (t.dir / "out").string()).c_str()) == 0);
  CHECK(slurp(t.dir / "out").find("would remove experiment 702085803536168059") != std::string::npos);
  CHECK(fs::exists(t.root / ".trash" / "702085803536168059"));
  REQUIRE(std::system((base + " --older-than 1d > /dev/null").c_str()) == 0);
  CHECK(!fs::exists(t.root / ".trash" / "702085803536168059"));
}
#endif

TEST_CASE("gc finishes what an interrupted gc left in its staging folder, which no reader sees and fsck points out", "[gc]") {
  TempTree t;
  auto staged = t.root / ".mlruns-gc.trash" / "692696469721977523-0123abcd.deadbeef";
  fs::create_directories(staged / "metrics");
  spit(staged / "meta.yaml", "run_id: 0123abcd\n");
  auto check = mlruns::fsck(t.root.string());
  REQUIRE(check);
  int about_gc = 0;
  for (auto& f : check->findings) {
    if (f.path.find(".mlruns-gc.trash") == std::string::npos) continue;
    ++about_gc;
    CHECK(f.check == "root.gc_interrupted");  // only the folder itself, never its contents as runs
    CHECK(f.hint.find("mlruns gc again") != std::string::npos);
  }
  CHECK(about_gc == 1);
  auto reader = mlruns::Reader::open(t.root.string());
  REQUIRE(reader);
  auto exps = reader->experiments(mlruns::ViewType::kAll);
  REQUIRE(exps);
  CHECK(exps->size() == 4);
  auto dry = mlruns::gc(t.root.string(), {.experiment_ids = {"702085803536168059"}, .dry_run = true});
  REQUIRE(dry);
  bool noted = false;
  for (auto& n : dry->notes) noted |= n.find("would finish removing") != std::string::npos;
  CHECK(noted);
  CHECK(fs::exists(staged));
  auto r = mlruns::gc(t.root.string(), {.experiment_ids = {"702085803536168059"}});
  REQUIRE(r);
  CHECK(r->errors.empty());
  CHECK(!fs::exists(t.root / ".mlruns-gc.trash"));
  CHECK(!fs::exists(t.root / ".trash" / "702085803536168059"));
  CHECK(fs::exists(t.root / ".trash"));
}

TEST_CASE("gc removes a deleted run holding folders nested deeper than PATH_MAX (issue 15 item 6)", "[gc]") {
  TempTree t;
  auto exp = t.root / "692696469721977523";
  auto run = first_run(exp);
  mark_deleted(run, 1000);
  fs::create_directories(run / "artifacts" / "deep");
  // 2000 * strlen("nested/") = 14,000 bytes > PATH_MAX (4096)
  mlruns::testing::make_nested_dirs(run / "artifacts" / "deep", 2000, "nested");
  auto r = mlruns::gc(t.root.string(), {});
  REQUIRE(r);
  for (const auto& e : r->errors) INFO(e.to_string());
  CHECK(r->errors.empty());  // main: "File name too long", forever after
  CHECK_FALSE(fs::exists(run));
  CHECK_FALSE(fs::exists(t.root / ".mlruns-gc.trash"));
}

TEST_CASE("gc removes outside the tree only a deleted run's <location>/<run_id>/artifacts of its experiment's "
          "artifact_location, and only when asked, never anything of another shape and never through a link below "
          "<location>/<run_id> (docs/hpc.md, format/artifact_dir.h)",
          "[gc][artifacts]") {
  mlruns::testing::TempDir dir;
  using mlruns::testing::tree_snapshot;
  const fs::path root = dir.path() / "mlruns";
  const fs::path share = dir.path() / "share";  // the experiment's own artifact location
  const fs::path elsewhere = dir.path() / "elsewhere";
  mlruns::Store store = mlruns::Store::open({.tracking_uri = root.string(), .flush = {.background_thread = false}});
  auto exp = store.create_experiment("shared", {}, share.string());
  REQUIRE(exp);
  auto start = [&] {
    mlruns::ActiveRun run = store.start_run({.experiment_id = *exp, .system_tags = false});
    std::string id = run.id();
    REQUIRE(run.end().is_ok());
    return id;
  };
  auto set_uri = [&](const std::string& id, const std::string& uri) {
    fs::path meta = root / *exp / id / "meta.yaml";
    std::string m = slurp(meta);
    auto p = m.find("artifact_uri: ");
    REQUIRE(p != std::string::npos);
    m.replace(p, m.find('\n', p) - p, "artifact_uri: " + uri);
    mlruns::testing::write_file(meta, m);
  };
  // The one conforming shape: removed with its run, as mlflow gc does.
  std::string good = start();
  mlruns::testing::write_file(share / good / "artifacts" / "model.bin", "m");
  // Another shape: an artifact_uri that is not <location>/<run_id>/artifacts.
  std::string other_shape = start();
  mlruns::testing::write_file(elsewhere / "data" / "keep.txt", "k");
  set_uri(other_shape, (elsewhere / "data").string());
  // The right shape, but not under the experiment's artifact_location.
  std::string other_location = start();
  mlruns::testing::write_file(elsewhere / other_location / "artifacts" / "keep.txt", "k");
  set_uri(other_location, (elsewhere / other_location / "artifacts").string());
  // <location>/<run_id> is a link out, and <location>/<run_id>/artifacts is a link out.
  std::string linked_run = start();
  mlruns::testing::write_file(elsewhere / "target1" / "artifacts" / "keep.txt", "k");
  fs::create_directory_symlink(elsewhere / "target1", share / linked_run);
  std::string linked_artifacts = start();
  mlruns::testing::write_file(elsewhere / "target2" / "keep.txt", "k");
  fs::create_directories(share / linked_artifacts);
  fs::create_directory_symlink(elsewhere / "target2", share / linked_artifacts / "artifacts");
  // Something else besides artifacts/ in <location>/<run_id> (another tree's run folder).
  std::string crowded = start();
  mlruns::testing::write_file(share / crowded / "artifacts" / "keep.txt", "k");
  mlruns::testing::write_file(share / crowded / "meta.yaml", "k");
  for (const std::string& id : {good, other_shape, other_location, linked_run, linked_artifacts, crowded})
    REQUIRE(store.delete_run(id).is_ok());
  const auto before = tree_snapshot(elsewhere);
  // By default nothing outside the tree goes: the folder is listed in a note.
  const auto share_before = tree_snapshot(share);
  auto dry = mlruns::gc(root.string(), {.dry_run = true});
  REQUIRE(dry);
  CHECK(tree_snapshot(share) == share_before);
  auto listed = std::find_if(dry->notes.begin(), dry->notes.end(), [&](const std::string& n) {
    return n.find((share / good / "artifacts").string()) != std::string::npos &&
           n.find("--include-outside-artifacts") != std::string::npos;
  });
  CHECK(listed != dry->notes.end());
  auto r = mlruns::gc(root.string(), {.include_outside_artifacts = true});
  REQUIRE(r);
  CHECK_FALSE(fs::exists(share / good));
  CHECK(fs::exists(share));
  CHECK(tree_snapshot(elsewhere) == before);
  CHECK(slurp(share / crowded / "artifacts" / "keep.txt") == "k");
  CHECK(fs::is_symlink(share / linked_run));
  CHECK(fs::is_symlink(share / linked_artifacts / "artifacts"));
  for (const std::string& id : {other_shape, other_location, linked_run, linked_artifacts, crowded})
    CHECK_FALSE(fs::exists(root / *exp / id));  // the runs themselves are gone
  CHECK(r->notes.size() >= 4);
}

TEST_CASE("gc never removes an outside folder a tree names by a run id that is not uuid4().hex or not its folder's "
          "name, even with --include-outside-artifacts (issue 15, docs/hpc.md, spec §4.4)",
          "[gc][artifacts][hostile]") {
  mlruns::testing::TempDir dir;
  using mlruns::testing::tree_snapshot;
  const fs::path root = dir.path() / "mlruns";
  const fs::path outside = dir.path() / "x";  // the experiment's artifact location, set by the tree's author
  mlruns::Store store = mlruns::Store::open({.tracking_uri = root.string(), .flush = {.background_thread = false}});
  auto exp = store.create_experiment("e", {}, outside.string());
  REQUIRE(exp);
  auto start = [&] {
    mlruns::ActiveRun run = store.start_run({.experiment_id = *exp, .system_tags = false});
    std::string id = run.id();
    REQUIRE(run.end().is_ok());
    REQUIRE(store.delete_run(id).is_ok());
    return id;
  };
  // Renames a deleted run's folder and its ids to `name`, its artifact_uri
  // into <outside>/<uri_id>/artifacts (the tester's repro: `victim`).
  auto rename_run = [&](const std::string& id, const std::string& name, const std::string& uri_id) {
    fs::path meta = root / *exp / id / "meta.yaml";
    std::string m = slurp(meta);
    for (std::size_t p; (p = m.find(id)) != std::string::npos;) m.replace(p, id.size(), name);
    auto p = m.find("artifact_uri: ");
    REQUIRE(p != std::string::npos);
    m.replace(p, m.find('\n', p) - p, "artifact_uri: file://" + (outside / uri_id / "artifacts").string());
    mlruns::testing::write_file(meta, m);
    if (name != id) fs::rename(root / *exp / id, root / *exp / name);
  };
  rename_run(start(), "victim", "victim");  // a name, not uuid4().hex
  mlruns::testing::write_file(outside / "victim" / "artifacts" / "data", "precious");
  // uuid4().hex ids, but meta.yaml's is not its folder's name.
  const std::string other = start(), folder = start();
  fs::remove_all(root / *exp / other);
  rename_run(folder, other, other);
  fs::rename(root / *exp / other, root / *exp / folder);
  mlruns::testing::write_file(outside / other / "artifacts" / "data", "precious");
  const auto before = tree_snapshot(outside);
  auto r = mlruns::gc(root.string(), {.include_outside_artifacts = true});
  REQUIRE(r);
  for (const auto& e : r->errors) INFO(e.to_string());
  CHECK(tree_snapshot(outside) == before);
  CHECK(slurp(outside / "victim" / "artifacts" / "data") == "precious");
  CHECK_FALSE(fs::exists(root / *exp / "victim"));  // the run itself is collected
  bool noted = false;
  for (const std::string& n : r->notes) noted |= n.find("victim") != std::string::npos && n.find("uuid4") != std::string::npos;
  CHECK(noted);
}
