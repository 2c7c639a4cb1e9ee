// Issue 15 item 2: a name created by name exists once, whatever races for it.
// Real processes (the mlruns binary) start together behind a barrier: 64
// creates of one name; creates against renames to that name; creates
// against the restore of a deleted experiment holding it. Exactly one wins;
// the others exit 5 ("already exists", docs/cli.md).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "cli_test_util.h"
#include "mlruns/fsck.h"
#include "mlruns/gc.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "write/name_claim.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

constexpr int kExitAlreadyExists = 5;

// Starts every command at once (each child blocks on a pipe until all are
// forked), waits for all; returns the exit codes in order.
std::vector<int> run_together(const std::vector<std::vector<std::string>>& commands, const std::string& uri) {
  int gate[2];
  REQUIRE(::pipe(gate) == 0);
  std::vector<pid_t> pids;
  for (const auto& args : commands) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(gate[1]);
      char c;
      while (::read(gate[0], &c, 1) < 0) {
      }
      exec_cli_quiet(args, uri, 120);
    }
    pids.push_back(pid);
  }
  ::close(gate[0]);
  ::close(gate[1]);  // EOF: everyone goes
  std::vector<int> codes;
  for (pid_t pid : pids) codes.push_back(wait_exit_code(pid));
  return codes;
}

int named(const std::string& uri, const std::string& name) {
  auto reader = Reader::open(uri);
  REQUIRE(reader);
  auto all = reader->experiments(ViewType::kAll);
  REQUIRE(all);
  int n = 0;
  for (const Experiment& e : *all) n += e.name == name;
  return n;
}

std::map<int, int> tally(const std::vector<int>& codes) {
  std::map<int, int> out;
  for (int c : codes) ++out[c];
  return out;
}

}  // namespace

TEST_CASE("64 processes create one experiment name at once: one wins, 63 exit 5", "[race][cli][claims]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  REQUIRE(run_cli({"experiments", "create", "warm-up"}, {{"MLFLOW_TRACKING_URI", uri}}).code == 0);
  std::vector<std::vector<std::string>> cmds(64, {"experiments", "create", "shared-exp"});
  auto codes = tally(run_together(cmds, uri));
  INFO("exit codes: 0 x" << codes[0] << ", 5 x" << codes[kExitAlreadyExists]);
  CHECK(codes[0] == 1);  // main: 14 to 27 experiments named shared-exp
  CHECK(codes[kExitAlreadyExists] == 63);
  CHECK(named(uri, "shared-exp") == 1);
  // get-or-create agrees with the winner.
  auto r = run_cli({"experiments", "create", "shared-exp", "--get-or-create"}, {{"MLFLOW_TRACKING_URI", uri}});
  CHECK(r.code == 0);
  CHECK(named(uri, "shared-exp") == 1);
}

TEST_CASE("creates and get-or-creates of one name race: one experiment", "[race][cli][claims]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  REQUIRE(run_cli({"experiments", "create", "warm-up"}, {{"MLFLOW_TRACKING_URI", uri}}).code == 0);
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 32; ++i) {
    cmds.push_back({"experiments", "create", "mixed"});
    cmds.push_back({"experiments", "create", "mixed", "--get-or-create"});
  }
  auto codes = run_together(cmds, uri);
  for (int c : codes) CHECK((c == 0 || c == kExitAlreadyExists));
  CHECK(named(uri, "mixed") == 1);
}

TEST_CASE("renames to a name race with creates of it: one holder", "[race][cli][claims]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  std::vector<std::string> ids;
  {
    Store store = Store::open({.tracking_uri = uri});
    for (int i = 0; i < 24; ++i) ids.push_back(*store.create_experiment("old-" + std::to_string(i)));
  }
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 24; ++i) {
    cmds.push_back({"experiments", "rename", ids[i], "target"});
    cmds.push_back({"experiments", "create", "target"});
  }
  auto codes = tally(run_together(cmds, uri));
  INFO("exit codes: 0 x" << codes[0] << ", 5 x" << codes[kExitAlreadyExists]);
  CHECK(codes[0] == 1);
  CHECK(codes[kExitAlreadyExists] == 47);
  CHECK(named(uri, "target") == 1);
}

TEST_CASE("a restore races with creates of the name it holds: one holder", "[race][cli][claims]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  std::string id;
  {
    Store store = Store::open({.tracking_uri = uri});
    id = *store.create_experiment("comeback");
    REQUIRE(store.delete_experiment(id));
  }
  // As if MLflow had made it: no claim.
  fs::remove_all(fs::path(uri) / std::string(detail::kNameClaimsDir));
  std::vector<std::vector<std::string>> cmds(31, {"experiments", "create", "comeback"});
  cmds.insert(cmds.begin() + 15, {"experiments", "restore", id});
  auto codes = run_together(cmds, uri);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (i == 15) continue;
    CHECK(codes[i] == kExitAlreadyExists);  // a deleted experiment holds the name (MLflow refuses it too)
  }
  CHECK((codes[15] == 0 || codes[15] == kExitAlreadyExists));
  CHECK(named(uri, "comeback") == 1);
}

TEST_CASE("a claim left by a killed creator is taken over once stale, a live one never", "[claims]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  Store store = Store::open({.tracking_uri = uri, .errors = ErrorMode::kCount});
  detail::NameClaims claims(*Env::posix(), store.root(), "experiments");
  auto never = [](std::string_view, std::string_view) { return false; };
  // A creator killed between claim and publish: its experiment never appeared.
  REQUIRE(claims.claim("orphan", "123456789012345678", never, 60000, 1000));
  auto young = store.create_experiment("orphan");
  CHECK_FALSE(young);  // fresh: maybe still being created
  // Once older than the grace period, the claim is stale and taken over.
  auto c = claims.find("orphan");
  REQUIRE(c);
  fs::last_write_time(c->dir, fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto id = store.create_experiment("orphan");
  REQUIRE(id);
  CHECK(claims.find("orphan")->owner == *id);
  // A name held by a live experiment is never taken over, however old its claim.
  c = claims.find("orphan");
  fs::last_write_time(c->dir, fs::file_time_type::clock::now() - std::chrono::hours(1));
  CHECK_FALSE(store.create_experiment("orphan"));
  // Renaming releases the old name.
  REQUIRE(store.rename_experiment(*id, "renamed"));
  CHECK_FALSE(claims.find("orphan"));
  CHECK(claims.find("renamed")->owner == *id);
  CHECK(store.create_experiment("orphan"));
}

TEST_CASE("fsck quarantines a stale name claim, gc frees the name of an experiment it collects", "[claims][fsck][gc]") {
  TempDir tmp;
  const std::string uri = tmp.root();
  Store store = Store::open({.tracking_uri = uri, .errors = ErrorMode::kCount});
  detail::NameClaims claims(*Env::posix(), store.root(), "experiments");
  auto never = [](std::string_view, std::string_view) { return false; };
  REQUIRE(claims.claim("ghost", "123456789012345678", never, 60000, 1000));
  auto c = claims.find("ghost");
  REQUIRE(c);
  fs::last_write_time(c->dir, fs::file_time_type::clock::now() - std::chrono::hours(2));
  std::string kept = *store.create_experiment("kept");
  auto report = fsck(uri, {.repair = true});
  REQUIRE(report);
  int stale = 0;
  for (const FsckFinding& f : report->findings) stale += f.check == "root.stale_name_claim";
  CHECK(stale == 1);  // the live claim of "kept" is not one
  CHECK_FALSE(claims.find("ghost"));
  CHECK(claims.find("kept"));
  // gc collects a deleted experiment: its name can be created at once again.
  REQUIRE(store.delete_experiment(kept));
  CHECK_FALSE(store.create_experiment("kept"));  // a deleted experiment holds it (as in MLflow)
  auto collected = gc(uri, {});
  REQUIRE(collected);
  CHECK(collected->errors.empty());
  CHECK_FALSE(claims.find("kept"));
  CHECK(store.create_experiment("kept"));
}
