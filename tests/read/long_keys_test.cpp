// Key lengths in characters (issue 9 item 2): MLflow counts them with
// Python's len, and its readers check no length at all (spec §6.2). Trees
// written by real MLflow 3.8 and 2.10 (tests/fixtures/long-keys/README.md)
// with a 251-character tag key and an 88-character CJK metric key (262
// bytes): mlruns shows both, fsck calls them valid and --repair moves
// nothing; no message is ever cut inside a UTF-8 sequence.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>

#include "mlruns/fsck.h"
#include "mlruns/key.h"
#include "mlruns/reader.h"
#include "mlruns/store.h"
#include "test_util.h"
#include "util/printable.h"

using namespace mlruns;
using namespace mlruns::testing;

namespace {

const std::string kTagKey(251, 't');
const std::string kMetricKey = [] {
  std::string k;
  for (int i = 0; i < 44; ++i) k += "\xe6\x8d\x9f";  // 损
  k += "/";
  for (int i = 0; i < 43; ++i) k += "\xe5\xa4\xb1";  // 失
  return k;
}();

// A copy of a long-keys fixture, with the empty folders git does not keep.
struct Copy {
  TempDir t;
  fs::path root;
  explicit Copy(const std::string& version) : root(t.path() / "mlruns") {
    fs::copy(fs::path(MLRUNS_FIXTURES_DIR) / "long-keys" / version / "mlruns", root, fs::copy_options::recursive);
    fs::create_directories(root / ".trash");
    for (auto& e : fs::directory_iterator(root))
      if (e.is_directory() && e.path().filename() != ".trash" && e.path().filename() != "0")
        for (auto& r : fs::directory_iterator(e.path()))
          if (r.is_directory())
            for (const char* sub : {"metrics", "params", "artifacts", "tags"}) fs::create_directories(r.path() / sub);
  }
};

}  // namespace

TEST_CASE("the 88-character CJK key is 262 bytes and 88 characters - the tag key 251", "[keys]") {
  CHECK(kMetricKey.size() == 262);
  CHECK(detail::utf8_length(kMetricKey) == 88);
  CHECK(validate_key("metric key", kMetricKey, NameRules::kMlflow).is_ok());  // MLflow's writer takes it too
  Status s = validate_key("tag key", kTagKey, NameRules::kMlflow);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("251 characters"));
  CHECK(validate_key_name("tag key", kTagKey).is_ok());  // what readers check
}

TEST_CASE("non-ASCII key characters: the letters and numbers of Python's word class, as MLflow's rule", "[keys]") {
  // MLflow: ^[/\w.\- :]*$ with Python's Unicode-aware \w (str.isalnum(), spec §6.1).
  for (const char* ok : {"\xe6\x8d\x9f\xe5\xa4\xb1", "caf\xc3\xa9", "x\xc2\xb2", "\xd0\xbb\xd0\xbe\xd1\x81\xd1\x81"}) {
    INFO(ok);
    CHECK(validate_key_name("key", ok, NameRules::kMlflow).is_ok());
  }
  for (const char* bad : {"a\xe2\x82\xac" "b", "\xe2\x86\x92", "x\xc2\xa0y", "\xf0\x9f\x98\x80"}) {  // euro, arrow, nbsp, emoji
    INFO(bad);
    Status s = validate_key_name("key", bad, NameRules::kMlflow);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Contains("letter or digit"));
  }
  CHECK_FALSE(validate_key_name("key", "caf\xc3\xa9", NameRules::kPortable).is_ok());
}

TEST_CASE("keys MLflow 3.8 and 2.10 wrote and read back: the reader shows them", "[keys][read]") {
  for (const char* version : {"mlflow-3.8", "mlflow-2.10"}) {
    INFO(version);
    Copy c(version);
    std::vector<std::string> warnings;
    auto reader = Reader::open(c.root.string(), {.on_warning = [&](const Warning& w) { warnings.push_back(w.message); }});
    REQUIRE(reader.has_value());
    auto exp = reader->find_experiment("long-keys");
    REQUIRE(exp.has_value());
    auto runs = reader->runs({exp->experiment_id}, ViewType::kAll, RunFields::everything());
    REQUIRE(runs.has_value());
    REQUIRE(runs->size() == 1);
    const Run& r = runs->front();
    CHECK(r.tags.count(kTagKey) == 1);
    REQUIRE(r.metrics.count(kMetricKey) == 1);
    CHECK(r.metrics.at(kMetricKey).value == 0.5);
    auto h = reader->metric_history(r.info.run_id, kMetricKey);
    REQUIRE(h.has_value());
    CHECK(h->size() == 1);
    CHECK(warnings.empty());
  }
}

TEST_CASE("fsck calls the keys MLflow reads valid, and --repair moves nothing", "[keys][fsck]") {
  for (const char* version : {"mlflow-3.8", "mlflow-2.10"}) {
    INFO(version);
    Copy c(version);
    auto r = fsck(c.root.string(), {.repair = true, .temp_grace_ms = 0});
    REQUIRE(r.has_value());
    for (const FsckFinding& f : r->findings) {
      INFO(f.check << " " << f.path << ": " << f.problem);
      CHECK(f.check.find("invalid_name") == std::string::npos);
      CHECK(f.outcome != FsckAction::kQuarantined);
    }
    auto reader = Reader::open(c.root.string());
    REQUIRE(reader.has_value());
    auto exp = reader->find_experiment("long-keys");
    auto runs = reader->runs({exp->experiment_id}, ViewType::kAll, RunFields::everything());
    REQUIRE(runs.has_value());
    CHECK(runs->front().tags.count(kTagKey) == 1);
    CHECK(runs->front().metrics.count(kMetricKey) == 1);
  }
}

TEST_CASE("printable_prefix never cuts inside a UTF-8 sequence", "[keys][printable]") {
  std::string cjk;
  for (int i = 0; i < 100; ++i) cjk += "\xe6\x8d\x9f";
  std::string cut = detail::printable_prefix(cjk, 80);
  CHECK(cut == cjk.substr(0, 240) + "...");
  CHECK(is_valid_utf8(cut));
  CHECK(detail::printable_prefix("short", 80) == "short");
  CHECK(detail::printable_prefix("a\nb", 80) == "a\\x0ab");
  CHECK(detail::utf8_prefix(cjk, 100) == cjk.substr(0, 99));
  // Every error that quotes a long non-ASCII key stays valid UTF-8.
  std::string bad = "../" + cjk;
  Status s = validate_key("metric key", bad, NameRules::kMlflow);
  CHECK_FALSE(s.is_ok());
  CHECK(is_valid_utf8(s.message()));
}
