// reap (reap.h): RUNNING runs whose writer is gone end KILLED at their last sign of life.
#include <catch2/catch.hpp>

#include "maint_test_util.h"
#include "format/meta_parse.h"
#include "mlruns/reap.h"

using namespace maint_test;

TEST_CASE("reap ends a run whose process is gone as KILLED with end_time = last sign of life", "[reap]") {
  TempTree t;
  auto run = make_running(first_run(t.root / "692696469721977523"));
  std::string before = slurp(run / "meta.yaml");
  auto gone = [](const std::map<std::string, std::string>&) { return mlruns::ProcessState::kGone; };
  auto dry = mlruns::reap(t.root.string(), {.dry_run = true, .probe = gone});
  REQUIRE(dry);
  auto mine = [&](const mlruns::ReapReport& rep) {
    for (auto& c : rep.changes)
      if (c.run_id == run.filename().string()) return &c;
    return static_cast<const mlruns::ReapChange*>(nullptr);
  };
  REQUIRE(mine(*dry));  // the fixture may hold other RUNNING runs too
  CHECK(slurp(run / "meta.yaml") == before);
  auto life = fs::last_write_time(run / "meta.yaml");
  auto r = mlruns::reap(t.root.string(), {.probe = gone});
  REQUIRE(r);
  REQUIRE(mine(*r));
  auto info = mlruns::detail::parse_run_meta(slurp(run / "meta.yaml"));
  REQUIRE(info);
  CHECK(info->status == mlruns::RunStatus::kKilled);
  REQUIRE(info->end_time);
  CHECK(*info->end_time == mine(*r)->end_time);
  CHECK(*info->end_time >= info->start_time);
  (void)life;
  auto again = mlruns::reap(t.root.string(), {.probe = gone});
  REQUIRE(again);
  CHECK(again->changes.empty());
}

TEST_CASE("reap leaves a live process's run alone however silent, and reaps unknown ones only by silence", "[reap]") {
  TempTree t;
  auto run = make_running(first_run(t.root / "692696469721977523"));
  auto alive = [](const std::map<std::string, std::string>&) { return mlruns::ProcessState::kAlive; };
  auto r = mlruns::reap(t.root.string(), {.older_than_ms = 0, .probe = alive});
  REQUIRE(r);
  CHECK(r->changes.empty());
  CHECK(r->alive == r->running);
  CHECK(r->running >= 1);
  auto unknown = [](const std::map<std::string, std::string>&) { return mlruns::ProcessState::kUnknown; };
  auto fresh = mlruns::reap(t.root.string(), {.older_than_ms = 3600000, .probe = unknown});
  REQUIRE(fresh);
  CHECK(fresh->changes.empty());  // just written by the copy: not silent
  auto silent = mlruns::reap(t.root.string(), {.older_than_ms = 0, .probe = unknown});
  REQUIRE(silent);
  REQUIRE(silent->changes.size() == silent->running);
  CHECK(silent->changes.back().reason.find("silent") != std::string::npos);
}

#ifdef MLRUNS_CLI_PATH
TEST_CASE("mlruns reap --dry-run lists a silent run without changing it", "[reap][cli]") {
  TempTree t;
  auto run = make_running(first_run(t.root / "692696469721977523"));
  std::string before = slurp(run / "meta.yaml");
  std::string cmd = std::string(MLRUNS_CLI_PATH) + " reap --older-than 0s --dry-run --tracking-uri " + t.root.string() +
                    " > " + (t.dir / "out").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(slurp(t.dir / "out").find("would end " + run.filename().string()) != std::string::npos);
  CHECK(slurp(run / "meta.yaml") == before);
}
#endif
