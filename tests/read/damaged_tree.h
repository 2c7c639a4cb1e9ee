// The small tree that the damaged, hostile and inputs reader tests break:
// experiment 100 with runs A and B (helpers: reader_test_util.h).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "mlruns/reader.h"
#include "reader_test_util.h"

namespace mlruns::testing {

inline const std::string kExp = "100";
inline const std::string kRunA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
inline const std::string kRunB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

// <tmp>/mlruns with experiment 100 holding runs A and B, each with one
// metric, param and tag.
struct Tree {
  TempDir tmp;
  fs::path root = tmp.path() / "mlruns";
  Warnings warnings;

  Tree() {
    write_file(root / "0" / "meta.yaml", exp_meta("0", "Default", 1));
    write_file(root / kExp / "meta.yaml", exp_meta(kExp, "exp", 2));
    for (const std::string& r : {kRunA, kRunB}) {
      write_file(run(r) / "meta.yaml", run_meta(kExp, r));
      write_file(run(r) / "metrics" / "loss", "1700000000000 0.5 0\n1700000000001 0.25 1\n");
      write_file(run(r) / "params" / "lr", "0.01");
      write_file(run(r) / "tags" / "mlflow.runName", "name-" + r);
      fs::create_directories(run(r) / "artifacts");
    }
  }
  fs::path run(const std::string& r) const { return root / kExp / r; }

  Reader open(ReaderOptions opts = {}) {
    ReaderOptions w = warnings.options();
    w.max_file_bytes = opts.max_file_bytes;
    w.threads = opts.threads;
    auto reader = Reader::open(root.string(), w);
    REQUIRE(reader);
    return *reader;
  }
  std::vector<Run> runs(ViewType view = ViewType::kActiveOnly, const RunFields& f = RunFields::everything()) {
    auto r = open().runs({kExp}, view, f);
    REQUIRE(r);
    std::sort(r->begin(), r->end(), [](const Run& a, const Run& b) { return a.info.run_id < b.info.run_id; });
    return *r;
  }
};

}  // namespace mlruns::testing
