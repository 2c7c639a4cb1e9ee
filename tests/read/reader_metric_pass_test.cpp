// Reader::metric_keys and the several-key Reader::for_each_metric_point:
// the one pass a report makes over a run's metric files. They must give what
// runs() and metric_history give, key for key, on damaged trees too.
#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "damaged_tree.h"
#include "mlruns/env.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

// Every point of `keys` through the one pass, per key, with the calls' order.
struct Pass {
  std::map<std::string, std::vector<Metric>> points;
  std::vector<std::size_t> order;  // key index of each call
  Status status = Status::ok();
};

Pass one_pass(const Reader& reader, const std::string& run, const std::vector<std::string>& keys) {
  Pass p;
  p.status = reader.for_each_metric_point(run, keys, [&](std::size_t k, const Metric& m) {
    CHECK(m.key == keys[k]);
    p.points[keys[k]].push_back(m);
    p.order.push_back(k);
  });
  return p;
}

}  // namespace

TEST_CASE("metric_keys lists what runs() loads, without the files' values, sorted (spec §2.4, §14.5)",
          "[reader][metric_pass]") {
  Tree t;
  write_file(t.run(kRunA) / "metrics" / "val" / "acc", "1 0.8 0\n");
  write_file(t.run(kRunA) / "metrics" / "acc", "1 0.7 0\n");
  write_file(t.run(kRunA) / "metrics" / ".DS_Store", "junk");
  write_file(t.run(kRunA) / "metrics" / "tab\tkey", "1 1 0\n");
  fs::create_symlink("/etc/passwd", t.run(kRunA) / "metrics" / "link");
  auto keys = t.open().metric_keys(kRunA);
  REQUIRE(keys);
  CHECK(*keys == std::vector<std::string>{"acc", "loss", "val/acc"});
  std::vector<std::string> loaded;
  const std::vector<Run> runs = t.runs();
  for (const auto& [k, m] : runs[0].metrics) loaded.push_back(k);
  CHECK(loaded == *keys);
  CHECK(t.warnings.has("metrics/.DS_Store", "stray"));
  CHECK(t.warnings.has("metrics/link", "symbolic link"));
  CHECK(t.warnings.has("tab\\x09key"));

  fs::remove_all(t.run(kRunB) / "metrics");
  auto none = t.open().metric_keys(kRunB);
  REQUIRE(none);
  CHECK(none->empty());
  CHECK(t.open().metric_keys("cccccccccccccccccccccccccccccccc").error().code() == Code::kNotFound);
}

TEST_CASE("one pass over several metrics gives each metric_history, key after key (spec §10.3)",
          "[reader][metric_pass]") {
  Tree t;
  // Out of order, a bad line, a 5-field line, an unterminated tail, CRLF.
  write_file(t.run(kRunA) / "metrics" / "acc", "3 0.3 2\n1 0.1 0\nbad line\n2 0.2 1 iris d1\n4 0.4");
  write_file(t.run(kRunA) / "metrics" / "val" / "f1", "1 0.5 0\r\n2 0.6 1\r\n");
  write_file(t.run(kRunA) / "metrics" / "empty", "");
  Reader reader = t.open();
  const std::vector<std::string> keys{"val/f1", "acc", "missing", "loss", "empty"};
  Pass p = one_pass(reader, kRunA, keys);
  REQUIRE(p.status.is_ok());
  for (const std::string& k : keys) {
    auto history = reader.metric_history(kRunA, k);
    REQUIRE(history);
    const std::vector<Metric>& got = p.points[k];
    REQUIRE(got.size() == history->size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].timestamp == (*history)[i].timestamp);
      CHECK(got[i].value == (*history)[i].value);
      CHECK(got[i].step == (*history)[i].step);
      CHECK(got[i].dataset_name == (*history)[i].dataset_name);
    }
  }
  CHECK(p.points["acc"].size() == 3);
  CHECK(p.points["acc"][2].dataset_digest == "d1");
  CHECK(p.points["val/f1"].size() == 2);
  // Key after key in the order given: the calls' key indexes never go back.
  CHECK(std::is_sorted(p.order.begin(), p.order.end()));
  CHECK(p.order.front() == 0);
  CHECK(t.warnings.has(kRunA + "/metrics/acc", "line 3"));
}

TEST_CASE("one pass: bad keys read nothing, links are not followed, unknown runs are errors",
          "[reader][metric_pass]") {
  Tree t;
  Reader reader = t.open();
  SECTION("an invalid key: kInvalidArgument before any file is read") {
    Pass p = one_pass(reader, kRunA, {"loss", "../../../etc/passwd"});
    CHECK(p.status.code() == Code::kInvalidArgument);
    CHECK(p.order.empty());
  }
  SECTION("a folder on a key's path that is a link: skipped with a warning, the other keys read") {
    fs::create_directories(t.tmp.path() / "outside");
    write_file(t.tmp.path() / "outside" / "acc", "1 0.9 0\n");
    fs::create_directory_symlink(t.tmp.path() / "outside", t.run(kRunA) / "metrics" / "val");
    Pass p = one_pass(reader, kRunA, {"val/acc", "loss"});
    CHECK(p.status.is_ok());
    CHECK(p.points.count("val/acc") == 0);
    CHECK(p.points["loss"].size() == 2);
    CHECK(t.warnings.has("metrics/val/acc", "not followed"));
  }
  SECTION("metrics/ itself a link: no points, a warning") {
    fs::rename(t.run(kRunA) / "metrics", t.tmp.path() / "moved");
    fs::create_directory_symlink(t.tmp.path() / "moved", t.run(kRunA) / "metrics");
    Pass p = one_pass(reader, kRunA, {"loss"});
    CHECK(p.status.is_ok());
    CHECK(p.order.empty());
    CHECK(t.warnings.has(kRunA + "/metrics", "not a folder"));
  }
  SECTION("an unknown run") {
    CHECK(one_pass(reader, "cccccccccccccccccccccccccccccccc", {"loss"}).status.code() == Code::kNotFound);
  }
}
