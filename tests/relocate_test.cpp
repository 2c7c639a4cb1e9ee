// relocate (relocate.h): a moved tree's artifact URIs point at its new place (spec §8.2, §14.12).
#include <catch2/catch.hpp>

#include "file_uri.h"
#include "maint_test_util.h"
#include "meta_parse.h"
#include "mlruns/relocate.h"

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
  auto r = mlruns::relocate(t.root.string(), {.from_prefix = "file:///scratch/golden/mlruns"});
  REQUIRE(r);
  CHECK(r->changes.size() == 17);
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
