// ErrorMode::kCount while the store cannot take writes for a long time (issue
// 10 item 11, F2): the run's folder is removed after the run started. The
// automatic flushes back off (options.h ErrorMode::kCount) so each call
// costs O(1), the buffer stays within FlushPolicy::max_pending (the newest
// points are dropped, each drop a counted failure), the first message says
// the run's folder is gone, and the kept points are written once the folder
// is back. Work is counted through FaultEnv (file opens for writing, one per
// flush attempt of a series), never timed.
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "fault_env.h"
#include "mlruns/store.h"
#include "resil_util.h"

using namespace mlruns;
using namespace mlruns::test;
namespace fs = std::filesystem;

namespace {

struct Recorder {
  std::mutex mu;
  std::vector<Status> errors;
  std::function<void(const Status&)> hook() {
    return [this](const Status& s) {
      std::lock_guard lock(mu);
      errors.push_back(s);
    };
  }
};

// A tree, an Env that counts, the failures seen, and kCount options for them.
struct Setup {
  TempDir dir;
  std::string root = dir.str() + "/mlruns";
  FaultEnv env;
  Recorder rec;
  StoreOptions options() {
    StoreOptions o;
    o.tracking_uri = root;
    o.env = &env;
    o.errors = ErrorMode::kCount;
    o.flush.background_thread = false;
    o.on_error = rec.hook();
    return o;
  }
};

}  // namespace

TEST_CASE("kCount with the run folder removed: 200,000 log_metric calls make a bounded number of flush attempts",
          "[write][faults][backoff]") {
  Setup t;
  auto& [dir, root, env, rec] = t;
  Store store = Store::open(t.options());  // default FlushPolicy: 16,384 points a flush
  ActiveRun run = store.start_run();
  const fs::path run_dir = fs::path(root) / "0" / run.id();
  fs::remove_all(run_dir);
  const std::uint64_t opens_before = env.calls(FaultEnv::kOpenWrite);
  for (int i = 0; i < 200000; ++i) run.log_metric("loss", i, i, 1);
  const std::uint64_t attempts = env.calls(FaultEnv::kOpenWrite) - opens_before;
  // Without backoff every call past 16,384 pending points retried: ~183,600
  // attempts, each formatting every pending point. With it: 16,384, then
  // after 32,768, 65,536 ... more calls (or as many doubling periods of
  // max_age, 2 s, 4 s, ... if the loop is slow).
  CHECK(attempts >= 1);
  CHECK(attempts <= 12);
  std::lock_guard lock(rec.mu);
  REQUIRE_FALSE(rec.errors.empty());
  CHECK(store.failure_count() == rec.errors.size());  // a counted failure per failed attempt, none per buffered call
  CHECK(store.failure_count() <= attempts);
  const std::string first = rec.errors.front().to_string();
  INFO(first);
  CHECK(first.find("run " + run.id()) != std::string::npos);
  CHECK(first.find("is gone") != std::string::npos);
  CHECK(first.find(".mlruns-tmp") == std::string::npos);
}

TEST_CASE("kCount with the run folder away: the buffer stops at max_pending, drops are counted, the rest lands when "
          "the folder is back",
          "[write][faults][backoff]") {
  Setup t;
  auto& [dir, root, env, rec] = t;
  StoreOptions o = t.options();
  o.flush.max_points = 1000;
  o.flush.max_pending = 5000;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  REQUIRE(run.log_param("p", "1").is_ok());
  const fs::path run_dir = fs::path(root) / "0" / run.id();
  const fs::path away = fs::path(dir.str()) / "away";
  fs::rename(run_dir, away);  // an over-eager cleanup script moved it
  int refused = 0;
  for (int i = 0; i < 100000; ++i) refused += !run.log_metric("loss", i, i, 1).is_ok();
  // Every call past 5,000 buffered points dropped its point, and said so.
  std::uint64_t drops = 0;
  {
    std::lock_guard lock(rec.mu);
    for (const Status& s : rec.errors)
      if (s.code() == Code::kFailedPrecondition && s.to_string().find("dropped") != std::string::npos) ++drops;
  }
  CHECK(drops == 95000);
  CHECK(refused >= 95000);
  CHECK(store.failure_count() >= 95000);
  fs::rename(away, run_dir);  // and the operator put it back
  REQUIRE(run.flush().is_ok());
  const auto lines = split_lines(read_file((run_dir / "metrics" / "loss").string()));
  REQUIRE(lines.size() == 5000);  // the oldest 5,000, in order, each once
  CHECK(lines.front() == "1 0.0 0");
  CHECK(lines.back() == "1 4999.0 4999");
  // Writing works again at once: the backoff is over after a success.
  REQUIRE(run.log_metric("loss", 1e6, 100000, 1).is_ok());
  REQUIRE(run.end().is_ok());
  CHECK(split_lines(read_file((run_dir / "metrics" / "loss").string())).size() == 5001);
}

TEST_CASE("kCount write-through: a failure once is retried on the next call, a lasting one backs off",
          "[write][faults][backoff]") {
  Setup t;
  auto& [dir, root, env, rec] = t;
  StoreOptions o = t.options();
  o.flush.write_through = true;
  Store store = Store::open(o);
  ActiveRun run = store.start_run();
  REQUIRE(run.log_metric("loss", 0, 0, 1).is_ok());
  const int rule = env.add_rule({.ops = FaultEnv::kAppend, .path_contains = "/metrics/", .error = EIO, .once = true});
  CHECK_FALSE(run.log_metric("loss", 1, 1, 1).is_ok());
  env.remove_rule(rule);
  CHECK(run.log_metric("loss", 2, 2, 1).is_ok());  // retried at once: both points written
  const std::string file = root + "/0/" + run.id() + "/metrics/loss";
  CHECK(split_lines(read_file(file)).size() == 3);

  env.add_rule({.ops = FaultEnv::kAppend, .path_contains = "/metrics/", .error = EIO});
  const std::uint64_t appends = env.calls(FaultEnv::kAppend);
  for (int i = 3; i < 20003; ++i) (void)run.log_metric("loss", i, i, 1);
  // Retries 1, 2, 4, ... 16,384 calls apart (or max_age's doubling periods)
  // instead of one append of every pending point per call (20,000 appends).
  CHECK(env.calls(FaultEnv::kAppend) - appends <= 30);
}
