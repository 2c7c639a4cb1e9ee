// sync_tree against the stand-in MLflow server (fake_mlflow_server.h): every
// scenario ends with exactly the tree's content on the server, no duplicate
// run, point or artifact (issue 11).
#include <atomic>
#include <cmath>
#include <thread>

#include "mlruns/store.h"
#include "mlruns/sync.h"
#include "sync/record.h"
#include "sync/sync_test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

SyncResult sync_ok(const std::string& root, const SyncOptions& o) {
  auto reader = Reader::open(root);
  REQUIRE(reader);
  auto r = sync_tree(*reader, o);
  if (!r) FAIL(r.error().to_string());
  for (const RunSyncReport& run : r->runs)
    if (run.state == RunSyncState::kFailed)
      for (const std::string& n : run.notes) UNSCOPED_INFO("failed run " << run.run_id << ": " << n);
  return *r;
}

const RunSyncReport* report_of(const SyncResult& r, const std::string& run_id) {
  for (const RunSyncReport& x : r.runs)
    if (x.run_id == run_id) return &x;
  return nullptr;
}

}  // namespace

TEST_CASE("sync: a tree synced, changed and synced again ends as the tree, with nothing sent twice", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root());
  age_tree(t.root);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());

  SyncResult first = sync_ok(t.root, o);
  CHECK(first.runs_created == 4);
  CHECK(first.runs_skipped == 1);  // the deleted run
  CHECK(first.runs_failed == 0);
  CHECK(first.complete());
  check_server_matches_tree(server, t.root, false);
  // Parents first: the child's mlflow.parentRunId names the server's parent.
  auto parent = server.run_by_source(tree_id_of(t.root) + "/" + t.parent);
  auto child = server.run_by_source(tree_id_of(t.root) + "/" + t.child);
  REQUIRE(parent);
  REQUIRE(child);
  CHECK(child->tags.at("mlflow.parentRunId") == parent->run_id);
  // The experiment was created with its tags.
  bool found = false;
  for (const FakeExperiment& e : server.experiments())
    if (e.name == "sweep-a") found = e.tags.count("team") && e.tags.at("team") == "rl";
  CHECK(found);

  SECTION("an unchanged tree sends no request but /version") {
    const int before = server.requests();
    const int writes = server.write_requests();
    SyncResult again = sync_ok(t.root, o);
    CHECK(again.runs_unchanged == 4);
    CHECK(again.runs_skipped == 1);
    CHECK(again.write_requests == 0);
    CHECK(server.write_requests() == writes);
    CHECK(server.requests() == before);  // only GET /version, which the counter leaves out
  }

  SECTION("appended points, a new param, a changed tag, a new artifact and a resumed run") {
    change_run(t.root, t.plain, [&](ActiveRun& plain) {
      for (int i = 30; i < 2500; ++i) plain.log_metric("acc", 0.9, i, kT0 + 1000 * i);  // > 2 batches of 1000
      plain.log_param("new_param", "yes");
      plain.set_tag("mlflow.note.content", "changed note");
      plain.log_text("more", "notes/more.txt");
      plain.end(RunStatus::kKilled);
    });
    // A line being written (no '\n' yet) waits for the next pass.
    const fs::path acc = fs::path(t.root) / t.exp_b / t.plain / "metrics" / "acc";
    { std::ofstream(acc, std::ios::app) << (kT0 + 9999999) << " 0.5 99999"; }
    SyncResult again = sync_ok(t.root, o);
    CHECK(again.runs_updated == 1);
    CHECK(again.points_sent == 2470);
    auto srv = server.run_by_source(tree_id_of(t.root) + "/" + t.plain);
    REQUIRE(srv);
    CHECK(srv->status == "KILLED");
    CHECK(srv->params.at("new_param") == "yes");
    CHECK(srv->tags.at("mlflow.note.content") == "changed note");
    std::size_t with_step = 0;
    for (const FakeMetric& m : srv->metrics) with_step += m.step == 99999;
    CHECK(with_step == 0);
    { std::ofstream(acc, std::ios::app) << "\n"; }
    SyncResult third = sync_ok(t.root, o);
    CHECK(third.points_sent == 1);
    check_server_matches_tree(server, t.root, false);
  }

  SECTION("the record deleted: rebuilt from the server, nothing sent twice") {
    const int puts = server.artifact_puts();
    for (const auto& e : fs::directory_iterator(fs::path(t.root) / ".mlruns-sync.trash"))
      if (e.is_directory()) fs::remove_all(e.path());
    SyncResult again = sync_ok(t.root, o);
    CHECK(again.runs_created == 0);
    CHECK(again.points_sent == 0);
    CHECK(again.artifacts_sent == 0);
    CHECK(server.artifact_puts() == puts);
    check_server_matches_tree(server, t.root, false);
    // And the rebuilt record makes the next pass free again.
    SyncResult third = sync_ok(t.root, o);
    CHECK(third.runs_unchanged == 4);
    CHECK(third.write_requests == 0);
  }

  SECTION("--rebuild-record on a tree whose record is stale after a machine crash") {
    // Points the server has but the record does not know of: a stale record.
    const fs::path rec_dir = fs::path(t.root) / ".mlruns-sync.trash";
    std::string rec_path;
    for (const auto& e : fs::recursive_directory_iterator(rec_dir))
      if (e.path().filename() == t.plain + ".json") rec_path = e.path().string();
    REQUIRE(!rec_path.empty());
    std::string text = read_file(rec_path);
    auto j = nlohmann::json::parse(text);
    j["metrics"]["acc"] = {0, 0};
    j["meta_fp"] = "";
    write_file(rec_path, j.dump());
    SyncOptions ro = o;
    ro.rebuild_record = true;
    SyncResult again = sync_ok(t.root, ro);
    CHECK(again.points_sent == 0);
    check_server_matches_tree(server, t.root, false);
  }
}

TEST_CASE("sync: deleted runs only with include_deleted, then deleted on the server too", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  o.include_deleted = true;
  SyncResult r = sync_ok(t.root, o);
  CHECK(r.runs_created == 5);
  check_server_matches_tree(server, t.root, true);
  auto srv = server.run_by_source(tree_id_of(t.root) + "/" + t.deleted);
  REQUIRE(srv);
  CHECK(srv->lifecycle_stage == "deleted");
  CHECK(srv->params.at("x") == "1");

  SECTION("restored locally: restored on the server") {
    StoreOptions so;
    so.tracking_uri = t.root;
    Store store = Store::open(so);
    REQUIRE(store.restore_run(t.deleted).is_ok());
    sync_ok(t.root, o);
    check_server_matches_tree(server, t.root, true);
  }
  SECTION("deleted on the server by someone else, active here: restored") {
    auto plain = server.run_by_source(tree_id_of(t.root) + "/" + t.plain);
    server.delete_run(plain->run_id);
    change_run(t.root, t.plain, [&](ActiveRun& run) {
      run.log_metric("acc", 1.0, 100, kT0);
      run.end();
    });
    SyncResult again = sync_ok(t.root, o);
    CHECK(again.runs_failed == 0);
    check_server_matches_tree(server, t.root, true);
  }
}

TEST_CASE("sync: transient faults are retried and a lost answer is verified before anything is sent again", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 1500);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  o.jobs = 1;
  SECTION("429 with Retry-After, 503 and 500 before the request is applied") {
    server.add_fault({"runs/log-batch", FaultKind::kStatusBefore, 429, 0, 0, 2});
    server.add_fault({"runs/create", FaultKind::kStatusBefore, 503, 0, 0, 1});
    server.add_fault({"runs/search", FaultKind::kStatusBefore, 500, -1, 0, 2});
    server.add_fault({"get-by-name", FaultKind::kStatusBefore, 502, -1, 0, 1});
  }
  SECTION("a 500 after the server committed a metric batch") {
    server.add_fault({"runs/log-batch", FaultKind::kStatusAfter, 500, -1, 0, 3});
  }
  SECTION("connections dropped before and after a batch was applied") {
    server.add_fault({"runs/log-batch", FaultKind::kDropBefore, 0, -1, 0, 1});
    server.add_fault({"runs/log-batch", FaultKind::kDropAfter, 0, -1, 0, 2});
  }
  SECTION("the answer to a create lost after the run was made") {
    server.add_fault({"runs/create", FaultKind::kDropAfter, 0, -1, 0, 2});
    server.add_fault({"experiments/create", FaultKind::kDropAfter, 0, -1, 0, 1});
  }
  SECTION("half a batch applied, then a 500 (batches are not atomic)") {
    server.add_fault({"runs/log-batch", FaultKind::kHalfBatch, 500, -1, 0, 2});
  }
  SECTION("slow answers and a dropped artifact upload") {
    server.add_fault({"runs/log-batch", FaultKind::kSlow, 0, -1, 300, 2});
    server.add_fault({"mlflow-artifacts", FaultKind::kDropBefore, 0, -1, 0, 1});
    server.add_fault({"mlflow-artifacts", FaultKind::kDropAfter, 0, -1, 0, 1});
  }
  SyncResult r = sync_ok(t.root, o);
  CHECK(r.runs_failed == 0);
  CHECK(r.runs_created + r.runs_updated == 4);  // a run whose create answer was lost is found, not made again
  check_server_matches_tree(server, t.root, false);
}

TEST_CASE("sync: a server that keeps failing fails the run, and the next sync finishes it", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 10);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  o.server.max_retries = 1;
  o.jobs = 1;
  server.add_fault({"runs/log-batch", FaultKind::kStatusBefore, 500, -1, 0, 2});
  auto reader = Reader::open(t.root);
  auto r = sync_tree(*reader, o);
  REQUIRE(r);
  CHECK(r->runs_failed == 1);
  CHECK_FALSE(r->complete());
  SyncResult again = sync_ok(t.root, o);
  CHECK(again.runs_failed == 0);
  check_server_matches_tree(server, t.root, false);
}

TEST_CASE("sync: two syncs of one tree at once make one copy", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 3000);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  o.jobs = 4;
  std::vector<SyncResult> results(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&, i] { results[i] = sync_ok(t.root, o); });
  for (auto& th : threads) th.join();
  std::uint64_t created = 0;
  for (const SyncResult& r : results) {
    created += r.runs_created;
    CHECK(r.runs_failed == 0);
    CHECK(r.tree_id == results[0].tree_id);  // the first syncs agreed on one tree id
  }
  CHECK(created == 4);
  check_server_matches_tree(server, t.root, false);
}

TEST_CASE("sync: a param that differs on the server is a conflict of that run, not an abort", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  sync_ok(t.root, o);
  auto srv = server.run_by_source(tree_id_of(t.root) + "/" + t.plain);
  REQUIRE(srv);
  server.set_param(srv->run_id, "batch", "64");  // someone logged it on the server
  change_run(t.root, t.plain, [&](ActiveRun& run) {
    run.log_param("batch", "32");
    run.log_param("other", "ok");
    run.log_metric("acc", 2.0, 999, kT0);
    run.end();
  });
  SyncResult r = sync_ok(t.root, o);
  CHECK(r.conflicts == 1);
  CHECK_FALSE(r.complete());
  const RunSyncReport* rep = report_of(r, t.plain);
  REQUIRE(rep);
  REQUIRE(rep->conflicts.size() == 1);
  CHECK(rep->conflicts[0].key == "batch");
  CHECK(rep->conflicts[0].local_value == "32");
  CHECK(rep->conflicts[0].server_value == "64");
  auto after = server.run_by_source(tree_id_of(t.root) + "/" + t.plain);
  CHECK(after->params.at("batch") == "64");   // never overwritten
  CHECK(after->params.at("other") == "ok");   // the rest went on
  bool got_point = false;
  for (const FakeMetric& m : after->metrics) got_point |= m.step == 999;
  CHECK(got_point);
  // Still reported by the next pass (the record keeps it), still not sent.
  age_tree(t.root);  // new times: the artifacts are sent again (same path, replaced), the param is not
  SyncResult again = sync_ok(t.root, o);
  CHECK(again.params_sent == 0);
  CHECK(again.points_sent == 0);
  CHECK(again.write_requests == again.artifacts_sent);
  CHECK(again.conflicts == 1);
}

TEST_CASE("sync: a 2.x server gets no key with ':' and the report says which", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server("2.10.3");
  SyncResult r = sync_ok(t.root, test_sync_options(server.url()));
  CHECK(r.runs_failed == 0);
  CHECK(r.server_version == "2.10.3");
  const RunSyncReport* rep = report_of(r, t.nan_run);
  REQUIRE(rep);
  bool said = false;
  for (const std::string& n : rep->notes) said |= n.find("'a:b' skipped") != std::string::npos;
  CHECK(said);
  check_server_matches_tree(server, t.root, false, {"a:b"});
}

TEST_CASE("sync: an experiment deleted on the server is a clear error with a hint", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  sync_ok(t.root, o);
  server.delete_experiment("sweep-b");
  change_run(t.root, t.plain, [&](ActiveRun& run) {
    run.log_metric("acc", 3.0, 1000, kT0);
    run.end();
  });
  SyncResult r = sync_ok(t.root, o);
  CHECK(r.runs_failed == 1);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find("experiment 'sweep-b'") != std::string::npos);
  CHECK(r.errors[0].find("is deleted on the server") != std::string::npos);
  CHECK(r.errors[0].find("restore") != std::string::npos);
}

TEST_CASE("sync: artifacts to a server that does not proxy them: a note, and the metadata still syncs", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server("3.8.2", /*proxied_artifacts=*/false);
  SyncResult r = sync_ok(t.root, test_sync_options(server.url()));
  CHECK(r.runs_failed == 0);
  CHECK(server.artifact_puts() == 0);
  const RunSyncReport* rep = report_of(r, t.plain);
  REQUIRE(rep);
  bool said = false;
  for (const std::string& n : rep->notes) said |= n.rfind("artifacts not synced: ", 0) == 0 && n.find("'s3:") != std::string::npos;
  CHECK(said);
  auto srv = server.run_by_source(tree_id_of(t.root) + "/" + t.plain);
  REQUIRE(srv);
  CHECK(srv->metrics.size() == 5);
}

TEST_CASE("sync: dataset inputs of a real MLflow 3.8 tree", "[sync]") {
  TempDir dir;
  fs::copy(fs::path(MLRUNS_FIXTURES_DIR) / "mlflow-3.8" / "mlruns", dir.root(), fs::copy_options::recursive);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  SyncResult r = sync_ok(dir.root(), o);
  CHECK(r.runs_failed == 0);
  check_server_matches_tree(server, dir.root(), false);
  bool any_input = false;
  for (const FakeRun& run : server.runs()) any_input |= !run.inputs.empty();
  CHECK(any_input);
}

TEST_CASE("sync: a dry run sends nothing and writes nothing", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  o.dry_run = true;
  SyncResult r = sync_ok(t.root, o);
  CHECK(server.requests() == 0);
  CHECK(r.runs_created == 4);
  CHECK(r.points_sent > 0);
  CHECK_FALSE(fs::exists(fs::path(t.root) / ".mlruns-sync.trash"));
}

TEST_CASE("sync: the environment variables MLflow's clients read", "[sync]") {
  ::setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3", 1);
  ::setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.5", 1);
  ::setenv("MLFLOW_TRACKING_INSECURE_TLS", "true", 1);
  auto o = ServerOptions::from_environment("http://h");
  REQUIRE(o);
  CHECK(o->max_retries == 3);
  CHECK(o->backoff_factor == 0.5);
  CHECK(o->insecure_tls);
  CHECK(o->timeout_seconds == 120);  // MLflow's default
  ::setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "lots", 1);
  auto bad = ServerOptions::from_environment("http://h");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("MLFLOW_HTTP_REQUEST_MAX_RETRIES='lots'") != std::string::npos);
  ::unsetenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES");
  ::unsetenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR");
  ::unsetenv("MLFLOW_TRACKING_INSECURE_TLS");
}

TEST_CASE("sync: credentials go to the server as MLflow's clients send them", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 2);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  o.server.token = "tok";
  sync_ok(t.root, o);
  CHECK(server.last_authorization() == "Bearer tok");
  // mlflow/utils/rest_utils.py: username and password (Basic) win over the token.
  o.server.username = "alice";
  o.server.password = "pw";
  o.rebuild_record = true;  // so that requests are made
  sync_ok(t.root, o);
  CHECK(server.last_authorization() == "Basic YWxpY2U6cHc=");  // base64("alice:pw")
}

TEST_CASE("sync: URLs are shown without credentials", "[sync]") {
  CHECK(redact_url("https://alice:s3cret@mlflow.example.org:8443/prefix?token=x#f") ==
        "https://mlflow.example.org:8443/prefix");
  CHECK(redact_url("http://127.0.0.1:5000") == "http://127.0.0.1:5000");
  CHECK(redact_url("http://a@b@host/x") == "http://host/x");
}

TEST_CASE("sync: a metric file larger than max_file_bytes is read and sent in pieces, in one pass", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 3000);  // 'loss' and 'acc': ~90 KB each
  FakeMlflowServer server;
  ReaderOptions ro;
  ro.max_file_bytes = 8192;
  auto reader = Reader::open(t.root, ro);
  REQUIRE(reader);
  auto r = sync_tree(*reader, test_sync_options(server.url()));
  REQUIRE(r);
  CHECK(r->runs_failed == 0);
  CHECK(r->complete());
  check_server_matches_tree(server, t.root, false);
  // Matching such a file against the server (record lost) needs it whole: a clear failure, nothing sent.
  for (const auto& e : fs::directory_iterator(fs::path(t.root) / ".mlruns-sync.trash"))
    if (e.is_directory()) fs::remove_all(e.path());
  const int writes = server.write_requests();
  auto again = sync_tree(*reader, test_sync_options(server.url()));
  REQUIRE(again);
  CHECK(again->runs_failed == 2);
  CHECK(server.write_requests() == writes);
  bool said = false;
  for (const RunSyncReport& rep : again->runs)
    for (const std::string& n : rep.notes) said |= n.find("more than max_file_bytes") != std::string::npos;
  CHECK(said);
  check_server_matches_tree(server, t.root, false);
}

TEST_CASE("sync: symbolic links in a run are neither followed nor sent", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  const fs::path run = fs::path(t.root) / t.exp_b / t.plain;
  fs::create_symlink("/etc/passwd", run / "artifacts" / "passwd");
  fs::create_symlink("/etc/hostname", run / "metrics" / "stolen");
  FakeMlflowServer server;
  SyncResult r = sync_ok(t.root, test_sync_options(server.url()));
  CHECK(r.runs_failed == 0);
  const RunSyncReport* rep = report_of(r, t.plain);
  REQUIRE(rep);
  bool said = false;
  for (const std::string& n : rep->notes) said |= n.find("'passwd' is a symbolic link") != std::string::npos;
  CHECK(said);
  for (const auto& [path, content] : server.artifacts()) CHECK(path.find("passwd") == std::string::npos);
  auto srv = server.run_by_source(tree_id_of(t.root) + "/" + t.plain);
  REQUIRE(srv);
  for (const FakeMetric& m : srv->metrics) CHECK(m.key != "stolen");
  check_server_matches_tree(server, t.root, false);
}

TEST_CASE("sync: a child whose parent is not on the server gets mlflow.parentRunId once the parent is", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  {
    StoreOptions so;
    so.tracking_uri = t.root;
    Store store = Store::open(so);
    REQUIRE(store.delete_run(t.parent).is_ok());  // deleted: not synced without include_deleted
  }
  age_tree(t.root);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  SyncResult first = sync_ok(t.root, o);
  auto child = server.run_by_source(tree_id_of(t.root) + "/" + t.child);
  REQUIRE(child);
  CHECK_FALSE(child->tags.count("mlflow.parentRunId"));
  const RunSyncReport* rep = report_of(first, t.child);
  REQUIRE(rep);
  CHECK(rep->notes.size() == 1);
  CHECK(rep->notes[0].find("mlflow.parentRunId left out") != std::string::npos);
  {
    StoreOptions so;
    so.tracking_uri = t.root;
    Store store = Store::open(so);
    REQUIRE(store.restore_run(t.parent).is_ok());
  }
  sync_ok(t.root, o);  // the parent is made; the child, unchanged here, is looked at again
  check_server_matches_tree(server, t.root, false);
}

TEST_CASE("sync: long params and tags are split into requests under MLflow's 1 MB limit", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  change_run(t.root, t.plain, [&](ActiveRun& run) {
    for (int i = 0; i < 150; ++i) {
      run.log_param("p" + std::to_string(i), std::string(5900, 'a' + i % 26));
      run.set_tag("t" + std::to_string(i), std::string(4900, 'a' + i % 26));
    }
    run.end();
  });
  FakeMlflowServer server("2.10.3");  // tags up to 5,000 characters
  SyncResult r = sync_ok(t.root, test_sync_options(server.url()));
  CHECK(r.runs_failed == 0);
  CHECK(r.params_sent >= 150);
  check_server_matches_tree(server, t.root, false, {"a:b"});
}

// Issue 15: the record is a file in the tree, whose author controls it (docs/hpc.md). A record
// naming another server run (another tree's, another user's) must not send writes or a delete
// there: sync checks the run's mlruns.sync.source tag first (docs/sync.md#how-it-never-makes-a-copy).
TEST_CASE("sync: a record naming a server run that is not the run's copy is ignored and that run is untouched", "[sync]") {
  TempDir dir;
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  o.include_deleted = true;
  // The victim: a run another tree synced to the same server.
  SyncTree victim = make_sync_tree((fs::path(dir.root()) / "victim").string(), 5);
  sync_ok(victim.root, o);
  auto vrun = server.run_by_source(tree_id_of(victim.root) + "/" + victim.plain);
  REQUIRE(vrun);
  SyncTree t = make_sync_tree((fs::path(dir.root()) / "mine").string(), 5);
  sync_ok(t.root, o);
  // Points the records of the plain run and of the parent (whose id a child's tag names) at the victim.
  auto forge = [&](const std::string& run_id) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(t.root) / ".mlruns-sync.trash")) {
      if (e.path().filename() != run_id + ".json") continue;
      auto rec = detail::parse_run_record(read_file(e.path()));
      REQUIRE(rec);
      rec->server_run_id = vrun->run_id;
      rec->server_experiment_id = vrun->experiment_id;
      rec->server_artifact_uri = vrun->artifact_uri;
      write_file(e.path(), detail::to_json(*rec));
      return;
    }
    FAIL("no record of run " << run_id);
  };
  forge(t.plain);
  forge(t.parent);
  change_run(t.root, t.plain, [&](ActiveRun& run) {
    run.log_metric("loss", 66, 66, kT0);
    run.log_param("evil", "1");
    run.log_text("planted", "planted.txt");
    run.end();
  });
  change_run(t.root, t.child, [&](ActiveRun& run) { run.set_tag("touch", "1"); run.end(); });
  SyncResult r = sync_ok(t.root, o);
  CHECK(r.runs_failed == 0);
  const RunSyncReport* rep = report_of(r, t.plain);
  REQUIRE(rep);
  bool said = false;
  for (const std::string& n : rep->notes) said |= n.find("record ignored") != std::string::npos;
  CHECK(said);
  // Deleted locally: the delete goes to this run's copy, never to the victim.
  {
    StoreOptions so;
    so.tracking_uri = t.root;
    Store store = Store::open(so);
    REQUIRE(store.delete_run(t.plain).is_ok());
  }
  forge(t.plain);
  sync_ok(t.root, o);
  auto after = server.run_by_source(tree_id_of(victim.root) + "/" + victim.plain);
  REQUIRE(after);
  CHECK(after->lifecycle_stage == "active");
  CHECK(after->params == vrun->params);
  CHECK(after->metrics.size() == vrun->metrics.size());
  CHECK(after->tags == vrun->tags);
  for (const auto& [path, content] : server.artifacts())
    CHECK_FALSE((path.find("planted") != std::string::npos && path.find(vrun->run_id) != std::string::npos));
  check_server_matches_tree(server, t.root, true);
  check_server_matches_tree(server, victim.root, true);
}

// Issue 15: a file sync cannot read (nested too deep, a path past PATH_MAX) is never left out
// silently: a note names it, the result is not complete (exit 10), and the next pass says so again.
TEST_CASE("sync: artifacts it cannot read are named and make the result incomplete, pass after pass", "[sync]") {
  TempDir dir;
  SyncTree t = make_sync_tree(dir.root(), 5);
  fs::path deep = fs::path(t.root) / t.exp_b / t.plain / "artifacts" / "deep";
  for (int i = 0; i < 70; ++i) deep /= "d";  // deeper than sync's 64 levels
  fs::create_directories(deep);
  write_file(deep / "f", "deep");
  age_tree(t.root);
  FakeMlflowServer server;
  SyncOptions o = test_sync_options(server.url());
  for (int pass = 0; pass < 2; ++pass) {
    INFO("pass " << pass);
    SyncResult r = sync_ok(t.root, o);
    CHECK(r.runs_failed == 0);
    CHECK(r.files_unread == 1);
    CHECK_FALSE(r.complete());
    const RunSyncReport* rep = report_of(r, t.plain);
    REQUIRE(rep);
    CHECK(rep->files_unread == 1);
    bool said = false;
    for (const std::string& n : rep->notes) said |= n.find("levels deep") != std::string::npos && n.find("deep/d/d") != std::string::npos;
    CHECK(said);
  }
  for (const auto& [path, content] : server.artifacts()) CHECK(path.find("deep/d/") == std::string::npos);
}
