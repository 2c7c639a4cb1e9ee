// relocate (relocate.h): a moved tree's artifact URIs point at its new place (spec §8.2, §14.12).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "format/file_uri.h"
#include "maint_test_util.h"
#include "format/meta_parse.h"
#include "mlruns/env.h"
#include "mlruns/fsck.h"
#include "mlruns/relocate.h"
#include "maint/relocate_uri.h"

using namespace maint_test;

TEST_CASE("relocate rewrites every artifact URI, active and trashed, changes nothing else and is idempotent", "[relocate]") {
  TempTree t;
  auto run = first_run(t.root / "692696469721977523");
  std::string before = slurp(run / "meta.yaml");
  auto dry = mlruns::relocate(t.root.string(), {.dry_run = true});
  REQUIRE(dry);
  CHECK(dry->changes.size() == 18);  // 4 experiments + 14 runs of the fixture
  CHECK(slurp(run / "meta.yaml") == before);
  auto r = mlruns::relocate(t.root.string());
  REQUIRE(r);
  CHECK(r->changes.size() == 18);
  CHECK(r->errors.empty());
  std::string after = slurp(run / "meta.yaml");
  auto info = mlruns::detail::parse_run_meta(after);
  REQUIRE(info);
  std::string real = fs::canonical(t.root).string();
  CHECK(info->artifact_uri == mlruns::detail::path_to_file_uri(real + "/692696469721977523/" + info->run_id + "/artifacts"));
  // Only the artifact_uri line differs.
  auto strip = [](std::string s) {
    auto p = s.find("artifact_uri:");
    return s.erase(p, s.find('\n', p) - p);
  };
  CHECK(strip(before) == strip(after));
  // Trashed experiments point at <root>/<exp> (where restore puts them).
  std::string trashed = slurp(t.root / ".trash" / "702085803536168059" / "meta.yaml");
  CHECK(trashed.find(mlruns::detail::path_to_file_uri(real + "/702085803536168059") + "\n") != std::string::npos);
  auto again = mlruns::relocate(t.root.string());
  REQUIRE(again);
  CHECK(again->changes.empty());
}

TEST_CASE("relocate --from only touches URIs under the old prefix and leaves remote URIs alone", "[relocate]") {
  TempTree t;
  auto run = first_run(t.root / "763558276457519285");
  std::string m = slurp(run / "meta.yaml");
  auto p = m.find("artifact_uri:");
  m.replace(p, m.find('\n', p) - p, "artifact_uri: s3://bucket/x/artifacts");
  spit(run / "meta.yaml", m);
  auto none = mlruns::relocate(t.root.string(), {.from_prefix = "/elsewhere"});
  REQUIRE(none);
  CHECK(none->changes.empty());
  // Nothing under --from: one structured fact, not a skip per file; other reasons stay listed.
  CHECK(none->nothing_under_from);
  CHECK(none->files_checked == 18);
  REQUIRE(none->skipped.size() == 1);
  CHECK(none->skipped[0].find("remote URI") != std::string::npos);
  auto r = mlruns::relocate(t.root.string(), {.from_prefix = "file:///scratch/golden/mlruns"});
  REQUIRE(r);
  CHECK(r->changes.size() == 17);
  CHECK_FALSE(r->nothing_under_from);
  // Already right after the first pass: matched, so not "nothing under --from".
  auto again = mlruns::relocate(t.root.string(), {.from_prefix = fs::canonical(t.root).string()});
  REQUIRE(again);
  CHECK(again->changes.empty());
  CHECK_FALSE(again->nothing_under_from);
  CHECK_FALSE(mlruns::relocate(t.root.string())->nothing_under_from);  // no --from
  CHECK(slurp(run / "meta.yaml").find("artifact_uri: s3://bucket/x/artifacts\n") != std::string::npos);
}

#ifdef MLRUNS_CLI_PATH
TEST_CASE("mlruns relocate lists its changes and a second run changes nothing", "[relocate][cli]") {
  TempTree t;
  std::string cmd = std::string(MLRUNS_CLI_PATH) + " relocate --tracking-uri " + t.root.string() + " > " + (t.dir / "out").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(slurp(t.dir / "out").find("18 file(s) changed") != std::string::npos);
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(slurp(t.dir / "out").find("0 file(s) changed") != std::string::npos);
}
#endif

// ---- Model Registry and traces (spec §8.2, §9.3, §9.4) ----

namespace {

const std::string kExp = "692696469721977523";
const std::string kRun = "9d0d490e33264a61a75338a91601a5a6";
const std::string kExp2 = "763558276457519285";
const std::string kModel = "m-0123456789abcdef0123456789abcdef";
const std::string kTrace = "tr-fedcba9876543210fedcba9876543210";
const std::string kOld = "/scratch/golden/mlruns";

// A version meta.yaml as MLflow's registry file store writes it: keys sorted
// (yaml.safe_dump), 3.x adds model_id and deployment_job_state (spec §9.4).
std::string version_meta(int version, const std::string& source, const std::string& storage, bool v3) {
  std::string m = "creation_timestamp: 1795344700000\ncurrent_stage: None\n";
  if (v3)
    m += "deployment_job_state:\n  current_task_name: ''\n  job_id: ''\n  job_state: DEPLOYMENT_JOB_CONNECTION_STATE_UNSPECIFIED\n"
         "  run_id: ''\n  run_state: DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED\n";
  m += "description: ''\nlast_updated_timestamp: 1795344700123\n";
  if (v3) m += "model_id: " + kModel + "\n";
  m += "name: sentiment clf\nrun_id: " + kRun + "\nrun_link: ''\nsource: " + source +
       "\nstatus: READY\nstatus_message: null\nstorage_location: " + storage + "\nuser_id: null\nversion: " +
       std::to_string(version) + "\n";
  return m;
}

struct RegistryTree {
  TempTree t;
  fs::path reg = t.root / "models" / "sentiment clf";
  fs::path plain = t.root / "models" / "plain-paths" / "version-1" / "meta.yaml";
  fs::path trace_tag = t.root / kExp / "traces" / kTrace / "tags" / "mlflow.artifactLocation";
  fs::path outside = t.dir / "outside";
  RegistryTree() {
    // A 3.x logged model of the run, and a trace of the experiment.
    fs::path model = t.root / kExp / "models" / kModel;
    fs::create_directories(model / "artifacts");
    spit(model / "meta.yaml", "artifact_location: file://" + kOld + "/" + kExp + "/models/" + kModel +
                                  "/artifacts\ncreation_timestamp: 1795344690000\nexperiment_id: '" + kExp +
                                  "'\nlast_updated_timestamp: 1795344690100\nmodel_id: " + kModel +
                                  "\nmodel_type: ''\nname: clf\nsource_run_id: " + kRun + "\nstatus: 2\nstatus_message: null\n");
    fs::create_directories(trace_tag.parent_path());
    spit(trace_tag.parent_path().parent_path() / "trace_info.yaml", "request_id: " + kTrace + "\n");
    spit(trace_tag, "file://" + kOld + "/" + kExp + "/traces/" + kTrace + "/artifacts");
    spit(trace_tag.parent_path() / "mlflow.traceName", "predict");
    // The registry: 2.x run source, 3.x models:/ source, remote, custom path.
    fs::create_directories(reg);
    spit(reg / "meta.yaml", "aliases: {}\ncreation_timestamp: 1795344700000\ndescription: ''\n"
                            "last_updated_timestamp: 1795344700123\nname: sentiment clf\n");
    std::string run_src = "file://" + kOld + "/" + kExp + "/" + kRun + "/artifacts/model";
    std::string model_loc = "file://" + kOld + "/" + kExp + "/models/" + kModel + "/artifacts";
    const std::pair<std::string, std::string> versions[] = {
        {run_src, run_src},
        {"models:/" + kModel, model_loc},
        {"s3://bucket/reg/model", "s3://bucket/reg/model"},
        {"/data/elsewhere/model", "/data/elsewhere/model"},
        // The in-tree part is found leftmost, past a folder that looks like one.
        {"runs:/" + kRun + "/model", "file:///home/u/0/x/artifacts/" + kOld.substr(1) + "/" + kExp + "/" + kRun + "/artifacts/m"},
    };
    int n = 0;
    for (const auto& [source, storage] : versions) {
      ++n;
      fs::create_directories(reg / ("version-" + std::to_string(n)) / "tags");
      spit(reg / ("version-" + std::to_string(n)) / "meta.yaml", version_meta(n, source, storage, n == 2));
    }
    // Plain-path form (tracking URI given as a path, spec §8.1), second experiment.
    std::string plain_src = kOld + "/" + kExp2 + "/" + first_run(t.root / kExp2).filename().string() + "/artifacts/net";
    fs::create_directories(plain.parent_path());
    spit(plain, version_meta(1, plain_src, plain_src, false));
    // A symlinked registered model pointing out of the tree is never followed.
    fs::create_directories(outside / "version-1");
    spit(outside / "version-1" / "meta.yaml", version_meta(1, run_src, run_src, false));
    fs::create_directory_symlink(outside, t.root / "models" / "linked");
    // Nor a symlinked traces/ folder.
    fs::create_directories(outside / "traces" / kTrace / "tags");
    spit(outside / "traces" / kTrace / "tags" / "mlflow.artifactLocation",
         "file://" + kOld + "/" + kExp2 + "/traces/" + kTrace + "/artifacts");
    fs::create_directory_symlink(outside / "traces", t.root / kExp2 / "traces");
    // Nor a trace whose tags/ folder is a symlink.
    fs::create_directories(outside / "linked-tags");
    spit(outside / "linked-tags" / "mlflow.artifactLocation", "file://" + kOld + "/" + kExp + "/traces/tr-linked/artifacts");
    fs::create_directories(t.root / kExp / "traces" / "tr-linked");
    fs::create_directory_symlink(outside / "linked-tags", t.root / kExp / "traces" / "tr-linked" / "tags");
  }
};

std::string value_of(std::string meta, const std::string& key) {
  meta.insert(0, "\n");
  auto p = meta.find("\n" + key + ": ");
  if (p == std::string::npos) return "<none>";
  p += key.size() + 3;
  return meta.substr(p, meta.find('\n', p) - p);
}

}  // namespace

TEST_CASE("relocate rewrites registry source and storage_location and trace artifact locations (spec §8.2, §9.3, §9.4)",
          "[relocate]") {
  RegistryTree rt;
  TempTree& t = rt.t;
  std::string real = fs::canonical(t.root).string();
  auto uri = [&](const std::string& rel) { return mlruns::detail::path_to_file_uri(real + "/" + rel); };
  auto before = snapshot(t.root);
  auto outside_before = snapshot(rt.outside);

  auto dry = mlruns::relocate(t.root.string(), {.dry_run = true});
  REQUIRE(dry);
  CHECK(dry->changes.size() == 26);  // 18 + logged model + v1 (2) + v2 (1) + v5 (1) + plain (2) + trace
  CHECK(snapshot(t.root) == before);

  auto r = mlruns::relocate(t.root.string());
  REQUIRE(r);
  CHECK(r->errors.empty());
  CHECK(r->changes.size() == 26);
  std::string run_rel = kExp + "/" + kRun + "/artifacts";
  std::string v1 = slurp(rt.reg / "version-1" / "meta.yaml");
  CHECK(value_of(v1, "source") == uri(run_rel + "/model"));
  CHECK(value_of(v1, "storage_location") == uri(run_rel + "/model"));
  std::string v2 = slurp(rt.reg / "version-2" / "meta.yaml");
  CHECK(value_of(v2, "source") == "models:/" + kModel);  // a reference, not a location
  CHECK(value_of(v2, "storage_location") == uri(kExp + "/models/" + kModel + "/artifacts"));
  std::string v5 = slurp(rt.reg / "version-5" / "meta.yaml");
  CHECK(value_of(v5, "source") == "runs:/" + kRun + "/model");
  CHECK(value_of(v5, "storage_location") == uri(run_rel + "/m"));
  std::string plain = slurp(rt.plain);
  CHECK(value_of(plain, "source").rfind(real + "/" + kExp2 + "/", 0) == 0);  // still a plain path
  CHECK(value_of(plain, "source") == value_of(plain, "storage_location"));
  CHECK(slurp(rt.trace_tag) == uri(kExp + "/traces/" + kTrace + "/artifacts"));
  CHECK(value_of(slurp(t.root / kExp / "models" / kModel / "meta.yaml"), "artifact_location") ==
        uri(kExp + "/models/" + kModel + "/artifacts"));

  // Every other byte of the tree is as it was: remote and custom locations,
  // the v3 nested mapping, registered model metas, tag files, the symlink's target.
  auto after = snapshot(t.root);
  REQUIRE(after.size() == before.size());
  std::set<std::string> changed;
  for (const auto& c : r->changes) changed.insert(fs::relative(c.path, real).string());
  CHECK(changed.size() == 24);
  for (const auto& [rel, bytes] : before) {
    INFO(rel);
    if (changed.count(rel)) continue;
    CHECK(after.at(rel) == bytes);
  }
  CHECK(snapshot(rt.outside) == outside_before);
  // Only the two value lines of a version changed.
  std::string v1_want = before.at("models/sentiment clf/version-1/meta.yaml");
  std::string old_uri = "file://" + kOld + "/" + run_rel + "/model";
  for (std::size_t p; (p = v1_want.find(old_uri)) != std::string::npos;) v1_want.replace(p, old_uri.size(), uri(run_rel + "/model"));
  CHECK(v1 == v1_want);
  CHECK(v2.find("deployment_job_state:\n  current_task_name: ''\n") != std::string::npos);
  // Left alone with a reason: remote URIs are not even mentioned, the custom path is.
  bool custom_noted = false;
  for (const auto& s : r->skipped) custom_noted |= s.find("/data/elsewhere/model") != std::string::npos;
  CHECK(custom_noted);

  auto again = mlruns::relocate(t.root.string());
  REQUIRE(again);
  CHECK(again->changes.empty());
  CHECK(again->errors.empty());
  CHECK(snapshot(t.root) == after);
}

TEST_CASE("relocate --from rewrites registry locations under the old prefix only", "[relocate]") {
  RegistryTree rt;
  // Without --to, /data/elsewhere/model would map to <tree>/model, a folder the tree does not
  // have: refused, nothing changed (the prefix is not the tree's old location).
  auto before = snapshot(rt.t.root);
  auto refused = mlruns::relocate(rt.t.root.string(), {.from_prefix = "/data/elsewhere"});
  REQUIRE(refused);
  CHECK_FALSE(refused->errors.empty());
  CHECK(snapshot(rt.t.root) == before);
  auto r = mlruns::relocate(rt.t.root.string(), {.from_prefix = "/data/elsewhere", .to_root = "/data/moved"});
  REQUIRE(r);
  REQUIRE(r->changes.size() == 2);  // version-4's source and storage_location
  CHECK(value_of(slurp(rt.reg / "version-4" / "meta.yaml"), "source") == "/data/moved/model");
  CHECK(value_of(slurp(rt.reg / "version-3" / "meta.yaml"), "source") == "s3://bucket/reg/model");
  auto all = mlruns::relocate(rt.t.root.string(), {.from_prefix = "file://" + kOld});
  REQUIRE(all);
  // 18 + logged model + v1 (2) + v2 (1) + plain (2 keys, 1 file) + trace; v5's path is not under the prefix.
  CHECK(all->changes.size() == 25);
  CHECK(value_of(slurp(rt.reg / "version-5" / "meta.yaml"), "storage_location").rfind("file:///home/u/0/", 0) == 0);
}

TEST_CASE("in_tree_tail finds the leftmost run or logged-model artifacts path that exists in the tree", "[relocate]") {
  RegistryTree rt;
  mlruns::Env& env = *mlruns::Env::posix();
  std::string root = fs::canonical(rt.t.root).string();
  std::string why;
  auto tail = [&](const std::string& u) { return mlruns::detail::in_tree_tail(env, root, u, why).value_or("<none>"); };
  CHECK(tail("file:///x/" + kExp + "/" + kRun + "/artifacts/a/b") == kExp + "/" + kRun + "/artifacts/a/b");
  CHECK(tail("/x/" + kExp + "/models/" + kModel + "/artifacts") == kExp + "/models/" + kModel + "/artifacts");
  CHECK(tail("/x/" + kExp + "/0123abcd/artifacts/a") == "<none>");  // no such run here
  CHECK(tail("/x/" + kExp + "/" + kRun + "/artifacts/../../../../etc") == "<none>");
  CHECK(tail("s3://b/" + kExp + "/" + kRun + "/artifacts") == "<none>");
  CHECK(why == "remote URI");
  // A trashed experiment's runs count too.
  auto trashed = first_run(rt.t.root / ".trash" / "702085803536168059");
  std::string rel = "702085803536168059/" + trashed.filename().string() + "/artifacts";
  CHECK(tail("/old/" + rel) == rel);
}

TEST_CASE("fsck reports registry and trace locations outside the tree and repairs them through relocate (spec §8.2, §9.4)",
          "[relocate][fsck]") {
  RegistryTree rt;
  TempTree& t = rt.t;
  auto check = mlruns::fsck(t.root.string());
  REQUIRE(check);
  auto it = std::find_if(check->findings.begin(), check->findings.end(),
                         [](const auto& f) { return f.check == "registry.location_elsewhere"; });
  REQUIRE(it != check->findings.end());
  CHECK(it->problem.rfind("7 model registry or trace location(s)", 0) == 0);  // v1 (2), v2, v5, plain (2), trace
  CHECK(it->repairable);

  auto repaired = mlruns::fsck(t.root.string(), {.repair = true});
  REQUIRE(repaired);
  std::string real = fs::canonical(t.root).string();
  CHECK(slurp(rt.trace_tag) == mlruns::detail::path_to_file_uri(real + "/" + kExp + "/traces/" + kTrace + "/artifacts"));
  CHECK(value_of(slurp(rt.reg / "version-1" / "meta.yaml"), "source") ==
        mlruns::detail::path_to_file_uri(real + "/" + kExp + "/" + kRun + "/artifacts/model"));
  auto again = mlruns::fsck(t.root.string());
  REQUIRE(again);
  for (const auto& f : again->findings) CHECK(f.check != "registry.location_elsewhere");
}

TEST_CASE("relocate folds '..' in a URI and in --from/--to as every verb does (format/artifact_dir.h local_path_of), "
          "so a URI under --from once folded moves to its place under --to (issue 15)",
          "[relocate]") {
  using mlruns::detail::relocated_uri;
  mlruns::detail::RelocateTarget t{"/new/tree", "/old/tree"};
  std::string why;
  // main: "/old/tree/../tree/0/r/artifacts" was cut after "/old/tree" -> file:///new/tree/../tree/0/r/artifacts,
  // a path out of the new tree.
  CHECK(relocated_uri("file:///old/tree/../tree/0/r/artifacts", "0/r/artifacts", t, why).value_or("<kept: " + why + ">") ==
        "file:///new/tree/0/r/artifacts");
  CHECK(relocated_uri("/old/tree/./0//r/artifacts/", "0/r/artifacts", t, why).value_or("<kept: " + why + ">") ==
        "/new/tree/0/r/artifacts");
  // Out of --from once folded: left as it is.
  CHECK_FALSE(relocated_uri("file:///old/tree/../other/0/r/artifacts", "0/r/artifacts", t, why));
  CHECK(why == "not under /old/tree");
}
