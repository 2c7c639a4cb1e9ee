// search_runs completes the page's runs from its listing (Reader::complete_runs):
// the page holds exactly what Reader::run reads of each run, in hostile and
// damaged trees too, and no file the listing read is read (or warned about) twice.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include <sys/stat.h>

#include "damaged_tree.h"
#include "mlruns/search.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

inline const std::string kRunC = "cccccccccccccccccccccccccccccccc";

void check_same_metric(const Metric& a, const Metric& b) {
  CHECK(a.key == b.key);
  CHECK(a.value == b.value);
  CHECK(a.timestamp == b.timestamp);
  CHECK(a.step == b.step);
  CHECK(a.dataset_name == b.dataset_name);
  CHECK(a.dataset_digest == b.dataset_digest);
}

// `got` holds what Reader::run gives for the same run: info, params, tags, every metric.
void check_same_run(const Run& got, const Run& full) {
  CHECK(got.info.run_id == full.info.run_id);
  CHECK(got.info.run_name == full.info.run_name);
  CHECK(got.info.experiment_id == full.info.experiment_id);
  CHECK(got.info.status == full.info.status);
  CHECK(got.info.start_time == full.info.start_time);
  CHECK(got.info.end_time == full.info.end_time);
  CHECK(got.info.artifact_uri == full.info.artifact_uri);
  CHECK(got.params == full.params);
  CHECK(got.tags == full.tags);
  CHECK(got.dataset_inputs.size() == full.dataset_inputs.size());
  REQUIRE(got.metrics.size() == full.metrics.size());
  for (const auto& [key, m] : full.metrics) {
    auto it = got.metrics.find(key);
    REQUIRE(it != got.metrics.end());
    check_same_metric(it->second, m);
  }
}

std::size_t warnings_about(const Warnings& w, const std::string& path_part) {
  return static_cast<std::size_t>(std::count_if(w.list.begin(), w.list.end(), [&](const Warning& x) {
    return x.path.find(path_part) != std::string::npos;
  }));
}

// Runs A, B, C; A's order metric has a malformed line, a link out of the
// tree and a FIFO among its metrics, B's params folder is a link, C has no
// order metric at all.
struct PageTree : Tree {
  PageTree() {
    write_file(run(kRunC) / "meta.yaml", run_meta(kExp, kRunC));
    write_file(run(kRunC) / "metrics" / "loss", "1700000000000 0.75 0\n");
    write_file(run(kRunC) / "params" / "lr", "0.1");
    write_file(run(kRunA) / "metrics" / "acc", "1700000000000 0.5 0\nnot a metric line\n1700000000002 0.75 2\n");
    write_file(run(kRunB) / "metrics" / "acc", "1700000000000 0.25 5\n1700000000009 0.5 5\n");
    write_file(run(kRunA) / "metrics" / "nested" / "grad", "1700000000000 3 1\n");
    fs::path outside = tmp.path() / "outside";
    write_file(outside / "secret", "1 42.0 0\n");
    write_file(outside / "params" / "p", "secret");
    fs::create_symlink(outside / "secret", run(kRunA) / "metrics" / "stolen");
    REQUIRE(::mkfifo((run(kRunA) / "metrics" / "fifo").c_str(), 0600) == 0);
    fs::remove_all(run(kRunB) / "params");
    fs::create_directory_symlink(outside / "params", run(kRunB) / "params");
  }
};

}  // namespace

TEST_CASE("a search page holds what Reader::run reads of each run, page by page", "[search][page][hostile]") {
  PageTree t;
  Reader reader = t.open();
  SearchQuery q;
  q.experiment_ids = {kExp};
  q.filter = "metrics.loss > 0.1";
  q.order_by = {"metrics.acc DESC"};
  q.max_results = 1;  // a page smaller than the listing: its runs are completed one by one
  std::vector<std::string> order;
  for (;;) {
    auto page = search_runs(reader, q);
    REQUIRE(page);
    REQUIRE(page->runs.size() == 1);
    const Run& got = page->runs[0];
    order.push_back(got.info.run_id);
    auto full = reader.run(got.info.run_id);
    REQUIRE(full);
    check_same_run(got, *full);
    if (page->next_page_token.empty()) break;
    q.page_token = page->next_page_token;
  }
  // acc: A 0.75 (step 2), B 0.5 (step 5, the later timestamp), C none (last).
  CHECK(order == std::vector<std::string>{kRunA, kRunB, kRunC});
  CHECK(t.warnings.has("metrics/stolen", "symbolic link"));
  CHECK(t.warnings.has("metrics/fifo", "not a regular file"));
  CHECK(t.warnings.has(kRunB + "/params", "symbolic link"));
}

TEST_CASE("a search reads the filter's and order's metric files once: one warning per malformed line",
          "[search][page]") {
  PageTree t;
  Reader reader = t.open();
  SearchQuery q;
  q.experiment_ids = {kExp};
  q.order_by = {"metrics.acc DESC"};
  q.max_results = 2;
  auto page = search_runs(reader, q);
  REQUIRE(page);
  REQUIRE(page->runs.size() == 2);
  CHECK(page->runs[0].info.run_id == kRunA);
  CHECK(page->runs[0].metrics.at("acc").value == 0.75);
  CHECK(page->runs[0].metrics.count("nested/grad") == 1);
  // A's acc file has one malformed line: the listing read it and warned; the
  // page's completion did not read it again.
  CHECK(warnings_about(t.warnings, kRunA + "/metrics/acc") == 1);
}

TEST_CASE("Reader::complete_runs gives what a full listing gives", "[reader][page]") {
  PageTree t;
  Reader reader = t.open();
  RunFields have = RunFields::info_only();
  have.metrics = {"acc"};
  for (const RunFields& want : {RunFields::everything(), RunFields{false, true, false, {"loss", "acc"}, false}}) {
    auto listed = reader.runs({kExp}, ViewType::kActiveOnly, have);
    auto full = reader.runs({kExp}, ViewType::kActiveOnly, want);
    REQUIRE(listed);
    REQUIRE(full);
    REQUIRE(listed->size() == 3);
    REQUIRE(full->size() == 3);
    reader.complete_runs(*listed, have, want);
    for (std::size_t i = 0; i < listed->size(); ++i) {
      // What `have` read is kept; the rest is what the full listing read.
      check_same_run((*listed)[i], (*full)[i]);
    }
  }
  // A run deleted since the listing keeps what it had.
  auto listed = reader.runs({kExp}, ViewType::kActiveOnly, have);
  REQUIRE(listed);
  fs::remove_all(t.run(kRunC));
  reader.complete_runs(*listed, have, RunFields::everything());
  CHECK((*listed)[2].info.run_id == kRunC);
  CHECK((*listed)[2].params.empty());
}
