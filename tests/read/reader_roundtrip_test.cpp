// What the Store writes, the Reader reads back: values, latest metrics,
// histories, lifecycle, artifacts, and a download from a moved copy.
#include <catch2/catch.hpp>

#include <cmath>

#include "mlruns/download.h"
#include "mlruns/store.h"
#include "reader_test_util.h"

using namespace mlruns;
using namespace mlruns::testing;

TEST_CASE("a tree written by the Store reads back through the Reader", "[reader][roundtrip]") {
  TempDir tmp;
  fs::path root = tmp.path() / "mlruns";
  std::string exp, run_id, deleted_id;
  {
    Store store = Store::open({.tracking_uri = root.string()});
    exp = *store.create_experiment("sweep", {{"team", "rl"}});
    {
      ActiveRun run = store.start_run({.experiment_id = exp, .run_name = "ppo", .system_tags = false});
      run_id = run.id();
      REQUIRE(run.log_param("lr", "0.001"));
      REQUIRE(run.set_tag("model/type", "PPO"));
      for (int i = 0; i < 5; ++i) REQUIRE(run.log_metric("reward", i * 1.5, i, 1700000000000 + i));
      REQUIRE(run.log_metric("reward", 0.5, 2, 1700000000009));  // not the latest: lower step
      REQUIRE(run.log_metric("val/loss", NAN, 0, 1700000000000));
      write_file(tmp.path() / "ckpt" / "model.pt", "weights!");
      REQUIRE(run.log_artifacts((tmp.path() / "ckpt").string(), "checkpoint_000004"));
    }
    {
      ActiveRun gone = store.start_run({.experiment_id = exp, .run_name = "gone", .system_tags = false});
      deleted_id = gone.id();
    }
    REQUIRE(store.delete_run(deleted_id));
  }

  Warnings w;
  auto reader = Reader::open(root.string(), w.options());
  REQUIRE(reader);
  auto e = reader->find_experiment("sweep");
  REQUIRE(e);
  CHECK(e->experiment_id == exp);
  CHECK(e->tags == std::map<std::string, std::string>{{"team", "rl"}});

  auto run = reader->run(run_id);
  REQUIRE(run);
  CHECK(run->info.run_name == "ppo");
  CHECK(run->info.status == RunStatus::kFinished);
  CHECK(run->params.at("lr") == "0.001");
  CHECK(run->tags.at("model/type") == "PPO");
  CHECK(run->metrics.at("reward").value == 6.0);
  CHECK(run->metrics.at("reward").step == 4);
  CHECK(std::isnan(run->metrics.at("val/loss").value));
  auto hist = reader->metric_history(run_id, "reward");
  REQUIRE(hist);
  CHECK(hist->size() == 6);
  CHECK(hist->back().value == 0.5);

  CHECK(reader->runs({exp})->size() == 1);
  auto deleted = reader->runs({exp}, ViewType::kDeletedOnly);
  REQUIRE(deleted->size() == 1);
  CHECK((*deleted)[0].info.run_id == deleted_id);
  CHECK(reader->runs({exp}, ViewType::kAll)->size() == 2);

  auto arts = reader->list_artifacts(run_id, "", true);
  REQUIRE(arts);
  REQUIRE(arts->size() == 1);
  CHECK((*arts)[0].path == "checkpoint_000004/model.pt");
  CHECK((*arts)[0].size == 8);
  CHECK(w.list.empty());

  // The same tree moved elsewhere: artifacts are found inside it.
  fs::rename(root, tmp.path() / "moved");
  auto moved = Reader::open((tmp.path() / "moved").string());
  REQUIRE(moved);
  auto got = download_artifacts(*moved, run_id, "checkpoint_000004", (tmp.path() / "out").string());
  REQUIRE(got);
  CHECK(read_file(tmp.path() / "out" / "checkpoint_000004" / "model.pt") == "weights!");
}
